"""Two tenants with something of each kind in A: the setting of the permission and isolation matrices."""

from __future__ import annotations

from dataclasses import dataclass, field

from keel.core import clock
from tests.support.actors import Actor, super_admin, tenant_admin
from tests.support.http import Api
from tests.support.people import invite, member

CUSTOM_ROLE = "night_shift"


@dataclass
class World:
    root: Actor
    boss: Actor  # manager of tenant A (Acme)
    other: Actor  # manager of tenant B: every tenant permission, in the wrong tenant
    ph: Actor  # pharmacist of A: profile, users:read, roles:read, tenants:read
    cashier: Actor  # cashier of A: profile only
    invitation_id: str  # a pending invitation of A
    boss_session: str  # the session of A's manager
    impersonation_id: str  # A's manager acting as the cashier
    role: str = CUSTOM_ROLE  # a custom role of A
    # notifications (issue 10): template_id, rule_id, send_id (scheduled), notification_id of A
    notify: dict[str, str] = field(default_factory=dict)
    # webhooks (issue 11): an endpoint of A and one of its messages
    webhook_endpoint_id: str = "whep_a"
    webhook_delivery_id: str = "msg_a"


def two_tenants(api: Api) -> World:
    clock.freeze()  # no last-activity writes between the snapshots
    root = super_admin(api)
    boss = tenant_admin(api, root)
    other = tenant_admin(api, root, "Other Pharmacy", "boss@other.example.com")
    ph = member(api, boss, "ph@acme.example.com")
    cashier = member(api, boss, "cash@acme.example.com", role="cashier")
    inv = invite(api, boss, "pending@acme.example.com")
    role = api.post(
        "/roles", {"name": CUSTOM_ROLE, "label": "Night", "permissions": ["profile:self"]}, token=boss.token
    )
    assert role.status == 201, role.text
    mine = api.get("/sessions", token=boss.token).json["items"]
    imp = api.post(
        "/impersonations",
        {"user_id": cashier.user_id, "reason": "ticket 12: till totals", "duration_minutes": 30},
        token=boss.token,
    )
    assert imp.status == 201, imp.text
    from tests.support.notify import seed

    notify = seed(api, boss)
    hook = api.post(
        "/webhooks/endpoints",
        {"url": "https://93.184.215.14/hook", "event_types": ["user.*"]},
        token=boss.token,
    )
    assert hook.status == 201, hook.text
    delivery_id = _webhook_message(boss.tenant_id, hook.json["endpoint_id"])
    return World(
        root,
        boss,
        other,
        ph,
        cashier,
        inv["invitation_id"],
        next(s["session_id"] for s in mine if s["current"]),
        imp.json["impersonation_id"],
        notify=notify,
        webhook_endpoint_id=hook.json["endpoint_id"],
        webhook_delivery_id=delivery_id,
    )


def _webhook_message(tenant_id: str, endpoint_id: str) -> str:
    """A failed message of A's endpoint (as the delivery worker leaves one)."""
    from keel.core import ids
    from keel.webhooks import messages, repo

    did = messages.delivery_id(ids.new_id("evt"), endpoint_id)
    fields = messages.new_message(
        tenant_id=tenant_id,
        delivery_id=did,
        endpoint_id=endpoint_id,
        event_id=None,
        event_type="user.created",
        payload=messages.body("user.created", clock.iso(), {"tenant_id": tenant_id, "user_id": "usr_x"}),
    )
    assert repo.for_tenant(tenant_id).add_message({**fields, "status": "failed", "next_attempt": 2})
    return did
