"""Command line of ``clover-sim pareto`` (light: the optimiser loads when the command runs)."""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from sim.cli.common import InputError, add_overrides, check_out_dir, check_scenario_size
from sim.scenario import ScenarioError, load_scenario

__all__ = ["register_cli", "cmd_pareto"]

#: Kept equal to :data:`sim.experiments.pareto.DEFAULT_HORIZON_DAYS` (not imported: it loads the optimiser).
DEFAULT_HORIZON_DAYS = 28.0


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add ``pareto SCENARIO [--set k=v ...] [--points N] [--seed S] [--days D] [--out DIR]``.

    The parser's default ``handler`` is :func:`cmd_pareto`.
    """
    sp = subparsers.add_parser("pareto", help="sweep the weighted optimiser and write the Pareto front")
    sp.add_argument("scenario", type=Path, help="scenario TOML file")
    add_overrides(sp)
    sp.add_argument("--points", type=int, default=21, help="weight combinations, rounded up to a simplex grid (default 21)")
    sp.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's seed)")
    sp.add_argument(
        "--days",
        type=float,
        default=DEFAULT_HORIZON_DAYS,
        help=f"horizon of every run in days, replacing time.horizon_days (default {DEFAULT_HORIZON_DAYS:g})",
    )
    sp.add_argument("--out", type=Path, default=None, help="output folder (default results/<scenario>-pareto)")
    sp.set_defaults(handler=cmd_pareto)
    return sp


def cmd_pareto(args: argparse.Namespace) -> int:
    """Handler of ``clover-sim pareto``: sweep, print a short table, write CSV and PNG.

    Raises:
        ScenarioError: bad scenario, or no feasible optimised placement for it.
        sim.cli.app.InputError: bad ``--points``, ``--seed`` or ``--out``.
    """
    from sim.experiments.pareto import pareto_front
    from sim.model.placement.policy import InfeasiblePlacement
    from sim.model.world import ModelInputError
    from sim.report.experiment_files import write_pareto

    if args.points < 1 or args.points > 231:
        raise InputError(f"--points: must be between 1 and 231 (got {args.points})")
    if args.seed is not None and args.seed < 0:
        raise InputError(f"--seed: must be >= 0 (got {args.seed})")
    if not (args.days > 0 and math.isfinite(args.days)) or args.days * 1440 < 1:
        raise InputError(f"--days: must be a positive number of days (got {args.days})")
    sc = load_scenario(args.scenario, args.overrides)
    check_scenario_size(args, sc, runs=args.points + 3, horizon_days=args.days)  # the weighted points and the named policies
    out = check_out_dir(args.out or Path("results") / f"{sc.name}-pareto", marker="pareto.csv")
    started = time.perf_counter()
    try:
        df = pareto_front(sc, args.points, seed=args.seed, horizon_days=args.days)
    except InfeasiblePlacement as exc:
        raise ScenarioError(str(args.scenario), "policy", str(exc)) from None
    except ModelInputError as exc:
        raise ScenarioError(str(args.scenario), exc.field, exc.problem) from None
    write_pareto(df, out)
    elapsed = time.perf_counter() - started
    print(f"scenario {sc.name}: {len(df)} placements, {int(df['on_front'].sum())} on the front, {elapsed:.1f} s -> {out}")
    for note in df.attrs.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    shown = df[df["on_front"] | (df["policy"] != "weighted")]
    for row in shown.itertuples(index=False):
        weights = (
            f" (cost {row.w_cost:.2f}, carbon {row.w_carbon:.2f}, latency {row.w_latency:.2f})" if row.policy == "weighted" else ""
        )
        print(
            f"{row.policy + weights:<50} EUR {row.cost_eur_per_year / 1e6:10,.1f} m/yr  {row.co2_t_per_year:10,.0f} t CO2/yr"
            f"  {row.user_rtt_ms_mean:6.1f} ms{'  front' if row.on_front else ''}"
        )
    return 0
