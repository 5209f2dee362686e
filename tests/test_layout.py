"""The package's layout shows the pipeline, and stays that way: one subpackage per stage with
a docstring saying its job, a small top level, small modules, and no import cycles (imports
inside functions count: a cycle hidden in a function is still a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import kg

ROOT = Path(kg.__file__).resolve().parent
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules ``name`` imports anywhere in its code (``from kg.x import y``
    counts as ``kg.x.y`` when that is a module, else ``kg.x``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    # imports made for type checkers only never run: ``if TYPE_CHECKING:`` blocks are left out
    for block in [n for n in ast.walk(tree) if isinstance(n, ast.If) and ast.unparse(n.test).endswith("TYPE_CHECKING")]:
        block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in known and m != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    """The check above could fail: a planted cycle is found, through a function-level import too."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    source = ROOT / "write" / "update.py"
    assert "kg.write.change" in _imports("kg.write.update", source, set(_modules()))


def test_a_small_top_level_and_a_subpackage_per_stage() -> None:
    top = [p for p in ROOT.glob("*.py")]
    packages = [p for p in ROOT.iterdir() if (p / "__init__.py").is_file()]
    assert len(top) <= 12, sorted(p.name for p in top)
    assert {p.name for p in packages} >= {"build", "shacl", "validation", "store", "write", "server", "sparql", "ops"}
    for package in packages:
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc) > 60, f"{package.name}/__init__.py says what the stage does"


def test_no_module_over_the_limit() -> None:
    long = {str(p.relative_to(ROOT)): n for p in ROOT.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


#: which stage may import which (the data flow reads top to bottom; foundations import no stage)
_MAY_IMPORT = {
    "sparql": set(),
    "store": {"sparql"},
    "shacl": {"sparql"},
    "validation": {"shacl", "store"},
    # the control channel carries command-line writes to a running server, so ops runs them
    "ops": {"store", "write", "build", "validation", "sparql"},
    "write": {"sparql", "store", "shacl", "validation"},
    "build": {"store", "write", "validation"},
    # a draft is written in the annotation format and proposes entities the store already knows
    "draft": {"build", "store", "validation", "sparql"},
    "server": {"sparql", "store", "shacl", "validation", "write", "ops", "build"},
    # the command line sits on top of everything (kg serve starts the server)
    "cli": {"sparql", "store", "shacl", "validation", "write", "ops", "build", "server", "draft"},
}


def test_stages_import_only_what_is_below_them() -> None:
    wrong = []
    for name, imported in _graph().items():
        parts = name.split(".")
        stage = parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in _MAY_IMPORT) else None
        for other in imported:
            other_parts = other.split(".")
            target = other_parts[1] if len(other_parts) > 1 and other_parts[1] in _MAY_IMPORT else None
            if target is None or target == stage:
                continue
            if stage is None:  # a foundation (or the CLI / the package's own lazy names)
                if parts[-1] not in ("cli", "kg") and name != "kg":
                    wrong.append(f"{name} -> {other}")
            elif target not in _MAY_IMPORT[stage]:
                wrong.append(f"{name} -> {other}")
    assert wrong == []
