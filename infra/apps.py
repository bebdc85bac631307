"""The API functions' resolvers, found by their files (functions/<area>/app.py with an `app`)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

ROOT = Path(__file__).resolve().parent.parent


def ensure_paths() -> None:
    for p in (ROOT / "layers" / "keel", ROOT):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))


def function_module(code_uri: str, handler: str = "app.lambda_handler") -> ModuleType:
    """`functions/auth/` + `app.lambda_handler` -> the module `functions.auth.app`."""
    ensure_paths()
    module = handler.rsplit(".", 1)[0]
    dotted = ".".join((*Path(code_uri.strip("/")).parts, module))
    return importlib.import_module(dotted)


def api_modules() -> dict[str, ModuleType]:
    ensure_paths()
    found: dict[str, ModuleType] = {}
    for path in sorted((ROOT / "functions").rglob("app.py")):
        code_uri = str(path.parent.relative_to(ROOT))
        module = function_module(code_uri)
        if isinstance(getattr(module, "app", None), APIGatewayHttpResolver):
            found[code_uri] = module
    return found
