"""The ``calibrate`` command, and the part of ``run --uncertainty N`` it shares.

``clover-sim run FILE --uncertainty N`` draws N input sets from the scenario's ``[uncertainty]``
table, runs them (local processes, or Dask with ``--scheduler``), and shows per KPI the central
run, the stochastic 95 % interval over replications and the assumption range (p5, p50, p95),
then the two largest drivers of each headline KPI. ``clover-sim calibrate FILE`` runs the same
input sets (``--samples N``) and conditions them on the file's ``[observations]``: the posterior
range of every uncertain input and of every KPI, the effective sample size and a coverage check
on synthetic observations (:mod:`sim.experiments.calibration`).

Run records go to a store shared by both commands (``--store``, default ``results/store``), one
file per run named by its content address: an interrupted propagation resumes, and calibrating
after ``run --uncertainty N`` with the same N and seeds runs nothing again. ``--workers 1`` runs
in this process. Exit codes follow :mod:`sim.cli.app`; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from sim.cli.common import EXIT_OK, InputError, add_overrides, check_out_dir, check_scenario_size, format_value
from sim.scenario import ScenarioError

__all__ = [
    "DEFAULT_STORE",
    "add_uncertainty_options",
    "check_store",
    "cmd_calibrate",
    "plan_uncertainty",
    "print_uncertainty",
    "register_cli",
    "run_uncertainty",
]

#: Where run records of input sets are kept unless ``--store`` says otherwise.
DEFAULT_STORE = Path("results") / "store"
#: Drivers printed per headline KPI.
_SHOWN_DRIVERS = 2


def add_uncertainty_options(sp: argparse.ArgumentParser) -> None:
    """Options of the input sets: design, design seed, store, workers, scheduler, force."""
    sp.add_argument("--design", choices=("lhs", "sobol"), default=None,
                    help="lhs (Latin hypercube) or sobol (Saltelli design: Sobol' total indices); default uncertainty.design")
    sp.add_argument("--design-seed", type=int, default=None, help="seed of the design (default uncertainty.seed)")
    sp.add_argument("--store", type=Path, default=None,
                    help=f"folder of run records, shared by run and calibrate (default {DEFAULT_STORE}); finished runs are skipped")
    sp.add_argument("--workers", type=int, default=None, help="local worker processes (default every core; 1 runs in this process)")
    sp.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT", help="run the input sets on a Dask cluster")
    sp.add_argument("--force", action="store_true", help="rerun input sets whose runs already finished")


def register_cli(subparsers: Any) -> None:
    """Add the ``calibrate`` sub-command to the ``clover-sim`` parser."""
    cal = subparsers.add_parser(
        "calibrate",
        help="condition the uncertain inputs on the published figures ([observations]); resumable",
        description="Draw N input sets from the file's [uncertainty] table, run them, and reweight them by how "
        "well they reproduce its [observations]: the posterior range of every uncertain input and KPI.",
    )
    cal.add_argument("scenario", type=Path, help="scenario TOML file with [uncertainty] and [observations]")
    add_overrides(cal, every_run=True)
    cal.add_argument("--samples", type=int, default=256, help="input sets drawn from the prior (default 256)")
    cal.add_argument("--seed", type=int, default=None, help="root seed of the runs (default: the scenario's seed)")
    cal.add_argument("--out", type=Path, default=None, help="output folder (default results/<scenario name>-calibration)")
    cal.add_argument("--coverage-trials", type=int, default=100,
                     help="synthetic cases of the coverage check (0: skip; default 100)")
    cal.add_argument("--no-charts", action="store_true", help="skip the PNG chart")
    add_uncertainty_options(cal)
    cal.set_defaults(handler=cmd_calibrate)


def _check(args: argparse.Namespace, n: int, flag: str) -> None:
    if n < 2:
        raise InputError(f"{flag}: must be >= 2 (got {n})")
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed: must be >= 0 (got {args.seed})")
    if args.design_seed is not None and args.design_seed < 0:
        raise InputError(f"--design-seed: must be >= 0 (got {args.design_seed})")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers: must be >= 1 (got {args.workers})")


def plan_uncertainty(args: argparse.Namespace, n: int, flag: str) -> Any:
    """Plan ``n`` input sets of ``args.scenario`` (every one validated before anything runs).

    Raises:
        InputError, ScenarioError: bad options or input (exit 2).
    """
    _check(args, n, flag)
    from sim.experiments.uncertainty import load_propagation

    return load_propagation(
        args.scenario, args.overrides, n=n, design=args.design, design_seed=args.design_seed, seed=args.seed
    )


def store_root(args: argparse.Namespace) -> Path:
    """The run store's folder (``--store`` or the default)."""
    return args.store if args.store is not None else DEFAULT_STORE


def check_store(args: argparse.Namespace, out: Path) -> None:
    """Refuse a run store inside the output folder, which is replaced whole.

    Raises:
        InputError: naming --out and --store.
    """
    store, folder = store_root(args).resolve(), Path(out).resolve()
    if store == folder or folder in store.parents:
        raise InputError(f"--out: {out} would replace the run store {store_root(args)}; give --store a folder outside it")


def run_uncertainty(plan: Any, args: argparse.Namespace) -> Any:
    """Run the plan's input sets not yet in the store, with progress on stderr.

    Returns:
        The :class:`~sim.experiments.uncertainty.Propagation`.
    """
    from sim.cli.experiments import with_progress
    from sim.experiments.executors import ExecutorError, SerialExecutor, make_executor
    from sim.report.uncertainty_files import run_propagation

    try:
        executor = SerialExecutor() if args.workers == 1 and not args.scheduler else make_executor(args.scheduler, args.workers)
    except ExecutorError as exc:
        raise InputError(f"--scheduler: {exc}") from None
    where = args.scheduler or ("this process" if args.workers == 1 else f"{args.workers or os.cpu_count()} local worker(s)")
    return with_progress(
        lambda **hooks: run_propagation(plan, store_root(args), executor, force=args.force, **hooks),
        executor,
        "uncertainty",
        lambda todo, skipped: (
            f"uncertainty {plan.name}: {len(plan.tasks)} input set(s) ({plan.design}, {len(plan.keys)} uncertain inputs); "
            f"{skipped} already finished, {todo} to run on {where}"
        ),
    )


def _show(x: float | str | None) -> str:
    return "-" if x is None else x if isinstance(x, str) else format_value(x)


def print_uncertainty(summary: dict[str, Any], order: list[str]) -> None:
    """The run table with the assumption range: central, 95 % interval, p5 / p50 / p95, unit.

    Args:
        summary: ``summary.json`` with ``assumption_range`` per KPI and ``drivers``.
        order: the KPIs to show, in order.
    """
    from sim.results import kpis as catalogue

    rows = summary["kpis"]
    width = max(len(n) for n in order)
    print(f"{'KPI':<{width}}  {'central':>12}  {'95 % interval (noise)':>27}  "
          f"{'p5':>12}  {'p50':>12}  {'p95':>12}  unit   (p5-p95: range over the input sets)")
    for name in order:
        row = rows[name]
        ci = f"[{_show(row['ci95_low'])}, {_show(row['ci95_high'])}]"
        rng = row.get("assumption_range") or {}
        print(f"{name:<{width}}  {_show(row['mean']):>12}  {ci:>27}  {_show(rng.get('p5')):>12}  "
              f"{_show(rng.get('p50')):>12}  {_show(rng.get('p95')):>12}  {row['unit']}")
    for kpi in catalogue.HEADLINE_KPIS:
        drivers = summary.get("drivers", {}).get(kpi)
        if drivers:
            shown = ", ".join(f"{d['input']} (rho {d['rank_correlation']:+.2f})" for d in drivers[:_SHOWN_DRIVERS])
            print(f"drivers of {kpi}: {shown}")


def _out_dir(args: argparse.Namespace, name: str) -> Path:
    out = args.out if args.out is not None else Path("results") / f"{name}-calibration"
    check_store(args, out)
    return check_out_dir(out, marker="calibration.json")


def _print_calibration(calibration: Any, coverage: Any) -> None:
    from sim.report.format import format_number

    print(f"observations: {', '.join(f'{k} = {v}' for k, v in calibration.kpi_posterior().set_index('kpi')['observed'].items() if v)}")
    print(f"effective sample size: {format_number(calibration.ess)} of {len(calibration.inputs)} input sets")
    posterior = calibration.input_posterior()
    width = max(len(k) for k in posterior["input"])
    print(f"{'input':<{width}}  {'prior p5-p95':>27}  {'posterior p5-p95':>27}  {'posterior p50':>13}")
    for r in posterior.itertuples(index=False):
        prior = f"[{_show(r.prior_p5)}, {_show(r.prior_p95)}]"
        post = f"[{_show(r.posterior_p5)}, {_show(r.posterior_p95)}]"
        print(f"{r.input:<{width}}  {prior:>27}  {post:>27}  {_show(r.posterior_p50):>13}")
    if coverage is not None and coverage.trials:
        print(f"coverage check: the posterior {coverage.level:.0%} intervals held the true inputs in "
              f"{coverage.rate:.1%} of {coverage.trials} synthetic cases x {len(coverage.by_input)} inputs")


def cmd_calibrate(args: argparse.Namespace) -> int:
    """``clover-sim calibrate FILE``: the posterior of the uncertain inputs given the observations."""
    if args.coverage_trials < 0:
        raise InputError(f"--coverage-trials: must be >= 0 (got {args.coverage_trials})")
    plan = plan_uncertainty(args, args.samples, "--samples")
    observations = plan.central.observations
    if observations is None or not observations.kpis:
        raise ScenarioError(str(args.scenario), "observations", "the scenario states no published figure: add an [observations] table")
    from sim.results import kpis as catalogue

    for kpi in observations.kpis:
        if not catalogue.known(kpi):
            raise ScenarioError(str(args.scenario), f"observations.{kpi}", "unknown KPI; the catalogue is sim.results.kpis")
    check_scenario_size(args, plan.central, runs=len(plan.tasks), parallel=args.workers or os.cpu_count() or 1)
    out = _out_dir(args, plan.name)
    started = time.perf_counter()
    propagation = run_uncertainty(plan, args)
    from sim.experiments.calibration import calibrate, coverage_check
    from sim.report.uncertainty_files import write_calibration

    values = propagation.values()
    missing = [k for k in observations.kpis if k not in values.columns]
    if missing:
        raise ScenarioError(str(args.scenario), f"observations.{missing[0]}", "no run reported this KPI (e.g. a site the scenario does not use)")
    try:
        calibration = calibrate(plan.inputs, values, observations.kpis)
    except ValueError as exc:
        print(f"clover-sim: calibrate: {exc}", file=sys.stderr)
        return 1
    coverage = None
    if args.coverage_trials:
        coverage = coverage_check(plan.inputs, values, observations.kpis, trials=args.coverage_trials, seed=plan.design_seed)
    write_calibration(calibration, propagation, out, coverage=coverage, with_charts=not args.no_charts)
    elapsed = time.perf_counter() - started
    ok = int((propagation.outputs["status"] == "ok").sum())
    print(f"calibrate {plan.name}: {ok}/{len(plan.tasks)} input set(s) ok ({propagation.executed} run now, "
          f"{propagation.skipped} from the store), {elapsed:.1f} s -> {out}")
    _print_calibration(calibration, coverage)
    if calibration.ess < 10:
        print(f"warning: only {calibration.ess:.1f} effective input sets carry the posterior: raise --samples or "
              "check that the observations lie inside the prior ranges", file=sys.stderr)
    if propagation.failed:  # e.g. data that does not fit the sites: such inputs cannot be the running programme
        print(f"warning: {len(propagation.failed)} input set(s) failed and carry no weight in the posterior, first: "
              f"{next(iter(propagation.failed.values()))}", file=sys.stderr)
    return EXIT_OK
