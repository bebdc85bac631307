"""`make bench` runs every `infra/bench_<area>.py` through its `run()`: each must have one.

(The checkout rush had only a `main()`, and `make bench` stopped at it after the cold starts.)
"""

from __future__ import annotations

import importlib
import inspect

from infra.apps import ROOT


def test_every_area_bench_has_a_run_without_required_arguments() -> None:
    benches = sorted((ROOT / "infra").glob("bench_*.py"))
    assert benches
    for path in benches:
        module = importlib.import_module(f"infra.{path.stem}")
        run = getattr(module, "run", None)
        assert callable(run), f"{path.name} has no run()"
        required = [
            p for p in inspect.signature(run).parameters.values() if p.default is inspect.Parameter.empty
        ]
        assert not required, f"{path.name}: run() requires {[p.name for p in required]}"
