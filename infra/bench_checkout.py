"""`python -m infra.bench_checkout`: the checkout rush against the local stack over HTTP.

Boots the local stack (its gateway serves requests concurrently, up to KEEL_LOCAL_CONCURRENCY
instances per function), points the checkout function's Stripe SDK at a loopback fake, creates a
workshop event, then sends BUYERS concurrent `create_checkout_session` requests for the last SEATS
seats of GA. Reports holds granted vs the limit, refusals and their codes, requests/s and latency
percentiles, and whether the audit is clean; then lets the holds expire (the schedule) and checks
the seats are sellable again. Writes `.keel/bench-checkout.json`.
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


def main() -> int:
    import boto3

    from infra.apps import ensure_paths

    ensure_paths()

    from infra.local.process import LocalStackProcess
    from tests.e2e.client import PASSWORD, Api, Mailbox, actor_of, unique_email
    from tests.support.checkout import STRIPE_KEY, buyer_body, event_body
    from tests.support.fake_stripe import FakeStripe

    os.environ.setdefault("KEEL_LOCAL_CONCURRENCY", "8")
    stack = LocalStackProcess(Path(tempfile.mkdtemp(prefix="bench-checkout-")))
    state = stack.start(120)
    fake = FakeStripe()
    try:
        api, mail = Api(state["api_url"]), Mailbox(state["moto_url"])
        secrets = boto3.client(
            "secretsmanager",
            endpoint_url=state["moto_url"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        arn = next(s["ARN"] for s in secrets.list_secrets()["SecretList"] if s["Name"].endswith("/app"))
        current = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
        secrets.put_secret_value(
            SecretId=arn,
            SecretString=json.dumps({**current, "stripe_api_key": STRIPE_KEY, "stripe_api_base": fake.url}),
        )
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

        def buy(n: int) -> tuple[int, str | None, float]:
            started = time.perf_counter()
            try:
                reply = api.post(path, buyer_body(city, n=n))
            except OSError as exc:  # the gateway's listen backlog overflowed: a refused connection
                return 0, type(exc).__name__, time.perf_counter() - started
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
            "stripe_sessions": len(fake.sessions) - 1,
            "requests_per_second": round(BUYERS / wall, 1),
            "latency_ms": {
                "p50": round(statistics.median(latencies) * 1000, 1),
                "p95": round(latencies[int(len(latencies) * 0.95) - 1] * 1000, 1),
                "max": round(latencies[-1] * 1000, 1),
            },
        }
        print(json.dumps(report, indent=2))
        out = ROOT / ".keel" / "bench-checkout.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        ok = report["holds_granted"] == SEATS and report["oversold"] == 0 and audit["ok"]
        ok = ok and set(outcomes) <= {"201", "409 SAAS_061"}
        return 0 if ok else 1
    finally:
        fake.close()
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
