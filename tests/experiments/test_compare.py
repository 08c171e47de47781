"""Scenario comparison: paired differences on common random numbers, tidy CSV, chart, CLI."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import app as cli
from sim.experiments.compare import COLUMNS, Comparison, compare, default_out
from sim.report.charts.experiments import comparison_chart
from sim.results.replication import t_interval
from tests.conftest import SCENARIOS, short

#: A small population so that the Poisson demand noise is visible run to run.
SMALL = ["population.mau=20000", 'population.countries=["IE","NO","PL"]', "population.users={}", "population.requests_per_dau_per_day=5"]


def half_width(table: pd.DataFrame, scenario: str, kpi: str, prefix: str = "") -> float:
    row = table[(table["scenario"] == scenario) & (table["kpi"] == kpi)].iloc[0]
    return float(row[f"{prefix}ci95_high"] - row[f"{prefix}ci95_low"]) / 2


def test_common_random_numbers_narrow_the_interval_of_a_difference() -> None:
    # the same pair of scenarios, KPI, replications and estimator (paired t on per-replication
    # differences); only the seeds differ: shared (CRN) or independent streams per scenario
    base = short("clover.toml", *SMALL)
    faster = short("clover.toml", *SMALL, "population.growth_per_year=0.5")
    kpi = "requests_per_year"
    crn = compare([base, faster], replications=20, seed=3).table()
    ind = compare([base, faster], replications=20, seed=3, common_random_numbers=False).table()

    crn_hw, ind_hw = half_width(crn, "clover-2", kpi, "diff_"), half_width(ind, "clover-2", kpi, "diff_")
    assert crn_hw < 0.75 * ind_hw
    # honest: each scenario alone is as noisy either way (CRN does not shrink the KPI's own spread) ...
    for label in ("clover", "clover-2"):
        assert 0.5 < half_width(crn, label, kpi) / half_width(ind, label, kpi) < 2.0
    # ... and both intervals estimate the same difference; with day-to-day variation on top of
    # Poisson noise only the paired (CRN) interval resolves that it is positive
    d_crn = crn.set_index(["scenario", "kpi"]).loc[("clover-2", kpi)]
    d_ind = ind.set_index(["scenario", "kpi"]).loc[("clover-2", kpi)]
    assert d_crn.diff_ci95_low > 0
    assert max(d_crn.diff_ci95_low, d_ind.diff_ci95_low) < min(d_crn.diff_ci95_high, d_ind.diff_ci95_high)


def test_table_is_tidy_and_paired() -> None:
    pre, clover = short("pre_clover.toml", days=3), short("clover.toml", days=3)
    comp = compare([pre, clover], replications=3, seed=1)
    table = comp.table()
    assert list(table.columns) == COLUMNS
    first = table[table["scenario"] == "pre_clover"]
    assert (first[["diff_mean", "diff_ci95_low", "diff_ci95_high"]] == 0).all().all()
    row = table.set_index(["scenario", "kpi"]).loc[("clover", "cost_eur_per_year")]
    per_rep = comp.values.pivot(index="replication", columns=["scenario", "kpi"], values="value")
    d = per_rep[("clover", "cost_eur_per_year")] - per_rep[("pre_clover", "cost_eur_per_year")]
    assert (row.diff_mean, row.diff_ci95_low, row.diff_ci95_high) == pytest.approx(t_interval(d.to_numpy()))
    assert row.ci95_low <= row["mean"] <= row.ci95_high
    # a KPI the baseline does not have (a site it does not use): no difference
    assert math.isnan(table.set_index(["scenario", "kpi"]).loc[("clover", "stored_pb.dublin"), "diff_mean"])
    assert comparison_chart(table).axes
    assert default_out([pre, clover]) == Path("results/compare-pre_clover-clover")
    with pytest.raises(ValueError, match="at least two"):
        compare([pre], replications=2)


def test_same_seeds_give_the_same_comparison() -> None:
    a, b = short("pre_clover.toml", days=2), short("clover.toml", days=2)
    x: Comparison = compare([a, b], replications=2, seed=9)
    y: Comparison = compare([a, b], replications=2, seed=9)
    pd.testing.assert_frame_equal(x.values, y.values)
    np.testing.assert_array_equal(x.table()["mean"].to_numpy(), y.table()["mean"].to_numpy())


def test_compare_command_writes_csv_and_chart_atomically(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    args = [
        "compare", str(SCENARIOS / "pre_clover.toml"), str(SCENARIOS / "clover.toml"),
        "--replications", "3", "--seed", "2", "--workers", "1", "--out", str(out),
        "--set", "time.horizon_days=2", "--set", "time.step_minutes=60",
    ]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert "cost_eur_per_year" in printed and "diff vs first" in printed
    assert {p.name for p in out.iterdir()} == {"compare.csv", "compare.json", "compare.png", "replications.csv", ".clover-sim.json"}
    table = pd.read_csv(out / "compare.csv")
    assert list(table.columns) == COLUMNS
    assert set(table["scenario"]) == {"pre_clover", "clover"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert cli.main([*args[:-4], "--replications", "0"]) == 2
    assert "--replications: must be >= 1" in capsys.readouterr().err
