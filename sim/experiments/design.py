"""Design points of a sweep: what the ``[sweep]`` table (:mod:`sim.scenario.sweep`) asks to run.

* a **grid**: the cross product of the axes; a linked axis moves its keys together;
* a **Latin hypercube**: ``n`` points over the ranges (scipy's ``qmc.LatinHypercube``, seeded by
  the table's own seed), integer keys drawn as whole numbers; a grid and an LHS together give
  their cross product;
* a **sensitivity design**: the SALib sample of the method (:func:`sim.experiments.sensitivity.sample`)
  over the sensitivity ranges; the grid and LHS points are then not run.

The same spec always gives the same points in the same order.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from sim.experiments import sensitivity
from sim.scenario.sweep import LatinHypercubeSpec, SweepSpec, grid_keys, sensitivity_ranges

__all__ = ["design_points", "integer_keys", "sweep_keys"]


def sweep_keys(spec: SweepSpec) -> list[str]:
    """The dotted keys the sweep varies, in column order."""
    if spec.sensitivity is not None:
        return list(sensitivity_ranges(spec))
    return grid_keys(spec.grid) + (list(spec.lhs.ranges) if spec.lhs else [])


def integer_keys(spec: SweepSpec) -> set[str]:
    """Keys of the sensitivity ranges that take whole numbers."""
    if spec.sensitivity is not None and spec.sensitivity.ranges:
        return set(spec.sensitivity.integer)
    if spec.lhs is not None:
        return set(spec.lhs.integer)
    ints: set[str] = set()
    for name, axis in spec.grid.items():
        lists = {name: axis} if isinstance(axis, list) else axis
        ints |= {k for k, values in lists.items() if all(type(v) is int for v in values)}
    return ints


def _grid_points(grid: dict[str, Any]) -> list[dict[str, Any]]:
    axes: list[list[dict[str, Any]]] = []
    for name, axis in grid.items():
        if isinstance(axis, list):
            axes.append([{name: v} for v in axis])
        else:
            n = len(next(iter(axis.values())))
            axes.append([{key: values[i] for key, values in axis.items()} for i in range(n)])
    return [dict(kv for part in combo for kv in part.items()) for combo in itertools.product(*axes)]


def _scaled(unit: np.ndarray, ranges: dict[str, tuple[float, float]], integer: set[str]) -> list[dict[str, Any]]:
    """Map rows of ``unit`` (values in [0, 1)) onto the ranges; integer keys take whole numbers."""
    points = []
    for row in unit:
        point: dict[str, Any] = {}
        for u, (key, (low, high)) in zip(row, ranges.items(), strict=True):
            if key in integer:
                lo, hi = math.ceil(low), math.floor(high)
                point[key] = int(min(hi, lo + math.floor(u * (hi - lo + 1))))
            else:
                point[key] = float(low + u * (high - low))
        points.append(point)
    return points


def _lhs_points(lhs: LatinHypercubeSpec) -> list[dict[str, Any]]:
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(lhs.ranges), seed=np.random.default_rng(lhs.seed)).random(lhs.n)
    return _scaled(unit, lhs.ranges, set(lhs.integer))


def _sensitivity_points(spec: SweepSpec) -> list[dict[str, Any]]:
    assert spec.sensitivity is not None
    ranges = sensitivity_ranges(spec)
    ints = integer_keys(spec)
    x = sensitivity.sample(spec.sensitivity, ranges)
    return [
        {key: int(round(v)) if key in ints else float(v) for key, v in zip(ranges, row, strict=True)} for row in x
    ]


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every design point of the sweep, as ``{dotted key: value}``, in a fixed order.

    Args:
        spec: the validated ``[sweep]`` table.

    Returns:
        One mapping per point; ``[{}]`` when the sweep varies nothing (replications only).
    """
    if spec.sensitivity is not None:
        return _sensitivity_points(spec)
    grid = _grid_points(spec.grid) if spec.grid else [{}]
    lhs = _lhs_points(spec.lhs) if spec.lhs else [{}]
    return [{**g, **h} for g in grid for h in lhs]
