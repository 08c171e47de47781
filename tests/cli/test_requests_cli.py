"""The per-request gateway table is opt-in (``--requests``), announced, and written while the run goes on."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.cli import app as cli
from sim.report.files import read_gateway_requests
from tests.conftest import SCENARIOS

SHORT = ["--set", "time.horizon_days=3", "--set", "time.step_minutes=60"]


def test_default_run_has_waits_but_no_request_table(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    assert cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert "gateway_requests.parquet" not in names
    assert {"gateway_waits.csv", "gateway_wait_cdf.png", "reviewer_utilisation.csv"} <= names
    waits = pd.read_csv(out / "gateway_waits.csv")
    assert set(waits["class"]) == {"incident", "routine", "all"}
    assert (waits.groupby("class")["wait_s"].apply(lambda w: w.is_monotonic_increasing)).all()
    assert "gateway_requests.parquet" not in capsys.readouterr().out
    # the deprecated switch is still accepted and changes nothing
    assert cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--out", str(tmp_path / "n"), "--no-charts",
                     "--no-requests"]) == 0
    assert not (tmp_path / "n" / "gateway_requests.parquet").exists()


def test_requests_table_is_announced_and_written(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    args = ["run", str(SCENARIOS / "clover.toml"), *SHORT, "--out", str(out), "--no-charts", "--requests",
            "--replications", "2"]
    assert cli.main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("gateway_requests.parquet: up to ") and " MB" in lines[0]  # before anything else
    announced = int(lines[0].split("up to ")[1].split(" requests")[0].replace(",", ""))
    table = read_gateway_requests(out / "gateway_requests.parquet")
    assert 0 < len(table) <= announced
    assert list(table.columns[:6]) == ["kind", "class", "region", "outcome", "destination", "data_class"]
    assert {"arrival_s", "wait_s", "service_s", "size_gb", "crossed_gb"} <= set(table.columns)
    assert set(table["kind"].astype(str)) == {"access", "transfer"}
    assert table["wait_s"].min() >= 0
    # first replication only: as many rows as its gateway had requests
    waits = pd.read_csv(out / "gateway_waits.csv")
    first = waits[(waits["replication"] == 0) & (waits["class"] == "all")]
    assert (table["kind"].astype(str) == "access").sum() >= first["requests"].iloc[0]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left
