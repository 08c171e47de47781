"""Fuzzing the command line: hostile edits of the shipped scenarios and of ``--set`` values.

Every outcome must be exit 0 (with a strict-JSON ``summary.json``), or exit 2 with exactly one
line on stderr and nothing written; never a traceback, an internal error (exit 1), a hang or a
machine eaten. Each case runs the command in this process (``sim.cli.app.main``) on a short
horizon; the mutations may lengthen it, which the run-size limits (set low here through
``CLOVER_SIM_MAX_HOURS`` / ``CLOVER_SIM_MAX_MEMORY_GB``) must then refuse. Hypothesis runs
derandomized (the same cases every time) and without its example database.

Run it alone with ``-s`` to see the counts: cases tried, exit 2, exit 0, anything else.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import load_scenario
from sim.cli import app as cli
from tests.conftest import SCENARIOS

#: The shipped scenarios mutated (each with everything it extends, copied).
FILES = [
    "base.toml",
    "clover.toml",
    "pre_clover.toml",
    "dublin_outage.toml",
    "hamar_link_cut.toml",
    "china_transfers_suspended.toml",
    "clover_timeline.toml",
    "validation/mmc.toml",
]
#: Longest one case may take (the whole test stays near a minute).
CASE_S = 30.0
COUNTS: Counter[str] = Counter()
SHORT = ["--set", "time.horizon_days=2", "--set", "time.step_minutes=120"]

HOSTILE = [
    "inf", "-inf", "nan", "+nan", "1e400", "-1", "0", "-0.0", "1e-9", "1e-300", "1e15", "1e308", "2e9",
    "9223372036854775808", "-9223372036854775809", "true", "false", '"7"', '"yes"', '""', '"inf"', "[]",
    "[[]]", "[1, 2]", "{}", "{a = 1}", "9999-01-01", "0001-01-01", "1970-01-01", "2025-01-15T18:00:00Z",
    "12:00:00", '"../../etc"', '"/etc/passwd"', '"dublin"', '["dublin"]', '["dublin", "dublin"]',
    '["nowhere"]', '"x"', "'" + "a" * 300 + "'", "[" * 60 + "]" * 60, '"\\u0000"', "{ x = { y = { z = 1 } } }",
]


def _toml_float(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(_toml_float),
    st.text(max_size=20).map(json.dumps),
)


def _keys() -> tuple[list[str], dict[str, float]]:
    """Dotted keys of the resolved Clover scenario (and their numbers), plus a few that are not."""
    data = load_scenario(SCENARIOS / "clover.toml").model_dump(mode="json")
    keys: list[str] = []
    numbers: dict[str, float] = {}

    def walk(node: object, prefix: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{prefix}.{k}" if prefix else str(k))
        elif isinstance(node, list) and node and isinstance(node[0], dict):
            for i, v in enumerate(node[:2]):
                walk(v, f"{prefix}.{i}")
        else:
            keys.append(prefix)
            if isinstance(node, int | float) and not isinstance(node, bool):
                numbers[prefix] = float(node)

    walk(data, "")
    keys += ["extends", "sweep.grid.population.mau", "population.maus", "gateway.regions.9.head_count", "a" * 40,
             "policy.sites.0", "gateway.regions.0.share", "time", "sites.atlantis.pue"]
    return keys, numbers


KEYS, NUMBERS = _keys()
NUMERIC = sorted(NUMBERS)


#: Keys that make a run large (the run-size limits must stop what would not fit).
SIZE = {
    "time.horizon_days": ["36525", "3650", "365", "30", "1e-3"],
    "time.step_minutes": ["0.017", "1", "1440"],
    "population.mau": ["1e10", "1e9"],
    "population.requests_per_dau_per_day": ["1e6"],
    "gateway.access_requests_per_hour": ["1e7", "1e5"],
    "gateway.regions.0.head_count": ["10000000"],
    "gateway.transfers.size_gb.mean": ["1e-9"],
    "sites.dublin.mtbf_hours": ["1", "1.5"],
    "sites.dublin.mttr_hours": ["0.01"],
    "gateway.outage_mtbf_h": ["1"],
    "gateway.max_resubmissions": ["100"],
    "gateway.approve_probability": ["0.0"],
    "data_classes.user_content.write_gb_per_dau_per_day": ["1e4"],
    "data_classes.user_content.export_share": ["1.0"],
}


@st.composite
def set_option(draw: st.DrawFn) -> str:
    """One ``--set key=value``: a hostile value, a known number scaled out of its range, or a large run."""
    how = draw(st.integers(0, 3))
    if how == 0:
        key = draw(st.sampled_from(sorted(SIZE)))
        return f"{key}={draw(st.sampled_from(SIZE[key]))}"
    if how == 1 and NUMERIC:
        key = draw(st.sampled_from(NUMERIC))
        factor = draw(st.sampled_from([0.0, -1.0, 1e-9, 1e-3, 10.0, 1e3, 1e6, 1e12, 1e300]))
        return f"{key}={_toml_float(NUMBERS[key] * factor)}"
    return f"{draw(st.sampled_from(KEYS))}={draw(VALUES)}"


@st.composite
def file_edit(draw: st.DrawFn) -> tuple[str, str] | None:
    """A shipped file and its edited text (a line deleted, doubled, given a hostile value, a junk line, cut short)."""
    if draw(st.integers(0, 2)) == 0:
        return None
    name = draw(st.sampled_from(FILES))
    lines = (SCENARIOS / name).read_text(encoding="utf-8").splitlines()
    i = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["delete", "double", "value", "junk", "cut"]))
    if kind == "delete":
        del lines[i]
    elif kind == "double":
        lines.insert(i, lines[i])
    elif kind == "value":
        candidates = [j for j, line in enumerate(lines) if "=" in line and not line.lstrip().startswith("#")]
        j = candidates[i % len(candidates)]
        lines[j] = lines[j].split("=", 1)[0] + "= " + draw(VALUES)
    elif kind == "junk":
        lines.insert(i, draw(st.sampled_from(["[[[", "x = ", "= 1", "[sites.dublin]", "extends = \"/dev/zero\"",
                                              "extends = \"clover.toml\"", "[time]\nhorizon_days = 36500",
                                              "[gateway]\nreviewers = 100000"])))
    else:
        text = "\n".join(lines)
        return name, text[: draw(st.integers(0, len(text)))]
    return name, "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(SCENARIOS, root / "scenarios")
    (root / "outs").mkdir()
    return root


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    command=st.sampled_from(["run", "run", "validate"]),
    target=st.sampled_from(["clover.toml", "pre_clover.toml", "dublin_outage.toml", "china_transfers_suspended.toml",
                            "validation/mmc.toml"]),
    edit=file_edit(),
    sets=st.lists(set_option(), max_size=3),
    replications=st.sampled_from([1, 1, 1, 2, 10**9]),
)
def test_every_outcome_is_exit_0_or_a_one_line_exit_2(
    sandbox: Path, monkeypatch: pytest.MonkeyPatch, command: str, target: str, edit: tuple[str, str] | None,
    sets: list[str], replications: int,
) -> None:
    monkeypatch.setenv("CLOVER_SIM_MAX_HOURS", "0.003")  # ~10 s of estimated work per case
    monkeypatch.setenv("CLOVER_SIM_MAX_MEMORY_GB", "3")
    monkeypatch.chdir(sandbox)
    scenarios = sandbox / "scenarios"
    if edit is not None:
        (scenarios / edit[0]).write_text(edit[1], encoding="utf-8")
    out = sandbox / "outs" / f"case{sum(COUNTS.values())}"
    argv = [command, str(scenarios / target), *SHORT, *(a for s in sets for a in ("--set", s))]
    if command == "run":
        argv += ["--out", str(out), "--no-charts", "--replications", str(replications)]
    err, std = io.StringIO(), io.StringIO()
    started = time.monotonic()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse errors exit through sys.exit
                code = int(exc.code or 0)
    finally:
        if edit is not None:
            shutil.copy(SCENARIOS / edit[0], scenarios / edit[0])
    elapsed = time.monotonic() - started
    lines = err.getvalue().strip().splitlines()
    COUNTS["tried"] += 1
    COUNTS[f"exit {code}" if code in (0, 2) else "anything else"] += 1
    case = f"{argv} edit={edit[0] if edit else None}: exit {code}, {elapsed:.1f} s, stderr {lines[:3]}"
    assert elapsed < CASE_S, case
    assert code in (0, 2), case
    assert "Traceback" not in err.getvalue(), case
    leftovers = [p.name for p in (sandbox / "outs").iterdir() if p.name.startswith(".")]
    assert not leftovers, case
    if code == 2:
        assert len(lines) == 1 and lines[0].startswith("clover-sim"), case
        assert not out.exists(), case
    elif command == "run":
        summary = (out / "summary.json").read_text(encoding="utf-8")
        json.loads(summary, parse_constant=lambda c: pytest.fail(f"{c} in summary.json: {case}"))
        shutil.rmtree(out)


def test_fuzz_counts() -> None:
    """Print (with -s) what the fuzz test tried; it must have run and only seen exit 0 and 2."""
    if not COUNTS:
        pytest.skip("the fuzz test did not run in this session")
    print(f"\nfuzz: {COUNTS['tried']} cases tried, {COUNTS['exit 2']} exit 2, {COUNTS['exit 0']} exit 0, "
          f"{COUNTS['anything else']} anything else")
    assert COUNTS["anything else"] == 0 and COUNTS["exit 0"] > 0 and COUNTS["exit 2"] > 0
    assert not os.environ.get("CLOVER_SIM_MAX_HOURS")  # the limits were set for the fuzz cases only
