"""No module of latent_explorer imports another in a cycle — counting imports inside functions and under
``if TYPE_CHECKING:``, which import-linter's graph and Python itself would let pass."""

from __future__ import annotations

import ast
from pathlib import Path

import latent_explorer

PACKAGE_ROOT = Path(latent_explorer.__file__).parent
PACKAGE = "latent_explorer"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, modules: set[str], name: str | None = None) -> set[str]:
    """Every module of the package that ``path`` imports anywhere in its body (functions included).

    ``from pkg import sub`` depends on the module ``pkg.sub`` when there is one, else on ``pkg`` (a name
    defined there), as import-linter counts it.
    """
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        for target in targets:
            while target and target not in modules:  # "pkg.mod.Name" → "pkg.mod"
                target = target.rpartition(".")[0]
            if target and target != name and target.startswith(PACKAGE):
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE_ROOT.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    return {module_name(p): imported_modules(p, modules) for p in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as [a, b, ..., a], or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in sorted(graph):
        if state.get(root):
            continue
        stack = [(root, iter(sorted(graph[root])))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph.get(child, ())))))
    return None


def test_the_checker_finds_a_cycle_through_a_function_local_import(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from latent_explorer.qt import main_window\n")
    modules = {"latent_explorer.qt.main_window", "latent_explorer.qt"}
    assert imported_modules(source, modules, name="latent_explorer.mod") == {"latent_explorer.qt.main_window"}


def test_latent_explorer_has_no_import_cycle():
    graph = import_graph()
    assert "latent_explorer.qt.main_window" in graph and graph["latent_explorer.qt.main_window"]
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " → ".join(cycle)
