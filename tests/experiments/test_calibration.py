"""Calibration by importance reweighting: known posteriors, and coverage of known inputs at the stated rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.experiments.calibration import (
    calibrate,
    coverage_check,
    effective_sample_size,
    log_likelihood,
    posterior_weights,
    weighted_range,
)
from sim.experiments.uncertainty import draw_inputs, unit_sample
from sim.scenario.uncertainty import Observation, UncertaintySpec

PRIOR = UncertaintySpec.model_validate({
    "m.x1": {"dist": "uniform", "low": 0, "high": 1, "source": "test"},
    "m.x2": {"dist": "uniform", "low": 0, "high": 1, "source": "test"},
    "m.x3": {"dist": "normal", "mean": 0, "sd": 1, "source": "test"},
})


def synthetic(n: int, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Prior draws and a model of three inputs, two outputs (x3 is seen only through y2)."""
    x = draw_inputs(PRIOR, unit_sample(PRIOR, n, seed=seed))
    y = pd.DataFrame({"y1": x["m.x1"] + x["m.x2"], "y2": x["m.x1"] - x["m.x2"] + 0.5 * x["m.x3"]})
    return x, y


def obs(sd: float) -> dict[str, Observation]:
    return {"y1": Observation(value=1.0, sd=sd, source="t"), "y2": Observation(value=0.0, sd=sd, source="t")}


def test_a_point_observation_gives_the_analytic_posterior() -> None:
    x = draw_inputs(PRIOR, unit_sample(PRIOR, 10000, seed=3))
    y = pd.DataFrame({"y": x["m.x1"]})  # observing x1 itself: posterior N(0.3, 0.02) inside [0, 1]
    cal = calibrate(x, y, {"y": Observation(value=0.3, sd=0.02, source="t")})
    row = cal.input_posterior().set_index("input").loc["m.x1"]
    assert row.posterior_p50 == pytest.approx(0.3, abs=0.005)
    assert row.posterior_p5 == pytest.approx(0.3 - 1.6449 * 0.02, abs=0.006)
    assert row.posterior_p95 == pytest.approx(0.3 + 1.6449 * 0.02, abs=0.006)
    assert row.narrowing > 0.9
    untouched = cal.input_posterior().set_index("input").loc["m.x2"]
    assert abs(untouched.median_shift) < 0.05 and abs(untouched.narrowing) < 0.1  # x2 is not observed
    assert cal.ess == pytest.approx(effective_sample_size(cal.weights))
    assert 250 < cal.ess < 1000  # ~ n x 0.02 x 2 sqrt(pi) / width of the prior: ~700


def test_an_interval_observation_keeps_exactly_the_rows_inside() -> None:
    x, y = synthetic(500)
    w = posterior_weights(y, {"y1": Observation(low=0.8, high=1.2, source="t")})
    inside = ((y["y1"] >= 0.8) & (y["y1"] <= 1.2)).to_numpy()
    assert (w[~inside] == 0).all() and np.allclose(w[inside], 1 / inside.sum())
    with pytest.raises(ValueError, match="no input set"):
        posterior_weights(y, {"y1": Observation(low=5, high=6, source="t")})
    with pytest.raises(KeyError):
        log_likelihood(y, {"nope": Observation(low=5, high=6, source="t")})


def test_noise_widens_the_likelihood() -> None:
    x, y = synthetic(2000)
    tight = calibrate(x, y, obs(0.05))
    loose = calibrate(x, y, obs(0.05), noise_sd={"y1": 0.3, "y2": 0.3})
    assert loose.ess > 2 * tight.ess


def test_weighted_range() -> None:
    v = np.arange(100.0)
    assert weighted_range(v, np.ones(100)) == (4.0, 49.0, 94.0)  # the inverted CDF: the 5th, 50th, 95th value
    assert weighted_range(v, np.where(v < 10, 1.0, 0.0)) == (0.0, 4.0, 9.0)


def test_the_posterior_covers_known_inputs_at_the_stated_rate() -> None:
    """Observations generated from known inputs: 90 % intervals hold them 90 % of the time."""
    x, y = synthetic(4000)
    cov = coverage_check(x, y, obs(0.2), trials=300, level=0.9, seed=7)
    assert cov.trials == 300
    assert cov.rate == pytest.approx(0.9, abs=0.04)
    for key, rate in cov.by_input.items():
        assert rate == pytest.approx(0.9, abs=0.07), key
    # and not by ignoring the observations (equal weights would cover at 90 % too): they narrow the posterior
    cal = calibrate(x, y, obs(0.2))
    assert cal.input_posterior().set_index("input").loc[["m.x1", "m.x2"], "narrowing"].min() > 0.15
    assert cal.ess < 0.6 * len(x)


def test_an_overconfident_likelihood_fails_the_coverage_check() -> None:
    """The check can fail: data made with noise 0.2 but read as if it were 0.03."""
    x, y = synthetic(2000)
    rng = np.random.default_rng(11)
    truths = rng.choice(len(x), size=80, replace=False)
    covered = []
    for j in truths:
        seen = {k: Observation(value=float(y[k].iloc[j] + rng.normal() * 0.2), sd=0.03, source="t") for k in ("y1", "y2")}
        cal = calibrate(x.drop(index=j), y.drop(index=j), seen)
        post = cal.input_posterior().set_index("input")
        covered += [post.loc[k, "posterior_p5"] <= x[k].iloc[j] <= post.loc[k, "posterior_p95"] for k in ("m.x1", "m.x2")]
    assert np.mean(covered) < 0.7


def test_calibration_describes_itself_as_strict_json() -> None:
    import json

    x, y = synthetic(300)
    doc = calibrate(x, y, obs(0.2)).describe()
    text = json.dumps(doc, allow_nan=False)
    assert "m.x1" in text and doc["level"] == 0.9 and {o["kpi"] for o in doc["kpis"]} == {"y1", "y2"}
