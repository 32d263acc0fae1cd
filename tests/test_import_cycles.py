"""No import cycle among the project's modules: read with ast, never imported.

Every `import` and `from ... import` in a package's files (top level, inside functions,
under TYPE_CHECKING alike: a cycle hidden in a function is still a cycle of meaning) is an
edge from the importing module to the project's module it names; a cycle is a strongly
connected set of more than one module, or a module importing itself.

PACKAGES lists the packages checked: the phone's and the server's.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("fieldapp", "sync")
# Cycles known and left to their owners, each listed so it cannot grow unseen; the test fails once one
# is gone, so the entry goes with it. None today.
KNOWN: dict[str, list[list[str]]] = {}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(p): p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts}


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules a module imports, as import-linter counts them (a submodule named, not its package)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package, up level-1 more
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:  # `from pkg import mod` reaches mod; `from mod import name` reaches mod
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
    # the nearest module the project has for each name (a.b.c -> a.b when c is a function)
    edges = set()
    for target in found:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            edges.add(target)
    return edges


def graph(packages: tuple[str, ...]) -> dict[str, set[str]]:
    found: dict[str, Path] = {}
    for package in packages:
        found.update(modules(package))
    known = set(found)
    return {name: imports(name, path, known) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_checker_finds_a_cycle_it_is_shown():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_a_package_importing_its_own_module_is_no_cycle_but_the_module_importing_back_is(tmp_path):
    # fieldapp/ui/views/__init__.py imports its own views; a view importing the package back would be one.
    edges = {"p": {"p.a"}, "p.a": set()}
    assert cycles(edges) == []
    edges["p.a"] = {"p"}
    assert cycles(edges) == [["p", "p.a"]]


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package):
    edges = graph((package,))
    assert edges, f"no modules found under {package}"
    assert cycles(edges) == KNOWN.get(package, [])


def test_the_views_never_import_the_app():
    """The screens move through a Navigator (fieldapp/ui/views/widgets.py), not through fieldapp/ui/app.py."""
    edges = graph(("fieldapp",))
    views = [m for m in edges if m.startswith("fieldapp.ui.views")]
    assert views and not [m for m in views if "fieldapp.ui.app" in edges[m]]


def test_the_screen_models_import_no_flet():
    models = sorted((ROOT / "fieldapp" / "ui" / "models").glob("*.py"))
    assert models
    for path in models + [ROOT / "fieldapp" / "ui" / "state.py", ROOT / "fieldapp" / "ui" / "routing.py"]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        named = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        named |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {n for n in named if n == "flet" or n.startswith("flet_")}, path.name


def test_no_file_of_the_screens_is_over_350_lines():
    long = {p.relative_to(ROOT).as_posix(): n for p in (ROOT / "fieldapp" / "ui").rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 350}
    assert long == {}


def test_the_views_reach_the_store_only_through_the_models():
    """No view reads `.store` or `.lead` (the records) itself: it asks its screen's model."""
    for path in sorted((ROOT / "fieldapp" / "ui" / "views").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        reached = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not reached & {"store", "lead", "data_dir"}, path.name
