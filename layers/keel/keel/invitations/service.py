"""Invitation rules: invite an address to a role, resend, revoke, accept (sets the password under
the tenant's policy and activates the account at once: the link proved the address)."""

from __future__ import annotations

from datetime import UTC, datetime

from keel.auth.passwords import validate_new
from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError, Kind, not_found
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.identity import links, passwords
from keel.invitations import repo
from keel.invitations.models import Invitation, InvitationAccept, InvitationCreate, InvitationOut
from keel.roles import service as roles
from keel.store.change import Change, Tx
from keel.tenants import repo as tenants
from keel.users import repo as users
from keel.users.models import User, UserOut, UserStatus

DAY = 24 * 3600


def _at(epoch: int) -> str:
    return clock.iso(datetime.fromtimestamp(epoch, UTC))


def _not_pending(inv: Invitation) -> KeelError:
    status = repo.current_status(inv)
    if status in {"revoked", "accepted"}:
        return KeelError(ErrorCode.SAAS_011, f"The invitation is {status}")
    return KeelError(ErrorCode.SAAS_011, "The invitation changed meanwhile; reload and retry")


def _gone() -> KeelError:
    return KeelError(ErrorCode.SAAS_012, "This invitation is invalid, revoked, used or expired")


def _has_account(*, elsewhere: bool) -> KeelError:
    """Told only to the invitee (who holds the link): one address, one account, one organisation."""
    if not elsewhere:
        return KeelError(ErrorCode.SAAS_011, "This address already has an account here; sign in with it")
    return KeelError(
        ErrorCode.SAAS_011,
        "This address already has an account with another organisation, and an address can belong "
        "to one organisation only. Sign in with that account, or ask the inviter to invite another "
        "address.",
    )


def _tenant_name(tenant_id: str) -> str | None:
    tenant = tenants.for_tenant(tenant_id).get()
    return tenant.name if tenant else None


def _revoke_link(tx: Tx, inv: Invitation) -> None:
    links.revoke(tx, tenant_id=inv.tenant_id, user_id=inv.user_id, purpose=links.INVITATION)


def create(principal: Principal, tenant_id: str | None, body: InvitationCreate) -> InvitationOut:
    principal.require(Permission.INVITATIONS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    roles.assignable(principal, scoped, body.role)
    email = str(body.email)
    found = users.lookup_email(email)
    if found and found[0] == scoped:
        raise KeelError(
            ErrorCode.SAAS_011,
            "This address already has an account in this tenant",
            details=[{"field": "email", "message": "already has an account"}],
        )
    # An account in another tenant is answered exactly like a new address (same read, same write,
    # same mail): the inviter learns nothing; only the invitee is told, when they accept.
    ulid = ids.ulid()
    expires = clock.epoch() + body.expires_in_days * DAY
    inv = Invitation(
        invitation_id=f"inv_{ulid}",
        tenant_id=scoped,
        user_id=f"usr_{ulid}",
        email=email,
        name=body.name,
        role=body.role,
        invited_by=principal.actor,
        created_at=clock.iso(),
        ends_at=_at(expires),
        expires_epoch=expires,
    )
    change = Change(principal)
    repo.for_tenant(scoped).add(change.tx, inv)
    change.emit(
        "invitation.created",
        {"tenant_id": scoped, "invitation_id": inv.invitation_id, "tenant_name": _tenant_name(scoped)},
        tenant_id=scoped,
    )
    change.audit(
        "invitation.create",
        event_type="invitation_created",
        tenant_id=scoped,
        target_type="invitation",
        target_id=inv.invitation_id,
        details={"role": inv.role, "expires_at": inv.ends_at},
    )
    change.commit()
    return repo.out(inv)


def list_invitations(
    principal: Principal, tenant_id: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[InvitationOut]:
    """One Query per page; `expired` is a pending invitation past its end (a filter on the page)."""
    principal.require(Permission.INVITATIONS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    items, next_cursor = repo.for_tenant(scoped).page(status, limit, cursor)
    return Page[InvitationOut](items=[repo.out(i) for i in items], next_cursor=next_cursor)


def _load(principal: Principal, tenant_id: str | None, invitation_id: str) -> Invitation:
    scoped = principal.tenant_scope(tenant_id)
    inv = repo.for_tenant(scoped).get(invitation_id, consistent=True)
    if inv is None:
        raise not_found(Kind.INVITATION)
    return inv


def resend(principal: Principal, tenant_id: str | None, invitation_id: str) -> InvitationOut:
    """A fresh link with a fresh expiry; the old link stops working in the same transaction."""
    principal.require(Permission.INVITATIONS_MANAGE)
    inv = _load(principal, tenant_id, invitation_id)
    if inv.status != "pending":
        raise _not_pending(inv)
    days = max(1, round((inv.expires_epoch - int(clock.parse(inv.created_at).timestamp())) / DAY))
    expires = clock.epoch() + days * DAY
    updated = inv.model_copy(
        update={
            "expires_epoch": expires,
            "ends_at": _at(expires),
            "sent_count": inv.sent_count + 1,
        }
    )
    change = Change(principal)
    repo.for_tenant(inv.tenant_id).extend(change.tx, updated, on_fail=_not_pending(inv))
    _revoke_link(change.tx, inv)
    change.emit(
        "invitation.resent",
        {
            "tenant_id": inv.tenant_id,
            "invitation_id": inv.invitation_id,
            "tenant_name": _tenant_name(inv.tenant_id),
        },
        tenant_id=inv.tenant_id,
    )
    change.audit(
        "invitation.resend",
        event_type="invitation_resent",
        tenant_id=inv.tenant_id,
        target_type="invitation",
        target_id=inv.invitation_id,
        details={"expires_at": updated.ends_at, "sent_count": updated.sent_count},
    )
    change.commit()
    return repo.out(updated)


def revoke(principal: Principal, tenant_id: str | None, invitation_id: str) -> InvitationOut:
    principal.require(Permission.INVITATIONS_MANAGE)
    inv = _load(principal, tenant_id, invitation_id)
    if inv.status != "pending":
        raise _not_pending(inv)
    now = clock.iso()
    change = Change(principal)
    repo.for_tenant(inv.tenant_id).close(change.tx, inv, "revoked", now, on_fail=_not_pending(inv))
    _revoke_link(change.tx, inv)
    change.emit(
        "invitation.revoked",
        {"tenant_id": inv.tenant_id, "invitation_id": inv.invitation_id},
        tenant_id=inv.tenant_id,
    )
    change.audit(
        "invitation.revoke",
        event_type="invitation_revoked",
        tenant_id=inv.tenant_id,
        target_type="invitation",
        target_id=inv.invitation_id,
    )
    change.commit()
    return repo.out(inv.model_copy(update={"status": "revoked", "revoked_at": now}))


def accept(body: InvitationAccept, principal: Principal) -> UserOut:
    """The invitee sets a password (tenant policy) and the account is active at once (410 if the
    invitation is expired, revoked or already used)."""
    change = Change(principal)
    link = links.redeem(change.tx, body.token, links.INVITATION)
    inv = repo.for_tenant(link["tenant_id"]).of_user(link["user_id"])
    if inv is None or repo.current_status(inv) != "pending":
        raise _gone()
    owner = users.lookup_email(inv.email)
    if owner:
        raise _has_account(elsewhere=owner[0] != inv.tenant_id)
    validate_new(body.password, tenant_id=inv.tenant_id, user_id=inv.user_id)
    if roles.find(inv.tenant_id, inv.role) is None:
        raise KeelError(
            ErrorCode.SAAS_003, f"The invited role {inv.role!r} no longer exists; ask for a new invitation"
        )
    now = clock.iso()
    user = User(
        user_id=inv.user_id,
        tenant_id=inv.tenant_id,
        email=inv.email,
        name=body.name or inv.name or inv.email.split("@")[0],
        role=inv.role,
        status=UserStatus.ACTIVE,
        password_hash=passwords.hash_password(body.password),
        password_strength=passwords.strength(body.password),
        password_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    change.principal = Principal(
        tenant_id=user.tenant_id,
        user_id=user.user_id,
        role=user.role,
        permissions=frozenset(),
        meta=principal.meta,
    )
    tenants.for_tenant(inv.tenant_id).take_seat(change.tx)
    users.add_new_user(change.tx, user)
    repo.for_tenant(inv.tenant_id).close(change.tx, inv, "accepted", now, on_fail=_gone())
    change.emit(
        "user.created",
        {"tenant_id": inv.tenant_id, "user_id": user.user_id, "role": user.role},
        tenant_id=inv.tenant_id,
    )
    change.emit(
        "invitation.accepted",
        {"tenant_id": inv.tenant_id, "invitation_id": inv.invitation_id, "user_id": user.user_id},
        tenant_id=inv.tenant_id,
    )
    change.audit(
        "invitation.accept",
        event_type="invitation_accepted",
        tenant_id=inv.tenant_id,
        target_type="user",
        target_id=user.user_id,
        details={"invitation_id": inv.invitation_id, "role": user.role},
    )
    change.commit()
    return UserOut.of(user)
