"""A user's own preferences and in-app inbox (profile:self: nobody reads another's)."""

from __future__ import annotations

from keel.core.errors import invalid
from keel.core.pagination import DEFAULT_LIMIT
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.notifications import repo
from keel.notifications.models import (
    MANDATORY,
    InboxItem,
    InboxPage,
    MarkedRead,
    MarkRead,
    Preferences,
    PreferencesUpdate,
)
from keel.store.change import Change


def preferences(principal: Principal) -> Preferences:
    principal.require(Permission.PROFILE)
    return Preferences.model_validate(repo.for_tenant(principal.tenant_id).preferences(principal.user_id))


def update_preferences(principal: Principal, body: PreferencesUpdate) -> Preferences:
    principal.require(Permission.PROFILE)
    for category, channels in (body.categories or {}).items():
        if category in MANDATORY and False in channels.values():
            raise invalid(
                f"categories.{category}",
                f"{category.capitalize()} messages (password resets, codes, account changes) "
                "cannot be switched off",
            )
    store = repo.for_tenant(principal.tenant_id)
    current = Preferences.model_validate(store.preferences(principal.user_id)).model_dump(mode="json")
    changes = body.model_dump(
        exclude_unset=True, exclude_none=True, exclude={"clear_quiet_hours"}, mode="json"
    )
    for key in ("channels", "categories"):
        if key in changes:
            merged = dict(current.get(key) or {})
            for k, v in changes.pop(key).items():
                merged[k] = {**(merged.get(k) or {}), **v} if isinstance(v, dict) else v
            current[key] = merged
    current.update(changes)
    if body.clear_quiet_hours:
        current["quiet_hours"] = None
    current.pop("mandatory", None)
    updated = Preferences.model_validate(current)
    change = Change(principal)
    store.put_preferences(
        change.tx, principal.user_id, updated.model_dump(mode="json", exclude={"mandatory"})
    )
    change.audit(
        "notification.preferences_update",
        target_type="user",
        target_id=principal.user_id,
        details={"changed": sorted(body.model_dump(exclude_unset=True))},
    )
    change.commit()
    return updated


def list_inbox(
    principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None, unread_only: bool = False
) -> InboxPage:
    principal.require(Permission.PROFILE)
    store = repo.for_tenant(principal.tenant_id)
    items, next_cursor = store.inbox(principal.user_id, limit, cursor, unread_only)
    return InboxPage(
        items=[InboxItem.model_validate(i) for i in items],
        unread=store.unread(principal.user_id),
        next_cursor=next_cursor,
    )


def mark_read(principal: Principal, body: MarkRead) -> MarkedRead:
    """Marks the given entries (or all) read; an unknown or foreign id changes nothing."""
    principal.require(Permission.PROFILE)
    store = repo.for_tenant(principal.tenant_id)
    wanted = list(store.unread_ids(principal.user_id)) if body.all else body.notification_ids
    marked = sum(1 for nid in dict.fromkeys(wanted) if store.mark_read(principal.user_id, nid))
    return MarkedRead(marked=marked, unread=store.unread(principal.user_id))
