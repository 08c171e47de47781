"""The import contract: the layers of DESIGN.md, imports pointing one way, no cycles.

    cli > report > experiments > results | model > meters > scenario > reference (+ seeds)

``results`` and ``model`` are siblings that never import each other; ``theory`` (queueing
formulas) is imported only by the tests and by the gateway's staffing module. Every import
statement counts, including imports inside functions and under ``TYPE_CHECKING``. The root
package ``sim`` (its lazy public API and ``__version__``) may be named by anyone, since every
submodule import runs it anyway.

The same parse checks the other house rules that an import graph can show: only ``report`` and
``cli`` draw (matplotlib) or print, and the model layers never open files.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "sim"

#: Rank of each layer: an import must point to a lower rank (or stay inside its own layer).
RANK = {
    "reference": 0,
    "seeds": 0,
    "cachedir": 0,
    "scenario": 1,
    "meters": 2,
    "model": 3,
    "results": 3,
    "experiments": 4,
    "report": 5,
    "cli": 6,
}
#: Sibling layers of equal rank that must not import each other.
SIBLINGS = {frozenset({"model", "results"})}
#: Who may import sim.theory.
THEORY_IMPORTERS = ("sim.model.gateway.staffing",)
#: Layers that may draw or print.
PRESENTATION = {"report", "cli"}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def layer(module: str) -> str | None:
    """The layer of a dotted module name (None for the root package and ``sim.__main__``)."""
    parts = module.split(".")
    if len(parts) < 2 or parts[1] == "__main__":
        return None
    return parts[1]


def imports(path: Path, module: str) -> list[tuple[str, int]]:
    """Every ``sim`` module this file imports, with the line, resolving relative imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    known = modules()
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "sim"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "sim":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.append((sub if sub in known else base, node.lineno))
    return out


def graph() -> dict[str, list[tuple[str, int]]]:
    return {m: imports(p, m) for m, p in modules().items()}


def test_every_module_has_a_layer() -> None:
    unknown = sorted(m for m in modules() if layer(m) is not None and layer(m) not in RANK and layer(m) != "theory")
    assert not unknown, f"modules outside every layer (add them to a layer folder): {unknown}"


def _allowed(src: str, dst: str) -> bool:
    a, b = layer(src), layer(dst)
    if b is None:
        return dst == "sim"  # the root package: lazy API and __version__
    if a is None:
        return True  # the root package and __main__ sit above every layer
    if b == "theory":
        return a == "theory" or src.startswith(THEORY_IMPORTERS)
    if a == "theory":
        return False
    if a == b:
        return True
    if frozenset({a, b}) in SIBLINGS:
        return False
    return RANK[b] < RANK[a]


def test_imports_point_down_the_layers() -> None:
    bad = [
        f"{src} (line {line}) imports {dst}"
        for src, targets in graph().items()
        for dst, line in targets
        if not _allowed(src, dst)
    ]
    assert not bad, "imports against the layers:\n" + "\n".join(bad)


def test_no_import_cycles() -> None:
    g = graph()
    # a package importing its own submodules to re-export them is not a cycle of ideas
    edges = {m: {d for d, _ in ts if d in g and d != m and not d.startswith(m + ".")} for m, ts in g.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(edges[m]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def _calls(path: Path, names: set[str]) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in names
    ]


@pytest.mark.parametrize("name", sorted(m for m in modules() if layer(m) not in PRESENTATION | {None}))
def test_below_report_nothing_prints_draws_or_opens_files(name: str) -> None:
    path = modules()[name]
    assert not _calls(path, {"print", "open"}), f"{name} prints or opens a file (lines {_calls(path, {'print', 'open'})})"
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    drawn = [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        and any((a.name if isinstance(n, ast.Import) else (n.module or "")).startswith("matplotlib") for a in n.names)
    ]
    assert not drawn, f"{name} imports matplotlib (lines {drawn}): charts belong to sim.report"


def test_the_contract_catches_a_violation(tmp_path: Path) -> None:
    """The checker itself: an upward import is reported (a test that could fail)."""
    assert not _allowed("sim.model.world", "sim.results.costs")
    assert not _allowed("sim.results.costs", "sim.model.datacenter")
    assert not _allowed("sim.scenario.schema", "sim.model.placement.policy")
    assert not _allowed("sim.experiments.compare", "sim.report.io")
    assert not _allowed("sim.results.replication", "sim.theory.queueing")
    assert _allowed("sim.model.gateway.staffing", "sim.theory.queueing")
    assert _allowed("sim.cli.app", "sim.report.format")
    assert _allowed("sim.model.world", "sim.meters")
    src = tmp_path / "x.py"
    src.write_text("def f():\n    from sim.report import io\n", encoding="utf-8")
    assert imports(src, "sim.model.x") == [("sim.report.io", 2)]
