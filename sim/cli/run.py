"""The ``run``, ``validate`` and ``staff`` commands: one scenario, its results and its gateway staffing."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from sim.cli.calibrate import add_uncertainty_options
from sim.cli.common import EXIT_OK, InputError, add_overrides, check_out_dir, check_run_size, check_scenario_size, format_value
from sim.results.kpis import RUN_TABLE_KPIS
from sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["register_cli", "cmd_run", "cmd_validate", "cmd_staff"]


def _scenario_args(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("scenario", type=Path, help="scenario TOML file")
    add_overrides(sp)


def register_cli(subparsers: Any) -> None:
    """Add the ``run``, ``validate`` and ``staff`` sub-commands to the ``clover-sim`` parser."""
    sub = subparsers
    run = sub.add_parser("run", help="run a scenario and write results")
    _scenario_args(run)
    run.add_argument("--replications", type=int, default=1, help="independent replications (default 1)")
    run.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's seed)")
    run.add_argument("--out", type=Path, default=None, help="results folder (default results/<scenario name>)")
    run.add_argument("--no-charts", action="store_true", help="skip the PNG charts")
    run.add_argument("--requests", action="store_true",
                     help="also write gateway_requests.parquet, one row per gateway request of the first "
                          "replication (~8 bytes a request on disk: ~55 MB for a Clover year; its size is "
                          "announced before it is written)")
    run.add_argument("--no-requests", action="store_true",
                     help="deprecated, does nothing: the per-request table is only written with --requests")
    run.add_argument("--uncertainty", type=int, default=None, metavar="N",
                     help="also run N input sets drawn from [uncertainty]: assumption ranges and drivers per KPI")
    add_uncertainty_options(run)

    val = sub.add_parser("validate", help="check a scenario file without running it")
    _scenario_args(val)

    staff = sub.add_parser("staff", help="fewest gateway reviewers per shift that meet a p95 wait target")
    _scenario_args(staff)
    staff.add_argument("--p95-wait", required=True, type=_duration_s, metavar="DURATION",
                       help="target for the 95th-percentile review wait, e.g. 30m, 2h, 900s")
    staff.add_argument("--days", type=float, default=28.0,
                       help="simulated days per trial (default 28: four whole weeks)")
    staff.add_argument("--seed", type=int, default=None, help="seed of every trial (default: the scenario's seed)")
    run.set_defaults(handler=cmd_run)
    val.set_defaults(handler=cmd_validate)
    staff.set_defaults(handler=cmd_staff)


def _out_dir(out: Path | None, scenario: Scenario) -> Path:
    """The results folder: ``--out`` checked, or results/<scenario name>."""
    return check_out_dir(out if out is not None else Path("results") / scenario.name, marker="summary.json")


def _print_kpis(results: object) -> None:
    """Print the KPI table; the 95 % interval only where there is one (two replications or more)."""
    doc = results.summary()  # type: ignore[attr-defined]
    summary = doc["kpis"]
    order = [n for n in RUN_TABLE_KPIS if n in summary] + [n for n in summary if "." in n]
    width = max(len(n) for n in order)
    with_interval = doc["replications"] > 1
    if with_interval:
        print(f"{'KPI':<{width}}  {'mean':>14}  {'95 % interval':>29}  unit")
    else:
        print("one replication: no interval (run --replications 2 or more for one)")
        print(f"{'KPI':<{width}}  {'value':>14}  unit")

    def show(x: float | str | None) -> str:
        return "-" if x is None else x if isinstance(x, str) else format_value(x)

    for name in order:
        row = summary[name]
        if with_interval:
            ci = f"[{show(row['ci95_low'])}, {show(row['ci95_high'])}]"
            print(f"{name:<{width}}  {show(row['mean']):>14}  {ci:>29}  {row['unit']}")
        else:
            print(f"{name:<{width}}  {show(row['mean']):>14}  {row['unit']}")


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


def cmd_staff(args: argparse.Namespace) -> int:
    """``clover-sim staff``: the fewest reviewers per shift that meet a p95 wait target."""
    sc = load_scenario(args.scenario, args.overrides)
    if not args.days > 0:
        raise InputError(f"--days: must be > 0 (got {args.days})")
    if not sc.gateway.enabled:
        raise ScenarioError(str(args.scenario), "gateway.enabled", "the scenario has no gateway to staff")
    from sim.scenario.budget import estimate_gateway

    # a staffing search runs the gateway a few dozen times: budget 50 trials of --days each
    trials = estimate_gateway(sc.gateway, args.days * 86400.0, runs=50, mau=sc.population.mau)
    check_run_size(args, str(args.scenario), trials, field="--days")
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
            mau=sc.population.mau,  # the user-driven requests at the scenario's users
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


def cmd_validate(args: argparse.Namespace) -> int:
    """``clover-sim validate``: check a scenario file without running it."""
    sc = load_scenario(args.scenario, args.overrides)
    check_scenario_size(args, sc)  # what `run` would refuse is not ok
    sites = ", ".join(sc.policy.sites)
    print(f"{args.scenario}: ok (scenario {sc.name!r}, policy {sc.policy.placement} on {sites})")
    return EXIT_OK


def _import_matplotlib() -> None:
    """Import the Matplotlib the charts draw with (~0.5 s); nothing the simulation imports.

    Run in a second thread while the run simulates. Only third-party modules that import neither
    pandas nor ``sim``, so the two threads never import the same module at the same time.
    """
    import matplotlib.backends.backend_agg
    import matplotlib.dates
    import matplotlib.figure
    import matplotlib.lines
    import matplotlib.patches
    import matplotlib.ticker  # noqa: F401


def cmd_run(args: argparse.Namespace) -> int:
    """``clover-sim run``: simulate a scenario, write its results atomically, print the KPIs."""
    if args.replications < 1:
        raise InputError(f"--replications: must be >= 1 (got {args.replications})")
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed: must be >= 0 (got {args.seed})")
    sc = load_scenario(args.scenario, args.overrides)
    check_scenario_size(args, sc, runs=args.replications + max(args.uncertainty or 0, 0))  # before anything runs
    out = _out_dir(args.out, sc)
    plan = None
    if args.uncertainty is not None:  # every input set is validated before anything runs
        from sim.cli import calibrate as unc

        plan = unc.plan_uncertainty(args, args.uncertainty, "--uncertainty")
        unc.check_store(args, out)
    started = time.perf_counter()
    if not args.no_charts:  # Matplotlib loads in a second thread while the run simulates (the
        import threading  # compiled kernels release the GIL, so the two overlap on two cores)

        threading.Thread(target=_import_matplotlib, name="import-matplotlib", daemon=True).start()
    from sim.experiments.replicate import simulate  # heavy imports only once the input is known good
    from sim.model.world import ModelInputError

    bar = None
    if sys.stderr.isatty() and args.replications > 1:  # quiet when not on a terminal
        from tqdm import tqdm

        bar = tqdm(total=args.replications, unit="replication", desc=sc.name, file=sys.stderr, leave=False)

    def progress(done: int, total: int) -> None:
        if bar is not None:
            bar.update(1)

    requests = None
    if args.requests:  # written while the gateway runs, into a hidden sibling of the folder
        from sim.report.files import GatewayRequestsWriter

        requests = GatewayRequestsWriter.next_to(out, announce=print)
    try:
        try:
            results = simulate(sc, replications=args.replications, seed=args.seed, progress=progress,
                               gateway_requests=requests)
        except ModelInputError as exc:
            raise ScenarioError(str(args.scenario), exc.field, exc.problem) from None
        finally:
            if bar is not None:
                bar.close()
        propagation = unc.run_uncertainty(plan, args) if plan is not None else None
        from sim.report.files import write_results

        write_results(results, out, with_charts=not args.no_charts, uncertainty=propagation,
                      gateway_requests=requests.close() if requests is not None else None)
    finally:
        if requests is not None:
            requests.discard()  # moved into the folder, or left over from a failed run
    elapsed = time.perf_counter() - started
    print(f"scenario {sc.name}: {args.replications} replication(s), seed {results.seed}, {elapsed:.1f} s -> {out}")
    if propagation is None:
        _print_kpis(results)
    else:
        from sim.report.uncertainty_files import add_uncertainty

        summary = add_uncertainty(results.summary(), propagation)
        unc.print_uncertainty(summary, [n for n in RUN_TABLE_KPIS if n in summary["kpis"]])
        if propagation.failed:
            print(f"warning: {len(propagation.failed)} input set(s) failed and are left out of the ranges, first: "
                  f"{next(iter(propagation.failed.values()))}", file=sys.stderr)
    for warning in results.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


