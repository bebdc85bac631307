"""A Lambda function's initialisation runs without the cyclic garbage collector.

Importing a function allocates some 100,000 objects (modules, classes, pydantic and Powertools
machinery) and no garbage worth collecting, yet the cyclic GC walks the growing heap about 130
times on the way, and once in a while fully: 20 to 50 ms of CPU per cold start. So in Lambda
(`LAMBDA_TASK_ROOT` is set) the first import of `keel` holds the collector off, and the end of
the function's initialisation, `end_of_init()`, freezes what the import built (`gc.freeze()`:
later collections skip it, it lives as long as the process anyway) and turns the collector back
on. Every function module ends its initialisation through a factory that calls it
(`keel.http.entrypoint` for the API, `keel.core.observability.handler` for the others) and
imports this module first, so the hold covers its third-party imports too; a test imports every
function as Lambda would and checks the collector is on afterwards. Outside Lambda nothing changes.

With SnapStart (template.yaml Globals) Lambda runs the initialisation once per published version
and snapshots the process; `before_snapshot` hooks run then, once, before the snapshot (never
on an instance initialised without SnapStart), so what they build is in every restored instance.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable

_held: list[bool] = []  # [True] while this module holds the collector off
_snapshot_hooks: list[Callable[[], object]] = []  # outside Lambda's runtime: run by `run_before_snapshot`


def before_snapshot(hook: Callable[[], object]) -> Callable[[], object]:
    """Registers `hook` with Lambda's runtime hooks (`snapshot_restore_py`, in the python3.12 runtime):
    it runs after the initialisation, before the snapshot. Elsewhere it is kept for `run_before_snapshot`
    (the bench, which plays a restored instance)."""
    try:
        from snapshot_restore_py import register_before_snapshot
    except ImportError:
        _snapshot_hooks.append(hook)
    else:
        register_before_snapshot(hook)
    return hook


def run_before_snapshot() -> None:
    """What Lambda does before it snapshots an initialised instance (outside Lambda's runtime)."""
    for hook in _snapshot_hooks:
        hook()


def end_of_init() -> None:
    """The function is initialised: freeze the import's objects, collect cycles again from now on."""
    if _held:
        _held.clear()
        gc.freeze()
        gc.enable()


if "LAMBDA_TASK_ROOT" in os.environ and gc.isenabled():
    gc.disable()
    _held.append(True)
