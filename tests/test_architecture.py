"""The package's shape (docs/architecture.md): arrows run one way, no import cycles, no
module over the size limit, environment variables read only at the edges."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "plugin" / "slant"

# Which packages each part may import (besides itself). Arrows run one way:
# cli -> loop/backend -> model/studio/measure -> agreement/records -> text -> taxonomy -> errors
# (measure reads agreement for the coders' agreement in its methods paragraph).
BASE = {"errors", "_files", "_version", "_words"}
ALLOWED = {
    "errors": set(),
    "_files": {"errors"},
    "_version": set(),
    "_words": set(),
    "taxonomy": BASE,
    "text": BASE | {"taxonomy"},
    "records": BASE | {"taxonomy", "text"},
    "model": BASE | {"taxonomy", "text", "records"},
    "studio": BASE | {"taxonomy", "text", "records"},
    "agreement": BASE | {"taxonomy", "text", "records"},
    "measure": BASE | {"taxonomy", "text", "records", "agreement"},
    "loop": BASE | {"taxonomy", "text", "records", "model", "studio", "agreement", "measure"},
    "backend": BASE | {"taxonomy", "text", "records", "model", "studio", "agreement", "measure", "loop"},
    "cli": BASE | {"taxonomy", "text", "records", "model", "studio", "agreement", "measure", "loop", "backend"},
    "__init__": BASE | {"taxonomy", "text", "records", "agreement"},
    "__main__": {"cli"},
}
MAX_LINES = 420  # "no module over ~400 lines"
# slant.loop.dask_worker is the worker side's edge: it reads the worker process's own malloc
# variables (MALLOC_TRIM_THRESHOLD_, set by the nanny) to put them back later.
ENV_READERS = {"slant.cli.common", "slant.backend.run", "slant.studio.server", "slant._files", "slant.model.encoder",
               "slant.loop.dask_worker"}


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        yield "slant." + ".".join(parts) if parts != ["__init__"] else "slant", path


MODULES = dict(_modules())


def _imports(name, path):
    """Every slant module `name` imports, at module level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("slant"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("slant"):
                continue
            for a in node.names:
                full = f"{mod}.{a.name}"
                out.add(full if full in MODULES else mod)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _part(module):
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def test_arrows_run_one_way():
    wrong = sorted(f"{a} -> {b}" for a, deps in GRAPH.items() for b in deps
                   if _part(b) != _part(a) and _part(b) not in ALLOWED[_part(a)])
    assert not wrong, "forbidden imports:\n" + "\n".join(wrong)


def test_no_import_cycles():
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in sorted(GRAPH[m]):
            if d == "slant" or (m.startswith(d + ".") and d != "slant"):
                continue  # a package's own __init__ re-exporting is not a cycle of code
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_nothing_imports_the_cli():
    assert not [a for a, deps in GRAPH.items() if _part(a) not in ("cli", "__main__") and any(_part(d) == "cli" for d in deps)]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_size(name):
    n = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{name} has {n} lines; split it by concept (docs/architecture.md)"


def test_environment_is_read_only_at_the_edges():
    readers = set()
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if "os.environ" in text or "getenv(" in text:
            readers.add(name)
    assert readers <= ENV_READERS, f"environment read outside the edges: {sorted(readers - ENV_READERS)}"


def test_no_private_names_cross_modules():
    """A module imports only public names of another (modules such as `_files` aside)."""
    wrong = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("slant"):
                wrong += [f"{name}: from {node.module} import {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__") and f"{node.module}.{a.name}" not in MODULES]
    assert not wrong, "\n".join(wrong)
