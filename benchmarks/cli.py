"""The default run as a user runs it: ``clover-sim run scenarios/clover.toml``, a fresh process each time.

Default outputs (tables, charts, no per-request table) into a temporary folder, ``REPEATS`` times;
the fastest wall time is kept (other jobs on a shared machine only ever slow a run down). Beside
it: the CPU seconds of that run (user + system of the child), what the interpreter and the
imports of ``run`` cost alone (a fresh process importing what the command imports), and the
load average. The numba cache is warmed first (one run), as it is for a user after the first
run.

Prints, as its last line, ``cli_run_s: <seconds>``. Run::

    .venv/bin/python benchmarks/cli.py [--repeats 3] [--scenario scenarios/clover.toml]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The installed command; without the project's .venv, the same command as ``python -m sim``.
CLI = [str(ROOT / ".venv" / "bin" / "clover-sim")] if (ROOT / ".venv" / "bin" / "clover-sim").exists() else [
    sys.executable, "-m", "sim"]
#: What ``clover-sim run`` imports before it simulates (see sim/cli/run.py).
IMPORTS = "import sim.cli.app, sim.experiments.replicate, sim.model.world, sim.report.files"


def timed(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scenario", default="scenarios/clover.toml")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = [*CLI, "run", args.scenario, "--out", f"{tmp}/out"]
        timed(run)  # compiled kernels in the cache, files in the page cache
        runs = [timed(run) for _ in range(args.repeats)]
        imports = min(timed([sys.executable, "-c", IMPORTS]) for _ in range(args.repeats))
        written = sorted(p.name for p in Path(tmp, "out").iterdir() if not p.name.startswith("."))
    wall, cpu = min(runs)
    print(f"clover-sim run {args.scenario}: {len(runs)} runs, load average {os.getloadavg()[0]:.2f}")
    print(f"  wall {', '.join(f'{w:.2f}' for w, _ in runs)} s; fastest {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"  interpreter and the command's imports alone: {imports[0]:.2f} s wall, {imports[1]:.2f} s CPU")
    print(f"  wrote: {', '.join(written)}")
    print(f"cli_run_s: {wall:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
