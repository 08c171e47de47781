"""Calibration: what the published figures say about the unpublished inputs.

Importance reweighting of a propagation sample. The input sets of
:mod:`sim.experiments.uncertainty` are draws from the prior (the ``[uncertainty]`` table);
each gets the weight of its likelihood under the ``[observations]``
(:class:`~sim.scenario.uncertainty.Observation`), independent across KPIs:

* a point observation ``value`` +- ``sd`` (or ``rel_sd x value``): a normal density of the
  KPI's value around the published value, with variance ``sd^2 + noise^2`` (``noise`` the
  stochastic standard deviation of that KPI over replications, when known);
* an interval ``low``..``high``: 1 inside, 0 outside.

The weighted input sets are a sample of the posterior: its quantiles (the inverted CDF of
:func:`sim.results.tables.weighted_quantile`) give each input's posterior range ("EUR 1.2 bn
implies compute per request between X and Y") and each KPI's posterior range. The effective
sample size ``(sum w)^2 / sum w^2`` says how many input sets carry the posterior; a handful
means the observations sit far in the prior's tail or N is too small.

:func:`coverage_check` validates the method on the sample itself: it takes one input set as
the truth, generates observations from its KPIs with the stated noise, reweights the other
input sets, and counts how often each posterior interval covers the true input. For a correct
posterior the rate equals the interval's level. Units are those of the inputs and the KPIs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.results.tables import weighted_quantile
from sim.scenario.uncertainty import Observation

__all__ = [
    "LEVEL",
    "Calibration",
    "Coverage",
    "calibrate",
    "coverage_check",
    "effective_sample_size",
    "log_likelihood",
    "posterior_weights",
    "weighted_range",
]

#: Level of the central posterior intervals reported (p5 to p95).
LEVEL = 0.90


def log_likelihood(
    outputs: pd.DataFrame,
    observations: Mapping[str, Observation],
    noise_sd: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Log-likelihood of each row of ``outputs`` (one column per KPI) under the observations.

    A row with a missing (NaN) observed KPI gets ``-inf``; an interval gives 0 inside, ``-inf``
    outside.

    Raises:
        KeyError: an observed KPI that ``outputs`` has no column for.
    """
    noise_sd = noise_sd or {}
    total = np.zeros(len(outputs))
    for kpi, obs in observations.items():
        if kpi not in outputs.columns:
            raise KeyError(kpi)
        y = pd.to_numeric(outputs[kpi], errors="coerce").to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            if obs.value is None:
                ll = np.where((y >= float(obs.low)) & (y <= float(obs.high)), 0.0, -np.inf)  # type: ignore[arg-type]
            else:
                sd = math.hypot(float(obs.standard_deviation or 0.0), float(noise_sd.get(kpi, 0.0)))
                ll = -0.5 * ((y - obs.value) / sd) ** 2 - math.log(sd)
        total += np.where(np.isfinite(y), ll, -np.inf)
    return total


def posterior_weights(
    outputs: pd.DataFrame,
    observations: Mapping[str, Observation],
    noise_sd: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Normalised importance weights of the rows (zero where the likelihood is zero).

    Raises:
        ValueError: no row is compatible with the observations.
    """
    ll = log_likelihood(outputs, observations, noise_sd)
    if not np.isfinite(ll).any():
        raise ValueError("no input set is compatible with the observations: widen the ranges or the observations")
    w = np.exp(ll - ll[np.isfinite(ll)].max())
    w[~np.isfinite(ll)] = 0.0
    return w / w.sum()


def effective_sample_size(weights: np.ndarray) -> float:
    """``(sum w)^2 / sum w^2``: how many equally weighted rows the weights are worth."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w**2).sum()) if (w > 0).any() else 0.0


def weighted_range(values: np.ndarray, weights: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """Lower end, median and upper end of the central ``level`` interval of weighted values."""
    v = np.asarray(values, dtype=float)
    w = np.where(np.isfinite(v), np.asarray(weights, dtype=float), 0.0)
    v = np.where(np.isfinite(v), v, 0.0)
    if w.sum() <= 0:
        return math.nan, math.nan, math.nan
    tail = (1.0 - level) / 2.0
    return tuple(weighted_quantile(v, w, q) for q in (tail, 0.5, 1.0 - tail))  # type: ignore[return-value]


@dataclass
class Calibration:
    """The posterior of a propagation sample under the observations.

    Attributes:
        inputs: the input sets (one column per input).
        outputs: their KPIs (one column per KPI; NaN where a run failed).
        observations: KPI -> published value and uncertainty.
        weights: normalised posterior weight of each input set.
        noise_sd: KPI -> stochastic standard deviation added to the observation's.
        level: level of the reported intervals.
    """

    inputs: pd.DataFrame
    outputs: pd.DataFrame
    observations: dict[str, Observation]
    weights: np.ndarray
    noise_sd: dict[str, float] = field(default_factory=dict)
    level: float = LEVEL

    @property
    def ess(self) -> float:
        """Effective sample size of the weights."""
        return effective_sample_size(self.weights)

    def _prior_weights(self) -> np.ndarray:
        ok = self.outputs.notna().any(axis=1).to_numpy()
        return ok / max(1, ok.sum())

    def _ranges(self, table: pd.DataFrame) -> pd.DataFrame:
        prior_w = self._prior_weights()
        rows = []
        for name in table.columns:
            v = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
            prior = weighted_range(v, prior_w, self.level)
            post = weighted_range(v, self.weights, self.level)
            ok = np.isfinite(v) & (self.weights > 0)
            mean = float(np.sum(self.weights[ok] * v[ok]) / self.weights[ok].sum()) if ok.any() else math.nan
            rows.append((name, *prior, *post, mean))
        cols = ["prior_p5", "prior_p50", "prior_p95", "posterior_p5", "posterior_p50", "posterior_p95", "posterior_mean"]
        out = pd.DataFrame(rows, columns=["name", *cols])
        width = out["prior_p95"] - out["prior_p5"]
        out["narrowing"] = np.where(width > 0, 1.0 - (out["posterior_p95"] - out["posterior_p5"]) / width.where(width > 0, 1.0), 0.0)
        out["median_shift"] = np.where(width > 0, (out["posterior_p50"] - out["prior_p50"]) / width.where(width > 0, 1.0), 0.0)
        return out

    def input_posterior(self) -> pd.DataFrame:
        """Per input: prior and posterior p5, p50, p95, posterior mean, narrowing and median shift.

        ``narrowing`` is 1 - posterior width / prior width (0: the observations say nothing);
        ``median_shift`` is the move of the median in prior widths. Sorted by how much the
        observations say (positive narrowing + |median shift|), most first.
        """
        out = self._ranges(self.inputs).rename(columns={"name": "input"})
        # a posterior wider than the prior (negative narrowing) is sampling noise, not information
        key = out["narrowing"].clip(lower=0.0) + out["median_shift"].abs()
        return out.iloc[np.argsort(-key.to_numpy(), kind="stable")].reset_index(drop=True)

    def kpi_posterior(self) -> pd.DataFrame:
        """Per KPI: prior and posterior p5, p50, p95, posterior mean, and the observation if any."""
        out = self._ranges(self.outputs).rename(columns={"name": "kpi"})
        out["observed"] = [self._observed(k) for k in out["kpi"]]
        return out

    def _observed(self, kpi: str) -> str:
        obs = self.observations.get(kpi)
        if obs is None:
            return ""
        if obs.value is None:
            return f"{obs.low:.6g}..{obs.high:.6g}"
        return f"{obs.value:.6g} +- {obs.standard_deviation:.3g}"

    def describe(self) -> dict[str, Any]:
        """The calibration as JSON data: observations, ESS, input and KPI posteriors."""

        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [
                {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
                for row in frame.to_dict(orient="records")
            ]

        return {
            "method": "importance reweighting of the propagation sample",
            "level": self.level,
            "input_sets": len(self.inputs),
            "effective_sample_size": self.ess,
            "observations": {k: o.model_dump(mode="json", exclude_none=True) for k, o in self.observations.items()},
            "noise_sd": dict(self.noise_sd),
            "inputs": records(self.input_posterior()),
            "kpis": records(self.kpi_posterior()),
        }


def calibrate(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    observations: Mapping[str, Observation],
    *,
    noise_sd: Mapping[str, float] | None = None,
    level: float = LEVEL,
) -> Calibration:
    """Condition a propagation sample on the observations.

    Args:
        inputs: the input sets, one row each (prior draws).
        outputs: their KPIs, same rows (NaN where a run failed).
        observations: KPI -> published value and uncertainty.
        noise_sd: KPI -> stochastic standard deviation of the KPI (added in quadrature).
        level: level of the reported intervals.

    Raises:
        KeyError: an observed KPI no run reported.
        ValueError: no input set is compatible with the observations.
    """
    w = posterior_weights(outputs, observations, noise_sd)
    return Calibration(inputs.reset_index(drop=True), outputs.reset_index(drop=True), dict(observations), w,
                       dict(noise_sd or {}), level)


@dataclass(frozen=True)
class Coverage:
    """How often posterior intervals covered the true inputs of synthetic cases.

    Attributes:
        level: the intervals' level (the rate a correct posterior reaches).
        trials: synthetic cases.
        by_input: input -> share of the cases whose interval covered the true value.
        ess_median: median effective sample size over the cases.
    """

    level: float
    trials: int
    by_input: dict[str, float]
    ess_median: float

    @property
    def rate(self) -> float:
        """Share of covered (case, input) pairs."""
        return float(np.mean(list(self.by_input.values()))) if self.by_input else math.nan

    def describe(self) -> dict[str, Any]:
        """As JSON data."""
        return {"level": self.level, "trials": self.trials, "rate": self.rate,
                "ess_median": self.ess_median, "by_input": dict(self.by_input)}


def _synthetic(obs: Observation, y: float, rng: np.random.Generator) -> Observation:
    """An observation of true value ``y`` drawn from the same noise model as ``obs``."""
    if obs.value is None:
        width = float(obs.high) - float(obs.low)  # type: ignore[arg-type]
        low = y - rng.uniform() * width
        return Observation(low=low, high=low + width, source="synthetic")
    if obs.rel_sd is not None:
        # the noise is relative to the published value: keep its absolute size
        return Observation(value=y + rng.normal() * float(obs.standard_deviation), sd=obs.standard_deviation,
                           source="synthetic")
    return Observation(value=y + rng.normal() * float(obs.sd), sd=obs.sd, source="synthetic")


def coverage_check(
    inputs: pd.DataFrame,
    outputs: pd.DataFrame,
    observations: Mapping[str, Observation],
    *,
    trials: int = 100,
    level: float = LEVEL,
    seed: int = 0,
    noise_sd: Mapping[str, float] | None = None,
    keys: Sequence[str] | None = None,
) -> Coverage:
    """Leave-one-out coverage of the posterior intervals on the propagation sample.

    Each trial takes one input set as the truth, draws observations of its KPIs from the
    observations' noise model (same standard deviation, or same interval width at a uniform
    offset), reweights the other input sets, and checks whether each input's central ``level``
    interval holds the true value.

    Args:
        inputs: the input sets (prior draws).
        outputs: their KPIs.
        observations: the noise model (their values are not used).
        trials: synthetic cases (at most the number of successful rows).
        level: the intervals' level.
        seed: seed of the choice of truths and of the noise.
        noise_sd: as for :func:`calibrate`.
        keys: inputs to check (default every column of ``inputs``).

    Returns:
        The coverage per input; a trial whose observations no other row matches is skipped.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    ok = np.flatnonzero(outputs[list(observations)].notna().all(axis=1).to_numpy())
    truths = rng.choice(ok, size=min(trials, len(ok)), replace=False)
    keys = list(keys or inputs.columns)
    x = inputs[keys].to_numpy(dtype=float)
    covered = np.zeros(len(keys))
    used = 0
    ess = []
    for j in truths:
        synthetic = {k: _synthetic(o, float(outputs[k].iloc[j]), rng) for k, o in observations.items()}
        ll = log_likelihood(outputs, synthetic, noise_sd)
        ll[j] = -np.inf
        if not np.isfinite(ll).any():
            continue
        w = np.exp(ll - ll[np.isfinite(ll)].max())
        w[~np.isfinite(ll)] = 0.0
        ess.append(effective_sample_size(w))
        for i in range(len(keys)):
            lo, _, hi = weighted_range(x[:, i], w, level)
            covered[i] += lo <= x[j, i] <= hi
        used += 1
    by_input = {k: float(covered[i] / used) if used else math.nan for i, k in enumerate(keys)}
    return Coverage(level, used, by_input, float(np.median(ess)) if ess else 0.0)
