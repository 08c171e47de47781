"""Statistics helpers: t intervals and weighted quantiles."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.results.replication import t_interval
from sim.results.tables import weighted_quantile


def test_t_interval_matches_scipy() -> None:
    x = np.random.default_rng(3).normal(10, 2, size=12)
    mean, lo, hi = t_interval(x)
    ref = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (lo, hi) == pytest.approx(ref)
    assert mean == pytest.approx(x.mean())


def test_t_interval_covers_true_mean_95_percent_for_normal_data() -> None:
    rng = np.random.default_rng(4)
    hits = sum(lo <= 5.0 <= hi for _, lo, hi in (t_interval(rng.normal(5.0, 2.0, 8)) for _ in range(2000)))
    # exact coverage is 0.95 for normal data; 3 binomial standard errors (0.0049) either side
    assert 0.935 <= hits / 2000 <= 0.965


def test_weighted_quantile() -> None:
    v = np.array([30.0, 10.0, 20.0])
    w = np.array([1.0, 1.0, 2.0])
    assert weighted_quantile(v, w, 0.25) == 10.0
    assert weighted_quantile(v, w, 0.5) == 20.0
    assert weighted_quantile(v, w, 0.76) == 30.0
    with pytest.raises(ValueError):
        weighted_quantile(v, np.zeros(3), 0.5)
