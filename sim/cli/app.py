"""Command line: ``clover-sim`` (also ``python -m sim``).

The one dispatch convention: every command module (:mod:`.run`, :mod:`.experiments`,
:mod:`.pareto`, :mod:`.calibrate`, :mod:`.report`) has ``register_cli(subparsers)``, which adds its sub-commands
and sets ``handler`` to a function ``(args) -> exit code``; :func:`main` parses and calls it.
Exit codes: 0 success, 2 bad input (one line naming the file, the field and the problem;
nothing written), 1 internal error (a short message; the traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from sim.cachedir import use_for_matplotlib
from sim.cli.common import EXIT_INPUT, EXIT_INTERNAL, EXIT_OK, InputError
from sim.report.io import OutputError, release_all_destinations
from sim.scenario import ScenarioError

__all__ = ["main", "InputError"]


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2), like every other bad input."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_INPUT)


def _parser() -> argparse.ArgumentParser:
    from sim.cli import calibrate, experiments, pareto, report, run

    p = _Parser(prog="clover-sim", description="Data residency placement simulator (Project Clover).")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", required=True)
    for module in (run, pareto, experiments, calibrate, report):
        module.register_cli(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``clover-sim`` command; returns the exit code."""
    use_for_matplotlib()  # Matplotlib's cache in the user cache folder, before anything imports it
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except ScenarioError as exc:
        print(f"clover-sim: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except (InputError, OutputError) as exc:  # OutputError: an output folder refused while writing
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
    finally:
        release_all_destinations()  # the output folders this command claimed (sim.report.io)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
