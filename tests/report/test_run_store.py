"""Trusted resumes: a sweep re-runs every stored run record that does not verify.

On the store before this test, a record that still parsed was trusted: a changed KPI, a NaN or
an empty ``kpis`` came back as "8/8 ok" with the tampered value, and a value of the wrong type
was an internal error. Now each record carries the SHA-256 of its content; anything that does
not verify is run again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments.executors import SerialExecutor
from sim.experiments.runs import RunOutcome
from sim.experiments.sweep import load_sweep
from sim.report.experiment_files import run_sweep
from sim.report.run_store import DirectoryRunStore, record_checksum, verified_record
from tests.conftest import SCENARIOS

RID = "a" * 64


def sweep_file(tmp_path: Path) -> Path:
    path = tmp_path / "sw.toml"
    path.write_text(
        f'extends = "{(SCENARIOS / "clover.toml").as_posix()}"\nname = "t"\n'
        "[time]\nhorizon_days = 2\nstep_minutes = 120\n"
        '[sweep]\nreplications = 1\n[sweep.grid]\n"population.mau" = [1.5e8, 1.6e8, 1.7e8, 1.8e8, 1.9e8]\n',
        encoding="utf-8",
    )
    return path


def tamper_kpi(record: dict, value) -> dict:
    record["kpis"]["cost_eur_per_year"] = value
    return record


TAMPERINGS = {
    "a changed KPI": lambda r: tamper_kpi(r, 1.0),
    "a NaN KPI": lambda r: tamper_kpi(r, math.nan),
    "empty kpis": lambda r: {**r, "kpis": {}},
    "a KPI of the wrong type": lambda r: tamper_kpi(r, "cheap"),
    "kpis of the wrong type": lambda r: {**r, "kpis": [1, 2]},
}


def test_a_resumed_sweep_reruns_every_record_that_does_not_verify(tmp_path: Path) -> None:
    path = sweep_file(tmp_path)
    out = tmp_path / "out"
    first = run_sweep(load_sweep(path), out, SerialExecutor())
    assert (first.executed, first.skipped) == (5, 0) and not first.failed
    records = sorted((out / "runs").glob("*.json"))
    assert len(records) == 5
    for record_path, tamper in zip(records, TAMPERINGS.values(), strict=True):
        record = json.loads(record_path.read_text())
        record_path.write_text(json.dumps(tamper(record), allow_nan=True), encoding="utf-8")
    again = run_sweep(load_sweep(path), out, SerialExecutor())
    assert (again.executed, again.skipped) == (5, 0) and not again.failed  # every tampered run ran again
    pd.testing.assert_frame_equal(again.table, first.table)  # with the values of an honest run
    third = run_sweep(load_sweep(path), out, SerialExecutor())
    assert (third.executed, third.skipped) == (0, 5)  # the rewritten records verify


def outcome(**kpis: float) -> RunOutcome:
    return RunOutcome(RID, "ok", kpis=kpis, units={k: "EUR" for k in kpis})


def test_records_are_strict_json_with_a_checksum(tmp_path: Path) -> None:
    store = DirectoryRunStore(tmp_path)
    store.prepare()
    path = store.write(outcome(x=1.5, y=math.nan))
    text = path.read_text()
    record = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in a record"))
    assert record["kpis"] == {"x": 1.5, "y": None} and record["sha256"] == record_checksum(record)
    loaded = store.load(RID)
    assert loaded["kpis"]["x"] == 1.5 and math.isnan(loaded["kpis"]["y"]) and "sha256" not in loaded


@pytest.mark.parametrize(
    "edit",
    [
        lambda r: {**r, "kpis": {**r["kpis"], "x": 2.5}},  # a number changed, checksum not
        lambda r: {k: v for k, v in r.items() if k != "sha256"},  # no checksum (an older version)
        lambda r: {**r, "status": "ok!"},
        lambda r: {**r, "run_id": "b" * 64},
    ],
)
def test_a_record_that_does_not_verify_is_no_record(tmp_path: Path, edit) -> None:
    store = DirectoryRunStore(tmp_path)
    store.prepare()
    path = store.write(outcome(x=1.5))
    assert store.finished(RID)
    path.write_text(json.dumps(edit(json.loads(path.read_text()))), encoding="utf-8")
    assert store.load(RID) is None and not store.finished(RID)


@pytest.mark.parametrize(
    ("kpis", "ok"),
    [({"x": 1.0}, True), ({"x": None, "y": 2}, True), ({}, False), ({"x": None}, False), ({"x": True}, False),
     ({"x": "1"}, False), ({"x": [1]}, False)],
)
def test_types_are_checked_even_when_the_checksum_matches(kpis: dict, ok: bool) -> None:
    record = {"run_id": RID, "status": "ok", "error": "", "kpis": kpis, "units": {}}
    record["sha256"] = record_checksum(record)
    assert (verified_record(json.dumps(record), RID) is not None) == ok
    nan = json.dumps({**record, "kpis": {**kpis, "z": "__nan__"}}).replace('"__nan__"', "NaN")
    assert verified_record(nan, RID) is None  # NaN is not JSON, whatever the checksum says
