"""Geography: great-circle distances and the round-trip time model.

Round trip (ms) = 2 x great-circle distance (km) x route inflation / (200 km per ms) + access
overhead (ms), and never below the fibre minimum 2 x distance / 200 km per ms. Light in fibre
travels about 200 km per ms (reference facts, network table).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["EARTH_RADIUS_KM", "FIBRE_KM_PER_MS", "great_circle_km", "fibre_min_rtt_ms", "rtt_ms"]

EARTH_RADIUS_KM = 6371.0088
FIBRE_KM_PER_MS = 200.0


def great_circle_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> NDArray[np.float64]:
    """Haversine distance in km between points given in decimal degrees (broadcasts)."""
    p1, l1, p2, l2 = (np.radians(np.asarray(x, dtype=float)) for x in (lat1, lon1, lat2, lon2))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin((l2 - l1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def fibre_min_rtt_ms(distance_km: ArrayLike) -> NDArray[np.float64]:
    """The physical floor: light in fibre along the great circle, there and back."""
    return 2.0 * np.asarray(distance_km, dtype=float) / FIBRE_KM_PER_MS


def rtt_ms(distance_km: ArrayLike, route_inflation: float, access_overhead_ms: float) -> NDArray[np.float64]:
    """Modelled round-trip time in ms, never below the fibre minimum.

    Args:
        distance_km: great-circle distance(s) in km.
        route_inflation: real route length over great-circle length (>= 1).
        access_overhead_ms: last-mile and server-side overhead added once per round trip.
    """
    d = np.asarray(distance_km, dtype=float)
    modelled = 2.0 * d * route_inflation / FIBRE_KM_PER_MS + access_overhead_ms
    return np.maximum(modelled, fibre_min_rtt_ms(d))
