"""The layout shows the architecture: plumbing under portal/core imports no feature, and
no module dodges an import cycle by importing inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

PORTAL = Path(__file__).resolve().parents[1] / "portal"


def _module(path: Path) -> str:
    parts = path.relative_to(PORTAL.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = PORTAL.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _portal_imports(path: Path) -> list[tuple[str, int, bool]]:
    """(imported module, line, at module level?) for each import of a portal module."""
    tree = ast.parse(path.read_text())
    # Module level, including `if TYPE_CHECKING:` blocks (annotations only, never run).
    top_level = {id(node) for node in tree.body}
    for node in tree.body:
        if isinstance(node, ast.If):
            top_level |= {id(child) for child in node.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from portal.core import web` imports portal.core.web, not just the package.
            names = [
                f"{node.module}.{alias.name}"
                if _is_module(f"{node.module}.{alias.name}")
                else node.module
                for alias in node.names
            ]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name == "portal" or name.startswith("portal."):
                found.append((name, node.lineno, id(node) in top_level))
    return found


MODULES = {_module(p): p for p in sorted(PORTAL.rglob("*.py"))}


def test_core_imports_no_feature():
    wrong = [
        f"{module}:{line} imports {name}"
        for module, path in MODULES.items()
        if module.startswith("portal.core")
        for name, line, _ in _portal_imports(path)
        if not name.startswith("portal.core") and name != "portal"
    ]
    assert not wrong, "portal/core is plumbing; features stand on it:\n" + "\n".join(wrong)


def test_no_imports_inside_functions():
    """An import inside a function is how a cycle gets hidden: import at the top."""
    inside = [
        f"{module}:{line} imports {name}"
        for module, path in MODULES.items()
        for name, line, top in _portal_imports(path)
        if not top
    ]
    assert not inside, "\n".join(inside)


def test_no_import_cycles():
    graph = {
        module: {name for name, _, _ in _portal_imports(path) if name in MODULES}
        for module, path in MODULES.items()
    }
    # A package's __init__ importing its own submodules is not a cycle of features.
    for module, targets in graph.items():
        graph[module] = {t for t in targets if not t.startswith(module + ".")}
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return path[path.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None
