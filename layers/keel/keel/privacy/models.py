"""Shapes of the data-request routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from keel.core.email import Email
from keel.core.model import Model


class PaymentRecord(Model):
    """A payment or invoice carrying the person's e-mail (what was paid and when; no card data)."""

    kind: Literal["payment", "invoice"]
    id: str
    amount: int = Field(description="Minor units (an invoice: the amount due)")
    currency: str
    status: str
    created_at: str


class UserDataExport(Model):
    exported_at: str
    tenant_id: str
    user_id: str
    user: dict[str, Any] = Field(description="The profile (secrets such as the password hash left out)")
    items: list[dict[str, Any]] = Field(description="Every other item held about the user, by kind")
    sessions: list[dict[str, Any]]
    invitation: dict[str, Any] | None = None
    audit_records: list[dict[str, Any]] = Field(description="Audited actions by or about the user")
    buyer_records: list[dict[str, Any]] = Field(
        default=[], description="Checkout holds and registrations in the tenant under the user's e-mail"
    )
    payment_records: list[PaymentRecord] = Field(
        default=[], description="Payments and invoices in the tenant under the user's e-mail"
    )


class DeletionRequest(Model):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500, description="The verified request, e.g. its ticket id")


class ContactDataRequest(Model):
    """A data subject known only by e-mail (a checkout buyer without an account)."""

    model_config = ConfigDict(extra="forbid")
    email: Email


class ContactDeletionRequest(ContactDataRequest):
    reason: str = Field(min_length=3, max_length=500, description="The verified request, e.g. its ticket id")


class ContactDataExport(Model):
    exported_at: str
    tenant_id: str
    email: str
    buyer_records: list[dict[str, Any]] = Field(
        description="Checkout holds and registrations under the e-mail"
    )
    payment_records: list[PaymentRecord] = Field(
        default=[], description="Payments and invoices under the e-mail"
    )


class DeletionLogEntry(Model):
    log_id: str
    tenant_id: str
    subject: Literal["user", "contact"] = Field(
        default="user", description="A user, or a contact known by e-mail only (whose address is not kept)"
    )
    user_id: str | None = None
    requested_by: str
    reason: str
    requested_at: str
    completed_at: str
    deleted: list[str] = Field(description="What was erased, in order")
    counts: dict[str, int] = Field(description="Items erased or anonymised per kind")
