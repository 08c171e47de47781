"""What a parameter sweep is: the ``[sweep]`` table of a scenario file and its design points.

A sweep varies dotted scenario keys (the same keys ``--set`` takes) and runs ``replications``
replications at every design point. The design is one of:

* a **grid** (``[sweep.grid]``): the cross product of value lists. An axis is either a list of
  values for one key, or a named table of equal-length lists whose keys move together (a
  *linked* axis, e.g. the energy price of three sites)::

      [sweep.grid]
      "population.growth_per_year" = [0.0, 0.12, 0.25]
      [sweep.grid.energy_price]               # linked axis: one value of each list per point
      "sites.dublin.energy_price_eur_per_kwh" = [0.15, 0.256]
      "sites.hamar.energy_price_eur_per_kwh"  = [0.04, 0.065]

* a **Latin hypercube** (``[sweep.lhs]``): ``n`` points over ``ranges = {key = [low, high]}``
  (integers when both bounds are integers). A grid and an LHS together give their cross product;
* a **global sensitivity design** (``[sweep.sensitivity]``, SALib Morris or Sobol): the points
  are the method's own sample over its ranges (``ranges``, else the LHS ranges, else the
  bounds of the numeric grid axes); the grid and LHS points are then not run.

Every replication ``r`` of every point uses the same seed ``SeedSequence(seed).spawn(R)[r]``
(common random numbers across points). The run scenario has ``sweep`` unset.

This module imports nothing from :mod:`sim.scenario` (which imports :class:`SweepSpec`), so it
stays a leaf of the import graph. Units are those of the swept keys.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "GridValue",
    "LatinHypercubeSpec",
    "SensitivitySpec",
    "SweepSpec",
    "DEFAULT_SENSITIVITY_KPIS",
    "design_points",
    "integer_keys",
    "sensitivity_ranges",
    "sweep_keys",
]

#: Keys a sweep may not vary: they name or structure the scenario file itself.
_FORBIDDEN_ROOTS = ("sweep", "extends")

#: KPIs analysed when ``[sweep.sensitivity]`` names none.
DEFAULT_SENSITIVITY_KPIS: tuple[str, ...] = ("cost_eur_per_year", "co2_t_per_year", "user_rtt_ms_p95")

GridValue = Any  # a TOML value: number, string, bool, list or table


def _check_key(key: str) -> str:
    parts = key.split(".")
    if any(not p.strip() for p in parts):
        raise ValueError(f"{key!r} is not a dotted scenario key: write e.g. \"population.mau\"")
    if parts[0] in _FORBIDDEN_ROOTS:
        raise ValueError(f"{key!r}: a sweep cannot vary '{parts[0]}'")
    return key


def _check_ranges(ranges: dict[str, tuple[float, float]], where: str) -> dict[str, tuple[float, float]]:
    for key, (low, high) in ranges.items():
        _check_key(key)
        if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
            raise ValueError(f"{where}.{key}: range must be [low, high] with finite low < high (got [{low}, {high}])")
    return ranges


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LatinHypercubeSpec(_Spec):
    """A Latin hypercube design: ``n`` points spread over the ``ranges``."""

    n: int = Field(ge=2, le=100_000, description="number of design points")
    seed: int = Field(0, ge=0, description="seed of the design (not of the runs)")
    ranges: dict[str, tuple[float, float]] = Field(min_length=1, description="dotted key -> [low, high]")
    integer: list[str] = Field(
        default_factory=list, description="keys drawn as integers (automatic when both bounds are integers in TOML)"
    )

    @model_validator(mode="before")
    @classmethod
    def _detect_integers(cls, data: Any) -> Any:
        return _integer_bounds(data)

    @model_validator(mode="after")
    def _valid(self) -> LatinHypercubeSpec:
        _check_ranges(self.ranges, "sweep.lhs.ranges")
        unknown = [k for k in self.integer if k not in self.ranges]
        if unknown:
            raise ValueError(f"sweep.lhs.integer names keys without a range: {unknown}")
        return self


def _integer_bounds(data: Any) -> Any:
    """Before validation: list keys whose two bounds are TOML integers under ``integer``."""
    if isinstance(data, dict) and isinstance(data.get("ranges"), dict):
        auto = [
            k for k, v in data["ranges"].items()
            if isinstance(v, list | tuple) and len(v) == 2 and all(type(x) is int for x in v)
        ]
        data = {**data, "integer": sorted(set(data.get("integer", [])) | set(auto))}
    return data


class SensitivitySpec(_Spec):
    """A global sensitivity analysis (SALib) whose sample is the sweep's design.

    ``n`` is the number of Morris trajectories (points = n x (k + 1)) or the Sobol base sample
    size, a power of two (points = n x (k + 2), first-order and total indices).
    """

    method: Literal["morris", "sobol"] = Field("morris", description="'morris' (screening) or 'sobol' (variance)")
    n: int = Field(8, ge=2, le=65_536, description="Morris trajectories or Sobol base samples (power of 2)")
    levels: int = Field(4, ge=2, le=32, description="Morris grid levels (even)")
    seed: int = Field(0, ge=0, description="seed of the sample and of the bootstrap intervals")
    kpis: list[str] = Field(default_factory=lambda: list(DEFAULT_SENSITIVITY_KPIS), min_length=1)
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description="dotted key -> [low, high]; empty = the LHS ranges or the grid bounds"
    )
    integer: list[str] = Field(
        default_factory=list, description="keys rounded to integers (automatic when both bounds are integers in TOML)"
    )

    @model_validator(mode="before")
    @classmethod
    def _detect_integers(cls, data: Any) -> Any:
        return _integer_bounds(data)

    @model_validator(mode="after")
    def _valid(self) -> SensitivitySpec:
        _check_ranges(self.ranges, "sweep.sensitivity.ranges")
        unknown = [k for k in self.integer if k not in self.ranges]
        if unknown:
            raise ValueError(f"sweep.sensitivity.integer names keys without a range: {unknown}")
        if self.method == "sobol" and self.n & (self.n - 1):
            raise ValueError(f"sweep.sensitivity.n must be a power of 2 for Sobol (got {self.n}); try {1 << self.n.bit_length()}")
        if self.method == "morris" and self.levels % 2:
            raise ValueError(f"sweep.sensitivity.levels must be even for Morris (got {self.levels})")
        return self


class SweepSpec(_Spec):
    """The ``[sweep]`` table: design, replications per point and root seed."""

    replications: int = Field(1, ge=1, le=10_000, description="replications per design point")
    seed: int | None = Field(None, ge=0, description="root seed of the replications; default: the scenario's seed")
    grid: dict[str, list[GridValue] | dict[str, list[GridValue]]] = Field(
        default_factory=dict, description="dotted key -> values, or axis name -> {dotted key -> values} (linked)"
    )
    lhs: LatinHypercubeSpec | None = None
    sensitivity: SensitivitySpec | None = None

    @field_validator("grid")
    @classmethod
    def _valid_grid(cls, grid: dict[str, Any]) -> dict[str, Any]:
        for name, axis in grid.items():
            if isinstance(axis, list):
                _check_key(name)
                if not axis:
                    raise ValueError(f"sweep.grid.{name}: give at least one value")
                continue
            if not axis:
                raise ValueError(f"sweep.grid.{name}: a linked axis needs at least one dotted key")
            lengths = {len(v) for v in axis.values()}
            for key, values in axis.items():
                _check_key(key)
                if not values:
                    raise ValueError(f"sweep.grid.{name}.{key}: give at least one value")
            if len(lengths) != 1:
                raise ValueError(
                    f"sweep.grid.{name}: the lists of a linked axis must have the same length (got lengths {sorted(lengths)})"
                )
        return grid

    @model_validator(mode="after")
    def _distinct_keys(self) -> SweepSpec:
        keys = _grid_keys(self.grid) + (list(self.lhs.ranges) if self.lhs else [])
        seen = [k for i, k in enumerate(keys) if k in keys[:i]]
        if seen:
            raise ValueError(f"key(s) {sorted(set(seen))} appear twice in the sweep (grid and lhs must vary different keys)")
        if self.sensitivity is not None and not sensitivity_ranges(self):
            raise ValueError(
                "sweep.sensitivity needs ranges: give sweep.sensitivity.ranges, a sweep.lhs, or numeric sweep.grid axes"
            )
        return self


def _grid_keys(grid: dict[str, Any]) -> list[str]:
    keys: list[str] = []
    for name, axis in grid.items():
        keys.extend([name] if isinstance(axis, list) else list(axis))
    return keys


def sweep_keys(spec: SweepSpec) -> list[str]:
    """The dotted keys the sweep varies, in column order."""
    if spec.sensitivity is not None:
        return list(sensitivity_ranges(spec))
    return _grid_keys(spec.grid) + (list(spec.lhs.ranges) if spec.lhs else [])


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def sensitivity_ranges(spec: SweepSpec) -> dict[str, tuple[float, float]]:
    """Ranges of the sensitivity analysis: its own, else the LHS ranges, else numeric grid bounds."""
    if spec.sensitivity is not None and spec.sensitivity.ranges:
        return dict(spec.sensitivity.ranges)
    if spec.lhs is not None:
        return dict(spec.lhs.ranges)
    ranges: dict[str, tuple[float, float]] = {}
    for name, axis in spec.grid.items():
        lists = {name: axis} if isinstance(axis, list) else axis
        for key, values in lists.items():
            if all(_is_number(v) for v in values) and min(values) < max(values):
                ranges[key] = (float(min(values)), float(max(values)))
    return ranges


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
    from sim.experiments import sensitivity

    assert spec.sensitivity is not None
    ranges = sensitivity_ranges(spec)
    ints = integer_keys(spec)
    x = sensitivity.sample(spec.sensitivity, ranges)
    return [
        {key: int(round(v)) if key in ints else float(v) for key, v in zip(ranges, row, strict=True)} for row in x
    ]


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every design point of the sweep, as ``{dotted key: value}``, in a fixed order.

    Returns:
        One mapping per point; ``[{}]`` when the sweep varies nothing (replications only).
    """
    if spec.sensitivity is not None:
        return _sensitivity_points(spec)
    grid = _grid_points(spec.grid) if spec.grid else [{}]
    lhs = _lhs_points(spec.lhs) if spec.lhs else [{}]
    return [{**g, **h} for g in grid for h in lhs]
