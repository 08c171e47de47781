"""The gateway agrees with queueing theory when configured as a textbook queue.

Every check uses the fast path with 30 independent replications (seeds 0..29 of a fixed
base) and asks that the 95 % Student-t interval of the replication means covers the
analytic value (Erlang C, Pollaczek-Khinchine, Cobham's priority formula).

Warm-up: each replication starts empty and idle, which biases early waits downwards. We
discard requests arriving in the first 5 % of the horizon (``warmup_s``). The horizons
hold 10^5 - 3x10^5 arrivals, so the warm-up is >= 10 relaxation times of the slowest
queue here (M/M/1 at rho = 0.95 relaxes in about E[S] / (1 - sqrt(rho))^2 ~ 1,600 mean
service times) while the counted window stays long. Runs drain (every counted request
completes), so the end of the horizon does not censor waits.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import stats

from sim.model.gateway import GatewayConfig, simulate_gateway
from sim.results.gateway import gateway_kpis, reviewer_utilisation_by_hour
from sim.theory import queueing

START = dt.datetime(2024, 1, 1)
REPS = 30
MEAN_MIN = 5.0
MEAN_S = MEAN_MIN * 60.0


def textbook(servers: int, rho: float, *, classes: list[float] | None = None, dist: str = "exponential",
             cv: float = 1.0) -> tuple[GatewayConfig, float]:
    """A single-stage M/G/c review queue at utilisation rho; returns (config, arrivals/s)."""
    rate_per_s = rho * servers / MEAN_S
    shares = classes or [1.0]
    config = GatewayConfig(
        access_requests_per_hour=rate_per_s * 3600.0,
        auto_check=False,
        staffing="24x7",
        reviewers=servers,
        review_distribution=dist,
        review_minutes_mean=MEAN_MIN,
        review_cv=cv,
        approve_probability=1.0,
        resubmit_share=0.0,
        third_party={"enabled": False},
        transfers={"flows": []},
        priority_classes=[{"name": f"c{i}", "share": s} for i, s in enumerate(shares)],
    )
    return config, rate_per_s


def replicate(config: GatewayConfig, rate_per_s: float, arrivals: int, *, by_class: bool = False,
              seed_base: int = 1000) -> np.ndarray:
    """Mean wait per replication (columns per class if ``by_class``)."""
    horizon = arrivals / rate_per_s
    config = config.model_copy(update={"warmup_s": 0.05 * horizon})
    out = []
    for rep in range(REPS):
        run = simulate_gateway(config, start_utc=START, horizon_s=horizon,
                               rng=np.random.default_rng(seed_base + rep))
        assert not run.unstable, run.message
        counted = run.arrival_s >= run.warmup_s
        if by_class:
            out.append([run.wait_s[counted & (run.priority == k)].mean() for k in range(len(run.class_names))])
        else:
            out.append(gateway_kpis(run)["gateway_wait_s_mean"])
    return np.array(out)


def t_interval(samples: np.ndarray) -> tuple[float, float]:
    half = stats.t.ppf(0.975, len(samples) - 1) * samples.std(ddof=1) / math.sqrt(len(samples))
    return samples.mean() - half, samples.mean() + half


@pytest.mark.parametrize(
    ("servers", "rho", "arrivals"),
    [(1, 0.95, 300_000), (5, 0.8, 100_000), (2, 0.5, 100_000), (20, 0.9, 100_000)],
)
def test_mmc_mean_wait_matches_erlang_c(servers: int, rho: float, arrivals: int) -> None:
    config, rate = textbook(servers, rho)
    low, high = t_interval(replicate(config, rate, arrivals))
    expected = queueing.mmc_mean_wait(rate, MEAN_S, servers)
    assert low <= expected <= high, (low, expected, high)


def test_mmc_wait_distribution_matches_erlang_c() -> None:
    """P(wait > t) and the p95 of one long M/M/3 run against the Erlang C wait CDF."""
    config, rate = textbook(3, 0.85)
    horizon = 400_000 / rate
    run = simulate_gateway(config.model_copy(update={"warmup_s": 0.05 * horizon}), start_utc=START,
                           horizon_s=horizon, rng=np.random.default_rng(5))
    waits = run.wait_s[run.arrival_s >= run.warmup_s]
    for t in (0.0, 300.0, 900.0, 1800.0):
        expected = 1.0 - queueing.mmc_wait_cdf(t, rate, MEAN_S, 3)
        assert np.mean(waits > t) == pytest.approx(expected, abs=0.01)
    assert gateway_kpis(run)["gateway_wait_s_p95"] == pytest.approx(
        queueing.mmc_wait_quantile(0.95, rate, MEAN_S, 3), rel=0.05)


@pytest.mark.parametrize(("dist", "cv", "rho"), [("deterministic", 0.0, 0.8), ("lognormal", 1.5, 0.7)])
def test_mg1_mean_wait_matches_pollaczek_khinchine(dist: str, cv: float, rho: float) -> None:
    config, rate = textbook(1, rho, dist=dist, cv=cv)
    low, high = t_interval(replicate(config, rate, 200_000))
    expected = queueing.mg1_mean_wait(rate, MEAN_S, cv)
    if dist == "deterministic":
        assert expected == pytest.approx(queueing.md1_mean_wait(rate, MEAN_S))
    assert low <= expected <= high, (low, expected, high)


@pytest.mark.parametrize("servers", [1, 3])
def test_two_class_priority_matches_cobham(servers: int) -> None:
    shares = [0.3, 0.7]
    config, rate = textbook(servers, 0.8, classes=shares)
    means = replicate(config, rate, 150_000, by_class=True)
    rates = [rate * s for s in shares]
    if servers == 1:
        expected = queueing.mg1_priority_mean_waits(rates, MEAN_S, 1.0)
    else:
        expected = queueing.mmc_priority_mean_waits(rates, MEAN_S, servers)
    for k in range(2):
        low, high = t_interval(means[:, k])
        assert low <= expected[k] <= high, (k, low, expected[k], high)
    assert expected[0] < expected[1]


def test_littles_law_on_per_request_data() -> None:
    """Time-average number waiting (from the per-request wait intervals) = lambda x W."""
    config, rate = textbook(4, 0.9)
    horizon = 200_000 / rate
    run = simulate_gateway(config.model_copy(update={"warmup_s": 0.05 * horizon}), start_utc=START,
                           horizon_s=horizon, rng=np.random.default_rng(11))
    t0, t1 = run.warmup_s, run.horizon_s
    start, end = run.arrival_s, run.arrival_s + run.wait_s
    waiting_time_in_window = (np.minimum(end, t1) - np.maximum(start, t0)).clip(min=0.0).sum()
    mean_number_waiting = waiting_time_in_window / (t1 - t0)
    counted = (start >= t0) & (start < t1)
    arrival_rate = counted.sum() / (t1 - t0)
    mean_wait = run.wait_s[counted].mean()
    assert mean_number_waiting == pytest.approx(queueing.little_l(arrival_rate, mean_wait), rel=0.005)
    assert queueing.little_w(mean_number_waiting, arrival_rate) == pytest.approx(mean_wait, rel=0.005)
    # and both agree with Erlang C: L_q = lambda W_q
    assert mean_number_waiting == pytest.approx(
        queueing.little_l(rate, queueing.mmc_mean_wait(rate, MEAN_S, 4)), rel=0.1)


def test_utilisation_matches_offered_load() -> None:
    config, rate = textbook(5, 0.8)
    horizon = 200_000 / rate
    run = simulate_gateway(config.model_copy(update={"warmup_s": 0.05 * horizon}), start_utc=START,
                           horizon_s=horizon, rng=np.random.default_rng(2))
    assert gateway_kpis(run)["reviewer_utilisation"] == pytest.approx(0.8, abs=0.01)
    by_hour = reviewer_utilisation_by_hour(run)
    assert list(by_hour["hour"]) == list(range(24))
    assert by_hour["utilisation"].between(0.75, 0.85).all()
