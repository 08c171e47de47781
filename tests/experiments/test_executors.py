"""Executors: run ids, local processes (a worker killed), a real Dask cluster (a worker killed)."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sim.experiments.executors import DaskExecutor, LocalExecutor, chunk_size
from sim.experiments.runs import RunOutcome, RunTask, execute_run, run_id
from sim.experiments.sweep import load_sweep
from sim.report.experiment_files import run_sweep
from tests.conftest import ROOT, SCENARIOS, short


def tasks(n: int, *overrides: str, days: float = 3) -> list[RunTask]:
    sc = short("clover.toml", *overrides, days=days)
    return [RunTask.create(sc, s) for s in np.random.SeedSequence(11).spawn(n)]


def test_run_id_is_a_content_address() -> None:
    sc = short("clover.toml")
    s0, s1 = np.random.SeedSequence(3).spawn(2)
    assert run_id(sc, s0) == run_id(short("clover.toml"), np.random.SeedSequence(3).spawn(2)[0])
    assert len({run_id(sc, s0), run_id(sc, s1), run_id(sc, np.random.SeedSequence(4).spawn(1)[0])}) == 3
    assert run_id(short("clover.toml", "population.mau=1.6e8"), s0) != run_id(sc, s0)
    assert run_id(sc, s0, version="0.0.0-other") != run_id(sc, s0)


def test_chunks_amortise_dispatch_but_stay_small() -> None:
    assert chunk_size(200, 2) == 10
    assert chunk_size(5, 2) == 1
    assert chunk_size(100_000, 2) == 16


def test_local_pool_matches_in_process_and_survives_a_killed_worker() -> None:
    todo = tasks(12, days=30)
    expected = {t.run_id: execute_run(t).kpis for t in todo[:3]}
    seen: list[RunOutcome] = []
    killed: list[int] = []

    def on_outcome(o: RunOutcome) -> None:
        seen.append(o)
        if not killed:  # kill the worker that just reported, while the others are queued
            pid = int(o.worker.rsplit(":", 1)[1])
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    with LocalExecutor(2) as ex:
        ex.run(todo, on_outcome)
        ex.run(todo[:2], seen.append)  # the pool is rebuilt and reused
    counts = Counter(o.run_id for o in seen[:-2])
    assert set(counts) == {t.run_id for t in todo} and set(counts.values()) == {1}
    assert all(o.status == "ok" for o in seen)
    assert killed and all(o.worker.split(":")[1] != str(killed[0]) for o in seen[1:])
    by_id = {o.run_id: o.kpis for o in seen}
    for k, v in expected.items():
        np.testing.assert_equal(by_id[k], v)  # the same numbers as in this process (NaN == NaN)


# --- Dask ---------------------------------------------------------------------------------------


def _dask(module: str, *args: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", f"distributed.cli.{module}", *args],
        cwd=ROOT,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the nanny and its worker die together
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=10)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """A Dask scheduler and two single-threaded workers on 127.0.0.1, stopped afterwards."""
    sched_file = tmp_path / "scheduler.json"
    procs = [
        _dask(
            "dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--scheduler-file", str(sched_file), log=tmp_path / "scheduler.log",
        )
    ]
    try:
        deadline = time.monotonic() + 30
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            procs.append(
                _dask(
                    "dask_worker", address, "--host", "127.0.0.1", "--nworkers", "1", "--nthreads", "1",
                    "--no-dashboard", "--name", f"w{i}", log=tmp_path / f"worker{i}.log",
                )
            )
        yield address, procs[1:]
    finally:
        for p in reversed(procs):
            _stop(p)


def test_dask_sweep_survives_a_killed_worker(tmp_path: Path, dask_cluster: tuple[str, list]) -> None:
    address, workers = dask_cluster
    sweep = tmp_path / "sw.toml"
    sweep.write_text(
        f'extends = "{(SCENARIOS / "clover.toml").as_posix()}"\nname = "dask"\n'
        "[time]\nhorizon_days = 365\nstep_minutes = 15\n"  # a full year: ~0.3 s a run
        '[sweep]\nreplications = 2\n[sweep.grid]\n"population.mau" = [1.4e8, 1.5e8, 1.6e8, 1.7e8, 1.8e8]\n',
        encoding="utf-8",
    )
    plan = load_sweep(sweep)
    out = tmp_path / "out"
    seen: list[RunOutcome] = []

    from distributed import Client

    with Client(address, set_as_default=False) as client:  # both workers up, the model imported
        client.wait_for_workers(2, timeout=30)
        client.run(importlib.import_module, "sim.model.world")
    killed_at: list[int] = []

    with DaskExecutor(address) as ex:
        assert ex.workers == 2

        def on_outcome(o: RunOutcome) -> None:
            seen.append(o)
            pids = {s.worker for s in seen}
            if len(pids) == 2 and not killed_at:  # both have worked; runs are left, both are busy
                killed_at.append(len(seen))
                _stop(workers[0])

        report = run_sweep(plan, out, ex, on_outcome=on_outcome)

    assert workers[0].poll() is not None and killed_at and killed_at[0] <= 6
    ids = [r.run_id for r in plan.runs]
    assert len(set(ids)) == 10
    assert Counter(o.run_id for o in seen) == Counter(ids)  # every run reported exactly once
    assert sorted(p.stem for p in (out / "runs").glob("*.json")) == sorted(ids)
    table = report.table
    assert len(table) == 10 and table["run_id"].is_unique and (table["status"] == "ok").all()
    check = plan.runs[-1].task
    assert table.set_index("run_id").loc[check.run_id, "cost_eur_per_year"] == execute_run(check).kpis["cost_eur_per_year"]
