"""Identity benchmarks, in-process against moto: login p50 at the production Argon2id cost,
verify_2fa p50, and DynamoDB calls for an authenticated read.

Argon2id cost: m=19456 KiB (19 MiB), t=2, p=1 (OWASP's minimum profile; the settings defaults).
`python -m infra.bench_identity` prints the figures; `run()` returns them for `make bench`.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

ROUNDS = 15


def _p50(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def run() -> dict[str, Any]:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_NAMESPACE": "KeelBench",
            "ARGON2_MEMORY_KIB": "19456",
            "ARGON2_TIME_COST": "2",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from infra.apps import ensure_paths

    ensure_paths()
    import importlib

    import pyotp

    from keel.core import aws
    from keel.core.config import settings
    from keel.identity import passwords

    # the test harness's moto stack and in-process API (imported by name: not part of the layer)
    actors = importlib.import_module("tests.support.actors")
    Api = importlib.import_module("tests.support.http").Api
    moto_stack = importlib.import_module("tests.support.stack").moto_stack
    PASSWORD, super_admin = actors.PASSWORD, actors.super_admin

    settings.cache_clear()
    passwords.hasher.cache_clear()
    passwords._dummy_hash.cache_clear()
    with moto_stack() as stack:
        api = Api(stack)
        root = super_admin(api)
        body = {"email": root.email, "password": PASSWORD}
        logins = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            reply = api.post("/auth/login", body, ip="198.51.100.1")
            logins.append(time.perf_counter() - start)
            assert reply.status == 200, reply.text
        token = reply.json["token"]

        calls: list[str] = []
        ddb = aws.client("dynamodb")

        def count(model: Any, params: Any, **_: Any) -> None:
            body = json.loads((params or {}).get("body") or b"{}")
            pk = str((body.get("Key") or {}).get("PK", {}).get("S", ""))
            calls.append(f"{model.name} {pk.split('#', maxsplit=1)[0]}")

        hook = ddb.meta.events.register("before-call.dynamodb.*", count)
        api.get("/sessions", token=token)  # warm
        calls.clear()
        api.get("/security/password-policy", token=token)
        auth_calls = sum(1 for c in calls if c.endswith(" SESSION"))
        read_calls = list(calls)
        ddb.meta.events.unregister("before-call.dynamodb.*", hook)

        started = api.post("/auth/2fa/enroll", {"method": "totp"}, token=token).json
        totp = pyotp.TOTP(pyotp.parse_uri(started["otpauth_uri"]).secret)
        api.post("/auth/2fa/confirm", {"method": "totp", "code": totp.now()}, token=token)
        verifies = []
        from keel.core import clock

        clock.freeze()
        for _ in range(ROUNDS):
            clock.advance(seconds=31)  # a fresh TOTP step each round (a code is accepted once)
            ch = api.post("/auth/login", body, ip="198.51.100.2").json["challenge_token"]
            code = totp.at(clock.now())
            start = time.perf_counter()
            ok = api.post("/auth/2fa/verify", {"challenge_token": ch, "code": code}, ip="198.51.100.2")
            verifies.append(time.perf_counter() - start)
            assert ok.status == 200, ok.text
        clock.unfreeze()
    return {
        "argon2id": "m=19456 KiB, t=2, p=1",
        "login_p50_ms": _p50(logins),
        "verify_2fa_p50_ms": _p50(verifies),
        "authenticated_read_dynamodb_calls": len(read_calls),
        "authentication_dynamodb_calls": auth_calls,
        "authenticated_read_calls_detail": read_calls,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
