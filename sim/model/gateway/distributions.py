"""Draws from the gateway's configured distributions (service times, delays, sizes).

A :class:`~sim.scenario.gateway.Distribution` only describes a distribution of positive values
(kind, mean, coefficient of variation, empirical values); drawing from it is the model's job and
happens here. Values are in the unit of the configuration field that holds the distribution
(``_s``, ``_h``, ``_minutes``, ``_gb``), multiplied by ``scale`` (e.g. 60 for minutes to seconds).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sim.scenario.gateway import Distribution

__all__ = ["sample"]


def sample(dist: Distribution, rng: np.random.Generator, n: int, scale: float = 1.0) -> np.ndarray:
    """Draw ``n`` values of ``dist`` multiplied by ``scale``.

    ``exponential`` and ``lognormal`` have the configured mean (lognormal also the
    coefficient of variation ``cv``), ``deterministic`` is the mean itself and ``empirical``
    picks ``values`` uniformly.

    Args:
        dist: the distribution.
        rng: the random stream.
        n: number of draws.
        scale: unit conversion factor.

    Returns:
        (n,) float64 array.
    """
    return _sample(dist.kind, dist.mean, dist.cv, dist.values, rng, n) * scale


def _sample(
    kind: str, mean: float, cv: float, values: Sequence[float] | None, rng: np.random.Generator, n: int
) -> np.ndarray:
    if kind == "exponential":
        return rng.standard_exponential(n) * mean
    if kind == "lognormal":
        sigma2 = math.log1p(cv * cv)
        return rng.lognormal(math.log(mean) - sigma2 / 2.0, math.sqrt(sigma2), n)
    if kind == "deterministic":
        return np.full(n, float(mean))
    assert values is not None
    return np.asarray(values, dtype=np.float64)[rng.integers(0, len(values), n)]
