"""Analytic queueing formulas used to validate and to staff the security gateway.

What is modelled: steady-state waiting times (time in queue, before service starts) of
textbook queues:

* M/M/c (Erlang C): probability of waiting, mean wait, wait-time CDF and quantiles, and the
  fewest servers meeting a wait target (``erlang_c_min_servers``);
* M/G/1 (Pollaczek-Khinchine) and its special case M/D/1;
* non-preemptive priority queues (Cobham's formula) for M/G/1 and for M/M/c with equal
  service rates in all classes;
* Little's law.

Units: any consistent time unit works; the gateway uses seconds throughout, so arrival rates
are per second (``arrival_rate``) and service times are in seconds (``mean_service_s``).
Offered load ``a = arrival_rate * mean_service_s`` is in Erlangs; utilisation is
``a / servers``. Every function is pure and vectorisation is left to the caller.

References: Kleinrock, *Queueing Systems* Vol. 1 (1975) and Vol. 2 (1976); Cobham (1954);
Gross & Harris, *Fundamentals of Queueing Theory*.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "erlang_b",
    "erlang_c",
    "erlang_c_min_servers",
    "little_l",
    "little_w",
    "md1_mean_wait",
    "mg1_mean_wait",
    "mg1_priority_mean_waits",
    "mmc_mean_wait",
    "mmc_priority_mean_waits",
    "mmc_wait_cdf",
    "mmc_wait_quantile",
    "utilisation",
]


def _check_positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


def _check_non_negative(name: str, value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _check_servers(servers: int) -> None:
    if int(servers) != servers or servers < 1:
        raise ValueError(f"servers must be a whole number >= 1, got {servers!r}")


def utilisation(arrival_rate: float, mean_service_s: float, servers: int = 1) -> float:
    """Server utilisation rho = lambda * E[S] / c.

    Args:
        arrival_rate: arrivals per second.
        mean_service_s: mean service time in seconds.
        servers: number of parallel servers c.

    Returns:
        The utilisation; the queue is stable only if it is < 1.
    """
    _check_non_negative("arrival_rate", arrival_rate)
    _check_positive("mean_service_s", mean_service_s)
    _check_servers(servers)
    return arrival_rate * mean_service_s / servers


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B blocking probability B(c, a), by the numerically stable recursion.

    Args:
        servers: number of servers c (>= 0).
        offered_load: a = lambda * E[S] in Erlangs.

    Returns:
        Probability that an arrival finds all c servers busy in an M/M/c/c loss system.
    """
    _check_non_negative("offered_load", offered_load)
    if int(servers) != servers or servers < 0:
        raise ValueError(f"servers must be a whole number >= 0, got {servers!r}")
    b = 1.0
    for k in range(1, int(servers) + 1):
        b = offered_load * b / (k + offered_load * b)
    return b


def erlang_c(servers: int, offered_load: float) -> float:
    """Erlang C probability that an arrival has to wait in an M/M/c queue.

    Args:
        servers: number of servers c (>= 1).
        offered_load: a = lambda * E[S] in Erlangs.

    Returns:
        P(wait > 0); 1.0 when the queue is unstable (a >= c).
    """
    _check_servers(servers)
    _check_non_negative("offered_load", offered_load)
    c = int(servers)
    if offered_load >= c:
        return 1.0
    b = erlang_b(c, offered_load)
    return c * b / (c - offered_load * (1.0 - b))


def mmc_mean_wait(arrival_rate: float, mean_service_s: float, servers: int) -> float:
    """Mean time in queue W_q of an M/M/c queue (Erlang C).

    W_q = C(c, a) / (c * mu - lambda), with mu = 1 / E[S].

    Args:
        arrival_rate: arrivals per second.
        mean_service_s: mean (exponential) service time in seconds.
        servers: number of servers c.

    Returns:
        Mean wait in seconds; ``inf`` when the queue is unstable.
    """
    rho = utilisation(arrival_rate, mean_service_s, servers)
    if rho >= 1.0:
        return math.inf
    a = arrival_rate * mean_service_s
    return erlang_c(servers, a) * mean_service_s / (servers - a)


def mmc_wait_cdf(t_s: float, arrival_rate: float, mean_service_s: float, servers: int) -> float:
    """P(W_q <= t) for an M/M/c queue in steady state (FIFO).

    P(W_q > t) = C(c, a) * exp(-(c * mu - lambda) * t).

    Args:
        t_s: waiting time in seconds (>= 0).
        arrival_rate: arrivals per second.
        mean_service_s: mean service time in seconds.
        servers: number of servers c.

    Returns:
        The probability that a request waits at most ``t_s`` (0 when unstable).
    """
    _check_non_negative("t_s", t_s)
    rho = utilisation(arrival_rate, mean_service_s, servers)
    if rho >= 1.0:
        return 0.0
    a = arrival_rate * mean_service_s
    decay = (servers - a) / mean_service_s
    return 1.0 - erlang_c(servers, a) * math.exp(-decay * t_s)


def mmc_wait_quantile(q: float, arrival_rate: float, mean_service_s: float, servers: int) -> float:
    """The q-quantile of the waiting time of an M/M/c queue (FIFO).

    Args:
        q: probability in [0, 1), e.g. 0.95 for the 95th percentile.
        arrival_rate: arrivals per second.
        mean_service_s: mean service time in seconds.
        servers: number of servers c.

    Returns:
        The smallest t with P(W_q <= t) >= q, in seconds; ``inf`` when unstable.
    """
    if not 0.0 <= q < 1.0:
        raise ValueError(f"q must be a probability in [0, 1), got {q!r}")
    rho = utilisation(arrival_rate, mean_service_s, servers)
    if rho >= 1.0:
        return math.inf
    a = arrival_rate * mean_service_s
    c_wait = erlang_c(servers, a)
    if 1.0 - q >= c_wait:
        return 0.0
    decay = (servers - a) / mean_service_s
    return math.log(c_wait / (1.0 - q)) / decay


def erlang_c_min_servers(
    arrival_rate: float,
    mean_service_s: float,
    *,
    target_wait_s: float,
    quantile: float | None = 0.95,
    max_servers: int = 1_000_000,
) -> int:
    """Fewest M/M/c servers whose wait meets a target (Erlang C staffing).

    Args:
        arrival_rate: arrivals per second (0 gives 0 servers).
        mean_service_s: mean service time in seconds.
        target_wait_s: the wait target in seconds.
        quantile: the wait quantile that must be <= ``target_wait_s`` (0.95 = p95);
            ``None`` puts the target on the mean wait instead.
        max_servers: give up above this many servers.

    Returns:
        The smallest c with a stable queue and the chosen wait statistic <= target.

    Raises:
        ValueError: on invalid inputs or if ``max_servers`` is not enough.
    """
    _check_non_negative("arrival_rate", arrival_rate)
    _check_positive("mean_service_s", mean_service_s)
    _check_non_negative("target_wait_s", target_wait_s)
    if arrival_rate == 0.0:
        return 0
    a = arrival_rate * mean_service_s
    c = max(1, math.floor(a) + 1)
    while c <= max_servers:
        if quantile is None:
            value = mmc_mean_wait(arrival_rate, mean_service_s, c)
        else:
            value = mmc_wait_quantile(quantile, arrival_rate, mean_service_s, c)
        if value <= target_wait_s:
            return c
        c += 1
    raise ValueError(
        f"more than max_servers={max_servers} servers needed for a load of {a:.1f} Erlangs; "
        "raise max_servers or relax the target"
    )


def mg1_mean_wait(arrival_rate: float, mean_service_s: float, service_cv: float) -> float:
    """Mean wait of an M/G/1 queue (Pollaczek-Khinchine).

    W_q = lambda * E[S^2] / (2 (1 - rho)), with E[S^2] = E[S]^2 (1 + cv^2).

    Args:
        arrival_rate: arrivals per second.
        mean_service_s: mean service time in seconds.
        service_cv: coefficient of variation of the service time (0 deterministic,
            1 exponential).

    Returns:
        Mean wait in seconds; ``inf`` when unstable.
    """
    _check_non_negative("service_cv", service_cv)
    rho = utilisation(arrival_rate, mean_service_s, 1)
    if rho >= 1.0:
        return math.inf
    second_moment = mean_service_s**2 * (1.0 + service_cv**2)
    return arrival_rate * second_moment / (2.0 * (1.0 - rho))


def md1_mean_wait(arrival_rate: float, service_s: float) -> float:
    """Mean wait of an M/D/1 queue: rho * D / (2 (1 - rho)).

    Args:
        arrival_rate: arrivals per second.
        service_s: the constant service time in seconds.

    Returns:
        Mean wait in seconds; ``inf`` when unstable.
    """
    return mg1_mean_wait(arrival_rate, service_s, 0.0)


def mg1_priority_mean_waits(
    arrival_rates: Sequence[float],
    mean_service_s: Sequence[float] | float,
    service_cv: Sequence[float] | float,
) -> list[float]:
    """Mean waits per class of a non-preemptive priority M/G/1 queue (Cobham's formula).

    Class 0 has the highest priority. W_k = W0 / ((1 - s_{k-1}) (1 - s_k)) with
    W0 = sum_i lambda_i E[S_i^2] / 2 and s_k = sum_{i<=k} rho_i.

    Args:
        arrival_rates: arrivals per second of each class, highest priority first.
        mean_service_s: mean service time per class (or one value for all), seconds.
        service_cv: coefficient of variation per class (or one value for all).

    Returns:
        Mean wait per class in seconds (``inf`` for classes that are not stable).
    """
    n = len(arrival_rates)
    means = [float(mean_service_s)] * n if isinstance(mean_service_s, (int, float)) else list(mean_service_s)
    cvs = [float(service_cv)] * n if isinstance(service_cv, (int, float)) else list(service_cv)
    if len(means) != n or len(cvs) != n:
        raise ValueError("arrival_rates, mean_service_s and service_cv must have the same length")
    for lam, m, cv in zip(arrival_rates, means, cvs):
        _check_non_negative("arrival_rate", lam)
        _check_positive("mean_service_s", m)
        _check_non_negative("service_cv", cv)
    w0 = sum(lam * m * m * (1.0 + cv * cv) / 2.0 for lam, m, cv in zip(arrival_rates, means, cvs))
    waits = []
    sigma_prev = 0.0
    for lam, m in zip(arrival_rates, means):
        sigma = sigma_prev + lam * m
        if sigma >= 1.0:
            waits.append(math.inf)
        else:
            waits.append(w0 / ((1.0 - sigma_prev) * (1.0 - sigma)))
        sigma_prev = sigma
    return waits


def mmc_priority_mean_waits(
    arrival_rates: Sequence[float], mean_service_s: float, servers: int
) -> list[float]:
    """Mean waits per class of a non-preemptive priority M/M/c queue, equal service rates.

    W_k = W0 / ((1 - s_{k-1}) (1 - s_k)) with W0 = C(c, a) E[S] / c and
    s_k = sum_{i<=k} lambda_i E[S] / c (Cobham; Gross & Harris sec. 3.4). With one class it
    reduces to the Erlang C mean wait.

    Args:
        arrival_rates: arrivals per second of each class, highest priority first.
        mean_service_s: mean exponential service time (same for all classes), seconds.
        servers: number of servers c.

    Returns:
        Mean wait per class in seconds (``inf`` for classes that are not stable).
    """
    _check_servers(servers)
    _check_positive("mean_service_s", mean_service_s)
    for lam in arrival_rates:
        _check_non_negative("arrival_rate", lam)
    total = float(sum(arrival_rates))
    a = total * mean_service_s
    if a >= servers:
        return [math.inf] * len(arrival_rates)
    w0 = erlang_c(servers, a) * mean_service_s / servers
    waits = []
    sigma_prev = 0.0
    for lam in arrival_rates:
        sigma = sigma_prev + lam * mean_service_s / servers
        waits.append(w0 / ((1.0 - sigma_prev) * (1.0 - sigma)))
        sigma_prev = sigma
    return waits


def little_l(arrival_rate: float, mean_time_s: float) -> float:
    """Little's law L = lambda * W: mean number in a system from rate and mean time.

    Args:
        arrival_rate: arrivals per second.
        mean_time_s: mean time each arrival spends in the system (or queue), seconds.

    Returns:
        The time-average number in the system (or queue).
    """
    _check_non_negative("arrival_rate", arrival_rate)
    _check_non_negative("mean_time_s", mean_time_s)
    return arrival_rate * mean_time_s


def little_w(mean_number: float, arrival_rate: float) -> float:
    """Little's law solved for the mean time: W = L / lambda.

    Args:
        mean_number: time-average number in the system (or queue).
        arrival_rate: arrivals per second (> 0).

    Returns:
        The mean time in the system (or queue), seconds.
    """
    _check_non_negative("mean_number", mean_number)
    _check_positive("arrival_rate", arrival_rate)
    return mean_number / arrival_rate
