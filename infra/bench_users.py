"""Benchmark: list_users with 10,000 users in one tenant (moto in-process).

`run()` returns p50/p95 latency of one page per filter shape and the DynamoDB calls each page
costs (counted with a botocore event hook). The users are written with BatchWriteItem directly,
with the same items and index keys the domain writes.
"""

from __future__ import annotations

import json
import statistics
import time
from typing import Any

USERS = 10_000
ROLES = ("pharmacist", "cashier", "technician", "manager")
STATUSES = ("active", "active", "active", "suspended", "pending_activation")
FIRST = ("ada", "grace", "alan", "edsger", "barbara", "donald", "frances", "ken", "margaret", "tim")
LAST = ("lovelace", "hopper", "turing", "dijkstra", "liskov", "knuth", "allen", "thompson", "hamilton", "lee")


def _seed(tenant_id: str) -> None:
    from datetime import timedelta

    from infra.benchkit.seed import tenant_with_users
    from keel.core import clock
    from keel.users.models import User, UserStatus

    start = clock.parse("2026-01-01T00:00:00Z")
    users = []
    for n in range(USERS):
        created = clock.iso(start + timedelta(minutes=n * 7))
        users.append(
            User(
                user_id=f"usr_{n:026d}",
                tenant_id=tenant_id,
                email=f"{FIRST[n % 10]}.{LAST[(n // 10) % 10]}{n}@bench.example.com",
                name=f"{FIRST[n % 10].title()} {LAST[(n // 10) % 10].title()}",
                role=ROLES[n % len(ROLES)],
                status=UserStatus(STATUSES[n % len(STATUSES)]),
                created_at=created,
                updated_at=created,
            )
        )
    tenant_with_users(tenant_id, users, searchable=True)


def run(pages: int = 10) -> dict[str, Any]:
    import importlib

    # the test suite's moto stack (tables, topic and queues from template.yaml)
    moto_stack = importlib.import_module("tests.support.stack").moto_stack
    with moto_stack():
        from keel.core.permissions import MANAGER, Permission
        from keel.core.principal import Principal
        from keel.store import table
        from keel.users import service
        from keel.users.models import UserFilter, UserStatus

        tenant_id = "ten_bench"
        t0 = time.perf_counter()
        _seed(tenant_id)
        seed_seconds = time.perf_counter() - t0
        caller = Principal(
            tenant_id=tenant_id,
            user_id="usr_bench",
            role=MANAGER,
            permissions=frozenset(str(p) for p in Permission),
        )
        calls: list[str] = []

        def count(event_name: str, **_: Any) -> None:
            calls.append(event_name.rsplit(".", 1)[-1])

        table.client().meta.events.register("before-call.dynamodb.*", count)
        shapes = {
            "all": UserFilter(),
            "role": UserFilter(role="pharmacist"),
            "role+status": UserFilter(role="cashier", status=UserStatus.ACTIVE),
            "status+date": UserFilter(status=UserStatus.SUSPENDED, registered_from="2026-02-01"),
            "search_name": UserFilter(q="grace hop"),
            "search_email": UserFilter(q="alan.turing22@"),
        }
        out: dict[str, Any] = {"users": USERS, "seed_seconds": round(seed_seconds, 1), "page_size": 50}
        for label, f in shapes.items():
            timings, per_page, cursor, sizes = [], [], None, []
            for _ in range(pages):
                calls.clear()
                t = time.perf_counter()
                page = service.list_users(caller, f, 50, cursor)
                timings.append((time.perf_counter() - t) * 1000)
                per_page.append(len(calls))
                sizes.append(len(page.items))
                cursor = page.next_cursor
            out[label] = {
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(sorted(timings)[int(len(timings) * 0.95) - 1], 2),
                "dynamodb_calls_per_page": max(per_page),
                "items_per_page": round(statistics.mean(sizes), 1),
            }
        table.client().meta.events.unregister("before-call.dynamodb.*", count)
        return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
