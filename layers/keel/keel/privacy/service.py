"""Exporting and erasing one user's data.

Erasure runs in dependency order (notifications, sessions, tokens, 2FA, other per-user items,
the checkout holds and registrations under the user's e-mail, the payments and invoices under
it, the invitation, audit records, profile). A progress item (`deletions_pk`, `PROGRESS#<user>`)
records which steps are done and how many items each touched, in the same transaction as the
writes it counts, so a deletion interrupted half-way finishes when run again and its counts stay
exact. Audit records keep their ids, actions and targets and lose their personal fields; that is
the only change ever made to an audit record. The log entry is written with the tombstone.

Checkout buyers have no account: a contact known only by e-mail has its holds and registrations
exported and erased by that e-mail (`export_contact`, `delete_contact`), with the erasure the
checkout area's retention uses (contact fields go; quantities, amounts and ids stay, so the
inventory ledger still adds up). Its log entry (`subject` contact) does not keep the address.

Payments and invoices carrying the person's e-mail (`customer_email`) are found the same way, by
the payments area's payer index (`keel/payments/payers.py`): exported as id, amount, currency,
status and date; erased by replacing the e-mail with `erased` (amounts, ids, statuses and dates
stay for the books), for a user (step `payment_records`) and for a contact alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from keel.checkout import buyers, retention
from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.identity import sessions
from keel.payments import payers
from keel.privacy import repo
from keel.privacy.models import (
    ContactDataExport,
    ContactDataRequest,
    ContactDeletionRequest,
    DeletionLogEntry,
    DeletionRequest,
    PaymentRecord,
    UserDataExport,
)
from keel.store import audit
from keel.store.change import Change, Tx
from keel.tenants import repo as tenants
from keel.users import repo as users
from keel.users.models import UserStatus
from keel.users.service import guard_last_super_admin, load, require_self_or

STEPS = (
    "notifications",
    "sessions",
    "tokens",
    "two_factor",
    "other",
    "buyer_records",
    "payment_records",
    "invitation",
    "audit",
    "profile",
)
CHUNK = 90  # writes per transaction, leaving room for the progress update
_SECRET_MARKERS = ("hash", "secret", "code")
_KEY_ATTRS = {"PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK"}
PII_DETAIL_KEYS = {"email", "name", "phone", "notes", "new_email", "old_email", "pending_email", "address"}


def _clean(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in item.items()
        if k not in _KEY_ATTRS and not any(m in k.lower() for m in _SECRET_MARKERS)
    }


def _kind(sk: str) -> str:
    parts = sk.split("#")
    return parts[2].upper() if len(parts) > 2 else "PROFILE"


def _step_of(kind: str) -> str:
    if kind.startswith(("NOTIF", "INBOX")):
        return "notifications"
    if kind in {"LINK", "TOKEN", "OTP"}:
        return "tokens"
    if kind.startswith(("2FA", "TWOFA", "TOTP", "MFA", "BACKUP")):
        return "two_factor"
    return "other"


def _parts(tenant_id: str, user_id: str) -> list[dict[str, Any]]:
    return repo.for_tenant(tenant_id).user_parts(user_id)


def _audit_records(tenant_id: str, user_id: str) -> list[dict[str, Any]]:
    return repo.for_tenant(tenant_id).records_about(user_id)


def _payment_records(found: list[dict[str, Any]]) -> list[PaymentRecord]:
    return [PaymentRecord.model_validate(payers.exported(i)) for i in found]


# export -------------------------------------------------------------------------------------


def export(principal: Principal, tenant_id: str | None, user_id: str) -> UserDataExport:
    require_self_or(principal, user_id, Permission.DATA_REQUESTS)
    user = load(principal, tenant_id, user_id)
    stored = repo.for_tenant(user.tenant_id)
    profile = stored.stored_user(user_id) or {}
    invitation = stored.stored_invitation(user_id)
    result = UserDataExport(
        exported_at=clock.iso(),
        tenant_id=user.tenant_id,
        user_id=user_id,
        user=_clean(profile),
        items=[{"kind": _kind(i["SK"]), **_clean(i)} for i in _parts(user.tenant_id, user_id)],
        sessions=[_clean(s) for s in sessions.for_user(user.tenant_id, user_id)],
        invitation=_clean(invitation) if invitation else None,
        audit_records=[_clean(r) for r in _audit_records(user.tenant_id, user_id)],
        buyer_records=[buyers.exported(i) for i in buyers.items_of(user.tenant_id, user.email)],
        payment_records=_payment_records(payers.items_of(user.tenant_id, user.email)),
    )
    audit.write(
        audit.for_principal(
            principal,
            tenant_id=user.tenant_id,
            action="user.data_export",
            event_type="data_exported",
            target_type="user",
            target_id=user_id,
        )
    )
    return result


# erasure ------------------------------------------------------------------------------------


def _run_chunks(tenant_id: str, user_id: str, step: str, ops: list[Callable[[Tx], None]]) -> None:
    """The step's writes in transactions, each counting itself on the progress item; the last
    one also marks the step done."""
    progress = repo.for_tenant(tenant_id)
    chunks = [ops[i : i + CHUNK] for i in range(0, len(ops), CHUNK)] or [[]]
    for n, chunk in enumerate(chunks):
        tx = Tx()
        for op in chunk:
            op(tx)
        last = n == len(chunks) - 1
        progress.count_progress(tx, user_id, step, len(chunk), done=last)
        tx.commit()


def _delete_op(item: dict[str, Any]) -> Callable[[Tx], None]:
    def op(tx: Tx) -> None:
        repo.drop(tx, item)

    return op


def _scrub_op(record: dict[str, Any]) -> Callable[[Tx], None]:
    details = {k: v for k, v in (record.get("details") or {}).items() if k not in PII_DETAIL_KEYS}

    def op(tx: Tx) -> None:
        repo.anonymise_record(tx, record, details)

    return op


def _buyer_op(tenant_id: str, item: dict[str, Any]) -> Callable[[Tx], None]:
    def op(tx: Tx) -> None:
        retention.erase_buyer_item(tx, tenant_id, item, clock.iso())

    return op


def _payer_op(tenant_id: str, item: dict[str, Any]) -> Callable[[Tx], None]:
    def op(tx: Tx) -> None:
        payers.erase(tx, tenant_id, item)

    return op


def _by_email_ops(step: str, tenant_id: str, user_id: str) -> list[Callable[[Tx], None]]:
    """The items other areas hold under the user's e-mail: checkout's buyer records, payments'."""
    profile = repo.for_tenant(tenant_id).stored_user(user_id, consistent=True) or {}
    email = str(profile.get("email") or "")
    if "@" not in email:
        return []
    if step == "payment_records":
        return [_payer_op(tenant_id, i) for i in payers.items_of(tenant_id, email)]
    return [_buyer_op(tenant_id, i) for i in buyers.items_of(tenant_id, email)]


def _step_ops(step: str, tenant_id: str, user_id: str) -> list[Callable[[Tx], None]]:
    if step == "sessions":
        return [_delete_op(s) for s in sessions.for_user(tenant_id, user_id)]
    if step == "invitation":
        inv = repo.for_tenant(tenant_id).stored_invitation(user_id)
        if not inv or inv.get("anonymised"):
            return []

        def blank(tx: Tx) -> None:
            repo.for_tenant(tenant_id).blank_invitation(tx, user_id)

        return [blank]
    if step == "audit":
        return [_scrub_op(r) for r in _audit_records(tenant_id, user_id) if not r.get("anonymised")]
    if step in ("buyer_records", "payment_records"):
        return _by_email_ops(step, tenant_id, user_id)
    ops: list[Callable[[Tx], None]] = []
    for item in _parts(tenant_id, user_id):
        if _step_of(_kind(item["SK"])) != step:
            continue
        ops.append(_delete_op(item))
        if step == "tokens" and item.get("token_hash"):
            ops.append(_delete_op(repo.link_key(item["token_hash"])))
    return ops


def _start(principal: Principal, tenant_id: str, user_id: str, body: DeletionRequest) -> dict[str, Any]:
    user = users.for_tenant(tenant_id).get(user_id, consistent=True)
    if user is None or user.status is UserStatus.DELETED:
        raise not_found(Kind.USER)
    if user_id == principal.actor:
        raise KeelError(ErrorCode.SAAS_011, "You cannot erase your own account's data this way")
    guard_last_super_admin(user, "erase")
    change = Change(principal)
    marker = repo.for_tenant(tenant_id).start_progress(
        change.tx,
        user_id,
        {"requested_by": principal.actor, "reason": body.reason, "requested_at": clock.iso()},
    )
    # from now on the account cannot sign in and leaves the user lists
    users.for_tenant(tenant_id).hide_for_erasure(
        change.tx, user, on_fail=KeelError(ErrorCode.SAAS_011, "The user changed meanwhile; retry")
    )
    change.audit(
        "user.data_delete_started",
        event_type="data_deletion_started",
        tenant_id=tenant_id,
        target_type="user",
        target_id=user_id,
        severity="warning",
        details={"reason": body.reason},
    )
    change.commit()
    return marker


def _finish(principal: Principal, tenant_id: str, user_id: str, marker: dict[str, Any]) -> DeletionLogEntry:
    item = repo.for_tenant(tenant_id).stored_user(user_id, consistent=True)
    if item is None:
        raise not_found(Kind.USER)
    user = users.from_item(item)
    before_search = users.search_entries(user.model_copy(update={"status": UserStatus.ACTIVE}))
    counts = {step: int(marker.get(f"count_{step}", 0)) for step in STEPS if step != "profile"}
    counts["profile"] = 1
    now = clock.iso()
    entry = DeletionLogEntry(
        log_id=ids.new_id("del"),
        tenant_id=tenant_id,
        user_id=user_id,
        requested_by=marker["requested_by"],
        reason=marker["reason"],
        requested_at=marker["requested_at"],
        completed_at=now,
        deleted=list(STEPS),
        counts=counts,
    )
    change = Change(principal)
    erased = (
        "phone",
        "notification_email",
        "pending_email",
        "password_hash",
        "password_changed_at",
        "two_factor_methods",
        "suspension",
        "extra",
        "last_login_at",
    )
    people = users.for_tenant(tenant_id)
    people.erase_profile(change.tx, user_id, erased, now)
    if "@" in user.email and user.email_reserved:
        users.release_email(change.tx, user)
    people.drop_search_entries(change.tx, before_search)
    if user.suspension and user.suspension.until:
        users.for_tenant(tenant_id).remove_due_suspension(change.tx, user_id, user.suspension.until)
    tenants.for_tenant(tenant_id).release_seat(change.tx)
    repo.for_tenant(tenant_id).add_log(change.tx, entry.log_id, entry.model_dump())
    repo.for_tenant(tenant_id).end_progress(change.tx, user_id)
    change.emit("user.deleted", {"tenant_id": tenant_id, "user_id": user_id}, tenant_id=tenant_id)
    change.audit(
        "user.data_delete",
        event_type="data_deleted",
        tenant_id=tenant_id,
        target_type="user",
        target_id=user_id,
        severity="warning",
        details={"counts": counts, "log_id": entry.log_id},
    )
    change.commit()
    return entry


def delete(
    principal: Principal, tenant_id: str | None, user_id: str, body: DeletionRequest
) -> DeletionLogEntry:
    principal.require(Permission.DATA_REQUESTS)
    scoped = principal.tenant_scope(tenant_id)
    requests = repo.for_tenant(scoped)
    marker = requests.progress(user_id) or _start(principal, scoped, user_id, body)
    for step in STEPS[:-1]:
        if step not in set(marker.get("done") or ()):
            _run_chunks(scoped, user_id, step, _step_ops(step, scoped, user_id))
    marker = requests.progress(user_id) or marker
    return _finish(principal, scoped, user_id, marker)


# contacts known by e-mail only (checkout buyers) ----------------------------------------------


def export_contact(
    principal: Principal, tenant_id: str | None, body: ContactDataRequest
) -> ContactDataExport:
    principal.require(Permission.DATA_REQUESTS)
    scoped = principal.tenant_scope(tenant_id)
    found = buyers.items_of(scoped, body.email)
    paid = payers.items_of(scoped, body.email)
    result = ContactDataExport(
        exported_at=clock.iso(),
        tenant_id=scoped,
        email=body.email,
        buyer_records=[buyers.exported(i) for i in found],
        payment_records=_payment_records(paid),
    )
    audit.write(
        audit.for_principal(
            principal,
            tenant_id=scoped,
            action="contact.data_export",
            event_type="data_exported",
            target_type="contact",
            details={"buyer_records": len(found), "payment_records": len(paid)},
        )
    )
    return result


def delete_contact(
    principal: Principal, tenant_id: str | None, body: ContactDeletionRequest
) -> DeletionLogEntry:
    """Erases the contact's payment records, then its buyer records (the last transaction writes the
    log entry); a run stopped half-way is finished by asking again (what is erased has left the
    payer and buyer indexes)."""
    principal.require(Permission.DATA_REQUESTS)
    scoped = principal.tenant_scope(tenant_id)
    paid = payers.items_of(scoped, body.email)
    for n in range(0, len(paid), CHUNK):
        tx = Tx()
        for item in paid[n : n + CHUNK]:
            payers.erase(tx, scoped, item)
        tx.commit()
    found = buyers.items_of(scoped, body.email)
    now = clock.iso()
    entry = DeletionLogEntry(
        log_id=ids.new_id("del"),
        tenant_id=scoped,
        subject="contact",
        requested_by=principal.actor,
        reason=body.reason,
        requested_at=now,
        completed_at=now,
        deleted=["payment_records", "buyer_records"],
        counts={"buyer_records": len(found), "payment_records": len(paid)},
    )

    def last(change: Change) -> None:
        repo.for_tenant(scoped).add_log(change.tx, entry.log_id, entry.model_dump())
        change.audit(
            "contact.data_delete",
            event_type="data_deleted",
            tenant_id=scoped,
            target_type="contact",
            target_id=entry.log_id,
            severity="warning",
            details={"counts": entry.counts, "log_id": entry.log_id, "reason": body.reason},
        )

    retention.erase_items(principal, scoped, found, last)
    return entry


def list_log(
    principal: Principal, tenant_id: str | None, limit: int, cursor: str | None
) -> Page[DeletionLogEntry]:
    principal.require(Permission.DATA_REQUESTS)
    scoped = principal.tenant_scope(tenant_id)
    found, next_cursor = repo.for_tenant(scoped).log_page(limit, cursor)
    fields = set(DeletionLogEntry.model_fields)
    return Page[DeletionLogEntry](
        items=[DeletionLogEntry.model_validate({k: v for k, v in i.items() if k in fields}) for i in found],
        next_cursor=next_cursor,
    )
