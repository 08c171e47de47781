"""Runs: content-addressed ids, and the stores of run records (in memory and the resumable folder)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from sim.experiments.replicate import run_replication, simulate
from sim.experiments.runs import MemoryRunStore, RunOutcome, RunStore, RunTask, execute_run, run_id
from sim.report import io
from sim.report.run_store import DirectoryRunStore
from sim.seeds import replication_seeds
from tests.conftest import short

RID = "a" * 64


def outcome(rid: str = RID, status: str = "ok", **kpis: float) -> RunOutcome:
    return RunOutcome(rid, status, "" if status == "ok" else "RuntimeError: boom", kpis=kpis, units=dict.fromkeys(kpis, "x"))


@pytest.fixture(params=["memory", "directory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> RunStore:
    s: RunStore = MemoryRunStore() if request.param == "memory" else DirectoryRunStore(tmp_path / "out")
    s.prepare()
    return s


# --- ids ------------------------------------------------------------------------------------------


def test_ids_are_stable_for_the_same_scenario_and_seed() -> None:
    seed = np.random.SeedSequence(7).spawn(2)[1]
    a = RunTask.create(short("clover.toml", days=2), seed)
    b = RunTask.create(short("clover.toml", days=2), np.random.SeedSequence(7).spawn(2)[1])
    assert a.run_id == b.run_id == run_id(a.scenario, a.seed_sequence())
    assert len(a.run_id) == 64 and int(a.run_id, 16) >= 0
    assert a.seed_sequence().generate_state(4).tolist() == seed.generate_state(4).tolist()


def test_ids_change_with_the_scenario_the_seed_and_the_model_version() -> None:
    sc = short("clover.toml", days=2)
    s0, s1 = np.random.SeedSequence(7).spawn(2)
    ids = {
        run_id(sc, s0),
        run_id(sc, s1),  # another replication
        run_id(sc, np.random.SeedSequence(8).spawn(2)[0]),  # another root seed
        run_id(short("clover.toml", "population.mau=1.6e8", days=2), s0),  # a changed scenario
        run_id(short("clover.toml", days=3), s0),  # a changed horizon
        run_id(sc, s0, version="0.0.0-other"),  # another model version
    }
    assert len(ids) == 6


def test_every_experiment_runs_the_same_replication() -> None:
    sc = short("clover.toml", days=2)
    seed = replication_seeds(5, 2)[1]
    result = run_replication(sc, seed)
    done = execute_run(RunTask.create(sc, seed))
    assert done.status == "ok" and done.kpis == pytest.approx({k: v.value for k, v in result.kpis.items()}, nan_ok=True)
    assert done.units == {k: v.unit for k, v in result.kpis.items()}
    sim_kpis = simulate(sc, replications=2, seed=5).replications[1].kpis
    assert {k: v.unit for k, v in sim_kpis.items()} == done.units
    assert [v.value for v in sim_kpis.values()] == pytest.approx(list(done.kpis.values()), nan_ok=True)


# --- both stores ------------------------------------------------------------------------------------


def test_write_load_finished(store: RunStore) -> None:
    assert store.load(RID) is None and not store.finished(RID)
    store.write(outcome(x=1.5, y=math.nan), {"point": 3, "parameters": {"population.mau": 1.5e8}, "seed": {"spawn_key": (1,)}})
    record = store.load(RID)
    assert record is not None and store.finished(RID)
    assert record["run_id"] == RID and record["status"] == "ok" and record["point"] == 3
    assert record["kpis"]["x"] == 1.5 and math.isnan(record["kpis"]["y"])
    assert record["seed"] == {"spawn_key": [1]}  # what a JSON round trip gives, in either store
    # a failed run is stored but not finished (it is retried), and a rewrite replaces the record
    store.write(outcome(status="failed"))
    assert not store.finished(RID) and store.load(RID)["error"] == "RuntimeError: boom"
    assert "point" not in store.load(RID)
    store.write(outcome(x=2.0))
    assert store.finished(RID) and store.load(RID)["kpis"] == {"x": 2.0}


def test_loaded_records_are_copies(store: RunStore) -> None:
    store.write(outcome(x=1.0))
    store.load(RID)["kpis"]["x"] = 99.0
    assert store.load(RID)["kpis"] == {"x": 1.0}


def test_both_stores_are_run_stores(tmp_path: Path) -> None:
    assert isinstance(MemoryRunStore(), RunStore) and isinstance(DirectoryRunStore(tmp_path), RunStore)
    assert not isinstance(object(), RunStore)


# --- the folder of run records -----------------------------------------------------------------


def test_directory_layout(tmp_path: Path) -> None:
    store = DirectoryRunStore(tmp_path / "out")
    store.prepare()
    path = store.write(outcome(x=1.0), {"point": 0})
    assert path == tmp_path / "out" / "runs" / f"{RID}.json" == store.path(RID)
    assert [p.name for p in store.dir.iterdir()] == [f"{RID}.json"]
    assert json.loads(path.read_text(encoding="utf-8"))["kpis"] == {"x": 1.0}
    # another store on the same folder sees the record (resume)
    assert DirectoryRunStore(tmp_path / "out").finished(RID)


def test_temporary_broken_and_foreign_files_do_not_count(tmp_path: Path) -> None:
    store = DirectoryRunStore(tmp_path)
    store.prepare()
    stale = store.dir / f".{RID}.json.x1y2.tmp"  # what an interrupted writer leaves behind
    stale.write_text('{"run_id": "' + RID + '", "status": "ok"}')
    assert not store.finished(RID)
    store.path(RID).write_text('{"run_id": "' + RID + '", "stat')  # truncated: not done
    assert not store.finished(RID) and store.load(RID) is None
    store.path(RID).write_text('{"run_id": "' + "b" * 64 + '", "status": "ok"}')  # another run's record
    assert not store.finished(RID)
    store.path(RID).write_text("[1, 2]")
    assert store.load(RID) is None
    store.write(outcome(x=1.0))
    assert store.finished(RID) and store.load(RID)["kpis"] == {"x": 1.0}
    assert stale.exists()
    store.prepare()  # the stale temporary is cleaned up, the record kept
    assert [p.name for p in store.dir.iterdir()] == [f"{RID}.json"]


def test_a_failed_write_leaves_the_old_record_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = DirectoryRunStore(tmp_path)
    store.prepare()
    store.write(outcome(x=1.0))
    real_replace = os.replace
    seen: list[list[str]] = []

    def interrupted(src: str | Path, dst: str | Path) -> None:
        # at the moment of the rename, the new record is complete in a dot-prefixed temporary
        # and the visible file is still the old, complete one
        seen.append(sorted(p.name for p in store.dir.iterdir()))
        assert json.loads(Path(src).read_text())["kpis"] == {"x": 2.0}
        assert store.load(RID)["kpis"] == {"x": 1.0}
        raise KeyboardInterrupt

    monkeypatch.setattr(io.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.write(outcome(x=2.0))
    monkeypatch.setattr(io.os, "replace", real_replace)
    temporaries = [n for n in seen[0] if n.startswith(".")]
    assert len(temporaries) == 1 and temporaries[0].endswith(".tmp")
    assert [p.name for p in store.dir.iterdir()] == [f"{RID}.json"]  # the temporary is removed
    assert store.load(RID)["kpis"] == {"x": 1.0}
