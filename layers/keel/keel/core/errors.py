"""The error catalogue and the one error type every layer raises.

Codes SAAS_001-010, AUTH_001-008 and API_001-008 are the pharmacy guide's catalogue; the higher
numbers extend it for cases the guide does not name. Every code has one HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any


@dataclass(frozen=True)
class CodeInfo:
    status: int
    title: str
    action: str


class ErrorCode(Enum):
    SAAS_001 = CodeInfo(403, "Insufficient permissions", "Check user role assignments")
    SAAS_002 = CodeInfo(404, "User not found", "Verify user ID or create user")
    SAAS_003 = CodeInfo(409, "Role assignment failed", "Check role configuration and retry")
    SAAS_004 = CodeInfo(404, "Feature flag not found", "Verify flag name or create flag")
    SAAS_005 = CodeInfo(403, "Security policy violation", "Review security policies")
    SAAS_006 = CodeInfo(409, "Tenant limit exceeded", "Upgrade subscription or remove users")
    SAAS_007 = CodeInfo(502, "Notification delivery failed", "Check notification configuration")
    SAAS_008 = CodeInfo(503, "Analytics data unavailable", "Check data pipeline status")
    SAAS_009 = CodeInfo(503, "System maintenance mode", "Wait for maintenance completion")
    SAAS_010 = CodeInfo(429, "Rate limit exceeded", "Reduce request frequency or increase limits")
    SAAS_011 = CodeInfo(409, "Conflict with current state", "Reload the resource and retry")
    SAAS_012 = CodeInfo(410, "Link expired or revoked", "Ask for a new link")
    SAAS_013 = CodeInfo(404, "Tenant not found", "Verify the tenant ID")
    SAAS_014 = CodeInfo(404, "Role not found", "Verify the role name or create the role")
    SAAS_015 = CodeInfo(404, "Invitation not found", "Verify the invitation ID")
    SAAS_016 = CodeInfo(404, "Session not found", "Verify the session ID")
    SAAS_017 = CodeInfo(404, "Impersonation not found", "Verify the impersonation ID")
    # checkout (issue 13)
    SAAS_060 = CodeInfo(404, "Event not found", "Verify the city id or create the event")
    SAAS_061 = CodeInfo(409, "Sold out", "No seats left in this tier; try another tier or event")
    SAAS_062 = CodeInfo(502, "Payment provider unavailable", "Retry shortly; no seats were kept")
    SAAS_063 = CodeInfo(409, "Event not on sale", "Sales for this event are closed")
    # flags (SAAS_020-029)
    SAAS_020 = CodeInfo(
        409, "Feature flag archived", "Archived flags serve their off value and cannot change"
    )
    SAAS_021 = CodeInfo(404, "Scheduled flag change not found", "Verify the flag key and change ID")
    SAAS_022 = CodeInfo(
        409, "Scheduled flag change not pending", "It was applied, failed or cancelled already"
    )
    # payments (issue 12): SAAS_050-059
    SAAS_050 = CodeInfo(400, "Webhook signature missing or malformed", "Send the gateway's signature headers")
    SAAS_051 = CodeInfo(401, "Webhook signature invalid", "Check the signing secret and the clock")
    SAAS_052 = CodeInfo(409, "Refund not possible", "Refund at most what was paid and not yet refunded")
    SAAS_053 = CodeInfo(502, "Payment gateway error", "Check gateway credentials and status, then retry")
    SAAS_054 = CodeInfo(409, "Plan below current usage", "Remove users or choose a larger plan")
    SAAS_055 = CodeInfo(404, "Payment not found", "Verify the payment ID")
    SAAS_056 = CodeInfo(404, "Invoice not found", "Verify the invoice ID")
    SAAS_057 = CodeInfo(404, "Plan not found", "Verify the plan ID or create the plan")
    SAAS_058 = CodeInfo(404, "Subscription not found", "Verify the subscription ID")
    SAAS_059 = CodeInfo(404, "Gateway event not found", "Verify the gateway event ID")
    AUTH_001 = CodeInfo(401, "Invalid credentials", "Verify credentials or reset password")
    AUTH_002 = CodeInfo(423, "Account locked", "Unlock account or wait for auto-unlock")
    AUTH_003 = CodeInfo(403, "Account suspended", "Contact administrator")
    AUTH_004 = CodeInfo(401, "Session expired", "Re-authenticate")
    AUTH_005 = CodeInfo(403, "2FA required", "Complete 2FA setup")
    AUTH_006 = CodeInfo(401, "Invalid 2FA code", "Generate new code")
    AUTH_007 = CodeInfo(403, "Password expired", "Update password")
    AUTH_008 = CodeInfo(403, "Account not activated", "Check email and activate account")
    # notifications (issue 10)
    SAAS_030 = CodeInfo(404, "Notification template not found", "Verify the template ID")
    SAAS_031 = CodeInfo(404, "Notification rule not found", "Verify the rule ID")
    SAAS_032 = CodeInfo(404, "Notification not found", "Verify the notification ID")
    SAAS_033 = CodeInfo(404, "Scheduled notification not found", "Verify the send ID")
    SAAS_034 = CodeInfo(409, "Channel not configured", "Turn the channel on and set its credentials")
    API_001 = CodeInfo(401, "Invalid API key", "Verify API key configuration")
    API_002 = CodeInfo(401, "API key expired", "Renew or regenerate API key")
    API_003 = CodeInfo(403, "Insufficient API permissions", "Update API key permissions")
    API_004 = CodeInfo(429, "Rate limit exceeded", "Implement rate limiting in client")
    API_005 = CodeInfo(400, "Invalid request format", "Check API documentation")
    API_006 = CodeInfo(404, "Resource not found", "Verify resource ID")
    API_007 = CodeInfo(422, "Validation error", "Check required fields and formats")
    API_008 = CodeInfo(500, "Server error", "Contact technical support")
    API_009 = CodeInfo(405, "Method not allowed", "Use one of the methods in the Allow header")
    API_010 = CodeInfo(413, "Payload too large", "Send at most 256 KB")
    API_011 = CodeInfo(409, "Idempotency key reused", "Use a new Idempotency-Key for a new request")
    API_012 = CodeInfo(415, "Unsupported media type", "Send application/json")
    API_013 = CodeInfo(
        409, "Answer not replayable", "The first answer held a credential; send a new Idempotency-Key"
    )
    # webhooks (issue 11)
    SAAS_040 = CodeInfo(404, "Webhook endpoint not found", "Verify the endpoint ID")
    SAAS_041 = CodeInfo(404, "Webhook delivery not found", "Verify the delivery ID")
    SAAS_042 = CodeInfo(409, "Webhook endpoint disabled", "Enable the endpoint, then retry")

    @property
    def status(self) -> int:
        return self.value.status

    @property
    def title(self) -> str:
        return self.value.title


class KeelError(Exception):
    """The one error type. Handlers turn it into `{"error": {...}}` with the code's status."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.code = code
        self.message = message or code.title
        self.details = details
        self.headers = headers or {}
        super().__init__(f"{code.name}: {self.message}")

    @property
    def status(self) -> int:
        return self.code.status


class Kind(StrEnum):
    """The kinds of thing a request can name by id. Each has one not-found code (`NOT_FOUND`)."""

    TENANT = "Tenant"
    USER = "User"
    ROLE = "Role"
    INVITATION = "Invitation"
    SESSION = "Session"
    IMPERSONATION = "Impersonation"
    # notifications (issue 10)
    NOTIFICATION_TEMPLATE = "Notification template"
    NOTIFICATION_RULE = "Notification rule"
    NOTIFICATION = "Notification"
    SCHEDULED_NOTIFICATION = "Scheduled notification"
    # checkout (issue 13)
    EVENT = "Event"
    # webhooks (issue 11)
    WEBHOOK_ENDPOINT = "Webhook endpoint"
    WEBHOOK_DELIVERY = "Webhook delivery"
    # flags
    FLAG = "Feature flag"
    FLAG_CHANGE = "Scheduled flag change"
    # payments (issue 12)
    PAYMENT = "Payment"
    INVOICE = "Invoice"
    PLAN = "Plan"
    SUBSCRIPTION = "Subscription"
    GATEWAY_EVENT = "Gateway event"


# One code per kind; API_006 is kept for a path that matches no route.
NOT_FOUND: dict[Kind, ErrorCode] = {
    Kind.TENANT: ErrorCode.SAAS_013,
    Kind.USER: ErrorCode.SAAS_002,
    Kind.ROLE: ErrorCode.SAAS_014,
    Kind.INVITATION: ErrorCode.SAAS_015,
    Kind.SESSION: ErrorCode.SAAS_016,
    Kind.IMPERSONATION: ErrorCode.SAAS_017,
    # notifications (issue 10)
    Kind.NOTIFICATION_TEMPLATE: ErrorCode.SAAS_030,
    Kind.NOTIFICATION_RULE: ErrorCode.SAAS_031,
    Kind.NOTIFICATION: ErrorCode.SAAS_032,
    Kind.SCHEDULED_NOTIFICATION: ErrorCode.SAAS_033,
    # checkout (issue 13)
    Kind.EVENT: ErrorCode.SAAS_060,
    # webhooks (issue 11)
    Kind.WEBHOOK_ENDPOINT: ErrorCode.SAAS_040,
    Kind.WEBHOOK_DELIVERY: ErrorCode.SAAS_041,
    # flags
    Kind.FLAG: ErrorCode.SAAS_004,
    Kind.FLAG_CHANGE: ErrorCode.SAAS_021,
    # payments (issue 12)
    Kind.PAYMENT: ErrorCode.SAAS_055,
    Kind.INVOICE: ErrorCode.SAAS_056,
    Kind.PLAN: ErrorCode.SAAS_057,
    Kind.SUBSCRIPTION: ErrorCode.SAAS_058,
    Kind.GATEWAY_EVENT: ErrorCode.SAAS_059,
}


def not_found(kind: Kind) -> KeelError:
    """The one not-found error of a kind. Missing and other-tenant items answer the same (no leak)."""
    return KeelError(NOT_FOUND[kind], f"{kind.value} not found")


def invalid(field: str, message: str) -> KeelError:
    """A domain-level validation failure on one named field (422 API_007)."""
    return KeelError(ErrorCode.API_007, message, details=[{"field": field, "message": message}])
