"""Consuming: each consumer applies an event at most once (Powertools Idempotency on the event id).

A crash half-way leaves an in-progress record that expires with the Lambda's remaining time, so
the redelivered message is processed again; a finished one is skipped for seven days.
"""

from __future__ import annotations

from keel.core.coldstart import before_snapshot

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.typing import LambdaContext

from keel.core import aws
from keel.core.model import build
from keel.store.idempotency import persistence
from keel.store.outbox import DomainEvent

RETENTION_SECONDS = 7 * 24 * 3600


class Consumer:
    """Wraps `apply(event)` so that each event id is applied once by this consumer."""

    def __init__(self, name: str, apply: Callable[[DomainEvent], Any]) -> None:
        self.name = name
        self.apply = apply
        self.config = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=RETENTION_SECONDS)
        self._wrapped: Callable[..., Any] | None = None
        aws.on_reset(self.reset)
        before_snapshot(self.prime)

    def prime(self) -> None:
        """SnapStart, before the snapshot: the idempotency wrapper and its persistence layer (the
        DynamoDB client, no call) and the envelope's validator, as the first event would build them."""
        self._once()
        build(DomainEvent)

    def _once(self) -> Callable[..., Any]:
        if self._wrapped is None:

            def run(event: dict[str, Any]) -> dict[str, Any]:
                self.apply(DomainEvent.model_validate(event))
                return {"applied": event["id"]}

            self._wrapped = idempotent_function(
                run,
                data_keyword_argument="event",
                persistence_store=persistence(self.name),
                config=self.config,
                key_prefix=self.name,
            )
        return self._wrapped

    def reset(self) -> None:
        self._wrapped = None

    def __call__(self, event: DomainEvent, context: LambdaContext | None = None) -> None:
        if context is not None:
            self.config.register_lambda_context(context)
        self._once()(event=event.model_dump())
