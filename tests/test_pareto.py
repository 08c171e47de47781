"""Pareto sweep: weight grid, dominance marking, the sweep itself, the chart and the command."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

import sim.model.optimiser  # noqa: F401  (registers the optimising policies)
from sim import pareto
from sim.cli import InputError
from sim.scenario import ScenarioError

from .conftest import SCENARIOS, short

KPIS = ["cost_eur_per_year", "co2_t_per_year", "user_rtt_ms_mean"]


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


@pytest.fixture(scope="module")
def front() -> pd.DataFrame:
    return pareto.pareto_front(short("clover.toml", days=3), points=6, horizon_days=None)


def test_front_table(front: pd.DataFrame) -> None:
    assert list(front.columns) == list(pareto.COLUMNS)
    sweep = front[front["policy"] == "weighted"]
    assert len(sweep) == 6
    np.testing.assert_allclose(sweep[["w_cost", "w_carbon", "w_latency"]].sum(axis=1), 1.0)
    assert set(front["policy"]) == {"weighted", "clover", "nearest_eea"}
    assert front.loc[front["policy"] != "weighted", ["w_cost", "w_carbon", "w_latency"]].isna().all().all()
    assert any("pre_clover skipped" in n for n in front.attrs["notes"])
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


def test_pre_clover_included_with_non_eea_sites() -> None:
    sc = short("clover.toml", 'policy.sites=["dublin","ireland2","hamar","virginia"]', days=2)
    df = pareto.pareto_front(sc, points=3, horizon_days=None)
    assert "pre_clover" in set(df["policy"])
    assert not df.attrs["notes"]


def test_horizon_override() -> None:
    sc = short("clover.toml", days=30)
    df = pareto.pareto_front(sc, points=1, horizon_days=2)
    assert len(df) == 3  # one sweep point, clover, nearest_eea
    with pytest.raises(ValueError):
        pareto.pareto_front(sc, points=1, horizon_days=0)


def test_chart(front: pd.DataFrame, tmp_path: Path) -> None:
    fig = pareto.pareto_chart(front)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = {t.get_text() for t in ax.texts}
    assert {"clover", "nearest_eea"} <= labels
    assert "cost" in ax.get_ylabel() and "round trip" in ax.get_xlabel()
    fig.savefig(tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
    with pytest.raises(ValueError):
        pareto.pareto_chart(front.drop(columns=["on_front"]))


# ----------------------------------------------------------------------------------------------
# The command (through its own parser until sim.cli wires it)


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    pareto.register_cli(sub)
    args = parser.parse_args(list(argv))
    return args.handler(args)


SHORT = ["--set", "time.step_minutes=60", "--days", "2"]


def test_cli_writes_csv_and_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p"
    assert run_cli("pareto", str(SCENARIOS / "clover.toml"), *SHORT, "--points", "3", "--out", str(out)) == 0
    assert {p.name for p in out.iterdir()} == {"pareto.csv", "pareto.png"}
    df = pd.read_csv(out / "pareto.csv")
    assert list(df.columns) == list(pareto.COLUMNS)
    assert len(df) == 5
    assert (out / "pareto.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    captured = capsys.readouterr()
    assert "on the front" in captured.out and "pre_clover skipped" in captured.err
    # rerun replaces the folder atomically, leaving no temporary folders behind
    assert run_cli("pareto", str(SCENARIOS / "clover.toml"), *SHORT, "--points", "3", "--out", str(out)) == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_cli_bad_input(tmp_path: Path) -> None:
    clover = str(SCENARIOS / "clover.toml")
    with pytest.raises(InputError, match="--points"):
        run_cli("pareto", clover, "--points", "0", "--out", str(tmp_path / "a"))
    with pytest.raises(InputError, match="--days"):
        run_cli("pareto", clover, "--days", "-1", "--out", str(tmp_path / "a"))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep me")
    with pytest.raises(InputError, match="refusing"):
        run_cli("pareto", clover, *SHORT, "--points", "1", "--out", str(busy))
    with pytest.raises(ScenarioError, match="population.mau"):
        run_cli("pareto", clover, "--set", "population.mau=-1", "--out", str(tmp_path / "b"))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_cli_infeasible_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="protected_personal needs 3 copies"):
        run_cli(
            "pareto", str(SCENARIOS / "clover.toml"), *SHORT, "--set", 'policy.sites=["dublin","hamar"]',
            "--points", "1", "--out", str(tmp_path / "x"),
        )
    assert not (tmp_path / "x").exists()


def test_cli_main_when_wired(tmp_path: Path) -> None:
    from sim import cli

    out = tmp_path / "m"
    try:
        code = cli.main(["pareto", str(SCENARIOS / "clover.toml"), *SHORT, "--points", "1", "--out", str(out)])
    except SystemExit:
        pytest.skip("clover-sim pareto is not wired into sim.cli yet")
    assert code == 0 and (out / "pareto.csv").exists()
