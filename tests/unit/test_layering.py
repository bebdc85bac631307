"""What import-linter (pyproject.toml, `make layering`) cannot see.

functions/<area>/app.py are not a package, so import-linter does not walk them: they sit on top
(core -> store -> areas -> http -> functions) and may import any layer below, but never another
function, never the table itself (`keel.store.table`: only repos touch it) and never a `_private`
name. In the layer, no module imports another package's `_private` names.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers/keel"


def _imports(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module, imported names) of every import of a file, lazy ones included."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, [a.name for a in node.names]


def _private(module: str, names: list[str]) -> list[str]:
    return [n for n in [*module.split("."), *names] if n.startswith("_") and not n.startswith("__")]


def test_functions_import_only_the_layers_below_them() -> None:
    wrong = []
    handlers = sorted((ROOT / "functions").rglob("*.py"))
    assert len(handlers) > 10
    for path in handlers:
        for line, module, names in _imports(path):
            where = f"{path.relative_to(ROOT)}:{line} {module}"
            if module.split(".")[0] in {"functions", "infra", "tests"}:
                wrong.append(f"{where}: a function imports only the layer and libraries")
            if module == "keel.store.table" or (module == "keel.store" and "table" in names):
                wrong.append(f"{where}: only an area's repo touches the table")
            if module.startswith("keel") and _private(module, names):
                wrong.append(f"{where}: imports private {_private(module, names)}")
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_another_packages_private_names() -> None:
    wrong = []
    for path in sorted((LAYER / "keel").rglob("*.py")):
        package = ".".join(path.relative_to(LAYER).parts[:2])
        for line, module, names in _imports(path):
            if not module.startswith("keel.") or ".".join(module.split(".")[:2]) == package:
                continue
            if _private(module, names):
                wrong.append(f"{path.relative_to(ROOT)}:{line} {module}: {_private(module, names)}")
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_a_private_import(tmp_path: Path) -> None:
    sample = tmp_path / "app.py"
    sample.write_text("from keel.auth.recovery import _user_in_scope\nfrom keel.store import table\n")
    found = [(m, _private(m, n)) for _, m, n in _imports(sample)]
    assert found == [("keel.auth.recovery", ["_user_in_scope"]), ("keel.store", [])]
