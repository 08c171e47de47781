"""What is not known, and what is published: the ``[uncertainty]`` and ``[observations]`` tables (pure data).

**Uncertainty.** Any numeric field of a scenario may carry a distribution next to its central
value (the value in the scenario, which the central run uses). The key is the field's dotted
``--set`` key; the unit is the field's own (the one in its name)::

    [uncertainty]
    design = "lhs"            # "lhs" (Latin hypercube, default) or "sobol" (Saltelli design on Sobol' points)
    seed = 0                  # seed of the design (not of the runs)
    "compute.server_amortisation_years" = { dist = "triangular", low = 3, mode = 5, high = 6, source = "..." }
    "compute.core_s_per_request"        = { dist = "lognormal", median = 10, p95 = 25, source = "ASSUMPTION" }
    correlations = [ { a = "compute.server_capex_eur", b = "storage.capex_eur_per_tb", rank = 0.5, source = "..." } ]

Distributions (``dist``), every one with a ``source`` (a citation, or ``"ASSUMPTION: why"``):

* ``uniform``: ``low``, ``high``;
* ``triangular``: ``low``, ``mode``, ``high``;
* ``normal``: ``mean``, ``sd``, optionally truncated to ``low`` / ``high``;
* ``lognormal``: ``median`` and one quantile ``p1 p5 p10 p25 p75 p90 p95 p99``, optionally truncated;
* ``choice``: ``values`` (discrete choices), optional ``weights``;
* ``fixed``: not varied (removes an entry inherited through ``extends``; ``--set`` can use it).

A field that holds a whole number (its central value is an integer) takes draws rounded to the
nearest whole number. ``correlations`` impose a Spearman rank correlation between two inputs
(Iman-Conover); the ``sobol`` design needs independent inputs. Entries may also be written as
nested tables (``[uncertainty.compute] core_s_per_request = {...}``), which is what
``--set uncertainty.compute.core_s_per_request.high=20`` produces. When both forms give one key,
a later entry that names its ``dist`` replaces the earlier one, and one without ``dist`` (such
as that ``--set``) changes only the fields it gives.

**Observations.** ``[observations]`` states published values of KPIs (names from the KPI
catalogue, per-site ones as ``"it_mw_provisioned.hamar"``) with their uncertainty: ``value``
with ``sd`` (absolute) or ``rel_sd`` (share of the value), read as a normal likelihood, or an
interval ``low`` / ``high`` inside which every value is equally plausible and outside which none
is. ``clover-sim calibrate`` conditions the uncertain inputs on them. An extending file drops an
inherited observation with ``{ drop = true }`` (e.g. a steady-state figure in a timeline).

This module only describes and checks the tables on their own; that every key names a numeric
field of the scenario and that every value a distribution can reach is a valid value of that
field is checked by :mod:`sim.scenario.load` (through the ``--set`` path), and the drawing is
:mod:`sim.experiments.uncertainty`. It imports nothing from :mod:`sim.scenario` (which imports
it), so it stays a leaf of the import graph.
"""

from __future__ import annotations

import math
import sys
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "DESIGNS",
    "DISTRIBUTIONS",
    "QUANTILE_KEYS",
    "Choice",
    "Correlation",
    "LogNormal",
    "Marginal",
    "Normal",
    "Observation",
    "ObservationsSpec",
    "Triangular",
    "Uniform",
    "UncertaintySpec",
    "flatten_entries",
    "merge_entry",
    "normal_score_correlation",
    "support",
    "support_points",
]

#: Sampling designs of the input sets.
DESIGNS = ("lhs", "sobol")
#: Distribution names a ``dist`` may take (``fixed`` removes an entry).
DISTRIBUTIONS = ("uniform", "triangular", "normal", "lognormal", "choice", "fixed")
#: Quantile keys of a lognormal (probability in percent after the ``p``).
QUANTILE_KEYS = ("p1", "p5", "p10", "p25", "p75", "p90", "p95", "p99")
#: Roots no uncertainty entry may name: they identify or structure the scenario.
_FORBIDDEN_ROOTS = ("name", "description", "seed", "extends", "sweep", "uncertainty", "observations")
#: Keys of the ``[uncertainty]`` table that are settings, not inputs.
_SETTINGS = ("design", "seed", "correlations")
#: The largest finite float: where an unbounded support is checked against a field's bounds.
_FAR = sys.float_info.max


class _Spec(BaseModel):
    # strict types and finite numbers, as every scenario table: "7" is not a number
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


Source = Annotated[str, Field(min_length=1, description="a citation, or 'ASSUMPTION: why'")]


class Uniform(_Spec):
    """Every value between ``low`` and ``high`` equally likely."""

    dist: Literal["uniform"]
    low: float
    high: float
    source: Source

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError(f"impossible range: low ({self.low:g}) must be below high ({self.high:g})")
        return self


class Triangular(_Spec):
    """A triangle from ``low`` to ``high`` peaking at ``mode``."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float
    source: Source

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError(
                f"impossible range: need low <= mode <= high and low < high (got {self.low:g}, {self.mode:g}, {self.high:g})"
            )
        return self


_LOW = Field(None, description="truncate the distribution below this value")
_HIGH = Field(None, description="truncate the distribution above this value")


def _check_truncation(low: float | None, high: float | None) -> None:
    if low is not None and high is not None and not low < high:
        raise ValueError(f"impossible range: low ({low:g}) must be below high ({high:g})")


class Normal(_Spec):
    """A normal distribution of ``mean`` and ``sd``, optionally truncated to [``low``, ``high``]."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)
    low: float | None = _LOW
    high: float | None = _HIGH
    source: Source

    @model_validator(mode="after")
    def _order(self) -> Normal:
        _check_truncation(self.low, self.high)
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if not lo <= self.mean <= hi:
            raise ValueError(f"impossible range: mean ({self.mean:g}) lies outside the truncation [{lo:g}, {hi:g}]")
        return self


class LogNormal(_Spec):
    """A lognormal distribution given by its ``median`` and one quantile (e.g. ``p95``).

    ``sigma = ln(quantile / median) / z(p)``, where ``z(p)`` is the standard normal quantile.
    """

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    p1: float | None = None
    p5: float | None = None
    p10: float | None = None
    p25: float | None = None
    p75: float | None = None
    p90: float | None = None
    p95: float | None = None
    p99: float | None = None
    low: float | None = _LOW
    high: float | None = _HIGH
    source: Source

    @model_validator(mode="after")
    def _one_quantile(self) -> LogNormal:
        given = [k for k in QUANTILE_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give the median and exactly one quantile of {', '.join(QUANTILE_KEYS)} (got {given or 'none'})")
        key = given[0]
        value = getattr(self, key)
        above = int(key[1:]) > 50
        if not value > 0 or (above and not value > self.median) or (not above and not value < self.median):
            side = "above" if above else "below"
            raise ValueError(f"impossible range: {key} ({value:g}) must be positive and {side} the median ({self.median:g})")
        _check_truncation(self.low, self.high)
        if self.low is not None and self.low >= self.median or self.high is not None and self.high <= self.median:
            raise ValueError("impossible range: the truncation [low, high] must contain the median")
        return self

    def quantile(self) -> tuple[float, float]:
        """The given quantile as (probability, value)."""
        key = next(k for k in QUANTILE_KEYS if getattr(self, k) is not None)
        return int(key[1:]) / 100.0, float(getattr(self, key))

    def sigma(self) -> float:
        """The log-space standard deviation implied by the median and the quantile."""
        from statistics import NormalDist

        p, value = self.quantile()
        return math.log(value / self.median) / NormalDist().inv_cdf(p)


class Choice(_Spec):
    """Discrete choices ``values``, with optional ``weights`` (equal by default)."""

    dist: Literal["choice"]
    values: list[float] = Field(min_length=2)
    weights: list[float] | None = None
    source: Source

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if len(set(self.values)) != len(self.values):
            raise ValueError("values lists a choice twice")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(f"weights must have one entry per value ({len(self.values)}), got {len(self.weights)}")
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be >= 0 with a positive sum")
        return self

    def probabilities(self) -> list[float]:
        """The probability of each value (weights normalised; equal when none are given)."""
        w = self.weights or [1.0] * len(self.values)
        total = sum(w)
        return [x / total for x in w]


Marginal = Annotated[Uniform | Triangular | Normal | LogNormal | Choice, Field(discriminator="dist")]


def support(m: Uniform | Triangular | Normal | LogNormal | Choice) -> tuple[float, float]:
    """Smallest and largest value a distribution can take (``-inf`` / ``inf`` when unbounded)."""
    if isinstance(m, Choice):
        return min(m.values), max(m.values)
    if isinstance(m, Uniform | Triangular):
        return m.low, m.high
    default_low = 0.0 if isinstance(m, LogNormal) else -math.inf
    return (default_low if m.low is None else m.low), (math.inf if m.high is None else m.high)


def support_points(m: Uniform | Triangular | Normal | LogNormal | Choice) -> list[float]:
    """The values to check against a field's bounds: the ends of the support, every choice.

    An unbounded end is checked at the largest finite float; the open lower end of an
    untruncated lognormal at the smallest positive one.
    """
    if isinstance(m, Choice):
        return list(m.values)
    lo, hi = support(m)
    if isinstance(m, LogNormal) and m.low is None:
        lo = math.nextafter(0.0, 1.0)
    return [max(lo, -_FAR), min(hi, _FAR)]


class Correlation(_Spec):
    """A Spearman rank correlation between two uncertain inputs."""

    a: str
    b: str
    rank: float = Field(gt=-1, lt=1, description="Spearman rank correlation, strictly between -1 and 1")
    source: Source


def normal_score_correlation(rank: float) -> float:
    """Pearson correlation of normal scores that gives Spearman ``rank``: ``2 sin(pi rank / 6)``."""
    return 2.0 * math.sin(math.pi * rank / 6.0)


def _is_entry(value: Any) -> bool:
    """A table is an entry (not a path of nested keys) when it holds any non-table value."""
    return isinstance(value, dict) and any(not isinstance(v, dict) for v in value.values())


def merge_entry(earlier: dict[str, Any] | None, later: dict[str, Any]) -> dict[str, Any]:
    """A later entry that names its ``dist`` replaces the earlier one; one without ``dist`` patches it."""
    if earlier is None or "dist" in later:
        return dict(later)
    return {**earlier, **later}


def flatten_entries(table: dict[str, Any], where: str, prefix: str = "") -> dict[str, dict[str, Any]]:
    """Dotted key -> entry table, from quoted dotted keys and nested tables alike.

    A key that appears twice (``"compute.x" = {...}`` and ``[uncertainty.compute] x = {...}``)
    gives one entry (:func:`merge_entry`).

    Raises:
        ValueError: a value that is neither an entry table nor a table of entries.
    """
    out: dict[str, dict[str, Any]] = {}
    for key, value in table.items():
        full = f"{prefix}{key}"
        if _is_entry(value):
            out[full] = merge_entry(out.get(full), value)
        elif isinstance(value, dict):
            for sub, entry in flatten_entries(value, where, f"{full}.").items():
                out[sub] = merge_entry(out.get(sub), entry)
        else:
            raise ValueError(f"{where}.{full}: must be a table such as {{ dist = \"uniform\", low = 1, high = 2, source = \"...\" }}")
    return out


def _check_key(key: str, where: str) -> None:
    parts = key.split(".")
    if len(parts) < 2 or any(not p.strip() for p in parts):
        raise ValueError(f"{where}: {key!r} is not the dotted key of a scenario field, e.g. \"compute.core_s_per_request\"")
    if parts[0] in _FORBIDDEN_ROOTS:
        raise ValueError(f"{where}: {key!r} cannot be uncertain ('{parts[0]}' is not a model input)")


class UncertaintySpec(_Spec):
    """The ``[uncertainty]`` table: a distribution per uncertain input, correlations, the design."""

    design: Literal["lhs", "sobol"] = Field("lhs", description="'lhs' (Latin hypercube) or 'sobol' (Saltelli design)")
    seed: int = Field(0, ge=0, description="seed of the design (not of the runs)")
    inputs: dict[str, Marginal] = Field(default_factory=dict, description="dotted key -> distribution")
    correlations: list[Correlation] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, data: Any) -> Any:
        """Move the dotted keys of the TOML table under ``inputs`` (a dumped spec passes as it is)."""
        if not isinstance(data, dict):
            return data
        settings = {k: v for k, v in data.items() if k in (*_SETTINGS, "inputs")}
        rest = {k: v for k, v in data.items() if k not in settings}
        entries = dict(settings.pop("inputs", None) or {})
        for key, entry in flatten_entries(rest, "uncertainty").items():
            entries[key] = merge_entry(entries.get(key), entry)
        inputs = {}
        for key, entry in entries.items():
            _check_key(key, f"uncertainty.{key}")
            if isinstance(entry, dict) and entry.get("dist") == "fixed":
                continue
            if isinstance(entry, dict) and entry.get("dist") not in DISTRIBUTIONS:
                raise ValueError(f"uncertainty.{key}: dist must be one of {', '.join(DISTRIBUTIONS)} (got {entry.get('dist')!r})")
            inputs[key] = entry
        return {**settings, "inputs": inputs}

    @model_validator(mode="after")
    def _correlations(self) -> UncertaintySpec:
        pairs: set[frozenset[str]] = set()
        for i, c in enumerate(self.correlations):
            for end in (c.a, c.b):
                if end not in self.inputs:
                    raise ValueError(f"uncertainty.correlations.{i}: {end!r} has no distribution in [uncertainty]")
            if c.a == c.b:
                raise ValueError(f"uncertainty.correlations.{i}: a and b are the same input")
            pair = frozenset((c.a, c.b))
            if pair in pairs:
                raise ValueError(f"uncertainty.correlations.{i}: the pair {c.a}, {c.b} is correlated twice")
            pairs.add(pair)
        if self.correlations:
            if self.design == "sobol":
                raise ValueError("uncertainty.correlations: the sobol design needs independent inputs; use design = \"lhs\"")
            try:
                np.linalg.cholesky(self.score_correlation_matrix())
            except np.linalg.LinAlgError:
                raise ValueError(
                    "uncertainty.correlations: these rank correlations cannot hold together (the matrix is not positive definite)"
                ) from None
        return self

    @property
    def keys(self) -> list[str]:
        """The uncertain inputs, in table order."""
        return list(self.inputs)

    def score_correlation_matrix(self) -> np.ndarray:
        """Target correlation of the normal scores of the inputs (identity where none is given)."""
        keys = self.keys
        c = np.eye(len(keys))
        for corr in self.correlations:
            i, j = keys.index(corr.a), keys.index(corr.b)
            c[i, j] = c[j, i] = normal_score_correlation(corr.rank)
        return c


class Observation(_Spec):
    """A published value of a KPI with its uncertainty: ``value`` +- ``sd`` / ``rel_sd``, or ``low``..``high``."""

    value: float | None = None
    sd: float | None = Field(None, gt=0, description="standard deviation, in the KPI's unit")
    rel_sd: float | None = Field(None, gt=0, description="standard deviation as a share of the value")
    low: float | None = None
    high: float | None = None
    source: Source

    @model_validator(mode="after")
    def _one_form(self) -> Observation:
        point = self.value is not None
        interval = self.low is not None or self.high is not None
        if point == interval:
            raise ValueError("give either value with sd or rel_sd, or an interval low and high")
        if point and (self.sd is None) == (self.rel_sd is None):
            raise ValueError("give exactly one of sd and rel_sd with value")
        if point and self.rel_sd is not None and self.value == 0:
            raise ValueError("rel_sd needs a non-zero value; give sd instead")
        if interval and (self.low is None or self.high is None or not self.low < self.high):
            raise ValueError(f"impossible range: need low < high (got {self.low}, {self.high})")
        return self

    @property
    def standard_deviation(self) -> float | None:
        """The absolute standard deviation of a point observation (None for an interval)."""
        if self.value is None:
            return None
        return self.sd if self.sd is not None else abs(self.value) * float(self.rel_sd or 0.0)


class ObservationsSpec(_Spec):
    """The ``[observations]`` table: KPI name -> published value and its uncertainty."""

    kpis: dict[str, Observation] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather(cls, data: Any) -> Any:
        if isinstance(data, dict) and set(data) == {"kpis"} and isinstance(data["kpis"], dict):
            data = data["kpis"]
        if not isinstance(data, dict):
            return data
        entries = flatten_entries(data, "observations")
        return {"kpis": {k: v for k, v in entries.items() if v.get("drop") is not True}}
