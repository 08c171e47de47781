"""Analytic queueing formulas against textbook values and identities."""

from __future__ import annotations

import math

import pytest

from sim.theory import queueing as q


def test_erlang_b_and_c_known_values() -> None:
    assert q.erlang_b(1, 1.0) == pytest.approx(0.5)
    assert q.erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)
    assert q.erlang_c(2, 1.0) == pytest.approx(1.0 / 3.0)
    assert q.erlang_c(1, 0.7) == pytest.approx(0.7)  # M/M/1: P(wait) = rho
    assert q.erlang_c(3, 3.0) == 1.0  # unstable
    # large c stays finite and in [0, 1]
    assert 0.0 < q.erlang_c(500, 480.0) < 1.0


def test_mmc_mean_wait_reduces_to_mm1() -> None:
    lam, s = 0.8, 1.0
    assert q.mmc_mean_wait(lam, s, 1) == pytest.approx(lam * s / (1 / s - lam))  # rho / (mu - lambda)
    assert q.mmc_mean_wait(1.0, 1.0, 1) == math.inf
    # textbook M/M/2: lambda = 1, mu = 1 -> W_q = C / (c mu - lambda) = (1/3) / 1
    assert q.mmc_mean_wait(1.0, 1.0, 2) == pytest.approx(1.0 / 3.0)


def test_wait_cdf_and_quantile_are_inverse() -> None:
    lam, s, c = 4.0, 1.0, 5
    for p in (0.5, 0.8, 0.95, 0.99):
        t = q.mmc_wait_quantile(p, lam, s, c)
        if t > 0:
            assert q.mmc_wait_cdf(t, lam, s, c) == pytest.approx(p)
        else:
            assert q.mmc_wait_cdf(0.0, lam, s, c) >= p
    assert q.mmc_wait_cdf(0.0, lam, s, c) == pytest.approx(1.0 - q.erlang_c(c, lam * s))
    # mean = integral of the survival function
    decay = (c - lam * s) / s
    assert q.erlang_c(c, lam * s) / decay == pytest.approx(q.mmc_mean_wait(lam, s, c))


def test_erlang_c_min_servers_is_minimal() -> None:
    lam, s, target = 100.0 / 3600.0, 360.0, 600.0
    c = q.erlang_c_min_servers(lam, s, target_wait_s=target)
    assert q.mmc_wait_quantile(0.95, lam, s, c) <= target
    assert c - 1 <= lam * s or q.mmc_wait_quantile(0.95, lam, s, c - 1) > target
    c_mean = q.erlang_c_min_servers(lam, s, target_wait_s=60.0, quantile=None)
    assert q.mmc_mean_wait(lam, s, c_mean) <= 60.0 < q.mmc_mean_wait(lam, s, c_mean - 1)
    assert q.erlang_c_min_servers(0.0, s, target_wait_s=1.0) == 0


def test_pollaczek_khinchine() -> None:
    lam, s = 0.7, 1.0
    assert q.mg1_mean_wait(lam, s, 1.0) == pytest.approx(q.mmc_mean_wait(lam, s, 1))
    assert q.md1_mean_wait(lam, s) == pytest.approx(q.mmc_mean_wait(lam, s, 1) / 2.0)
    assert q.mg1_mean_wait(lam, s, 2.0) == pytest.approx(lam * s * s * 5.0 / (2 * 0.3))


def test_priority_formulas() -> None:
    rates, s = [0.2, 0.5], 1.0
    w = q.mg1_priority_mean_waits(rates, s, 1.0)
    w0 = sum(rates) * s * s  # sum lambda E[S^2] / 2 with E[S^2] = 2 s^2
    assert w[0] == pytest.approx(w0 / (1 - 0.2))
    assert w[1] == pytest.approx(w0 / ((1 - 0.2) * (1 - 0.7)))
    # conservation: the load-weighted mean wait equals FCFS
    assert (0.2 * w[0] + 0.5 * w[1]) / 0.7 == pytest.approx(q.mg1_mean_wait(0.7, s, 1.0))
    # M/M/c version: one server equals M/G/1 with cv 1; one class equals Erlang C
    assert q.mmc_priority_mean_waits(rates, s, 1) == pytest.approx(w)
    assert q.mmc_priority_mean_waits([2.5], 1.0, 3) == pytest.approx([q.mmc_mean_wait(2.5, 1.0, 3)])
    cw = q.mmc_priority_mean_waits([0.6, 1.8], 1.0, 3)
    assert (0.6 * cw[0] + 1.8 * cw[1]) / 2.4 == pytest.approx(q.mmc_mean_wait(2.4, 1.0, 3))
    assert q.mg1_priority_mean_waits([0.5, 0.6], 1.0, 1.0)[1] == math.inf


def test_little() -> None:
    assert q.little_l(2.0, 3.0) == 6.0
    assert q.little_w(6.0, 2.0) == 3.0
    assert q.utilisation(2.0, 1.0, 4) == 0.5


@pytest.mark.parametrize(
    "call",
    [
        lambda: q.erlang_c(0, 1.0),
        lambda: q.erlang_c(2, -1.0),
        lambda: q.mmc_mean_wait(-1.0, 1.0, 1),
        lambda: q.mmc_mean_wait(1.0, 0.0, 1),
        lambda: q.mmc_wait_quantile(1.0, 1.0, 2.0, 1),
        lambda: q.mg1_mean_wait(0.5, 1.0, -0.1),
        lambda: q.erlang_c_min_servers(1.0, 1.0, target_wait_s=-1.0),
        lambda: q.erlang_c_min_servers(1000.0, 1.0, target_wait_s=0.0, max_servers=10),
    ],
)
def test_bad_inputs_raise(call) -> None:  # noqa: ANN001
    with pytest.raises(ValueError):
        call()
