"""The user a principal may act on: one consistent read within its tenant scope."""

from __future__ import annotations

from keel.core.errors import Kind, not_found
from keel.core.principal import Principal
from keel.users import repo as users
from keel.users.models import User, UserStatus


def user_in_scope(principal: Principal, user_id: str, tenant_id: str | None = None) -> User:
    user = users.for_tenant(principal.tenant_scope(tenant_id)).get(user_id, consistent=True)
    if user is None or user.status is UserStatus.DELETED:
        raise not_found(Kind.USER)
    return user
