"""No import cycles among rnnkit's modules, imports inside functions included.

An import hidden inside a function to dodge a cycle is still a cycle in the design: the two
modules cannot be read, tested or moved apart. So every ``import`` and ``from ... import`` of
every module under ``src/rnnkit`` counts, at module level, inside functions and methods, and
under ``if TYPE_CHECKING:``. ``from pkg import name`` imports the module ``pkg.name`` when there
is one, else ``pkg``; ``import a.b.c`` imports ``a.b.c`` (not its parents: a package
``__init__`` importing its submodules is fine, a submodule importing its own package is a
cycle).
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from pathlib import Path

import rnnkit

SRC = Path(rnnkit.__file__).resolve().parent  # src/rnnkit
ROOT = SRC.parent


def module_names(root: Path, package: str = "rnnkit") -> dict[str, Path]:
    """``{dotted module name: file}`` for every .py file under ``root`` (the package folder)."""
    modules: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join((package, *parts))] = path
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that module ``name`` (file ``path``) imports anywhere."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()

    def nearest(dotted: str) -> str | None:  # the longest known prefix of a dotted name
        while dotted and dotted not in known:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: Iterable[str | None] = ()
        if isinstance(node, ast.Import):
            targets = [nearest(alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else nearest(base)
                       for alias in node.names]
        found.update(t for t in targets if t is not None and t != name)
    return found


@functools.cache
def rnnkit_graph() -> dict[str, set[str]]:
    return import_graph(SRC, "rnnkit")


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    modules = module_names(root, package)
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
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

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def describe(components: list[list[str]], graph: dict[str, set[str]]) -> str:
    lines = []
    for component in components:
        members = set(component)
        edges = [f"    {a} -> {b}" for a in component for b in sorted(graph[a] & members)]
        lines.append(f"cycle among {component}:\n" + "\n".join(edges))
    return "\n".join(lines)


def _in_tasks(module: str) -> bool:
    return module == "rnnkit.tasks" or module.startswith("rnnkit.tasks.")


# ------------------------------------------------------------------------------- the tests
def test_no_import_cycles_outside_tasks() -> None:
    graph = rnnkit_graph()
    bad = [c for c in cycles(graph) if not all(_in_tasks(m) for m in c)]
    assert not bad, "import cycles (imports inside functions count):\n" + describe(bad, graph)


def test_no_import_cycles_in_tasks() -> None:
    graph = rnnkit_graph()
    bad = [c for c in cycles(graph) if all(_in_tasks(m) for m in c)]
    assert not bad, "import cycles in rnnkit.tasks:\n" + describe(bad, graph)


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from pkg.a import A\n")
    (pkg / "a.py").write_text("A = 1\n\ndef f():\n    from .sub import b\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "b.py").write_text("from .. import a\nfrom ..a import A\nimport pkg.sub\n")
    (pkg / "sub" / "c.py").write_text("from pkg import A\n\nclass C:\n    def m(self):\n"
                                      "        import pkg.sub.b as b\n")
    graph = import_graph(pkg, "pkg")
    assert graph == {
        "pkg": {"pkg.a"},
        "pkg.a": {"pkg.sub.b"},  # inside a function, relative
        "pkg.sub": set(),
        "pkg.sub.b": {"pkg.a", "pkg.sub"},  # `from .. import a` is the module pkg.a
        "pkg.sub.c": {"pkg", "pkg.sub.b"},  # `from pkg import A`: A is no module, so pkg
    }
    assert cycles(graph) == [["pkg.a", "pkg.sub.b"]]
