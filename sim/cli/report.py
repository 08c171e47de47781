"""``clover-sim report RESULTS_DIR... --out DIR``: the leadership report from result folders.

Registered by :mod:`sim.cli.app` through :func:`register_cli`; the handler :func:`cmd_report` raises
:class:`sim.cli.app.InputError` for bad input (exit 2, one line) and prints one line on success.
Heavy imports (pandas, matplotlib) happen only inside the handler, so other commands stay fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.common import InputError, check_out_dir

__all__ = ["register_cli", "cmd_report", "DEFAULT_OUT"]

DEFAULT_OUT = Path("results") / "report"


def register_cli(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add the ``report`` sub-command to the ``clover-sim`` parser.

    Args:
        subparsers: the object returned by ``ArgumentParser.add_subparsers``.

    Returns:
        The ``report`` sub-parser (its ``handler`` is :func:`cmd_report`).
    """
    p = subparsers.add_parser(
        "report",
        help="build the leadership report (HTML + PDF) from result folders",
        description="Build a self-contained HTML page and a PDF from one or more result folders "
        "written by 'clover-sim run'. Page one is the decision: the question the runs answer, the answer "
        "in one sentence with its range, the headline figures against the baseline and the charts that "
        "carry the answer; the appendix holds the analysis. One run is the baseline, every other run is "
        "compared with it (see --baseline); a single run is compared with the published reference.",
    )
    p.add_argument("results", type=Path, nargs="*", metavar="RESULTS_DIR", help="result folder(s)")
    p.add_argument("--baseline", default=None, metavar="NAME",
                   help="the run the others are compared with: a scenario name or one of the result folders "
                        "(default: the run with the pre_clover placement, today's layout, if exactly one has it; "
                        "else the first folder)")
    p.add_argument("--question", default=None, metavar="TEXT",
                   help="the question page one answers (default: derived from the runs, e.g. 'What does keeping "
                        "TikTok's user data in Europe cost, and what does it buy?')")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT,
                   help=f"report folder, replaced atomically (default {DEFAULT_OUT})")
    p.add_argument("--scenarios", type=Path, default=Path("scenarios"),
                   help="folder of scenario TOML files whose comments document the figures (default scenarios)")
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_report)
    return p


def cmd_report(args: argparse.Namespace) -> int:
    """Handle ``clover-sim report``: build and write the report; returns exit code 0.

    Raises:
        sim.cli.app.InputError: no folder given, a folder without summary.json, or a bad --out.
    """
    if not args.results:
        raise InputError("report: give one or more result folders (written by 'clover-sim run')")
    question = getattr(args, "question", None)
    if question is not None and not question.strip():
        raise InputError("--question: give the question as text, or leave the option out")
    check_out_dir(args.out, marker="report.html", protect=list(args.results))
    from sim.report.leadership import ReportInputError, build_report, write_report

    try:
        report = build_report(args.results, scenario_dir=getattr(args, "scenarios", Path("scenarios")),
                              baseline=getattr(args, "baseline", None), question=question)
    except ReportInputError as exc:
        raise InputError(str(exc)) from None
    out = write_report(report, args.out)
    base = f", baseline {report.baseline}" if report.baseline else ""
    print(f"report: {len(args.results)} run(s){base}, page one + {len(report.sections)} appendix sections, "
          f"{len(report.charts)} charts -> {out / 'report.html'}, {out / 'report.pdf'}")
    return 0
