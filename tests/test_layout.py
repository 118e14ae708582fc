"""The layers import downwards only: models/ imports nothing of common/, and no module of
common/ imports, however indirectly, a module that imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import ROOT


def imported(path: Path, package: str) -> set[str]:
    """The modules of `package` that the file at `path` imports, anywhere in it."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == package}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == package:  # from common import cli, data
                found |= {f"{package}.{alias.name}" for alias in node.names}
            elif node.module.split(".")[0] == package:
                found.add(node.module)
    return found


def graph(package: str) -> dict[str, set[str]]:
    """Each module of `package` (but its __init__, which gathers them) -> those it imports."""
    modules = {f"{package}.{path.stem}": path for path in (ROOT / package).glob("*.py")
               if path.stem != "__init__"}  # fmt: skip
    return {name: imported(path, package) & set(modules) for name, path in modules.items()}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `edges`, as the modules along it, or None."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(edges[node]):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt, [*path, nxt])):
                return found
        state[node] = "done"
        return None

    for start in sorted(edges):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_models_import_nothing_of_common() -> None:
    offenders = {path.name: imported(path, "common") for path in (ROOT / "models").glob("*.py")}
    assert not {name: found for name, found in offenders.items() if found}


@pytest.mark.parametrize("package", ["common", "models"])
def test_no_module_imports_one_that_imports_it(package: str) -> None:
    assert cycle(graph(package)) is None, " -> ".join(cycle(graph(package)))


def test_a_cycle_is_found_where_there_is_one() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None
