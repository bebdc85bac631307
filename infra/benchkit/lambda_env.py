"""A Lambda-like process for one function: its variables from template.yaml, Lambda's own, the tracer on."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infra.apps import ROOT

VENV = ROOT / ".keel" / "bench" / "venv"
REQUIREMENTS = ROOT / "layers" / "keel" / "requirements.txt"
PROVIDERS = ROOT / ".keel" / "bench" / "providers"  # the ProvidersLayer's packages (its /opt/python)
PROVIDERS_REQUIREMENTS = ROOT / "layers" / "providers" / "requirements.txt"
PLACEHOLDER_REGION, PLACEHOLDER_ACCOUNT = "us-east-1", "123456789012"


@contextlib.contextmanager
def _building() -> Iterator[None]:
    """One builder at a time (the test workers and the bench may all ask at once)."""
    lock = ROOT / ".keel" / "bench" / ".lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def layer_python() -> Path:
    """A venv holding only the layer's requirements (what Lambda has), reused while they are unchanged."""
    with _building():
        return _layer_python()


def _layer_python() -> Path:
    python = VENV / "bin" / "python"
    stamp = VENV / ".requirements-sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return python
    finder = ROOT / "infra" / "bin" / "find-python"
    base = subprocess.run([str(finder)], capture_output=True, text=True, check=True).stdout.strip()
    print(f"bench: creating the layer-only venv ({VENV.relative_to(ROOT)}) from {REQUIREMENTS.name}")
    subprocess.run([base, "-m", "venv", "--clear", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
    stamp.write_text(digest)
    return python


def providers_path() -> Path:
    """The provider SDKs (twilio, stripe, requests) installed apart, added to the path of the functions
    the template gives the ProvidersLayer, as Lambda adds a second layer to /opt/python."""
    python = layer_python()
    with _building():
        return _providers(python)


def _providers(python: Path) -> Path:
    stamp = PROVIDERS / ".requirements-sha256"
    digest = hashlib.sha256(PROVIDERS_REQUIREMENTS.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == digest:
        return PROVIDERS
    print(f"bench: installing the providers layer ({PROVIDERS.relative_to(ROOT)})")
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--upgrade",
            "--target",
            str(PROVIDERS),
            "-r",
            str(PROVIDERS_REQUIREMENTS),
        ],
        check=True,
    )
    stamp.write_text(digest)
    return PROVIDERS


def _resolve(value: Any, parameters: dict[str, str]) -> str:
    """Ref and Sub to plausible strings (parameters' defaults, placeholder names for resources)."""

    def name(ref: str) -> str:
        base = ref.split(".", 1)[0]
        return parameters.get(base, f"keel-bench-{base}")

    if isinstance(value, dict) and "Ref" in value:
        return name(str(value["Ref"]))
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        return re.sub(r"\$\{([^}]+)\}", lambda m: name(m.group(1)), str(text))
    return str(value)


def function_env(template: dict[str, Any], logical_id: str) -> dict[str, str]:
    """The variables Lambda would give `logical_id` (before the bench points AWS at its endpoint)."""
    parameters = {k: str(v.get("Default", "")) for k, v in (template.get("Parameters") or {}).items()}
    parameters |= {"AWS::Region": PLACEHOLDER_REGION, "AWS::AccountId": PLACEHOLDER_ACCOUNT}
    glob = template.get("Globals", {}).get("Function", {})
    props = template["Resources"][logical_id]["Properties"]
    variables = {
        **(glob.get("Environment", {}).get("Variables") or {}),
        **(props.get("Environment", {}).get("Variables") or {}),
    }
    name = f"keel-bench-{logical_id}"
    task_root = ROOT / props["CodeUri"]
    env = {k: _resolve(v, parameters) for k, v in variables.items()}
    env |= {
        # what the Lambda runtime sets
        "LAMBDA_TASK_ROOT": str(task_root),
        "LAMBDA_RUNTIME_DIR": str(task_root),
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props.get("MemorySize", glob.get("MemorySize", 512))),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_REGION": PLACEHOLDER_REGION,
        "AWS_DEFAULT_REGION": PLACEHOLDER_REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "_HANDLER": str(props["Handler"]),
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "BENCH_PROFILE": os.environ.get("BENCH_PROFILE", ""),
        # the function's code first, then the layer (as /var/task, then /opt/python)
        "PYTHONPATH": os.pathsep.join([str(task_root), str(ROOT / "layers" / "keel")]),
    }
    if any("ProvidersLayer" in json.dumps(layer) for layer in props.get("Layers") or []):
        env["PYTHONPATH"] += os.pathsep + str(providers_path())
    env.setdefault("POWERTOOLS_SERVICE_NAME", logical_id)
    return env  # POWERTOOLS_TRACE_DISABLED is not set: the tracer is on, as in Lambda
