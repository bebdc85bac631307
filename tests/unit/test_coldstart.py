"""The cyclic GC is held off while a function initialises in Lambda, and only then (keel.core.coldstart).

Each function module is imported in its own process, as Lambda imports it: its environment from
the template (`LAMBDA_TASK_ROOT` set), its directory then the layer on the path. The collector
must be off from its first third-party import on, and on again, with the import's objects frozen,
once the module is imported. Outside Lambda nothing changes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.benchkit.lambda_env import function_env
from tests.support.stack import template

ROOT = Path(__file__).resolve().parents[2]

# Imports the handler module named by `_HANDLER`, noting whether the collector ran when Powertools
# (the first third-party package of every function) started importing.
PROBE = """
import gc, importlib, json, os, sys

seen = {}
frozen = gc.get_freeze_count()

class Probe:
    def find_spec(self, name, path=None, target=None):
        if name == "aws_lambda_powertools":
            seen["gc_during_init"] = gc.isenabled()
        return None

sys.meta_path.insert(0, Probe())
module = importlib.import_module(os.environ["_HANDLER"].rsplit(".", 1)[0])
assert callable(module.lambda_handler)
seen |= {"gc_after_init": gc.isenabled(), "frozen": gc.get_freeze_count() - frozen}
print(json.dumps(seen))
"""


def _functions() -> dict[str, str]:
    """logical id -> CodeUri of every function in the template."""
    resources = template()["Resources"]
    return {
        name: str(r["Properties"]["CodeUri"])
        for name, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    }


def _import(env: dict[str, str]) -> dict[str, Any]:
    env = env | {"POWERTOOLS_TRACE_DISABLED": "true", "PATH": os.environ.get("PATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def test_every_function_module_is_in_the_template() -> None:
    modules = {str(p.parent.relative_to(ROOT)) for p in (ROOT / "functions").rglob("app.py")}
    assert modules == {uri.strip("/") for uri in _functions().values()}


@pytest.mark.parametrize("logical_id", sorted(_functions()))
def test_in_lambda_the_gc_waits_for_the_end_of_init(logical_id: str) -> None:
    seen = _import(function_env(template(), logical_id))
    assert seen["gc_during_init"] is False, "the module must import keel.core.coldstart first"
    assert seen["gc_after_init"] is True, "end with entrypoint(app) or @handler"
    assert seen["frozen"] > 10_000


def test_outside_lambda_nothing_changes() -> None:
    for logical_id in ("TenantsFunction", "MailerFunction"):
        env = function_env(template(), logical_id)
        del env["LAMBDA_TASK_ROOT"]
        seen = _import(env)
        assert seen == {"gc_during_init": True, "gc_after_init": True, "frozen": 0}


def test_layers_ship_compiled_bytecode() -> None:
    """Lambda's /opt is read-only: a layer without .pyc files is compiled again at every cold start."""
    layers = {
        name: r for name, r in template()["Resources"].items() if r["Type"] == "AWS::Serverless::LayerVersion"
    }
    assert layers
    for name, layer in layers.items():
        assert layer["Metadata"]["BuildMethod"] == "makefile", name
        makefile = (ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
        assert f"build-{name}:" in makefile
        assert "compileall" in makefile
        assert "--invalidation-mode unchecked-hash" in makefile
