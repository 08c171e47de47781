"""``run --uncertainty N`` and ``calibrate``: files, the printed table, determinism, resume, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import app as cli
from tests.conftest import SCENARIOS

#: Two days at hourly steps without the gateway: a run takes a fraction of a second.
SHORT = ["--set", "time.horizon_days=2", "--set", "time.step_minutes=60", "--set", "gateway.enabled=false"]
CLOVER = str(SCENARIOS / "clover.toml")


def run(out: Path, store: Path, *extra: str) -> int:
    return cli.main(["run", CLOVER, *SHORT, "--uncertainty", "6", "--workers", "1", "--out", str(out), "--store", str(store),
                     *extra])


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, str]:
    """One run with uncertainty and charts: (results folder, store, stdout, stderr)."""
    root = tmp_path_factory.mktemp("uncertainty")
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert run(root / "a", root / "s1") == 0
    return root / "a", root / "s1", out.getvalue(), err.getvalue()


def test_run_with_uncertainty_writes_ranges_and_drivers(first: tuple[Path, Path, str, str]) -> None:
    out, _, printed, err = first
    assert "p5" in printed and "p95" in printed and "95 % interval" in printed
    assert "drivers of cost_eur_per_year:" in printed
    assert "6 to run" in err
    summary = json.loads((out / "summary.json").read_text())
    cost = summary["kpis"]["cost_eur_per_year"]
    rng = cost["assumption_range"]
    assert set(rng) == {"p5", "p50", "p95"} and rng["p5"] < rng["p50"] < rng["p95"]
    assert {"mean", "ci95_low", "ci95_high", "unit"} <= set(cost)
    assert summary["kpis"]["residency_99_date"]["assumption_range"]["p50"] == "2025-01-01"
    drivers = summary["drivers"]["cost_eur_per_year"]
    assert drivers and set(drivers[0]) >= {"input", "rank_correlation", "sobol_first", "sobol_total"}
    ranked = [abs(d["rank_correlation"]) for d in drivers]
    assert ranked == sorted(ranked, reverse=True)
    assert drivers[0]["sobol_first"] is None and drivers[0]["sobol_total"] is None  # 6 runs allow neither
    u = summary["uncertainty"]
    assert u["input_sets"] == 6 and u["design"] == "lhs" and u["runs_ok"] == 6 and len(u["inputs"]) > 50
    assert list(summary)[-1] == "resolved_scenario"
    table = pd.read_csv(out / "drivers.csv")
    assert list(table.columns[:3]) == ["kpi", "order", "input"]
    runs = pd.read_csv(out / "uncertainty_runs.csv")
    assert len(runs) == 6 and "compute.core_s_per_request" in runs.columns and "cost_eur_per_year" in runs.columns
    assert (out / "tornado_cost_eur_per_year.png").stat().st_size > 1000  # a tornado chart per headline KPI
    assert (out / "tornado_co2_t_per_year.png").exists()


def test_same_seed_same_bytes_and_the_store_resumes(
    first: tuple[Path, Path, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, store, _, _ = first
    assert run(tmp_path / "b", tmp_path / "s2", "--no-charts") == 0  # another store: everything computed again
    assert "0 already finished, 6 to run" in capsys.readouterr().err
    assert run(tmp_path / "c", store, "--no-charts") == 0  # the first store: nothing run again
    assert "6 already finished, 0 to run" in capsys.readouterr().err
    for name in ("summary.json", "drivers.csv", "uncertainty_runs.csv"):
        assert (a / name).read_bytes() == (tmp_path / "b" / name).read_bytes() == (tmp_path / "c" / name).read_bytes()


def test_calibrate_writes_the_posterior(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cal"
    # seed 2: with seed 0 one of the 8 prior draws (high user content, low Dublin and Ireland-2
    # capacity) has no feasible storage placement, and calibrate stops at a failed input set
    code = cli.main(["calibrate", CLOVER, *SHORT, "--set", "uncertainty.seed=2", "--samples", "8", "--workers", "1",
                     "--coverage-trials", "4", "--out", str(out), "--store", str(tmp_path / "s"), "--no-charts"])
    assert code == 0
    printed = capsys.readouterr()
    assert "effective sample size" in printed.out and "posterior p5-p95" in printed.out
    doc = json.loads((out / "calibration.json").read_text())
    assert set(doc["observations"]) == {"cost_eur_per_year", "mau_end", "it_mw_provisioned.hamar"}
    assert doc["input_sets"] == 8 and 0 < doc["effective_sample_size"] <= 8
    assert doc["coverage_check"]["level"] == 0.9
    posterior = pd.read_csv(out / "posterior_inputs.csv")
    assert len(posterior) == len(doc["uncertainty"]["inputs"])
    weights = pd.read_csv(out / "calibration_runs.csv")["posterior_weight"]
    assert weights.sum() == pytest.approx(1.0)
    kpis = pd.read_csv(out / "posterior_kpis.csv").set_index("kpi")
    assert kpis.loc["cost_eur_per_year", "observed"].startswith("1.2e+09")


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["run", CLOVER, "--uncertainty", "1"], "--uncertainty"),
        (["run", CLOVER, "--uncertainty", "4", "--workers", "0"], "--workers"),
        (["run", CLOVER, "--uncertainty", "4", "--design", "sobol"], "independent inputs"),
        (["run", CLOVER, "--uncertainty", "4", "--design", "sobol", "--set", "uncertainty.correlations=[]"], "needs N >="),
        (["run", CLOVER, "--uncertainty", "4", "--set", 'uncertainty.compute.core_s_per_request.p95=5'],
         "uncertainty.compute.core_s_per_request"),
        (["run", CLOVER, "--uncertainty", "4", "--set", 'uncertainty.compute.nope={dist="uniform",low=1,high=2,source="x"}'],
         "uncertainty.compute.nope"),
        (["run", CLOVER, "--uncertainty", "4", "--set", 'uncertainty={}'], "uncertainty"),
        (["run", CLOVER, "--uncertainty", "4", "--out", "res", "--store", "res/store"], "--out"),
        (["calibrate", CLOVER, "--samples", "4", "--set", "observations={}"], "observations"),
        (["calibrate", CLOVER, "--samples", "4", "--set", 'observations.made_up={value=1,sd=1,source="x"}'],
         "observations.made_up"),
        (["calibrate", CLOVER, "--samples", "4", "--coverage-trials", "-1"], "--coverage-trials"),
    ],
)
def test_bad_uncertainty_input_exits_2_with_one_line_and_writes_nothing(
    args: list[str], where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and where in err[0], err
    assert not list(tmp_path.iterdir())  # neither results nor a store
