"""What every command of the command line shares: the input error and the output-folder check.

Kept free of heavy imports so that building the argument parser stays fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from sim.report.format import format_value  # the one set of number formatters (standard library only)

__all__ = ["EXIT_OK", "EXIT_INTERNAL", "EXIT_INPUT", "InputError", "check_out_dir", "add_overrides", "format_value"]

#: Exit codes of every command: success, internal error, bad input (one line, nothing written).
EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


class InputError(Exception):
    """Bad command-line input that is not about a scenario field (one line, exit 2)."""


def check_out_dir(out: Path, *, marker: str, protect: Iterable[Path] = ()) -> Path:
    """Refuse an output folder that would escape, clobber or wipe something it should not.

    Results folders are replaced whole (atomically), so the folder must not be the working
    directory or above it, must not hold anything but an earlier output of the same kind
    (recognised by ``marker``), and must not contain or be one of the ``protect`` paths.
    A relative path must stay inside the working directory; an absolute one is the user's
    explicit choice.

    Args:
        out: the folder asked for.
        marker: a file every earlier output of this command holds (e.g. summary.json).
        protect: folders the output must not replace (e.g. the inputs of a report).

    Returns:
        ``out`` unchanged.

    Raises:
        InputError: naming --out and the problem.
    """
    cwd = Path.cwd().resolve()
    resolved = out.resolve()
    if not out.is_absolute() and cwd not in resolved.parents:
        raise InputError(f"--out: {out} escapes the working directory; give a folder inside it or an absolute path")
    if resolved == cwd or resolved in cwd.parents:
        raise InputError(f"--out: {out} is the working directory or above it; name a results folder")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out: {out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / marker).exists():
        raise InputError(f"--out: {out} is a non-empty folder without {marker}; refusing to replace it")
    for folder in protect:
        f = folder.resolve()
        if f == resolved or resolved in f.parents:
            raise InputError(f"--out: {out} would replace {folder}; choose another folder")
    return out


def add_overrides(sp: argparse.ArgumentParser, *, every_run: bool = False) -> None:
    """Add the repeatable ``--set dotted.key=value`` option (and the hidden per-command --debug)."""
    where = " in every run" if every_run else ""
    sp.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override a dotted scenario key{where}, e.g. --set population.mau=180000000 (repeatable)",
    )
    sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
