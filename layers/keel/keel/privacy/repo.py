"""What a data request reads: everything about one person, by the key layout of store/keys.py
(their items under `USER#<id>#`, their audit records and the findings about them, their profile
and invitation as stored), and the deletion log and progress items. Scoped to one tenant.
"""

from __future__ import annotations

from typing import Any

from keel.store import keys, table


class PrivacyRepo:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.pk = keys.tenant_pk(tenant_id)

    def user_parts(self, user_id: str) -> list[dict[str, Any]]:
        """Every per-user item (2FA, password history, link pointers, role history, ...)."""
        return list(table.query_all(self.pk, sk_prefix=keys.user_sk(user_id) + "#"))

    def records_about(self, user_id: str) -> list[dict[str, Any]]:
        """Audit records by or about the user, and the security findings about them (IPs too)."""
        pk = keys.audit_user_index_pk(self.tenant_id, user_id)
        found = {i["SK"]: i for i in table.query_all(pk, index="GSI1")}
        found.update({i["SK"]: i for i in table.query_all(pk, index="GSI2")})
        findings = keys.suspicious_user_index_pk(self.tenant_id, user_id)
        found.update({i["SK"]: i for i in table.query_all(findings, index="GSI1")})
        return [found[k] for k in sorted(found)]

    def stored_user(self, user_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
        return table.get(self.pk, keys.user_sk(user_id), consistent=consistent)

    def stored_invitation(self, user_id: str) -> dict[str, Any] | None:
        """The invitation that created the user (they share their ULID), as stored."""
        return table.get(self.pk, keys.invitation_sk(keys.invitation_id_for(user_id)))

    def progress(self, user_id: str) -> dict[str, Any] | None:
        return table.get(
            keys.deletions_pk(self.tenant_id), keys.deletion_progress_sk(user_id), consistent=True
        )

    def log_page(self, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = table.query(
            keys.deletions_pk(self.tenant_id),
            sk_prefix=keys.DELETION_LOG_SK_PREFIX,
            limit=limit,
            cursor=cursor,
            newest_first=True,
        )
        return page.items, page.next_cursor


def for_tenant(tenant_id: str) -> PrivacyRepo:
    return PrivacyRepo(tenant_id)
