"""Memory of the gateway: peak resident memory per gateway request, as a user runs a scenario.

Each case runs ``clover-sim run SCENARIO`` (default outputs: tables and charts, no per-request
table) twice in fresh processes: as it is and with ``--set gateway.enabled=false``. The gateway's
memory is the difference of the two peak resident set sizes (``getrusage(RUSAGE_CHILDREN)`` of a
wrapper process that runs only that one command), divided by the gateway requests of the run
(``gateway_requests_per_year`` x the counted years, from ``summary.json``; the one-day warm-up
is left out, which overstates the figure by ~0.3 % for a year). A third run with ``--requests``
shows what writing the per-request table adds (it is written in row groups while the run goes on).

Cases: ``year`` (scenarios/clover.toml, one year, ~7 M requests) and ``timeline``
(scenarios/clover_timeline.toml, five years, ~40 M requests). Prints per case the peak RSS of
each run and, as the last line of each case, ``bytes_per_request: <bytes> (<case>)``. Run::

    .venv/bin/python benchmarks/memory.py [--case year|timeline|all] [--with-requests]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {"year": "scenarios/clover.toml", "timeline": "scenarios/clover_timeline.toml"}
YEAR_S = 365.25 * 86400.0

_WRAPPER = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)
"""


def peak_rss_kb(args: list[str]) -> tuple[int, float]:
    """(peak resident set size in KiB, wall seconds) of one fresh ``clover-sim`` process."""
    cli = [str(ROOT / ".venv" / "bin" / "clover-sim"), *args]
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _WRAPPER, *cli], capture_output=True, text=True, check=True, cwd=ROOT)
    elapsed = time.perf_counter() - t0
    rss, code = out.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"clover-sim {' '.join(args)} failed with exit code {code}")
    return int(rss), elapsed


def gateway_requests(summary_file: Path) -> float:
    """Counted gateway requests of a run, from its summary."""
    doc = json.loads(summary_file.read_text(encoding="utf-8"))
    per_year = doc["kpis"]["gateway_requests_per_year"]["mean"]
    warmup = doc["resolved_scenario"]["gateway"]["warmup_s"]
    horizon = doc["resolved_scenario"]["time"]["horizon_days"] * 86400.0
    return per_year * (horizon - warmup) / YEAR_S


def run_case(name: str, with_requests: bool) -> float:
    """Measure one case; returns its bytes per request."""
    scenario = CASES[name]
    with tempfile.TemporaryDirectory() as tmp:
        on, t_on = peak_rss_kb(["run", scenario, "--out", f"{tmp}/on"])
        off, t_off = peak_rss_kb(["run", scenario, "--out", f"{tmp}/off", "--set", "gateway.enabled=false"])
        requests = gateway_requests(Path(tmp) / "on" / "summary.json")
        print(f"{name}: {scenario}, {requests:,.0f} gateway requests; load average {os.getloadavg()[0]:.2f}")
        print(f"  gateway on:  peak RSS {on / 1024:,.0f} MiB ({t_on:.1f} s)")
        print(f"  gateway off: peak RSS {off / 1024:,.0f} MiB ({t_off:.1f} s)")
        if with_requests:
            req, t_req = peak_rss_kb(["run", scenario, "--out", f"{tmp}/req", "--requests"])
            size = (Path(tmp) / "req" / "gateway_requests.parquet").stat().st_size
            print(f"  with --requests: peak RSS {req / 1024:,.0f} MiB ({t_req:.1f} s), table {size / 1e6:,.0f} MB")
    per_request = (on - off) * 1024 / requests
    print(f"bytes_per_request: {per_request:.1f} ({name})")
    return per_request


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--with-requests", action="store_true", help="also measure a run with --requests")
    args = parser.parse_args()
    for name in CASES if args.case == "all" else [args.case]:
        run_case(name, args.with_requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
