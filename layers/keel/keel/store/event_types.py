"""The declared domain events: every event type, its payload model and what it means.

This is the one registry. `Change.emit` refuses a type that is not here or a payload that does
not validate against its model; the workers' subscriptions (`keel.mail.system.HANDLERS`) and
the template's SNS filter policies may name only these types (tests/unit/test_event_types.py);
`catalogue()` is what the webhooks area publishes as `list_event_types`.

A new area declares its events here: one payload model (ids and small facts, never personal
data or secrets: consumers read fresh state by id) and one `_declare(...)` line per type.
Payloads forbid unknown fields, so a typo in an emit fails in the tests, not in a consumer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, Field

from keel.core.model import Model


class Payload(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TenantRef(Payload):
    tenant_id: str


class UserRef(Payload):
    tenant_id: str
    user_id: str


class TenantCreated(TenantRef):
    admin_user_id: str = Field(description="The first administrator, pending activation")
    name: str


class UserCreated(UserRef):
    role: str


class UserUpdated(UserRef):
    changed: list[str] = Field(description="Names of the profile fields that changed")


class UserRoleChanged(UserRef):
    from_role: str
    to_role: str


class UserSuspended(UserRef):
    until: str | None = Field(default=None, description="End of a temporary suspension (ISO 8601)")


class TwoFactorCode(UserRef):
    pk: str = Field(description="Key of the pending code item the mailer reads (never the code itself)")
    sk: str


class RoleCreated(Payload):
    role: str
    permissions: list[str]


class RoleUpdated(Payload):
    role: str


class InvitationRef(TenantRef):
    invitation_id: str


class InvitationSent(InvitationRef):
    tenant_name: str | None = None


class InvitationAccepted(InvitationRef):
    user_id: str


# notifications (issue 10)
class NotificationRef(TenantRef):
    notification_id: str


class BulkSendRef(TenantRef):
    send_id: str


# checkout (issue 13)
class CheckoutEventRef(Payload):
    city_id: str


class CheckoutSale(CheckoutEventRef):
    registration_id: str
    tier: str
    quantity: int


class InventoryAdjusted(CheckoutEventRef):
    tier: str
    ledger_id: str


# webhooks (issue 11)
class WebhookEndpointRef(TenantRef):
    endpoint_id: str


class WebhookEndpointFailing(WebhookEndpointRef):
    failing_since: str = Field(description="When its deliveries started failing (ISO 8601)")
    disable_at: str = Field(description="When it is disabled if every delivery keeps failing")


class WebhookEndpointDisabled(WebhookEndpointRef):
    reason: str = Field(description="`gone` (answered 410) or `failing` (failed for 5 days)")


# flags
class FlagRef(Payload):
    flag_key: str
    version: int = Field(description="The flag's version after the change")


class FlagToggled(FlagRef):
    on: bool


class FlagChangeRef(Payload):
    flag_key: str
    change_id: str
    action: str = Field(description="toggle, targeting or rollout")


class FlagCacheRefreshed(Payload):
    version: int = Field(description="The flag set's new version")


# payments (issue 12)
class GatewayEventReceived(Payload):
    receipt_id: str = Field(description="The stored delivery (list_gateway_events)")
    gateway: str
    reprocess: bool = Field(default=False, description="An operator asked to apply it again")


class PaymentRef(TenantRef):
    payment_id: str
    invoice_id: str | None = None
    gateway: str
    amount: int = Field(description="Minor units")
    currency: str


class PaymentFailed(PaymentRef):
    decline_code: str | None = None


class PaymentRefunded(PaymentRef):
    refund_id: str
    refunded: int = Field(description="This refund, minor units")


class InvoiceRef(TenantRef):
    invoice_id: str
    status: str


class SubscriptionRef(TenantRef):
    subscription_id: str
    plan_id: str
    status: str


class SubscriptionPlanChanged(SubscriptionRef):
    from_plan: str


@dataclass(frozen=True)
class EventType:
    name: str
    payload: type[Payload]
    description: str

    def schema(self) -> dict[str, Any]:
        return self.payload.model_json_schema()


REGISTRY: dict[str, EventType] = {}


def _declare(name: str, payload: type[Payload], description: str) -> None:
    assert name not in REGISTRY, f"event type {name} declared twice"
    REGISTRY[name] = EventType(name, payload, description)


# tenants
_declare("tenant.created", TenantCreated, "A tenant was created with its first administrator")
_declare("tenant.updated", TenantRef, "A tenant's name, plan, limits or status changed")
# users
_declare("user.created", UserCreated, "A user was added (by an administrator or by accepting an invitation)")
_declare("user.updated", UserUpdated, "A user's profile changed")
_declare("user.email_change_requested", UserRef, "A user asked to change their e-mail; a link goes to it")
_declare("user.email_changed", UserRef, "A user confirmed their new e-mail address")
_declare("user.role_changed", UserRoleChanged, "A user's role changed")
_declare("user.suspended", UserSuspended, "A user was suspended (their sessions are ended)")
_declare("user.unsuspended", UserRef, "A user's suspension was lifted")
_declare("user.deleted", UserRef, "A user's personal data was erased (the user is a tombstone)")
# identity
_declare("auth.password_changed", UserRef, "A user's password changed (the user is told by e-mail)")
_declare("auth.password_reset_requested", UserRef, "A password reset link is to be sent to the user")
_declare("auth.activation_requested", UserRef, "An activation link is to be sent (again) to the user")
_declare("auth.two_factor_code", TwoFactorCode, "An e-mail 2FA code is to be sent to the user")
_declare("auth.two_factor_changed", UserRef, "A user's 2FA methods changed (enrolled, confirmed or reset)")
# roles
_declare("role.created", RoleCreated, "A custom role was created")
_declare("role.updated", RoleUpdated, "A custom role's label, description or permissions changed")
# invitations
_declare("invitation.created", InvitationSent, "An invitation was created; the invitee gets a link")
_declare("invitation.resent", InvitationSent, "An invitation was sent again with a new link")
_declare("invitation.revoked", InvitationRef, "An invitation was revoked; its link no longer works")
_declare("invitation.accepted", InvitationAccepted, "An invitation was accepted and its user created")
# notifications (issue 10)
_declare("notification.queued", NotificationRef, "A notification was queued for delivery to one recipient")
_declare("notification.bulk_requested", BulkSendRef, "A bulk send is due: its audience is to be fanned out")

# checkout (issue 13)
_declare("checkout.event_created", CheckoutEventRef, "A ticketed workshop event was created in a city")
_declare("checkout.event_updated", CheckoutEventRef, "A workshop event's details, prices or limits changed")
_declare("checkout.sold", CheckoutSale, "A paid checkout became a registration; the city's staff are alerted")
_declare(
    "checkout.oversold",
    CheckoutSale,
    "A payment was taken past the actual limit; the city's staff are alerted",
)
_declare(
    "checkout.oversold_notice", CheckoutSale, "An oversold customer is to be told (e-mail, SMS when given)"
)
_declare("checkout.inventory_expanded", InventoryAdjusted, "Seats were added to a tier, with a reason")
_declare("checkout.inventory_corrected", InventoryAdjusted, "A tier's counts were set to audited values")
# webhooks (issue 11)
_declare("webhook.endpoint_created", WebhookEndpointRef, "A webhook endpoint was registered")
_declare("webhook.endpoint_updated", WebhookEndpointRef, "A webhook endpoint's settings or secret changed")
_declare("webhook.endpoint_deleted", WebhookEndpointRef, "A webhook endpoint was deleted")
_declare(
    "webhook.endpoint_failing",
    WebhookEndpointFailing,
    "Deliveries to a webhook endpoint started failing (its tenant's admins are told)",
)
_declare(
    "webhook.endpoint_disabling",
    WebhookEndpointFailing,
    "A webhook endpoint has failed for 4 days and is disabled in a day unless it recovers",
)
_declare("webhook.endpoint_disabled", WebhookEndpointDisabled, "A webhook endpoint was disabled by Keel")
# flags
_declare("flag.created", FlagRef, "A feature flag was created")
_declare("flag.updated", FlagRef, "A feature flag's name, description, category or variations changed")
_declare("flag.toggled", FlagToggled, "A feature flag was switched on or off")
_declare("flag.targeting_updated", FlagRef, "A feature flag's rules or rollout changed")
_declare("flag.archived", FlagRef, "A feature flag was archived (it serves its off value)")
_declare("flag.change_scheduled", FlagChangeRef, "A change to a feature flag was scheduled")
_declare("flag.change_cancelled", FlagChangeRef, "A scheduled flag change was cancelled")
_declare("flag.change_applied", FlagChangeRef, "A scheduled flag change was applied (once)")
_declare("flag.cache_refreshed", FlagCacheRefreshed, "Every evaluator was told to reload the flags")
# payments (issue 12)
_declare("gateway.event_received", GatewayEventReceived, "A payment gateway event was received and verified")
_declare("payment.succeeded", PaymentRef, "A payment succeeded")
_declare("payment.failed", PaymentFailed, "A payment failed (decline code in the payment)")
_declare("payment.refunded", PaymentRefunded, "A payment was refunded in full or in part")
_declare("invoice.paid", InvoiceRef, "An invoice was paid (by a payment or marked paid with a reason)")
_declare("invoice.payment_failed", InvoiceRef, "A payment of an invoice failed")
_declare("subscription.created", SubscriptionRef, "A tenant's subscription started")
_declare("subscription.updated", SubscriptionPlanChanged, "A subscription moved to another plan")
_declare("subscription.cancelled", SubscriptionRef, "A subscription was cancelled (now or at period end)")
_declare("subscription.renewed", SubscriptionRef, "A subscription was renewed (or its cancellation undone)")
_declare("subscription.reconciled", SubscriptionRef, "Reconciliation corrected a subscription")


def validated(name: str, data: dict[str, Any] | Payload) -> dict[str, Any]:
    """The payload of a declared event as it is stored; raises ValueError for anything else."""
    declared = REGISTRY.get(name)
    if declared is None:
        raise ValueError(f"undeclared event type {name!r}: declare it in keel.store.event_types")
    if isinstance(data, Payload):
        if not isinstance(data, declared.payload):
            raise ValueError(f"{name} carries {declared.payload.__name__}, not {type(data).__name__}")
        return data.model_dump(mode="json", exclude_none=True)
    declared.payload.model_validate(data)  # pydantic.ValidationError is a ValueError
    return data


def catalogue() -> list[dict[str, Any]]:
    """Every declared event: name, description and its payload's JSON schema (sorted by name)."""
    return [
        {"name": e.name, "description": e.description, "schema": e.schema()}
        for e in sorted(REGISTRY.values(), key=lambda e: e.name)
    ]
