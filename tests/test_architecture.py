"""The layout's rules, read from the source: arrows point one way, no cycles, modules of a readable size.

docs/architecture.md describes the layers; this test is their enforcement.
Imports inside functions count (a lazy import is still an arrow); imports
under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "src" / "swarmscope"

# Higher layers may import lower ones, never the reverse. Same layer: allowed.
LAYERS = [
    ("foundations", ["model", "duck", "jsonable", "progress", "memory", "tablefile", "parallel"]),
    ("store", ["store"]),
    ("enrich", ["enrich"]),
    ("ingest", ["ingest"]),
    ("detectors", ["detect"]),
    ("case-level steps", ["signals", "duplicates", "coaction_network", "graph", "simulate"]),
    ("engines", ["engines"]),
    ("findings", ["findings"]),
    ("campaigns", ["campaigns"]),
    ("configuration", ["config"]),
    ("outputs", ["report", "export", "search", "labels", "info"]),
    ("orchestration", ["pipeline", "demo"]),
    ("library", ["api"]),
    ("entry", ["cli", "web", "__main__", "spark_job"]),
]
MAX_LINES = 500
WHY_LONG = "Why this module is long:"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def imports(module: str) -> set[str]:
    """The swarmscope modules ``module`` imports (anywhere in the file, lazily or not)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_nodes(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m in MODULES and m != module}


def layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    if top == "__init__":
        return len(LAYERS) - 1  # the package root is the public API: an entry point
    for i, (_, names) in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and to docs/architecture.md")


def test_every_module_is_in_a_layer():
    for m in MODULES:
        layer(m)


def test_arrows_point_down():
    upward = []
    for m in MODULES:
        for target in imports(m):
            if target == "swarmscope":
                continue  # the package root: __version__ (and the lazy public API, from the entry layer)
            if layer(target) > layer(m):
                upward.append(f"{m} ({LAYERS[layer(m)][0]}) imports {target} ({LAYERS[layer(target)][0]})")
    assert not upward, "imports that point up a layer:\n" + "\n".join(upward)


def test_only_the_public_api_imports_the_pipeline():
    users = sorted(m for m in MODULES if "swarmscope.pipeline" in imports(m))
    assert users == ["swarmscope.api"], users  # the CLI goes through it too (test_cli_conventions.py)
    init = MODULES["swarmscope"].read_text(encoding="utf-8")
    assert '"swarmscope.pipeline"' in init  # the public API reaches it lazily


def test_detectors_never_touch_the_store():
    offenders = [
        m for m in MODULES if m.startswith("swarmscope.detect") and any(t == "swarmscope.store" for t in imports(m))
    ]
    assert not offenders, offenders


def test_no_import_cycles():
    graph = {m: imports(m) - {"swarmscope"} for m in MODULES}
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t) :] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_long_modules_say_why(module):
    path = MODULES[module]
    n = len(path.read_text(encoding="utf-8").splitlines())
    if n > MAX_LINES:
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        assert WHY_LONG in doc, f"{path.relative_to(ROOT.parent)} has {n} lines: split it, or say '{WHY_LONG} ...'"


def test_the_checker_sees_an_upward_import(tmp_path, monkeypatch):
    """The rule can fail: a detector that imported the pipeline would be reported."""
    fake = tmp_path / "swarmscope" / "detect" / "fake.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from ..pipeline import detect\n")
    monkeypatch.setitem(MODULES, "swarmscope.detect.fake", fake)
    assert imports("swarmscope.detect.fake") == {"swarmscope.pipeline"}
    assert layer("swarmscope.pipeline") > layer("swarmscope.detect.fake")
