"""Sweeps: the [sweep] table, design points, planning, resumable runs, sensitivity, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim.experiments.design import design_points, sweep_keys
from sim.experiments.executors import SerialExecutor
from sim.experiments.runs import MemoryRunStore, RunOutcome
from sim.experiments.sweep import execute_sweep, load_sweep
from sim.report.experiment_files import run_sweep
from sim.results.kpis import SENSITIVITY_KPIS
from sim.scenario import ScenarioError
from sim.scenario.sweep import SweepSpec
from tests.conftest import ROOT, SCENARIOS

SWEEPS = SCENARIOS / "sweeps"


def sweep_file(tmp_path: Path, body: str, *, days: float = 3, step: float = 60, name: str = "sw.toml") -> Path:
    """A sweep file extending clover.toml on a short horizon."""
    path = tmp_path / name
    head = f'extends = "{(SCENARIOS / "clover.toml").as_posix()}"\nname = "t"\n'
    head += f"[time]\nhorizon_days = {days}\nstep_minutes = {step}\n"
    path.write_text(head + body, encoding="utf-8")
    return path


# --- the [sweep] table --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"grid": {"population.mau": []}}, "at least one value"),
        ({"grid": {"population..mau": [1]}}, "not a dotted scenario key"),
        ({"grid": {"sweep.replications": [1]}}, "cannot vary 'sweep'"),
        ({"grid": {"axis": {"a.b": [1, 2], "c.d": [1]}}}, "same length"),
        ({"lhs": {"n": 4, "ranges": {"a.b": [2, 1]}}}, "low < high"),
        ({"sensitivity": {"method": "sobol", "n": 6, "ranges": {"a.b": [0, 1]}}}, "power of 2"),
        ({"sensitivity": {"method": "morris"}}, "needs ranges"),
        ({"grid": {"a.b": [1]}, "lhs": {"n": 2, "ranges": {"a.b": [0, 1]}}}, "appear twice"),
        ({"replicatons": 2}, "Extra inputs are not permitted"),
    ],
)
def test_spec_rejects_bad_tables_with_a_clear_message(table: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SweepSpec.model_validate(table)


def test_grid_is_a_cross_product_and_linked_axes_move_together() -> None:
    spec = SweepSpec.model_validate(
        {"grid": {"population.mau": [1, 2, 3], "price": {"sites.a.p": [0.1, 0.2], "sites.b.p": [1.0, 2.0]}}}
    )
    points = design_points(spec)
    assert len(points) == 6
    assert all((p["sites.a.p"], p["sites.b.p"]) in {(0.1, 1.0), (0.2, 2.0)} for p in points)
    assert {p["population.mau"] for p in points} == {1, 2, 3}


def test_latin_hypercube_fills_every_stratum_once_and_is_deterministic() -> None:
    spec = SweepSpec.model_validate({"lhs": {"n": 8, "seed": 3, "ranges": {"a.x": [0.0, 8.0], "b.y": [10, 17]}}})
    points = design_points(spec)
    assert points == design_points(spec)
    assert sorted(int(p["a.x"]) for p in points) == list(range(8))  # one point per stratum
    assert sorted(p["b.y"] for p in points) == list(range(10, 18))  # integer bounds -> whole numbers
    assert all(isinstance(p["b.y"], int) for p in points)


# --- planning -------------------------------------------------------------------------------


def test_every_shipped_sweep_file_plans() -> None:
    files = sorted(SWEEPS.glob("*.toml"))
    assert len(files) >= 2
    for path in files:
        plan = load_sweep(path)
        assert plan.runs and plan.keys, path
        for run in plan.runs[:: max(1, len(plan.runs) // 5)]:
            assert getattr(run.task.scenario, "sweep", None) is None  # the run scenario has no sweep
            for key, value in run.parameters.items():
                node = run.task.scenario.model_dump()
                for part in key.split("."):
                    node = node[part]
                assert node == pytest.approx(value)


def test_small_sweep_plan_shares_seeds_across_points() -> None:
    plan = load_sweep(SWEEPS / "small.toml")
    assert len(plan.points) == 4 and plan.spec.replications == 2 and len(plan.runs) == 8
    assert len({r.run_id for r in plan.runs}) == 8
    by_rep = {}
    for run in plan.runs:
        by_rep.setdefault(run.replication, set()).add((run.task.entropy, run.task.spawn_key))
    assert all(len(s) == 1 for s in by_rep.values())  # common random numbers across points
    assert plan.runs[0].task.seed_sequence().generate_state(2).tolist() == (
        np.random.SeedSequence(1).spawn(2)[0].generate_state(2).tolist()
    )


def test_set_on_a_swept_key_and_bad_points_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="this key is swept"):
        load_sweep(SWEEPS / "small.toml", ["population.mau=1e8"])
    bad = sweep_file(tmp_path, '[sweep.grid]\n"population.mau" = [1.5e8, -1.0]\n')
    with pytest.raises(ScenarioError, match=r"sweep point 1: population.mau=-1.0.*population.mau"):
        load_sweep(bad)
    typo = sweep_file(tmp_path, "[sweep]\nreplicatons = 2\n", name="typo.toml")
    with pytest.raises(ScenarioError, match=r"sweep.replicatons: unknown key"):
        load_sweep(typo)


# --- running, resuming, failures ------------------------------------------------------------


def test_sweep_table_resume_force_and_failed_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.model.world as world

    path = sweep_file(tmp_path, '[sweep]\nreplications = 2\n[sweep.grid]\n"population.mau" = [1.5e8, 1.6e8, 1.7e8]\n')
    real = world.run_world

    def flaky(scenario, seed_seq):  # type: ignore[no-untyped-def]
        if scenario.population.mau == 1.6e8:
            raise RuntimeError("boom at 160 M")
        return real(scenario, seed_seq)

    monkeypatch.setattr(world, "run_world", flaky)
    plan = load_sweep(path)
    out = tmp_path / "out"
    seen: list[RunOutcome] = []
    report = run_sweep(plan, out, SerialExecutor(), on_outcome=seen.append)
    table = report.table
    assert list(table.columns[:4]) == ["run_id", "point", "replication", "population.mau"]
    assert list(table.columns[4:7]) == ["seed", "status", "error"]
    assert "cost_eur_per_year" in table.columns
    assert len(table) == 6 and table["run_id"].is_unique
    assert (table["status"] == "failed").sum() == 2 and len(report.failed) == 2
    assert all("RuntimeError: boom at 160 M" == e for e in report.failed.values())
    assert table.loc[table["status"] == "failed", "cost_eur_per_year"].isna().all()
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet"), table)
    csv = pd.read_csv(out / "sweep.csv", keep_default_na=False, na_values=[""])
    assert csv["run_id"].tolist() == table["run_id"].tolist()
    assert len(list((out / "runs").glob("*.json"))) == 6

    # resume: the finished runs are skipped, the failed ones retried (and now succeed)
    monkeypatch.setattr(world, "run_world", real)
    again = run_sweep(load_sweep(path), out, SerialExecutor())
    assert (again.executed, again.skipped) == (2, 4) and not again.failed
    ok = table["status"] == "ok"
    pd.testing.assert_frame_equal(again.table[ok], table[ok])

    forced = run_sweep(load_sweep(path), out, SerialExecutor(), force=True)
    assert (forced.executed, forced.skipped) == (6, 0)
    pd.testing.assert_frame_equal(forced.table, again.table)


def test_execute_sweep_on_an_injected_store_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = sweep_file(tmp_path, '[sweep]\nreplications = 2\n[sweep.grid]\n"population.mau" = [1.5e8, 1.6e8]\n', days=2)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    store = MemoryRunStore()
    plan = load_sweep(path)
    report = execute_sweep(plan, store, SerialExecutor())
    assert (report.executed, report.skipped) == (4, 0) and not report.failed
    assert set(store.records) == {r.run_id for r in plan.runs}
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # the experiments layer wrote no file
    record = store.load(plan.runs[0].run_id)
    assert record["point"] == 0 and record["parameters"] == {"population.mau": 1.5e8} and record["status"] == "ok"
    # the same store resumes: nothing left to run, the same table
    again = execute_sweep(load_sweep(path), store, SerialExecutor())
    assert (again.executed, again.skipped) == (0, 4)
    pd.testing.assert_frame_equal(again.table, report.table)


def test_sensitivity_kpis_default_to_the_catalogue(tmp_path: Path) -> None:
    spec = SweepSpec.model_validate({"sensitivity": {"n": 2, "ranges": {"population.mau": [1.4e8, 1.6e8]}}})
    assert spec.sensitivity.kpis == []  # the spec says "the defaults"; experiments resolve them
    assert sweep_keys(spec) == ["population.mau"]
    path = sweep_file(tmp_path, '[sweep.sensitivity]\nn = 2\nranges = { "population.mau" = [1.4e8, 1.6e8] }\n')
    assert load_sweep(path).spec.sensitivity.kpis == list(SENSITIVITY_KPIS)
    assert load_sweep(path, kpis=["cost_eur_per_year"]).spec.sensitivity.kpis == ["cost_eur_per_year"]


def test_morris_sensitivity_writes_indices_and_chart(tmp_path: Path) -> None:
    path = sweep_file(
        tmp_path,
        """
[sweep.sensitivity]
method = "morris"
n = 3
kpis = ["cost_eur_per_year", "co2_t_per_year", "no_such_kpi"]
ranges = { "costs.staff_eur_per_fte_year" = [80000.0, 120000.0], "compute.core_s_per_request" = [8.0, 12.0] }
""",
    )
    plan = load_sweep(path)
    assert len(plan.points) == 3 * (2 + 1)
    report = run_sweep(plan, tmp_path / "out", SerialExecutor())
    idx = report.sensitivity.set_index(["kpi", "parameter", "index"])["value"]
    assert idx[("cost_eur_per_year", "costs.staff_eur_per_fte_year", "mu_star")] > 0
    assert idx[("co2_t_per_year", "costs.staff_eur_per_fte_year", "mu_star")] == 0  # staff cost emits nothing
    assert idx[("co2_t_per_year", "compute.core_s_per_request", "mu_star")] > 0
    assert report.unknown_kpis == ["no_such_kpi"]
    assert (tmp_path / "out" / "sensitivity.csv").exists() and (tmp_path / "out" / "sensitivity.png").stat().st_size > 0
    sobol = load_sweep(path, sensitivity="sobol")
    assert sobol.spec.sensitivity.method == "sobol" and sobol.spec.sensitivity.n == 4  # 3 rounded up to a power of 2
    assert len(sobol.points) == 4 * (2 + 2)


# --- Ctrl-C and resume through the command line ---------------------------------------------


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "sim", *args]


def test_interrupted_sweep_resumes_to_the_same_table(tmp_path: Path) -> None:
    # 8 points x 3 replications of a 90-day run (~0.09 s each) on 2 local workers
    path = sweep_file(
        tmp_path,
        '[sweep]\nreplications = 3\nseed = 5\n[sweep.grid]\n"population.mau" = '
        + json.dumps([1.4e8 + i * 5e6 for i in range(8)])
        + "\n",
        days=90,
        step=15,
    )
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        _cli("sweep", str(path), "--out", str(out), "--workers", "2"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while len(list((out / "runs").glob("*.json"))) < 4 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert proc.poll() is None, "the sweep finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    finished = {p.stem for p in (out / "runs").glob("*.json")}
    assert 4 <= len(finished) < 24
    assert not list((out / "runs").glob(".*"))  # no temporary file left behind
    assert not (out / "sweep.parquet").exists()
    for p in (out / "runs").glob("*.json"):
        assert json.loads(p.read_text())["status"] == "ok"

    resumed = subprocess.run(
        _cli("sweep", str(path), "--out", str(out), "--workers", "2"), cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"({24 - len(finished)} run now, {len(finished)} skipped)" in resumed.stdout
    table = pd.read_parquet(out / "sweep.parquet")

    reference = run_sweep(load_sweep(path), tmp_path / "ref", SerialExecutor()).table
    assert table["run_id"].is_unique and len(table) == 24
    pd.testing.assert_frame_equal(table, reference)
