"""The rooms of docs/architecture.md hold: no import cycle, imports point one way.

Read from the source (module-level imports; those under ``TYPE_CHECKING`` and
inside functions are lazy and do not count), so a change that adds a cycle or
points the pure core at an I/O edge fails here, before it is noticed in use.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "hostlocate"

CORE = ("models", "errors", "parse", "psl", "ipclass", "decide", "plan", "verdicts")
"""Pure: no I/O, no source, no driver."""
EDGES = ("sources", "store", "redis_store", "caches", "datasets.download", "datasets.updating")
DRIVERS = ("asynclocator", "locator", "batch", "cli")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports when it is imported."""
    out: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module in modules and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules.keys()
            out.update(subs)
            if len(subs) < len(node.names):
                out.add(node.module)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _reach(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for nxt in graph[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_no_import_cycle() -> None:
    graph = _graph()
    cycles = [m for m in graph if m in _reach(graph, m) and m != "hostlocate"]
    assert cycles == []


def _within(name: str, rooms: tuple[str, ...]) -> bool:
    return any(name == f"hostlocate.{r}" or name.startswith(f"hostlocate.{r}.") for r in rooms)


def test_the_pure_core_imports_no_edge_and_no_driver() -> None:
    graph = _graph()
    for room in CORE:
        reached = _reach(graph, f"hostlocate.{room}")
        assert not [m for m in reached if _within(m, EDGES + DRIVERS)], room


def test_edges_import_no_driver() -> None:
    graph = _graph()
    for name in graph:
        if _within(name, EDGES):
            assert not [m for m in _reach(graph, name) if _within(m, DRIVERS)], name


def test_the_guard_sees_an_import() -> None:
    # The check itself must be able to fail: asynclocator does import the plan.
    assert "hostlocate.plan" in _graph()["hostlocate.asynclocator"]
