"""What every command of the command line shares: the input error, the output-folder check, run limits.

Kept free of heavy imports so that building the argument parser stays fast.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from sim.report.format import format_value  # the one set of number formatters (standard library only)
from sim.report.io import MARKER  # standard library only

if TYPE_CHECKING:
    from sim.scenario import Scenario
    from sim.scenario.budget import Limits, RunEstimate

__all__ = [
    "EXIT_OK",
    "EXIT_INTERNAL",
    "EXIT_INPUT",
    "InputError",
    "check_out_dir",
    "add_overrides",
    "add_limits",
    "check_run_size",
    "check_scenario_size",
    "machine_limits",
    "format_value",
]

#: Exit codes of every command: success, internal error, bad input (one line, nothing written).
EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


class InputError(Exception):
    """Bad command-line input that is not about a scenario field (one line, exit 2)."""


def check_out_dir(out: Path, *, marker: str, protect: Iterable[Path] = (), replaced: bool = True) -> Path:
    """Check an output folder before any work is done, and claim it for this process.

    Refuses (with :class:`InputError`, so exit 2 before simulating) a folder that would escape
    the working directory or be it, a path that cannot be created (a file on the way, a name too
    long, a read-only or full disk: probed by creating and removing a temporary folder), a folder
    another clover-sim run is writing right now, and a folder that holds anything this program
    did not write (see :func:`sim.report.io.check_replaceable`) or an output of another kind
    (recognised by ``marker``). The folder's lock (:func:`sim.report.io.lock_destination`) is
    then held until the command ends, and an earlier interrupted replacement of it is recovered
    (:func:`sim.report.io.recover`; what was done is printed on stderr).

    A relative path must stay inside the working directory; an absolute one is the user's
    explicit choice.

    Args:
        out: the folder asked for.
        marker: a file every earlier output of this command holds (e.g. summary.json).
        protect: folders the output must not replace (e.g. the inputs of a report).
        replaced: the command replaces the folder whole (False: it only adds files, as a
            resumable sweep does, so a folder of ours need not be the only thing there).

    Returns:
        ``out`` unchanged.

    Raises:
        InputError: naming --out and the problem.
    """
    from sim.report.io import OutputError, check_replaceable, lock_destination, recover

    cwd = Path.cwd().resolve()
    resolved = out.resolve()
    if not out.is_absolute() and cwd not in resolved.parents:
        raise InputError(f"--out: {out} escapes the working directory; give a folder inside it or an absolute path")
    if resolved == cwd or resolved in cwd.parents:
        raise InputError(f"--out: {out} is the working directory or above it; name a results folder")
    for folder in protect:
        f = folder.resolve()
        if f == resolved or resolved in f.parents:
            raise InputError(f"--out: {out} would replace {folder}; choose another folder")
    _check_creatable(out, resolved)
    try:
        lock_destination(out)
        for line in recover(out):
            print(f"clover-sim: {line}", file=sys.stderr)
        if replaced:
            check_replaceable(out)
    except OutputError as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:
        raise InputError(f"--out: {out}: {exc.strerror or exc}") from None
    if out.is_dir() and any(p.name != MARKER for p in out.iterdir()) and not (out / marker).exists():
        raise InputError(f"--out: {out} is a non-empty folder without {marker}; refusing to replace it")
    return out


def _check_creatable(out: Path, resolved: Path) -> None:
    """Refuse a path that cannot be created: a file on the way, too long a name, no write access."""

    def lexists(p: Path) -> bool:
        try:
            os.lstat(p)
        except OSError:  # missing, or a name the system cannot even look up
            return False
        return True

    existing = resolved
    while not lexists(existing) and existing.parent != existing:
        existing = existing.parent
    try:
        name_max = os.pathconf(existing, "PC_NAME_MAX")
        path_max = os.pathconf(existing, "PC_PATH_MAX")
    except (AttributeError, OSError, ValueError):  # not on this system
        name_max, path_max = 255, 4096
    parts = resolved.relative_to(existing).parts
    for i, part in enumerate(parts):
        most = name_max - 40 if i == len(parts) - 1 else name_max  # room for ".NAME.requests-XXXXXXXX.parquet"
        if len(os.fsencode(part)) > most:
            raise InputError(f"--out: the name {part[:40]}... has {len(os.fsencode(part))} bytes; at most {most}")
    if len(os.fsencode(str(resolved))) > path_max - 64:
        raise InputError(f"--out: the path has {len(os.fsencode(str(resolved)))} bytes; at most {path_max - 64}")
    if existing == resolved and not existing.is_dir():
        raise InputError(f"--out: {out} exists and is not a folder")
    if not existing.is_dir():
        raise InputError(f"--out: {existing} is a file, so {out} cannot be a folder under it")
    try:  # the only sure test of writing: create and remove a folder where the output will go
        os.rmdir(tempfile.mkdtemp(prefix=".clover-sim-probe-", dir=existing))
    except OSError as exc:
        raise InputError(f"--out: cannot write in {existing} ({exc.strerror or exc}); choose another folder") from None


def add_overrides(sp: argparse.ArgumentParser, *, every_run: bool = False) -> None:
    """Add the repeatable ``--set dotted.key=value`` option, ``--no-limits`` (:func:`add_limits`) and the hidden --debug."""
    where = " in every run" if every_run else ""
    sp.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"override a dotted scenario key{where}, e.g. --set population.mau=180000000 (repeatable)",
    )
    add_limits(sp)
    sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


#: Environment variables that set the limits of one command (see :func:`machine_limits`).
MAX_MEMORY_ENV, MAX_HOURS_ENV = "CLOVER_SIM_MAX_MEMORY_GB", "CLOVER_SIM_MAX_HOURS"
#: Share of this machine's memory one command may plan to use.
MEMORY_SHARE = 0.8
#: Longest a command may plan to run by default, hours.
DEFAULT_MAX_HOURS = 24.0


def _memory_bytes() -> float:
    """Memory of this machine or of the container it runs in (cgroup v2 or v1 limit), bytes."""
    try:
        total = float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):
        total = 8e9  # not on this system: assume a small machine
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(limit_file).read_text(encoding="ascii").strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, float(text))
    return total


def machine_limits() -> Limits:
    """What one command may use, from the environment or this machine.

    ``CLOVER_SIM_MAX_MEMORY_GB`` (default 80 % of this machine's or container's memory) and
    ``CLOVER_SIM_MAX_HOURS`` (default 24 h).

    Raises:
        InputError: an environment variable that is not a positive number.
    """
    from sim.scenario.budget import Limits

    def read(name: str, default: float) -> float:
        text = os.environ.get(name, "")
        if not text:
            return default
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (value > 0 and value != float("inf")):
            raise InputError(f"{name}: must be a positive number (got {text!r})")
        return value

    memory = read(MAX_MEMORY_ENV, MEMORY_SHARE * _memory_bytes() / 1e9) * 1e9
    return Limits(memory_bytes=memory, seconds=read(MAX_HOURS_ENV, DEFAULT_MAX_HOURS) * 3600.0)


def check_run_size(args: argparse.Namespace, file: str, estimate: RunEstimate, *, field: str | None = None) -> None:
    """Refuse (exit 2) a command whose estimated size exceeds :func:`machine_limits`, unless ``--no-limits``.

    Args:
        args: the parsed command line (``no_limits`` is read).
        file: the scenario file, for the message.
        estimate: from :mod:`sim.scenario.budget`.
        field: the field to name; default: what dominates the estimate.

    Raises:
        sim.scenario.ScenarioError: naming the file, the field and the estimate.
    """
    from sim.scenario import ScenarioError
    from sim.scenario.budget import CELLS_PER_S, REQUESTS_PER_S, exceeds

    if getattr(args, "no_limits", False):
        return
    problem = exceeds(estimate, machine_limits())
    if problem is None:
        return
    if field is None:
        parts = {
            "time.horizon_days": estimate.cells / CELLS_PER_S,
            "gateway": estimate.gateway_requests / REQUESTS_PER_S,
            "sites.*.mtbf_hours": estimate.state_changes * 0.02,
        }
        field = max(parts, key=lambda k: parts[k])
    hint = {
        "time.horizon_days": "shorten time.horizon_days or raise time.step_minutes",
        "gateway": "shorten time.horizon_days or lower the gateway's request rates",
        "sites.*.mtbf_hours": "raise the sites' mtbf_hours",
    }.get(field, "make the run smaller")
    raise ScenarioError(file, field, f"{problem}; {hint}, or pass --no-limits to run it anyway")


def add_limits(sp: argparse.ArgumentParser) -> None:
    """Add ``--no-limits``: run even when the estimated memory or time exceeds this machine's limits."""
    sp.add_argument(
        "--no-limits",
        action="store_true",
        help=f"run even if the estimated memory or time exceeds this machine's limits "
        f"(${MAX_MEMORY_ENV}, default {MEMORY_SHARE:.0%} of memory; ${MAX_HOURS_ENV}, default {DEFAULT_MAX_HOURS:g} h)",
    )


def check_scenario_size(
    args: argparse.Namespace, scenario: Scenario, *, runs: int = 1, horizon_days: float | None = None, parallel: int = 1
) -> None:
    """Refuse ``runs`` simulations of a scenario that would not fit this machine (see :func:`check_run_size`).

    Args:
        args: the parsed command line (``scenario`` names the file, ``no_limits`` is read).
        scenario: the resolved scenario.
        runs: simulations of it the command does.
        horizon_days: simulated days of each, if not the scenario's.
        parallel: runs held in memory at once (worker processes).
    """
    from sim.scenario.budget import BASE_BYTES, estimate_run

    estimate = estimate_run(scenario, runs, horizon_days=horizon_days)
    if parallel > 1:
        one = estimate_run(scenario, 1, horizon_days=horizon_days)
        memory = max(estimate.memory_bytes, min(parallel, runs) * one.memory_bytes - (min(parallel, runs) - 1) * BASE_BYTES / 2)
        estimate = dataclasses.replace(estimate, memory_bytes=memory, seconds=estimate.seconds / min(parallel, runs))
    check_run_size(args, str(getattr(args, "scenario", "") or scenario.name), estimate)
