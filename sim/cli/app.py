"""Command line: ``clover-sim`` (also ``python -m sim``).

The only module that prints or exits. Exit codes: 0 success, 2 bad input (one line naming the
file, the field and the problem; nothing written), 1 internal error (a short message; the
traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sim.cli.common import InputError, add_overrides, check_out_dir, format_value
from sim.results.kpis import RUN_TABLE_KPIS
from sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["main", "InputError"]

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2



class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2), like every other bad input."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_INPUT)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="clover-sim", description="Data residency placement simulator (Project Clover).")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True)

    def scenario_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("scenario", type=Path, help="scenario TOML file")
        add_overrides(sp)

    run = sub.add_parser("run", help="run a scenario and write results")
    scenario_args(run)
    run.add_argument("--replications", type=int, default=1, help="independent replications (default 1)")
    run.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's seed)")
    run.add_argument("--out", type=Path, default=None, help="results folder (default results/<scenario name>)")
    run.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    run.add_argument("--no-requests", action="store_true",
                     help="skip the per-request gateway table (large for multi-year runs)")

    val = sub.add_parser("validate", help="check a scenario file without running it")
    scenario_args(val)

    staff = sub.add_parser("staff", help="fewest gateway reviewers per shift that meet a p95 wait target")
    scenario_args(staff)
    staff.add_argument("--p95-wait", required=True, type=_duration_s, metavar="DURATION",
                       help="target for the 95th-percentile review wait, e.g. 30m, 2h, 900s")
    staff.add_argument("--days", type=float, default=28.0,
                       help="simulated days per trial (default 28: four whole weeks)")
    staff.add_argument("--seed", type=int, default=None, help="seed of every trial (default: the scenario's seed)")
    from sim.cli import experiments as cli_experiments
    from sim.cli import pareto as cli_pareto
    from sim.cli import report as cli_report

    cli_pareto.register_cli(sub)
    cli_experiments.register_cli(sub)
    cli_report.register_cli(sub)
    return p


def _out_dir(out: Path | None, scenario: Scenario) -> Path:
    """The results folder: ``--out`` checked, or results/<scenario name>."""
    return check_out_dir(out if out is not None else Path("results") / scenario.name, marker="summary.json")


def _print_kpis(results: object) -> None:
    summary = results.summary()["kpis"]  # type: ignore[attr-defined]
    order = [n for n in RUN_TABLE_KPIS if n in summary] + [n for n in summary if "." in n]
    width = max(len(n) for n in order)
    print(f"{'KPI':<{width}}  {'mean':>14}  {'95 % interval':>29}  unit")

    def show(x: float | str | None) -> str:
        return "-" if x is None else x if isinstance(x, str) else format_value(x)

    for name in order:
        row = summary[name]
        ci = f"[{show(row['ci95_low'])}, {show(row['ci95_high'])}]"
        print(f"{name:<{width}}  {show(row['mean']):>14}  {ci:>29}  {row['unit']}")


def _duration_s(text: str) -> float:
    """Parse 30m, 2h, 90s, 1.5h or a plain number of seconds."""
    units = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
    text = text.strip().lower()
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix):
            number, factor = text[: -len(suffix)], units[suffix]
            break
    else:
        number, factor = text, 1.0
    try:
        value = float(number) * factor
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration such as 30m, 2h or 900s") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive duration")
    return value


def _cmd_staff(args: argparse.Namespace) -> int:
    sc = load_scenario(args.scenario, args.overrides)
    if not args.days > 0:
        raise InputError(f"--days: must be > 0 (got {args.days})")
    if not sc.gateway.enabled:
        raise ScenarioError(str(args.scenario), "gateway.enabled", "the scenario has no gateway to staff")
    from sim.model.gateway import staff_for_target

    started = time.perf_counter()
    try:
        table = staff_for_target(
            sc.gateway,
            p95_wait_s=args.p95_wait,
            start_utc=sc.start_utc,
            horizon_s=args.days * 86400.0,
            seed=sc.seed if args.seed is None else args.seed,
            transfer_policy=sc.policy.transfer,
        )
    except ValueError as exc:
        raise ScenarioError(str(args.scenario), "gateway", str(exc)) from None
    elapsed = time.perf_counter() - started
    print(
        f"scenario {sc.name}: p95 review wait <= {args.p95_wait / 60:.0f} min, {args.days:g}-day trials, "
        f"{elapsed:.1f} s"
    )
    print(f"{'shift':<12} {'reviewers':>9} {'Erlang C':>9} {'p95 wait':>10} {'utilisation':>12}")
    for row in table.itertuples(index=False):
        print(
            f"{row.shift:<12} {row.reviewers:>9d} {row.erlang_c_reviewers:>9d} "
            f"{row.p95_wait_s / 60:>8.1f} m {100 * row.utilisation:>11.0f} %"
        )
    fte = sc.gateway.model_copy(update={"shifts": [
        s.model_copy(update={"reviewers": int(r)}) for s, r in zip(sc.gateway.effective_shifts(), table.reviewers, strict=True)
    ], "reviewers": None, "staffing": "shifts"}).reviewer_fte()
    print(f"reviewer FTE: {fte:.1f} (now {sc.gateway.reviewer_fte():.1f})")
    return EXIT_OK


def _cmd_validate(args: argparse.Namespace) -> int:
    sc = load_scenario(args.scenario, args.overrides)
    sites = ", ".join(sc.policy.sites)
    print(f"{args.scenario}: ok (scenario {sc.name!r}, policy {sc.policy.placement} on {sites})")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    if args.replications < 1:
        raise InputError(f"--replications: must be >= 1 (got {args.replications})")
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed: must be >= 0 (got {args.seed})")
    sc = load_scenario(args.scenario, args.overrides)
    out = _out_dir(args.out, sc)
    started = time.perf_counter()
    from sim.experiments.replicate import simulate  # heavy imports only once the input is known good
    from sim.model.world import ModelInputError
    from sim.report.files import write_results

    bar = None
    if sys.stderr.isatty() and args.replications > 1:  # quiet when not on a terminal
        from tqdm import tqdm

        bar = tqdm(total=args.replications, unit="replication", desc=sc.name, file=sys.stderr, leave=False)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(1)

    try:
        results = simulate(sc, replications=args.replications, seed=args.seed, progress=progress)
    except ModelInputError as exc:
        raise ScenarioError(str(args.scenario), exc.field, exc.problem) from None
    finally:
        if bar is not None:
            bar.close()
    write_results(results, out, with_charts=not args.no_charts, with_requests=not args.no_requests)
    elapsed = time.perf_counter() - started
    print(f"scenario {sc.name}: {args.replications} replication(s), seed {results.seed}, {elapsed:.1f} s -> {out}")
    _print_kpis(results)
    for warning in results.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clover-sim`` command; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    from sim.cli import experiments as cli_experiments
    from sim.cli import pareto as cli_pareto
    from sim.cli import report as cli_report

    handlers = {
        "report": cli_report.cmd_report,
        "run": _cmd_run,
        "validate": _cmd_validate,
        "staff": _cmd_staff,
        "pareto": cli_pareto.cmd_pareto,
        "compare": cli_experiments.cmd_compare,
        "sweep": cli_experiments.cmd_sweep,
    }
    try:
        return handlers[args.command](args)
    except ScenarioError as exc:
        print(f"clover-sim: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except InputError as exc:
        print(f"clover-sim: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("clover-sim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. head: the work is done, stop quietly
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keep Python from failing at exit
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the boundary that turns crashes into exit 1
        if args.debug:
            traceback.print_exc()
        print(f"clover-sim: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
