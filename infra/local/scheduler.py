"""Schedules: each function event of type Schedule with a rate() runs on its period.

The first run comes one period after start, as with a new EventBridge rule. cron() expressions
are not run locally (invoke the function by hand). A speed-up factor divides every period.
"""

from __future__ import annotations

import json
import re
import threading

from infra.lambda_events import scheduled_event
from infra.local import console
from infra.local.emulation import Stack
from infra.local.runtime import Runtime
from infra.local.template import ACCOUNT_ID, REGION, EventSource

_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> int | None:
    """`rate(5 minutes)` -> 300; None for anything else (cron(), at())."""
    m = re.fullmatch(r"\s*rate\(\s*(\d+)\s+([a-z]+)\s*\)\s*", expression)
    if not m or m.group(2) not in _UNITS:
        return None
    return int(m.group(1)) * _UNITS[m.group(2)]


class ScheduleRunner(threading.Thread):
    def __init__(
        self, runtime: Runtime, stack: Stack, source: EventSource, period: float, stop: threading.Event
    ) -> None:
        super().__init__(name=f"schedule-{source.function}-{source.name}", daemon=True)
        self.runtime = runtime
        self.stop = stop
        self.source = source
        self.period = period
        props = stack.resolver.resolve(source.properties)
        self.input = props.get("Input")
        # SAM names the rule <Function><Event>; its ARN is in the stack when moto created it
        rule_id = f"{source.function}{source.name}"
        self.rule_arn = stack.resolver.attrs.get(rule_id, {}).get(
            "Arn", f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{stack.name}-{rule_id}"
        )

    def run(self) -> None:
        while not self.stop.wait(self.period):
            event = json.loads(self.input) if isinstance(self.input, str) else scheduled_event(self.rule_arn)
            try:
                result = self.runtime.invoke(self.source.function, event)
            except Exception as exc:
                console.error(f"{self.source.function} ({self.source.name}) raised", exc)
                continue
            console.line(
                "schedule",
                f"{self.source.function} ({self.source.name}) -> {json.dumps(result, default=str)}",
            )


def schedule_runners(
    runtime: Runtime, stack: Stack, sources: list[EventSource], speedup: float, stop: threading.Event
) -> list[ScheduleRunner]:
    runners = []
    for source in sources:
        props = stack.resolver.resolve(source.properties)
        expression = str(props.get("Schedule") or props.get("ScheduleExpression") or "")
        if props.get("Enabled") is False or str(props.get("State", "ENABLED")).upper() == "DISABLED":
            console.line("schedule", f"{source.function} ({source.name}) is disabled in the template")
            continue
        seconds = rate_seconds(expression)
        if seconds is None:
            console.line("schedule", f"{source.function} ({source.name}): {expression} is not run locally")
            continue
        period = seconds / speedup
        runners.append(ScheduleRunner(runtime, stack, source, period, stop))
        console.line("schedule", f"{source.function} ({source.name}) every {period:g} s ({expression})")
    return runners
