"""The layer order of ``flowloop``, written once, and a walk of every import that enforces it.

Each line of ``LAYERS`` is one layer, lowest first; a name is a top-level module or package of
``flowloop`` (``flowloop`` itself is the public facade in ``__init__.py``). A module may import
its own package and anything on a lower line; names on one line are peers and import neither
each other nor anything above. Every import counts: module level, inside functions (the lazy
ones that used to hide cycles), under ``TYPE_CHECKING``, and ``importlib.import_module`` with a
literal name. Moving a module between layers is a one-line change here, made on purpose.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path


LAYERS = """
errors
types precision bearer
atomic scrub words text section
passes
config
repo
git
signals
pilr
index
models
inference
pipeline
localize
train
specialist
planner
evaluate
report
loop
flowloop
integrations
cli
"""

# ``flowloop/__init__.py`` runs before any submodule is imported, so what it imports at module
# level is paid by every ``import flowloop.x``: only this layer and the ones below it.
FACADE_EAGER_CEILING = "repo"

PACKAGE = Path(__file__).resolve().parents[1] / "flowloop"


def layer_of() -> dict[str, int]:
    rank: dict[str, int] = {}
    for number, line in enumerate(line for line in LAYERS.splitlines() if line.strip()):
        for name in line.split():
            assert name not in rank, f"{name} is listed twice in LAYERS"
            rank[name] = number
    return rank


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted
    path: Path
    line: int
    target: str  # the imported module, dotted
    lazy: bool  # inside a function (or class) body, not at module level


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules(package: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(path, package): path for path in sorted(package.rglob("*.py"))}


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest known module ``name`` starts with (``a.b.func`` -> ``a.b``)."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(source: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    found: list[Import] = []

    def add(node: ast.AST, dotted: str, lazy: bool) -> None:
        target = _resolve(dotted, modules)
        if target is not None and target != source:
            found.append(Import(source, path, getattr(node, "lineno", 0), target, lazy))

    def visit(node: ast.AST, lazy: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = lazy or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))
            inner = inner or (isinstance(child, ast.If) and _is_type_checking(child.test))  # never run
            if isinstance(child, ast.Import):
                for alias in child.names:
                    add(child, alias.name, lazy)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    base = ".".join([*anchor, *([child.module] if child.module else [])])
                for alias in child.names:  # ``from pkg import submodule`` imports the submodule
                    add(child, f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base, lazy)
            elif isinstance(child, ast.Call) and _is_import_call(child):
                add(child, child.args[0].value, True)  # type: ignore[attr-defined]
            visit(child, inner)

    visit(tree, False)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_import_call(call: ast.Call) -> bool:
    func = call.func
    named = (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id in ("import_module", "__import__")
    )
    return named and bool(call.args) and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str)


def unit(module: str) -> str:
    """The name ``LAYERS`` knows a module by: its top-level package or module under flowloop."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def violations(package: Path = PACKAGE) -> list[str]:
    """Every import that points against ``LAYERS``, as ``path:line: message`` lines."""
    rank = layer_of()
    modules = all_modules(package)
    problems = [f"{module} has no layer: add {unit(module)!r} to LAYERS in tests/test_architecture.py"
                for module in modules if unit(module) not in rank]
    for source, path in modules.items():
        for imp in imports_of(source, path, modules):
            here, there = unit(imp.source), unit(imp.target)
            if here == there or here not in rank or there not in rank:
                continue
            where = f"{path.relative_to(package.parent)}:{imp.line}"
            kind = "lazy import" if imp.lazy else "import"
            if rank[there] > rank[here]:
                problems.append(f"{where}: {here} -> {there}: {kind} of {imp.target}, a higher layer")
            elif rank[there] == rank[here]:
                problems.append(f"{where}: {here} -> {there}: {kind} of {imp.target}, a peer on the same layer")
    facade = modules.get("flowloop")
    if facade is not None:
        for name, target in _facade_exports(facade).items():
            resolved = _resolve(target, modules)
            if resolved is not None and rank.get(unit(resolved), -1) > rank["flowloop"]:
                problems.append(f"flowloop/__init__.py: the facade's {name!r} comes from {target}, above the facade")
        for imp in imports_of("flowloop", facade, modules):
            there = unit(imp.target)
            if not imp.lazy and there in rank and rank[there] > rank[FACADE_EAGER_CEILING]:
                problems.append(f"flowloop/__init__.py:{imp.line}: the facade imports {imp.target} eagerly; "
                                f"every `import flowloop.x` would pay for it: make it lazy")
    return sorted(set(problems))


def _facade_exports(path: Path) -> dict[str, str]:
    """The facade's lazy table (``_LAZY = {name: (module, attribute)}``), read without importing it."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "_LAZY" and node.value is not None:
            return {name: module for name, (module, _attr) in ast.literal_eval(node.value).items()}
    return {}


def package_cycles(package: Path = PACKAGE) -> list[tuple[str, str]]:
    """Pairs of top-level units that import each other (in any way, lazily included)."""
    modules = all_modules(package)
    edges = {(unit(i.source), unit(i.target)) for s, p in modules.items() for i in imports_of(s, p, modules)}
    return sorted((a, b) for a, b in edges if a < b and (b, a) in edges)


def test_imports_follow_the_layer_order() -> None:
    problems = violations()
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_no_two_packages_import_each_other() -> None:
    assert package_cycles() == []


def test_the_walk_sees_lazy_relative_and_importlib_imports(tmp_path: Path) -> None:
    """The checker itself: a planted upward import is found however it is written."""
    pkg = tmp_path / "flowloop"
    for sub in ("errors.py", "signals/__init__.py", "signals/store.py", "index/__init__.py", "index/usage.py"):
        (pkg / sub).parent.mkdir(parents=True, exist_ok=True)
        (pkg / sub).write_text("")
    (pkg / "__init__.py").write_text("from flowloop.errors import *\n")
    (pkg / "signals" / "store.py").write_text(
        "import importlib\n"
        "def open_store():\n"
        "    from flowloop.index.usage import drain\n"  # lazy, absolute
        "    from ..index import usage\n"  # lazy, relative
        "    importlib.import_module('flowloop.index.usage')\n"
    )
    (pkg / "index" / "usage.py").write_text("from flowloop.signals.store import open_store\n")
    found = violations(pkg)
    assert found == [
        "flowloop/signals/store.py:3: signals -> index: lazy import of flowloop.index.usage, a higher layer",
        "flowloop/signals/store.py:4: signals -> index: lazy import of flowloop.index.usage, a higher layer",
        "flowloop/signals/store.py:5: signals -> index: lazy import of flowloop.index.usage, a higher layer",
    ]
    assert package_cycles(pkg) == [("index", "signals")]


def test_an_unplaced_module_is_named(tmp_path: Path) -> None:
    pkg = tmp_path / "flowloop"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "newthing.py").write_text("")
    assert violations(pkg) == [
        "flowloop.newthing has no layer: add 'newthing' to LAYERS in tests/test_architecture.py"
    ]
