"""`make fuzz`: schemathesis over the running local stack's /openapi.json, every operation.

Boots `python -m infra.local` on a free port, activates the demo pharmacy's manager (through the
activation e-mail, as a person would), then runs schemathesis with the super admin's token and
with the tenant admin's token: every phase (examples, coverage, fuzzing, stateful), checking that
no answer is a server error, every status is declared, and every body matches its schema.

The fuzzer mutates state as the caller it holds, and may end its own sessions: its token is
renewed when that happens (`infra/fuzz_auth.py`). Operations that end or lock out the session
they are called with (logout, refresh, ending a session by id, the IP allowlist) run in a last
pass of their own, after everything else; no operation is skipped.

`python -m infra.fuzz --max-examples 5` is the bounded pass CI runs (`.ci/run`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from infra.local.process import LocalStackProcess, StackError

ROOT = Path(__file__).resolve().parent.parent
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# operations that end or lock out the caller's own session: fuzzed last, in their own pass
SESSION_ENDING = ("logout", "refresh_session", "terminate_session", "update_ip_allowlist")
MANAGER_EMAIL = "manager@demo-pharmacy.example.com"
MANAGER_PASSWORD = "fuzz-manager-password-2026"


def http(method: str, url: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, json.loads(reply.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def tenant_admin_token(state: dict[str, Any]) -> str:
    """The demo manager's activation link, read from the e-mail the stack sent; activated over the API."""
    deadline = time.monotonic() + 60
    while True:
        _, data = http("GET", state["api_url"].rstrip("/") + "/_local/mail")
        bodies = [str(m["body"]) for m in data or [] if MANAGER_EMAIL in m["to"]]
        found = [t for b in bodies for t in re.findall(r"/activate\?token=([A-Za-z0-9_\-.~]+)", b)]
        if found:
            break
        if time.monotonic() > deadline:
            raise SystemExit("no activation e-mail for the demo manager")
        time.sleep(0.5)
    status, body = http(
        "POST", state["api_url"] + "/auth/activate", {"token": found[-1], "password": MANAGER_PASSWORD}
    )
    if status != 200:
        raise SystemExit(f"activating the demo manager failed: {status} {body}")
    return str(body["token"])


def table_name(moto_url: str) -> str:
    """The stack's one table, as moto lists it."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    import boto3

    names = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1").list_tables()[
        "TableNames"
    ]
    if len(names) != 1:
        raise SystemExit(f"expected one table in the local stack, found {names}")
    return str(names[0])


def caller(state: dict[str, Any], token: str) -> dict[str, str]:
    status, body = http("GET", state["api_url"] + "/sessions", token=token)
    if status != 200 or not body.get("items"):
        raise SystemExit(f"cannot read the fuzzer's session: {status} {body}")
    user_id = next(s["user_id"] for s in body["items"] if s.get("current"))
    status, user = http("GET", state["api_url"] + f"/users/{user_id}", token=token)
    if status != 200:
        raise SystemExit(f"cannot read the fuzzer's user: {status} {user}")
    return {"KEEL_FUZZ_TENANT": user["tenant_id"], "KEEL_FUZZ_USER": user_id}


ALL_PHASES = "examples,coverage,fuzzing,stateful"


def schemathesis(
    state: dict[str, Any],
    token: str,
    args: argparse.Namespace,
    last: bool,
    env: dict[str, str],
    phases: str = ALL_PHASES,
) -> int:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        state["api_url"] + "/openapi.json",
        "--url",
        state["api_url"],
        "--checks",
        CHECKS,
        "--workers",
        "1",
        "--max-examples",
        str(args.max_examples),
        "--request-timeout",
        "30",
        "--no-color",
        "--suppress-health-check",
        "all",
        "--phases",
        phases,
    ]
    if args.seed is not None:
        command += ["--seed", str(args.seed)]
    flag = "--include-operation-id" if last else "--exclude-operation-id"
    for op in SESSION_ENDING:
        command += [flag, op]
    return subprocess.call(command, cwd=ROOT, env={**env, "KEEL_FUZZ_TOKEN": token})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=50, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=None, help="reproduce a run")
    parser.add_argument(
        "--coverage-as",
        choices=["both", "super-admin", "none"],
        default="both",
        help="which callers run the coverage phase (every value and boundary of every schema, the "
        "longest phase, about 9 minutes for 160 operations here); CI skips it, the other phases run as both",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="keel-fuzz-") as tmp:
        stack = LocalStackProcess(Path(tmp))
        try:
            state = stack.start()
        except StackError as exc:
            raise SystemExit(str(exc)) from exc
        try:
            callers = {"super admin": state["admin_token"], "tenant admin": tenant_admin_token(state)}
            base = {
                **os.environ,
                "SCHEMATHESIS_HOOKS": "infra.fuzz_auth",
                "PYTHONPATH": str(ROOT),
                "AWS_ENDPOINT_URL": state["moto_url"],
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "TABLE_NAME": table_name(state["moto_url"]),
                "KEEL_FUZZ_API": state["api_url"],
            }
            envs = {who: {**base, **caller(state, token)} for who, token in callers.items()}
            failed = []
            for last in (False, True):
                for who, token in callers.items():
                    which = "session-ending operations" if last else "every other operation"
                    print(f"\n== schemathesis as the {who}: {which}", flush=True)
                    full = args.coverage_as == "both" or (
                        args.coverage_as == "super-admin" and who == "super admin"
                    )
                    phases = ALL_PHASES if full else ALL_PHASES.replace("coverage,", "")
                    if schemathesis(state, token, args, last, envs[who], phases) != 0:
                        failed.append(f"{who}, {which}")
        finally:
            try:
                stack.stop()
            except StackError as exc:  # the verdict is the API's; a slow shutdown is reported, not failed
                print(f"warning: {exc}", file=sys.stderr)
    if failed:
        print("\nfuzz failed: " + "; ".join(failed), file=sys.stderr)
        return 1
    print("\nfuzz passed: no server error, no undeclared status, no schema violation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
