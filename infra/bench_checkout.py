"""`python -m infra.bench_checkout`: the checkout rush against the local stack over HTTP.

Boots the local stack (its gateway serves requests concurrently, up to KEEL_LOCAL_CONCURRENCY
instances per function; the checkout function's Stripe SDK talks to the stack's fake gateways,
`infra/local/fake_gateways.py`), creates a workshop event, then sends BUYERS concurrent
`create_checkout_session` requests for the last SEATS seats of GA. Reports holds granted vs the
limit, refusals and their codes, requests/s and latency percentiles, and whether the audit is
clean; then expires the granted sessions as Stripe does (signed `checkout.session.expired` through
`stripe_webhook`, `infra.gateway_events`) and checks the seats are sellable again. Writes
`.keel/bench-checkout.json`.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

BUYERS = int(os.environ.get("BENCH_BUYERS", "500"))
SEATS = int(os.environ.get("BENCH_SEATS", "10"))
THREADS = int(os.environ.get("BENCH_THREADS", "16"))
ROOT = Path(__file__).resolve().parent.parent


def run() -> dict[str, Any]:
    """The rush's report (`make bench` includes it); `ok` says whether every check held."""
    from infra.apps import ensure_paths

    ensure_paths()

    from infra import gateway_events
    from infra.local.process import LocalStackProcess
    from tests.e2e.client import PASSWORD, Api, Mailbox, actor_of, request, unique_email
    from tests.support.checkout import buyer_body, event_body

    os.environ.setdefault("KEEL_LOCAL_CONCURRENCY", "8")
    stack = LocalStackProcess(Path(tempfile.mkdtemp(prefix="bench-checkout-")))
    state = stack.start(120)
    try:
        api, mail = Api(state["api_url"]), Mailbox(state["api_url"])

        def stripe_sessions() -> int:
            return len(request("GET", state["fake_gateway_url"] + "/_fake/state").json["checkout_sessions"])

        slug = uuid.uuid4().hex[:8]
        email = unique_email("org", f"{slug}.example.com")
        made = api.post(
            "/tenants",
            {"name": f"Rush {slug}", "kind": "workshop", "admin": {"email": email, "name": "Olu"}},
            token=str(state["admin_token"]),
        )
        assert made.status == 201, str(made)
        token = mail.wait_for(email, "/activate?token=").link_token()
        org = actor_of(api.post("/auth/activate", {"token": token, "password": PASSWORD}), email)
        city = f"rush-{slug}"
        assert api.post("/events", event_body(city, ga=SEATS), token=org.token).status == 201
        path = f"/public/{org.tenant_id}/checkout-sessions"
        api.post(path, buyer_body(city, tier="VIP", n=0))  # warm the function's instances
        sessions_before = stripe_sessions()

        holds: list[str] = []

        def buy(n: int) -> tuple[int, str | None, float]:
            started = time.perf_counter()
            try:
                reply = api.post(path, buyer_body(city, n=n))
            except OSError as exc:  # the gateway's listen backlog overflowed: a refused connection
                return 0, type(exc).__name__, time.perf_counter() - started
            if reply.status == 201:
                holds.append(reply.json["hold_id"])
            return reply.status, reply.code, time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(pool.map(buy, range(BUYERS)))
        wall = time.perf_counter() - started
        latencies = sorted(r[2] for r in results)
        outcomes = Counter(f"{s} {c or ''}".strip() for s, c, _ in results)
        tier = api.get("/events", token=org.token).json["items"][0]["tiers"]["GA"]
        audit = api.get(f"/events/{city}/inventory/audit", token=org.token).json
        report: dict[str, Any] = {
            "buyers": BUYERS,
            "seats": SEATS,
            "client_threads": THREADS,
            "instances_per_function": int(os.environ["KEEL_LOCAL_CONCURRENCY"]),
            "holds_granted": outcomes.get("201", 0),
            "outcomes": dict(outcomes),
            "counters_after": {k: tier[k] for k in ("actual_limit", "held", "sold", "remaining", "oversold")},
            "oversold": max(0, tier["held"] + tier["sold"] - tier["actual_limit"]),
            "audit_ok": audit["ok"],
            "stripe_sessions": stripe_sessions() - sessions_before,
            "requests_per_second": round(BUYERS / wall, 1),
            "latency_ms": {
                "p50": round(statistics.median(latencies) * 1000, 1),
                "p95": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
                "max": round(latencies[-1] * 1000, 1),
            },
        }
        # the buyers walk away: Stripe expires their sessions, the seats come back
        for hold_id in holds:
            gateway_events.send(state, "checkout.session.expired", hold=hold_id)
        inventory = f"{state['api_url']}/public/{org.tenant_id}/events/{city}/inventory"
        deadline = time.monotonic() + 60
        while request("GET", inventory).json["tiers"]["GA"]["available"] < SEATS:
            if time.monotonic() > deadline:
                break
            time.sleep(0.25)
        report["available_after_expiry"] = request("GET", inventory).json["tiers"]["GA"]["available"]
        report["sellable_again"] = api.post(path, buyer_body(city, n=BUYERS)).status == 201
        ok = report["holds_granted"] == SEATS and report["oversold"] == 0 and audit["ok"]
        ok = ok and set(outcomes) <= {"201", "409 SAAS_061"} and report["sellable_again"]
        report["ok"] = ok and report["available_after_expiry"] == SEATS
        out = ROOT / ".keel" / "bench-checkout.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        return report
    finally:
        stack.stop()


def main() -> int:
    report = run()
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
