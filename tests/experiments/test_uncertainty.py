"""Propagation of the [uncertainty] table: draws, known answers, Sobol indices, determinism, resume."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim.experiments.executors import SerialExecutor
from sim.experiments.runs import MemoryRunStore
from sim.experiments.uncertainty import (
    assumption_ranges,
    draw_inputs,
    driver_table,
    execute_propagation,
    iman_conover,
    marginal_ppf,
    plan_propagation,
    rbd_fast_first_order,
    sobol_base,
    unit_sample,
)
from sim.scenario import ScenarioError, read_scenario_data
from sim.scenario.uncertainty import UncertaintySpec
from tests.conftest import SCENARIOS


def spec_of(entries: dict, **settings) -> UncertaintySpec:
    return UncertaintySpec.model_validate({**settings, **{k: {**v, "source": "test"} for k, v in entries.items()}})


# ---------------------------------------------------------------------------------------------
# drawing


def test_every_distribution_maps_unit_points_to_its_quantiles() -> None:
    u = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
    s = spec_of({
        "a.u": {"dist": "uniform", "low": 2, "high": 6},
        "a.t": {"dist": "triangular", "low": 1, "mode": 2, "high": 5},
        "a.n": {"dist": "normal", "mean": 10, "sd": 2},
        "a.tn": {"dist": "normal", "mean": 10, "sd": 2, "low": 9, "high": 14},
        "a.ln": {"dist": "lognormal", "median": 10, "p95": 25},
        "a.c": {"dist": "choice", "values": [1, 2, 3], "weights": [1, 2, 1]},
    })
    m = s.inputs
    assert marginal_ppf(m["a.u"], u) == pytest.approx(2 + 4 * u)
    assert marginal_ppf(m["a.t"], u) == pytest.approx(stats.triang.ppf(u, 0.25, loc=1, scale=4))
    assert marginal_ppf(m["a.n"], u) == pytest.approx(stats.norm.ppf(u, 10, 2))
    assert marginal_ppf(m["a.tn"], u) == pytest.approx(stats.truncnorm.ppf(u, -0.5, 2.0, loc=10, scale=2))
    ln = marginal_ppf(m["a.ln"], u)
    assert ln[2] == pytest.approx(10) and ln[4] == pytest.approx(25)  # median and p95 as given
    assert marginal_ppf(m["a.c"], np.array([0.1, 0.24, 0.26, 0.74, 0.76, 0.99])).tolist() == [1, 1, 2, 2, 3, 3]


def test_latin_hypercube_puts_one_point_in_each_stratum() -> None:
    s = spec_of({"a.x": {"dist": "uniform", "low": 0, "high": 1}, "a.y": {"dist": "uniform", "low": 0, "high": 1}})
    unit = unit_sample(s, 50, seed=4)
    for j in range(2):
        assert sorted(np.floor(unit[:, j] * 50).astype(int).tolist()) == list(range(50))


def test_iman_conover_imposes_the_rank_correlation_and_keeps_the_strata() -> None:
    s = spec_of(
        {k: {"dist": "uniform", "low": 0, "high": 1} for k in ("a.x", "a.y", "a.z")},
        correlations=[{"a": "a.x", "b": "a.y", "rank": 0.6, "source": "t"}],
    )
    unit = unit_sample(s, 1000, seed=1)
    rho = stats.spearmanr(unit).statistic
    assert rho[0, 1] == pytest.approx(0.6, abs=0.03)
    assert abs(rho[0, 2]) < 0.05 and abs(rho[1, 2]) < 0.05
    for j in range(3):  # the values of each column are those of the Latin hypercube, reordered
        assert sorted(np.floor(unit[:, j] * 1000).astype(int).tolist()) == list(range(1000))
    independent = iman_conover(unit, np.eye(3))
    assert abs(stats.spearmanr(independent).statistic[0, 1]) < 0.05


def test_integer_fields_take_whole_numbers() -> None:
    s = spec_of({"a.k": {"dist": "uniform", "low": 1, "high": 4}})
    x = draw_inputs(s, unit_sample(s, 40, seed=0), {"a.k": True})
    assert x["a.k"].dtype.kind == "i" and set(x["a.k"]) <= {1, 2, 3, 4}


def test_sobol_design_size_and_limits() -> None:
    assert sobol_base(100, 3) == 16 and sobol_base(4, 3) == 0
    s = spec_of({k: {"dist": "uniform", "low": 0, "high": 1} for k in ("a.x", "a.y")})
    assert unit_sample(s, 100, design="sobol").shape == (16 * 4, 2)
    with pytest.raises(ValueError, match="needs N >= 32"):
        unit_sample(s, 20, design="sobol")


# ---------------------------------------------------------------------------------------------
# known answers


def test_a_kpi_linear_in_one_uniform_input_has_the_analytic_quantiles() -> None:
    low, high, a, b, n = 2.0, 7.0, 100.0, -3.0, 400
    s = spec_of({"a.x": {"dist": "uniform", "low": low, "high": high}})
    x = draw_inputs(s, unit_sample(s, n, seed=9))["a.x"]
    ranges = assumption_ranges(pd.DataFrame({"y": a + b * x})).iloc[0]
    # y decreases in x: its p5 is at the 95th percentile of x
    for q, col in ((0.95, "p5"), (0.5, "p50"), (0.05, "p95")):
        analytic = a + b * (low + q * (high - low))
        assert ranges[col] == pytest.approx(analytic, abs=abs(b) * (high - low) / n)  # one stratum of the hypercube


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[list[float], list[float]]:
    v = a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18 + 0.5
    v1, v2, v13 = 0.5 * (1 + b * math.pi**4 / 5) ** 2, a**2 / 8, b**2 * math.pi**8 * (1 / 18 - 1 / 50)
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


ISHIGAMI = {k: {"dist": "uniform", "low": -math.pi, "high": math.pi} for k in ("i.x1", "i.x2", "i.x3")}


def test_sobol_indices_of_the_ishigami_function() -> None:
    s = spec_of(ISHIGAMI, design="sobol")
    x = draw_inputs(s, unit_sample(s, 1024 * 5, seed=2))
    y = pd.DataFrame({"y": ishigami(x.to_numpy())})
    table = driver_table(x, y, design="sobol").set_index("input")
    s1, st = ishigami_indices()
    assert table["sobol_first"].to_numpy() == pytest.approx(s1, abs=0.06)
    assert table.loc[["i.x1", "i.x2", "i.x3"], "sobol_total"].to_numpy() == pytest.approx(st, abs=0.05)
    assert table.sort_values("order").index.tolist() == ["i.x1", "i.x2", "i.x3"]  # ranked by total index


def test_first_order_indices_from_a_latin_hypercube() -> None:
    s = spec_of(ISHIGAMI)
    x = draw_inputs(s, unit_sample(s, 2000, seed=5))
    table = driver_table(x, pd.DataFrame({"y": ishigami(x.to_numpy())})).set_index("input").loc[["i.x1", "i.x2", "i.x3"]]
    assert table["sobol_first"].to_numpy() == pytest.approx(ishigami_indices()[0], abs=0.06)
    assert table["sobol_total"].isna().all()  # a hypercube gives no total index
    few = driver_table(x.head(50), pd.DataFrame({"y": ishigami(x.head(50).to_numpy())}))
    assert few["sobol_first"].isna().all()  # too few runs for a first-order index


def test_first_order_estimator_equals_salibs_rbd_fast() -> None:
    from SALib.analyze import rbd_fast

    rng = np.random.default_rng(3)
    for n in (200, 201):
        x = rng.uniform(size=(n, 3))
        y = np.sin(6 * x[:, 0]) + x[:, 1] ** 2 + 0.1 * rng.normal(size=n)
        ref = rbd_fast.analyze({"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}, x, y, M=10,
                               num_resamples=2, seed=1)["S1"]
        assert [rbd_fast_first_order(x[:, j], y) for j in range(3)] == pytest.approx(list(ref), abs=1e-12)


def test_drivers_rank_by_rank_correlation_and_bracket_the_kpi() -> None:
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"a.big": rng.uniform(size=300), "a.small": rng.uniform(size=300), "a.none": rng.uniform(size=300)})
    y = pd.DataFrame({"k": 10 * x["a.big"] - 2 * x["a.small"], "flat": np.ones(300)})
    table = driver_table(x, y)
    assert set(table["kpi"]) == {"k"}  # a KPI that does not move has no drivers
    assert table.sort_values("order")["input"].tolist() == ["a.big", "a.small", "a.none"]
    big = table.set_index("input").loc["a.big"]
    assert big.rank_correlation > 0.9 and big.kpi_high_input > big.kpi_low_input + 7
    assert table.set_index("input").loc["a.small"].rank_correlation < 0


# ---------------------------------------------------------------------------------------------
# on the simulator (2 days, hourly steps, no gateway)

SHORT = {"horizon_days": 2, "step_minutes": 60}


def clover_data(uncertainty: dict | None = None) -> dict:
    data = read_scenario_data(SCENARIOS / "clover.toml")
    data["time"] = {**data["time"], **SHORT}
    data["gateway"] = {**data["gateway"], "enabled": False}
    if uncertainty is not None:
        data["uncertainty"] = uncertainty
    return data


def test_cost_linear_in_staff_cost_reproduces_its_analytic_quantiles() -> None:
    """Common random numbers: the only thing that moves between input sets is the staff price."""
    low, high, n = 60_000.0, 140_000.0, 8
    data = clover_data({"costs.staff_eur_per_fte_year": {"dist": "uniform", "low": low, "high": high, "source": "test"}})
    plan = plan_propagation(data, n)
    prop = execute_propagation(plan, MemoryRunStore(), SerialExecutor())
    assert prop.executed == n and not prop.failed
    cost = prop.values()["cost_eur_per_year"].to_numpy()
    price = plan.inputs["costs.staff_eur_per_fte_year"].to_numpy()
    central = plan.central
    fte = central.costs.programme_staff_fte + sum(central.sites[s].staff_fte for s in central.world_sites)
    slope = np.polyfit(price, cost, 1)[0]
    assert slope == pytest.approx(fte, rel=1e-6)  # EUR per year per EUR of FTE price: the staff charged
    ranges = prop.ranges().set_index("kpi").loc["cost_eur_per_year"]
    intercept = float(np.mean(cost - slope * price))
    for q, col in ((0.05, "p5"), (0.5, "p50"), (0.95, "p95")):
        analytic = intercept + slope * (low + q * (high - low))
        assert ranges[col] == pytest.approx(analytic, abs=slope * (high - low) / n)
    assert ranges["p95"] - ranges["p5"] > 0.8 * slope * (high - low)


def test_same_seed_same_ranges_and_a_resume_runs_nothing() -> None:
    data = clover_data({
        "compute.core_s_per_request": {"dist": "lognormal", "median": 10, "p95": 25, "low": 2, "high": 60, "source": "t"},
        "population.daily_active_ratio": {"dist": "triangular", "low": 0.45, "mode": 0.6, "high": 0.7, "source": "t"},
        "compute.server_cores": {"dist": "choice", "values": [48, 64, 96], "source": "t"},
    })
    store = MemoryRunStore()
    a = execute_propagation(plan_propagation(data, 6), store, SerialExecutor())
    again = execute_propagation(plan_propagation(data, 6), store, SerialExecutor())
    assert again.executed == 0 and again.skipped == 6
    fresh = execute_propagation(plan_propagation(data, 6), MemoryRunStore(), SerialExecutor())
    assert a.ranges().to_csv() == again.ranges().to_csv() == fresh.ranges().to_csv()
    assert a.drivers().to_csv() == fresh.drivers().to_csv()
    assert a.table().to_csv() == fresh.table().to_csv()
    other = plan_propagation(data, 6, design_seed=1)
    assert not other.inputs.equals(a.plan.inputs)
    assert {t.spawn_key for t in a.plan.tasks} == {(0,)}  # every input set on replication 0's seed
    assert a.plan.inputs["compute.server_cores"].isin([48, 64, 96]).all()


def test_an_input_set_that_is_not_a_scenario_is_refused_before_running() -> None:
    data = clover_data({
        "compute.server_idle_w": {"dist": "uniform", "low": 100, "high": 900, "source": "t"},
        "compute.server_max_w": {"dist": "uniform", "low": 600, "high": 1000, "source": "t"},
    })  # each end passes on its own and with the other at the same end; idle above max only in between
    with pytest.raises(ScenarioError) as info:
        plan_propagation(data, 50)
    assert "input set" in info.value.file and "server_max_w must be >= server_idle_w" in info.value.problem


def test_no_uncertainty_table_is_bad_input() -> None:
    data = clover_data()
    data.pop("uncertainty")
    with pytest.raises(ScenarioError, match="no input a distribution"):
        plan_propagation(data, 4)
