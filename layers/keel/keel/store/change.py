"""A state change: its writes, the domain events it causes and its audit record, in one transaction.

    change = Change(principal)
    change.tx.put(tenant_item, condition="attribute_not_exists(PK)", on_fail=...)
    change.emit("tenant.created", {...}, tenant_id=...)
    change.audit("tenant.create", target_type="tenant", target_id=...)
    change.commit()

Either everything is written or nothing is, so no event and no audit record is ever lost or
recorded for a change that did not happen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keel.core.principal import Principal
from keel.store import audit, outbox
from keel.store.table import Tx, commit_each

if TYPE_CHECKING:
    from keel.store.event_types import Payload

__all__ = ["Change", "Tx", "commit_each"]  # services build writes on a Tx and hand it to repos


class Change:
    def __init__(self, principal: Principal) -> None:
        self.principal = principal
        self.tx = Tx()
        self.events: list[outbox.DomainEvent] = []
        self.records: list[audit.AuditRecord] = []

    def emit(
        self, event_type: str, data: dict[str, Any] | Payload, *, tenant_id: str | None = None
    ) -> outbox.DomainEvent:
        """A declared event (keel.store.event_types); an undeclared type or bad payload raises."""
        from keel.store import event_types

        payload = event_types.validated(event_type, data)
        event = outbox.new_event(event_type, tenant_id or self.principal.tenant_id, payload)
        self.events.append(event)
        return event

    def audit(self, action: str, **kwargs: Any) -> audit.AuditRecord:
        record = audit.for_principal(self.principal, action=action, **kwargs)
        self.records.append(record)
        return record

    def commit(self) -> None:
        for event in self.events:
            self.tx.put(outbox.outbox_item(event))
        for record in self.records:
            self.tx.put(audit.item(record))
        self.tx.commit()
