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
"""

from __future__ import annotations

import gc
import os

_held: list[bool] = []  # [True] while this module holds the collector off


def end_of_init() -> None:
    """The function is initialised: freeze the import's objects, collect cycles again from now on."""
    if _held:
        _held.clear()
        gc.freeze()
        gc.enable()


if "LAMBDA_TASK_ROOT" in os.environ and gc.isenabled():
    gc.disable()
    _held.append(True)
