"""Command line of experiments: ``clover-sim compare`` and ``clover-sim sweep``.

``register_cli(subparsers)`` adds both sub-commands to the ``clover-sim`` parser; each sets
``handler`` (a function ``(args) -> exit code``). Exit codes follow :mod:`sim.cli.app`: 0 success,
1 some run failed (the rest is written and reported), 2 bad input, 130 interrupted.

Progress goes to stderr: a tqdm bar (runs done, total, time left) on a terminal, plain log lines
otherwise. Also runnable alone: ``python -m sim.cli.experiments sweep FILE``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, TypeVar

from sim.cli.common import EXIT_OK, add_overrides, check_out_dir, check_scenario_size, format_value
from sim.scenario import ScenarioError

__all__ = ["register_cli", "cmd_compare", "cmd_sweep", "Progress", "with_progress"]

T = TypeVar("T")

EXIT_FAILED_RUNS = 1  # some runs failed (their errors are listed)


class Progress:
    """Runs done out of a total: a tqdm bar on a terminal, else log lines.

    A log line comes every ~5 % (at most one a second), at least every 10 s, and at the end.

    Args:
        total: runs to execute.
        label: what is running (first word of each log line).
        stream: where to write (default stderr).
    """

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.done = 0
        self.failed = 0
        self._started = time.monotonic()
        self._last_log = 0.0
        self._every = max(1, total // 20)
        self._bar: Any = None
        if self.stream.isatty() and total > 0:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="run", desc=label, file=self.stream, dynamic_ncols=True)

    def update(self, ok: bool = True) -> None:
        """Count one finished run."""
        self.done += 1
        self.failed += 0 if ok else 1
        if self._bar is not None:
            self._bar.update(1)
            if not ok:
                self._bar.set_postfix(failed=self.failed)
            return
        now = time.monotonic()
        due = self.done % self._every == 0 and now - self._last_log >= 1.0
        if self.done == self.total or due or now - self._last_log >= 10.0:
            self._last_log = now
            elapsed = now - self._started
            left = elapsed / self.done * (self.total - self.done)
            failed = f", {self.failed} failed" if self.failed else ""
            print(
                f"{self.label}: {self.done}/{self.total} runs done{failed}, {elapsed:.1f} s elapsed, ~{left:.0f} s left",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        """Finish the bar."""
        if self._bar is not None:
            self._bar.close()


def with_progress(run: Callable[..., T], executor: Any, label: str, announce: Callable[[int, int], str]) -> T:
    """Call ``run(on_start=..., on_outcome=...)`` with a progress bar, then close bar and executor.

    Args:
        run: runs the work; calls ``on_start(todo, skipped)`` once, then ``on_outcome(outcome)``
            per finished run (``outcome.status == "ok"`` counts as success).
        executor: closed when ``run`` returns or raises.
        label: the progress lines' label.
        announce: ``(todo, skipped) -> line`` printed to stderr before the first run.
    """
    progress: list[Progress] = []

    def on_start(todo: int, skipped: int) -> None:
        print(announce(todo, skipped), file=sys.stderr, flush=True)
        progress.append(Progress(todo, label))

    try:
        return run(on_start=on_start, on_outcome=lambda o: progress[0].update(o.status == "ok"))
    finally:
        if progress:
            progress[0].close()
        executor.close()


def _common(sp: argparse.ArgumentParser) -> None:
    add_overrides(sp, every_run=True)
    sp.add_argument("--seed", type=int, default=None, help="root seed of the replications")
    sp.add_argument("--out", type=Path, default=None, help="output folder")
    sp.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="run on a Dask distributed cluster (started with 'dask scheduler' and 'dask worker')",
    )
    sp.add_argument("--workers", type=int, default=None, help="local worker processes (default: every core)")


def register_cli(subparsers: Any) -> None:
    """Add the ``compare`` and ``sweep`` sub-commands to a ``clover-sim`` sub-parser set."""
    cmp = subparsers.add_parser(
        "compare",
        help="run scenarios on the same seeds and compare KPIs (paired differences)",
        description="Run every scenario on the same seeds (common random numbers); report each KPI with its "
        "95 %% interval and the paired difference against the first scenario.",
    )
    cmp.add_argument("scenarios", type=Path, nargs="+", help="scenario TOML files; the first is the baseline")
    cmp.add_argument("--replications", type=int, default=20, help="replications per scenario (default 20)")
    cmp.add_argument("--no-charts", action="store_true", help="skip the PNG chart")
    _common(cmp)
    cmp.set_defaults(handler=cmd_compare)

    sw = subparsers.add_parser(
        "sweep",
        help="run the [sweep] of a scenario file (grid, Latin hypercube, sensitivity); resumable",
        description="Run every design point x replication of the file's [sweep] table into OUT/runs/ "
        "(finished runs are skipped on a re-run) and write OUT/sweep.parquet and OUT/sweep.csv.",
    )
    sw.add_argument("scenario", type=Path, help="scenario TOML file with a [sweep] table")
    sw.add_argument("--replications", type=int, default=None, help="replications per point (default: sweep.replications)")
    sw.add_argument(
        "--sensitivity",
        choices=("morris", "sobol"),
        default=None,
        help="make the sweep a global sensitivity design over its ranges (see [sweep.sensitivity])",
    )
    sw.add_argument(
        "--kpi", dest="kpis", action="append", default=None, help="KPI of the sensitivity analysis (repeatable)"
    )
    sw.add_argument("--force", action="store_true", help="rerun runs that already finished")
    _common(sw)
    sw.set_defaults(handler=cmd_sweep)


def _input_error(flag: str, problem: str) -> ScenarioError:
    return ScenarioError(flag, "", problem)


def _check_counts(args: argparse.Namespace) -> None:
    if args.replications is not None and args.replications < 1:
        raise _input_error("--replications", f"must be >= 1 (got {args.replications})")
    if args.seed is not None and args.seed < 0:
        raise _input_error("--seed", f"must be >= 0 (got {args.seed})")
    if args.workers is not None and args.workers < 1:
        raise _input_error("--workers", f"must be >= 1 (got {args.workers})")


def _executor(args: argparse.Namespace) -> Any:
    from sim.experiments.executors import ExecutorError, make_executor

    try:
        return make_executor(args.scheduler, args.workers)
    except ExecutorError as exc:
        raise _input_error("--scheduler", str(exc)) from None


def _print_comparison(table: Any) -> None:
    rows = table[~table["kpi"].str.contains(".", regex=False)]
    order = {k: i for i, k in enumerate(dict.fromkeys(rows["kpi"]))}
    rows = rows.sort_values("kpi", key=lambda s: s.map(order), kind="stable")
    first = rows["scenario"].iloc[0]
    wk = max(len(k) for k in rows["kpi"])
    ws = max(len(s) for s in rows["scenario"])
    head = f"{'KPI':<{wk}}  {'scenario':<{ws}}  {'mean':>12}  {'95 % interval':>27}"
    print(f"{head}  {'diff vs first':>14}  {'95 % interval':>27}  unit")
    for r in rows.itertuples(index=False):
        ci = f"[{format_value(r.ci95_low)}, {format_value(r.ci95_high)}]"
        dci = f"[{format_value(r.diff_ci95_low)}, {format_value(r.diff_ci95_high)}]"
        diff = "baseline" if r.scenario == first else format_value(r.diff_mean)
        dci = "" if r.scenario == first else dci
        kpi = r.kpi if r.scenario == first else ""
        print(f"{kpi:<{wk}}  {r.scenario:<{ws}}  {format_value(r.mean):>12}  {ci:>27}  {diff:>14}  {dci:>27}  {r.unit}")


def cmd_compare(args: argparse.Namespace) -> int:
    """``clover-sim compare A.toml B.toml ...``: paired comparison on common random numbers."""
    from sim.experiments.compare import ComparisonError, compare, default_out
    from sim.report.experiment_files import write_comparison
    from sim.scenario import load_scenario

    _check_counts(args)
    if len(args.scenarios) < 2:
        raise _input_error("compare", "give at least two scenario files; the first is the baseline")
    scenarios = [load_scenario(p, args.overrides) for p in args.scenarios]
    for path, sc in zip(args.scenarios, scenarios, strict=True):  # each scenario's replications, before anything runs
        check_scenario_size(argparse.Namespace(**{**vars(args), "scenario": path}), sc, runs=args.replications,
                            parallel=args.workers or os.cpu_count() or 1)
    out = check_out_dir(args.out or default_out(scenarios), marker="compare.csv")
    total = len(scenarios) * args.replications
    progress = Progress(total, "compare")
    started = time.perf_counter()
    executor = _executor(args)
    try:
        comparison = compare(
            scenarios,
            replications=args.replications,
            seed=args.seed,
            executor=executor,
            on_outcome=lambda o: progress.update(o.status == "ok"),
        )
    except ComparisonError as exc:
        print(f"clover-sim: compare: {exc}", file=sys.stderr)
        return EXIT_FAILED_RUNS
    finally:
        progress.close()
        executor.close()
    write_comparison(comparison, out, with_charts=not args.no_charts)
    elapsed = time.perf_counter() - started
    names = ", ".join(comparison.labels)
    print(f"compare {names}: {args.replications} replication(s) each, seed {comparison.seed}, {elapsed:.1f} s -> {out}")
    _print_comparison(comparison.table())
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    """``clover-sim sweep FILE``: run (or resume) the file's sweep and write its table."""
    from sim.experiments.sweep import load_sweep
    from sim.report.experiment_files import run_sweep

    _check_counts(args)
    plan = load_sweep(
        args.scenario,
        args.overrides,
        replications=args.replications,
        seed=args.seed,
        sensitivity=args.sensitivity,
        kpis=args.kpis,
    )
    from sim.scenario.budget import estimate_run

    tasks = plan.unique_tasks()  # size of the largest design point, times the runs
    largest = max((t.scenario for t in tasks), key=lambda s: estimate_run(s).memory_bytes)
    check_scenario_size(args, largest, runs=len(tasks), parallel=args.workers or os.cpu_count() or 1)
    out = check_out_dir(args.out or Path("results") / f"sweep-{plan.name}", marker="sweep.json", replaced=False)
    started = time.perf_counter()
    where = args.scheduler or f"{args.workers or os.cpu_count()} local worker(s)"
    executor = _executor(args)
    report = with_progress(
        lambda **hooks: run_sweep(plan, out, executor, force=args.force, **hooks),
        executor,
        "sweep",
        lambda todo, skipped: (
            f"sweep {plan.name}: {len(plan.points)} point(s) x {plan.spec.replications} replication(s) = "
            f"{len(plan.runs)} run(s); {skipped} already finished, {todo} to run on {where}"
        ),
    )
    elapsed = time.perf_counter() - started
    ok = int((report.table["status"] == "ok").sum())
    print(
        f"sweep {plan.name}: {ok}/{len(report.table)} run(s) ok ({report.executed} run now, {report.skipped} skipped), "
        f"{elapsed:.1f} s -> {out}/sweep.parquet, sweep.csv"
    )
    if report.sensitivity is not None:
        _print_sensitivity(report.sensitivity)
        if report.unknown_kpis:
            print(f"sensitivity: no run produced KPI(s) {report.unknown_kpis}; check their names", file=sys.stderr)
    if report.failed:
        print(f"clover-sim: sweep: {len(report.failed)} run(s) failed:", file=sys.stderr)
        for run_id, error in list(report.failed.items())[:10]:
            print(f"  {run_id[:16]}  {error}", file=sys.stderr)
        if len(report.failed) > 10:
            print(f"  ... and {len(report.failed) - 10} more (see the status and error columns)", file=sys.stderr)
        return EXIT_FAILED_RUNS
    return EXIT_OK


def _print_sensitivity(indices: Any) -> None:
    from sim.experiments.sensitivity import MAIN_INDEX

    main_rows = indices[indices["index"].isin(MAIN_INDEX.values())]
    for kpi, part in main_rows.groupby("kpi", sort=False):
        ranked = part.sort_values("value", ascending=False)
        shown = ", ".join(f"{r.parameter} {r.value:.3g}" for r in ranked.itertuples())
        print(f"sensitivity {kpi} ({ranked['index'].iloc[0]}): {shown}")
