"""Pareto sweep: weight grid, dominance marking, the sweep itself, the chart and the command."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import sim.model.placement.optimiser  # noqa: F401  (registers the optimising policies)
from sim.experiments import pareto
from sim.report.charts.experiments import pareto_chart
from sim.results.kpis import PARETO_KPIS
from tests.conftest import SCENARIOS, short

KPIS = list(PARETO_KPIS)


def dominates(a: np.ndarray, b: np.ndarray, rel: float = 1e-9) -> bool:
    tol = rel * np.maximum(np.abs(a), np.abs(b))
    return bool((a <= b + tol).all() and (a < b - tol).any())


@pytest.mark.parametrize(("points", "size"), [(1, 1), (3, 3), (4, 6), (21, 21), (22, 28)])
def test_weight_grid(points: int, size: int) -> None:
    grid = pareto.weight_grid(points)
    assert len(grid) == size
    for w in grid:
        assert set(w) == {"cost", "carbon", "latency"}
        assert sum(w.values()) == pytest.approx(1.0) and min(w.values()) >= 0
    if size > 1:
        for o in ("cost", "carbon", "latency"):
            assert any(w[o] == 1.0 for w in grid)
    with pytest.raises(ValueError):
        pareto.weight_grid(0)


def test_mark_front_by_hand() -> None:
    df = pd.DataFrame(
        {
            "cost_eur_per_year": [1.0, 2.0, 1.0, 3.0, 1.0, math.nan],
            "co2_t_per_year": [5.0, 1.0, 5.0, 3.0, 6.0, 0.0],
            "user_rtt_ms_mean": [5.0, 5.0, 5.0 + 1e-13, 5.0, 5.0, 0.0],
        }
    )
    # rows 0 and 2 are the same point up to rounding: both on the front; 3 is dominated by 1,
    # 4 by 0; NaN rows never count
    assert pareto.mark_front(df).tolist() == [True, True, True, False, False, False]


def test_evaluate_reads_the_kpis_of_the_one_replication() -> None:
    from sim.experiments.replicate import run_replication
    from sim.seeds import replication_seeds

    sc = short("clover.toml", days=2)
    kpis = run_replication(sc, replication_seeds(sc.seed, 1)[0]).kpis
    assert pareto.evaluate(sc) == {k: kpis[k].value for k in PARETO_KPIS}


@pytest.fixture(scope="module")
def front() -> pd.DataFrame:
    return pareto.pareto_front(short("clover.toml", days=3), points=6, horizon_days=None)


def test_front_table(front: pd.DataFrame) -> None:
    assert list(front.columns) == list(pareto.COLUMNS)
    sweep = front[front["policy"] == "weighted"]
    assert len(sweep) == 6
    np.testing.assert_allclose(sweep[["w_cost", "w_carbon", "w_latency"]].sum(axis=1), 1.0)
    assert set(front["policy"]) == {"weighted", "clover", "nearest_in_zone", "pre_clover"}
    assert front.loc[front["policy"] != "weighted", ["w_cost", "w_carbon", "w_latency"]].isna().all().all()
    assert not front.attrs["notes"]
    # pre_clover runs on the scenario's US/Singapore sites: the slowest round trip of all
    assert front.set_index("policy").loc["pre_clover", "user_rtt_ms_mean"] == front["user_rtt_ms_mean"].max()
    assert np.isfinite(front[KPIS].to_numpy()).all() and (front[KPIS].to_numpy() > 0).all()


def test_front_is_mutually_non_dominated(front: pd.DataFrame) -> None:
    values = front[KPIS].to_numpy(float)
    on = front["on_front"].to_numpy(bool)
    assert on.any()
    for i in np.flatnonzero(on):
        for j in np.flatnonzero(on):
            assert not dominates(values[j], values[i]), (front.iloc[j], front.iloc[i])
    for i in np.flatnonzero(~on):
        assert any(dominates(values[j], values[i]) for j in range(len(values)))


def test_sweep_spans_the_trade_off(front: pd.DataFrame) -> None:
    sweep = front[front["policy"] == "weighted"]
    cheapest = sweep.loc[sweep["w_cost"] == 1.0].iloc[0]
    fastest = sweep.loc[sweep["w_latency"] == 1.0].iloc[0]
    assert cheapest.cost_eur_per_year < fastest.cost_eur_per_year
    assert fastest.user_rtt_ms_mean < cheapest.user_rtt_ms_mean
    clover = front.loc[front["policy"] == "clover"].iloc[0]
    assert cheapest.cost_eur_per_year <= clover.cost_eur_per_year


def test_pre_clover_skipped_with_a_reason_when_no_site_is_outside_the_zone() -> None:
    from sim.scenario import scenario_from_dict

    data = short("clover.toml", days=2).model_dump(mode="json")
    data["sites"] = {k: v for k, v in data["sites"].items() if v["country"] in ("IE", "NO")}
    data.pop("uncertainty")  # it gives ranges to the removed sites' figures
    df = pareto.pareto_front(scenario_from_dict(data), points=1, horizon_days=None)
    assert "pre_clover" not in set(df["policy"])
    assert any("pre_clover skipped" in n for n in df.attrs["notes"])


def test_horizon_override() -> None:
    sc = short("clover.toml", days=30)
    df = pareto.pareto_front(sc, points=1, horizon_days=2)
    assert len(df) == 4  # one sweep point, clover, nearest_in_zone, pre_clover
    with pytest.raises(ValueError):
        pareto.pareto_front(sc, points=1, horizon_days=0)


def test_chart(front: pd.DataFrame, tmp_path: Path) -> None:
    fig = pareto_chart(front)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.texts}
    assert {"clover", "nearest_in_zone"} <= labels
    assert "cost" in ax.get_ylabel() and "round trip" in ax.get_xlabel()
    fig.savefig(tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
    with pytest.raises(ValueError):
        pareto_chart(front.drop(columns=["on_front"]))


# ----------------------------------------------------------------------------------------------
# The command


def run_cli(*argv: str) -> int:
    from sim.cli import app as cli

    return cli.main(list(argv))


def test_cli_default_horizon_matches_the_model() -> None:
    from sim.cli import pareto as cli_pareto

    assert cli_pareto.DEFAULT_HORIZON_DAYS == pareto.DEFAULT_HORIZON_DAYS


SHORT = ["--set", "time.step_minutes=60", "--days", "2"]


def test_cli_writes_csv_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p"
    assert run_cli("pareto", str(SCENARIOS / "clover.toml"), *SHORT, "--points", "3", "--out", str(out)) == 0
    assert {p.name for p in out.iterdir()} == {"pareto.csv", "pareto.png", ".clover-sim.json"}  # + the writer's marker
    df = pd.read_csv(out / "pareto.csv")
    assert list(df.columns) == list(pareto.COLUMNS)
    assert len(df) == 6
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    captured = capsys.readouterr()
    assert "on the front" in captured.out and "pre_clover" in captured.out
    # rerun replaces the folder atomically, leaving no temporary folders behind
    assert run_cli("pareto", str(SCENARIOS / "clover.toml"), *SHORT, "--points", "3", "--out", str(out)) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def bad(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the command expecting bad input: exit 2 and one line on stderr, returned."""
    assert run_cli(*argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_cli_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clover = str(SCENARIOS / "clover.toml")
    assert "--points" in bad(capsys, "pareto", clover, "--points", "0", "--out", str(tmp_path / "a"))
    assert "--days" in bad(capsys, "pareto", clover, "--days", "-1", "--out", str(tmp_path / "a"))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep me")
    assert "refusing" in bad(capsys, "pareto", clover, *SHORT, "--points", "1", "--out", str(busy))
    assert "population.mau" in bad(capsys, "pareto", clover, "--set", "population.mau=-1", "--out", str(tmp_path / "b"))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
    assert (busy / "notes.txt").read_text() == "keep me"


def test_cli_infeasible_is_a_scenario_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    line = bad(
        capsys, "pareto", str(SCENARIOS / "clover.toml"), *SHORT, "--set", 'policy.sites=["dublin","hamar"]',
        "--points", "1", "--out", str(tmp_path / "x"),
    )
    assert "protected_personal needs 3 copies" in line
    assert not (tmp_path / "x").exists()
