"""The code's shape, as DESIGN §3 and §5.6a and the house style ask: imports point down and never run
in a circle, modules stay small, and the ORM stays the ORM."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kynect"
MAX_MODULE_LINES = 500


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if "migrations" in parts or "tests" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


MODULES = dict(_modules())


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import in the tree, at the top or inside a function; `if TYPE_CHECKING:` blocks aside."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _import_nodes(child)


def _imported(name: str, path: Path) -> set[str]:
    """The project modules a module imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        found.update(target for target in targets if target in MODULES)
    found.discard(name)
    return found


GRAPH = {name: _imported(name, path) for name, path in MODULES.items()}


def _app(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2:
        return module
    return ".".join(parts[:3]) if parts[1] == "interop" and len(parts) > 2 else ".".join(parts[:2])


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components: any component of more than one module is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize(
    ("app", "forbidden"),
    [
        ("kynect.core", ("kynect.accounts", "kynect.directory", "kynect.ondemand", "kynect.notifications")),
        ("kynect.accounts", ("kynect.directory", "kynect.ondemand")),
        ("kynect.notifications", ("kynect.directory", "kynect.ondemand")),
    ],
)
def test_imports_point_down(app: str, forbidden: tuple[str, ...]) -> None:
    upward = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _app(module) == app
        for target in targets
        if target.startswith(forbidden)
    )
    assert upward == []


def test_modules_stay_small() -> None:
    large = sorted(
        f"{path.relative_to(ROOT)}: {lines} lines"
        for path in MODULES.values()
        if path.name != "models.py" and (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    )
    assert large == []


@pytest.mark.parametrize("needle", [".extra(", "._execute_with_wrappers", "cursor._"])
def test_no_last_resort_or_private_database_api(needle: str) -> None:
    found = sorted(str(path.relative_to(ROOT)) for path in MODULES.values() if needle in path.read_text())
    assert found == []


def test_the_checks_see_the_code() -> None:
    """The graph is read from the real tree: a known downward import is found."""
    assert "kynect.core.models" in GRAPH["kynect.ondemand.models"]
    assert len(MODULES) > 100


def test_reporting_reads_the_other_apps_and_writes_only_its_own_tables() -> None:
    """Reporting counts through the other apps' selectors: it imports none of their services."""
    writers = sorted(
        f"{module} imports {target}"
        for module, targets in GRAPH.items()
        if _app(module) == "kynect.reporting" and ".tests" not in module
        for target in targets
        if target.startswith("kynect.")
        and _app(target) not in ("kynect.reporting", "kynect.core", "kynect.notifications")
        and target.rsplit(".", 1)[-1].startswith("services")
    )
    assert writers == []
    assert any(_app(target) == "kynect.referrals" for target in GRAPH["kynect.reporting.figures"])
