"""The house rules of the package layout, checked on the source (no import of dz_gis needed).

- the import graph of ``dz_gis`` has no cycle (imports inside functions count too);
- no module imports another module's ``_private`` name;
- no module over 600 lines, no function body over 80 lines unless a ``# long:`` comment says why;
- data flows one way between the stage packages: io → network → access → plan → pipeline → allocate → scale → outputs.
"""

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dz_gis"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

#: Stages in the order data flows; a stage may import only from stages before it.
STAGES = ["io", "network", "access", "plan", "pipeline", "allocate", "scale", "outputs"]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``from ... import`` statement reads from."""
    if node.level == 0:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, str, int]]:
    """(imported module, imported name or "", line) for every import in ``module``."""
    path = MODULES[module]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, "", node.lineno) for alias in node.names if alias.name.startswith("dz_gis")]
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, path, node)
            if not source.startswith("dz_gis"):
                continue
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                # "from . import settings" imports a module, not a name
                out.append((sub, "", node.lineno) if sub in MODULES else (source, alias.name, node.lineno))
    return out


def _graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(MODULES)
    for module in MODULES:
        for target, _, _ in _imports(module):
            if target in MODULES and target != module:
                graph.add_edge(module, target)
            # importing dz_gis.x.y runs the package dz_gis.x first (not the root, which re-exports all)
            parts = target.split(".")
            for k in range(2, len(parts)):
                pkg = ".".join(parts[:k])
                if pkg in MODULES and pkg != module and not module.startswith(pkg + "."):
                    graph.add_edge(module, pkg)
    return graph


def test_the_parser_sees_the_package():
    assert {"dz_gis.pipeline", "dz_gis.network.prepared", "dz_gis.plan.kinds"} <= set(MODULES)
    assert ("dz_gis.access.times", "dz_gis.network.prepared") in _graph().edges


def test_import_graph_has_no_cycle():
    cycles = list(nx.simple_cycles(_graph()))
    assert not cycles, f"import cycles: {cycles[:5]}"


def test_no_module_imports_another_modules_private_name():
    bad = [
        f"{module}:{line} imports {name} from {source}"
        for module in MODULES
        for source, name, line in _imports(module)
        if name.startswith("_") and not name.startswith("__") and source != module
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("stage", STAGES)
def test_stages_import_only_earlier_stages(stage):
    later = STAGES[STAGES.index(stage) + 1 :]
    bad = []
    for module in MODULES:
        if module != f"dz_gis.{stage}" and not module.startswith(f"dz_gis.{stage}."):
            continue
        for target, _, line in _imports(module):
            hit = next((s for s in later if target == f"dz_gis.{s}" or target.startswith(f"dz_gis.{s}.")), None)
            if hit:
                bad.append(f"{module}:{line} imports {target} (stage {hit} comes after {stage})")
    assert not bad, "\n".join(bad)


def test_modules_are_small():
    big = {
        m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not big, f"modules over {MAX_MODULE_LINES} lines: {big}"


def test_long_functions_say_why():
    bad = []
    for module, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            first = node.body[0]
            has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            start = first.end_lineno + 1 if has_doc else node.body[0].lineno
            length = node.end_lineno - start + 1
            reason = any(line.strip().startswith("# long:") for line in lines[start - 1 : start + 3])
            if length > MAX_FUNCTION_LINES and not reason:
                bad.append(f"{module}.{node.name}: {length} lines")
    assert not bad, f"functions over {MAX_FUNCTION_LINES} lines without a '# long:' reason: {bad}"
