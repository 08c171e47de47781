"""Shared fixtures of the report tests: two short real runs, and copies with a summary edited by hand."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sim import load_scenario, simulate
from sim.report.files import write_results
from tests.conftest import SCENARIOS

SHORT = ["time.horizon_days=3", "time.step_minutes=60"]


@pytest.fixture(scope="session")
def short_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two short real runs of two replications each: clover and pre_clover (3 days, hourly steps)."""
    base = tmp_path_factory.mktemp("short_runs")
    out = {}
    for name in ("clover", "pre_clover"):
        sc = load_scenario(SCENARIOS / f"{name}.toml", SHORT)
        out[name] = write_results(simulate(sc, replications=2, seed=1), base / name, with_charts=False)
    return out


def copy_run(src: Path, dst: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """Copy a result folder and change its summary.json by hand (``edit`` changes the parsed JSON in place)."""
    shutil.copytree(src, dst)
    summary = json.loads((dst / "summary.json").read_text(encoding="utf-8"))
    edit(summary)
    (dst / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return dst
