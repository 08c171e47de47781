"""The analyst notebooks run top to bottom on a fresh kernel, through the public API only.

Each notebook is a jupytext pair: ``notebooks/NN_name.py`` (percent format, the reviewed source)
and ``notebooks/NN_name.ipynb`` (what JupyterLab opens), kept in sync by jupytext. The notebook
read from the ``.py`` is executed with nbclient (kernel ``python3`` of this interpreter) after the
values of its ``parameters`` cell are replaced with short-horizon ones, so every notebook takes
seconds; result folders go to pytest's ``tmp_path``. The committed ``.ipynb`` must have the same
cells (kind, source, tags) as its ``.py``, be stripped (no outputs, ``execution_count`` null, no
widget state), and neither may import anything from ``sim.`` submodules except
``sim.report.charts``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

import sim

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

#: Short-run values (Python source) for each notebook's parameters; OUT is added per test.
SHORT: dict[str, dict[str, str]] = {
    "01_quickstart.ipynb": {
        "HORIZON_DAYS": "3", "STEP_MINUTES": "60", "REPLICATIONS": "2", "GATEWAY": "False",
    },
    "02_policy_comparison.ipynb": {
        "HORIZON_DAYS": "3", "STEP_MINUTES": "60", "REPLICATIONS": "2", "GATEWAY": "False",
    },
    "03_gateway_staffing.ipynb": {
        "WEEKS": "1", "STAFFING_WEEKS": "1", "TEXTBOOK_WEEKS": "1", "TEXTBOOK_SEEDS": "2",
    },
    "04_sensitivity.ipynb": {
        "HORIZON_DAYS": "2", "STEP_MINUTES": "60", "REPLICATIONS": "1", "WORKERS": "1", "GATEWAY": "False",
        "MORRIS_TRAJECTORIES": "2",
    },
    # 400 days reach past the migration start (2023-09-05), so the migration table is not empty
    "05_migration_timeline.ipynb": {
        "HORIZON_DAYS": "400", "STEP_MINUTES": "60", "GATEWAY": "False", "SAVE": "True", "MAKE_REPORT": "False",
    },
    "06_uncertainty.ipynb": {
        "HORIZON_DAYS": "2", "STEP_MINUTES": "60", "SAMPLES": "12", "WORKERS": "1", "GATEWAY": "False",
        "COVERAGE_TRIALS": "8",
    },
    "07_other_cases.ipynb": {"HORIZON_DAYS": "2", "STEP_MINUTES": "60", "REPLICATIONS": "2", "GATEWAY": "False"},
}

#: Notebooks that write files take OUT from their parameters.
WRITES = {"01_quickstart.ipynb", "02_policy_comparison.ipynb", "04_sensitivity.ipynb", "05_migration_timeline.ipynb",
          "06_uncertainty.ipynb", "07_other_cases.ipynb"}

ALLOWED_SUBMODULES = {"sim.report", "sim.report.charts"}

#: The jupytext pairing every notebook declares (in the .py header and the .ipynb metadata).
FORMATS = "ipynb,py:percent"


def read(name: str) -> nbformat.NotebookNode:
    """The committed ``.ipynb`` file."""
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def read_source(name: str) -> nbformat.NotebookNode:
    """The notebook as jupytext reads it from its percent-format ``.py`` source."""
    return jupytext.read(NOTEBOOKS / Path(name).with_suffix(".py"))


def cell_shape(cell: nbformat.NotebookNode) -> tuple[str, str, list[str]]:
    return cell.cell_type, cell.source, list(cell.metadata.get("tags", []))


def code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def with_parameters(nb: nbformat.NotebookNode, values: dict[str, str]) -> nbformat.NotebookNode:
    """Replace the assignments of ``values`` (name -> Python source) in the parameters cell."""
    cell = code_cells(nb)[0]
    lines = cell.source.splitlines()
    found: dict[str, tuple[int, int]] = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = (node.lineno - 1, node.end_lineno or node.lineno)
    missing = sorted(set(values) - set(found))
    assert not missing, f"parameters cell has no {missing}"
    for name, (start, end) in sorted(found.items(), key=lambda item: -item[1][0]):
        if name in values:
            lines[start:end] = [f"{name} = {values[name]}"]
    cell.source = "\n".join(lines)
    return nb


def test_every_notebook_is_tested() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(SHORT)
    sources = sorted(p.with_suffix(".ipynb").name for p in NOTEBOOKS.glob("*.py"))
    assert sources == sorted(SHORT), "every notebook has exactly one percent-format .py source"


@pytest.mark.parametrize("name", sorted(SHORT))
def test_notebook_is_in_sync_with_its_source(name: str) -> None:
    source, committed = read_source(name), read(name)
    fix = f"run `jupytext --sync notebooks/{Path(name).with_suffix('.py').name}`"
    representation = source.metadata.get("jupytext", {}).get("text_representation", {})
    assert representation.get("format_name") == "percent", "the .py source is not in percent format"
    assert source.metadata["jupytext"].get("formats") == FORMATS, f"the .py header does not pair it as {FORMATS}"
    assert committed.metadata.get("jupytext", {}).get("formats") == FORMATS, f"the .ipynb is not paired as {FORMATS}"
    assert committed.metadata.get("kernelspec") == source.metadata.get("kernelspec"), f"kernelspec differs: {fix}"
    assert len(committed.cells) == len(source.cells), (
        f"{len(committed.cells)} cells in the .ipynb, {len(source.cells)} in the .py: {fix}"
    )
    for i, (ipynb_cell, py_cell) in enumerate(zip(committed.cells, source.cells)):
        assert cell_shape(ipynb_cell) == cell_shape(py_cell), f"cell {i} differs between the .ipynb and the .py: {fix}"


@pytest.mark.parametrize("name", sorted(SHORT))
def test_committed_notebook_is_stripped(name: str) -> None:
    nb = read(name)
    nbformat.validate(nb)
    assert nb.metadata.get("jupytext", {}).get("formats") == FORMATS
    assert "widgets" not in nb.metadata, "widget state is committed"
    for cell in code_cells(nb):
        assert cell.outputs == [], f"cell {cell.get('id')} has outputs"
        assert cell.execution_count is None, f"cell {cell.get('id')} has an execution count"
        assert "widgets" not in cell.metadata
    first = code_cells(nb)[0]
    assert "parameters" in first.metadata.get("tags", []), "the first code cell must be tagged 'parameters'"
    assert nb.cells[0].cell_type == "markdown", "a notebook opens with its question in markdown"


@pytest.mark.parametrize("name", sorted(SHORT))
@pytest.mark.parametrize("reader", [read, read_source], ids=["ipynb", "py"])
def test_notebook_uses_the_public_api_only(name: str, reader) -> None:
    nb = reader(name)
    source = "\n".join(c.source for c in code_cells(nb))
    python = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
    tree = ast.parse(python)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("sim."):
                    assert alias.name in ALLOWED_SUBMODULES, f"imports {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module and (node.module == "sim" or node.module.startswith("sim.")):
            if node.module == "sim":
                bad = [a.name for a in node.names if a.name not in sim.__all__]
                assert not bad, f"'from sim import {bad}': not in sim.__all__"
            elif node.module == "sim.report":
                assert [a.name for a in node.names] == ["charts"], f"from sim.report import {[a.name for a in node.names]}"
            else:
                assert node.module in ALLOWED_SUBMODULES, f"imports from {node.module}"
    # attribute access into submodules (sim.model.gateway..., sim.theory.queueing...)
    for match in re.finditer(r"\bsim\.([A-Za-z_]\w*)", python):
        assert match.group(1) in sim.__all__ or match.group(1) == "report", f"uses sim.{match.group(1)}"
    for match in re.finditer(r"\bsim\.report\.([A-Za-z_]\w*)", python):
        assert match.group(1) == "charts", f"uses sim.report.{match.group(1)}"


@pytest.mark.parametrize("name", sorted(SHORT))
def test_notebook_runs_on_a_fresh_kernel(name: str, tmp_path: Path) -> None:
    values = dict(SHORT[name])
    if name in WRITES:
        values["OUT"] = f"pathlib.Path({str(tmp_path / 'out')!r})"
    nb = with_parameters(read_source(name), values)
    client = NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError with the cell and traceback on any error
    outputs = [o for c in code_cells(nb) for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, "the notebook shows no chart"
    if name in WRITES:
        assert any((tmp_path / "out").iterdir()), "nothing was written to OUT"
