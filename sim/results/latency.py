"""What a user waits for a round trip: the network path to the serving site plus the access network.

The meters hold the round trip from each country to each site (great circle x route inflation
at the speed of light in fibre, plus metro and server turnaround; never below the fibre minimum).
A user adds the round trip of their own access network: mobile for ``mobile_share`` of the
requests (per country where the scenario says), fixed broadband for the rest, each lognormal by
its median and 95th percentile. Quantiles of what users see are taken over this mixture,
discretised deterministically into equal-probability points (no random draws).

Shapes: C countries, S sites. Units: ms.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from sim.results.normal_quantiles import Z95, midpoint_z
from sim.scenario.schema import AccessSpec

__all__ = ["access_points_ms", "access_mean_ms", "access_mean_by_country_ms", "user_rtt_mixture", "POINTS"]

#: Equal-probability points per access type (quantiles are exact to about 1/POINTS in probability).
POINTS = 200
_Z95 = Z95


def _sigma(median_ms: float, p95_ms: float) -> float:
    return math.log(p95_ms / median_ms) / _Z95 if median_ms > 0 and p95_ms > median_ms else 0.0


def access_points_ms(median_ms: float, p95_ms: float, points: int = POINTS) -> NDArray[np.float64]:
    """(points,) equal-probability quantile points of a lognormal access round trip, ms."""
    if median_ms <= 0:
        return np.zeros(points)
    z = midpoint_z(points)
    return median_ms * np.exp(_sigma(median_ms, p95_ms) * z)


def access_mean_ms(median_ms: float, p95_ms: float) -> float:
    """Mean of a lognormal access round trip given by median and p95, ms."""
    return median_ms * math.exp(_sigma(median_ms, p95_ms) ** 2 / 2.0) if median_ms > 0 else 0.0


def _mobile_shares(countries: list[str], access: AccessSpec) -> NDArray[np.float64]:
    """(C,) share of each country's requests over mobile networks."""
    return np.array([access.mobile_share_by_country.get(c, access.mobile_share) for c in countries], dtype=float)


def access_mean_by_country_ms(countries: list[str], access: AccessSpec) -> NDArray[np.float64]:
    """(C,) mean round trip of the access network per country: mobile and fixed by the country's mobile share, ms."""
    mobile = _mobile_shares(countries, access)
    return mobile * access_mean_ms(access.mobile_ms_median, access.mobile_ms_p95) + (1.0 - mobile) * access_mean_ms(
        access.fixed_ms_median, access.fixed_ms_p95
    )


def user_rtt_mixture(
    rtt_ms: NDArray[np.float64], weights: NDArray[np.float64], countries: list[str], access: AccessSpec
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Round trips users see, as weighted points, and their exact mean.

    Args:
        rtt_ms: (C, S) network round trip from each country to each site.
        weights: (C, S) requests (or any weights) per country and serving site.
        countries: the C ISO-2 codes.
        access: the access networks.

    Returns:
        values (C x S x 2 x POINTS,), their weights, and the weighted mean round trip (NaN when
        the weights sum to zero).
    """
    mobile = _mobile_shares(countries, access)
    pts_m = access_points_ms(access.mobile_ms_median, access.mobile_ms_p95)
    pts_f = access_points_ms(access.fixed_ms_median, access.fixed_ms_p95)
    w = np.asarray(weights, dtype=float)
    values = np.concatenate(
        [(rtt_ms[:, :, None] + pts_m[None, None, :]).ravel(), (rtt_ms[:, :, None] + pts_f[None, None, :]).ravel()]
    )
    wm = np.repeat((w * mobile[:, None]).ravel() / len(pts_m), len(pts_m))
    wf = np.repeat((w * (1.0 - mobile)[:, None]).ravel() / len(pts_f), len(pts_f))
    total = w.sum()
    if total <= 0:
        return values, np.concatenate([wm, wf]), math.nan
    mean_access = access_mean_by_country_ms(countries, access)
    mean = float(((rtt_ms + mean_access[:, None]) * w).sum() / total)
    return values, np.concatenate([wm, wf]), mean
