"""The command line: exit codes, one-line errors, atomic results, determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import app as cli
from tests.conftest import SCENARIOS

SHORT = ["--set", "time.horizon_days=3", "--set", "time.step_minutes=60"]


def clover_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_run_writes_every_file(tmp_path: Path) -> None:
    out = tmp_path / "r"
    code = cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--replications", "2", "--out", str(out)])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"summary.json", "placement.csv", "transfers.csv", "latency.csv", "costs.csv", "kpis.csv"} <= names
    assert {"stored_by_site.png", "cost_by_site.png", "rtt_by_country.png"} <= names
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"scenario", "seed", "replications", "start", "end", "kpis", "resolved_scenario"}
    assert summary["replications"] == 2
    required = {
        "cost_eur_per_year", "energy_mwh_per_year", "co2_t_per_year", "stored_pb_total", "stored_pb_outside_residency",
        "residency_share", "transfer_tb_out_of_residency_per_year", "user_rtt_ms_p50", "user_rtt_ms_p95",
    }
    for site in ("dublin", "ireland2", "hamar"):
        required |= {f"stored_pb.{site}", f"cost_eur_per_year.{site}"}
    assert required <= set(summary["kpis"])
    for kpi in summary["kpis"].values():
        if kpi["mean"] is not None:  # None: not defined in this run (e.g. no failover happened)
            assert kpi["ci95_low"] <= kpi["mean"] <= kpi["ci95_high"]
    assert summary["kpis"]["residency_99_date"]["mean"] == "2025-01-01"
    assert summary["kpis"]["failover_rtt_ms_p95"]["mean"] is None
    assert summary["resolved_scenario"]["time"]["horizon_days"] == 3
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    def summary(seed: int, name: str) -> bytes:
        out = tmp_path / name
        assert cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--seed", str(seed), "--out", str(out), "--no-charts"]) == 0
        return (out / "summary.json").read_bytes()

    a, b, c = summary(7, "a"), summary(7, "b"), summary(8, "c")
    assert a == b
    assert a != c


def bad(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = clover_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "results").exists()
    return proc


def test_bad_inputs_exit_2_with_one_line_and_write_nothing(tmp_path: Path) -> None:
    clover = str(SCENARIOS / "clover.toml")
    p = bad(tmp_path, "run", "missing.toml")
    assert "missing.toml" in p.stderr and "not found" in p.stderr
    (tmp_path / "syntax.toml").write_text("name = \n", encoding="utf-8")
    p = bad(tmp_path, "run", "syntax.toml")
    assert "line 1" in p.stderr
    p = bad(tmp_path, "run", clover, "--set", "sites.hamar.pue=-1")
    assert "sites.hamar.pue" in p.stderr
    p = bad(tmp_path, "run", clover, "--set", "policy.placment=clover")
    assert "policy.placement" in p.stderr  # nearest valid key
    p = bad(tmp_path, "run", clover, "--set", "time.horizon_days=0")
    assert "time.horizon_days" in p.stderr
    p = bad(tmp_path, "run", clover, "--out", "../elsewhere")
    assert "--out" in p.stderr and "escapes" in p.stderr
    p = bad(tmp_path, "run", clover, "--set", 'name="../../etc"')
    assert "name" in p.stderr
    p = bad(tmp_path, "validate", clover, "--set", "population.shares.FR=2")
    assert "population" in p.stderr


def test_no_site_online_at_start_is_bad_input(tmp_path: Path) -> None:
    p = bad(tmp_path, "run", str(SCENARIOS / "clover.toml"), "--set", "time.start=2022-01-01", *SHORT)
    assert "policy.sites" in p.stderr and "online" in p.stderr


def test_validate_ok(tmp_path: Path) -> None:
    proc = clover_cli("validate", str(SCENARIOS / "clover.toml"), cwd=tmp_path)
    assert proc.returncode == 0 and "ok" in proc.stdout


def test_internal_error_exits_1_without_traceback(monkeypatch, capsys, tmp_path: Path) -> None:
    import sim.experiments.replicate

    def boom(*a, **k):
        raise RuntimeError("kaput")

    monkeypatch.setattr(sim.experiments.replicate, "simulate", boom)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT])
    err = capsys.readouterr().err
    assert code == 1 and "kaput" in err and "Traceback" not in err
    code = cli.main(["--debug", "run", str(SCENARIOS / "clover.toml"), *SHORT])
    assert code == 1 and "Traceback" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_failed_write_leaves_previous_results_intact(monkeypatch, tmp_path: Path) -> None:
    out = tmp_path / "r"
    assert cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--out", str(out), "--no-charts"]) == 0
    before = (out / "summary.json").read_bytes()
    import sim.report.files as files

    def broken(results, summary=None):
        raise OSError("disk full")

    monkeypatch.setattr(files, "result_chart_builders", broken)
    assert cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--seed", "3", "--out", str(out)]) == 1
    assert (out / "summary.json").read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["r"]


def test_default_out_is_results_scenario_name(tmp_path: Path) -> None:
    proc = clover_cli("run", str(SCENARIOS / "pre_clover.toml"), *SHORT, "--no-charts", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "results" / "pre_clover" / "summary.json").exists()
    assert "cost_eur_per_year" in proc.stdout  # the KPI table ends the run


def test_staff_command_prints_a_table_that_meets_the_target(capsys) -> None:
    code = cli.main(["staff", str(SCENARIOS / "clover.toml"), "--p95-wait", "45m", "--days", "7"])
    out = capsys.readouterr().out
    assert code == 0
    rows = [line.split() for line in out.splitlines()[2:] if line and not line.startswith("reviewer FTE")]
    assert {r[0] for r in rows} == {"on_call", "apac", "emea", "americas"}
    for r in rows:
        assert float(r[3]) <= 45.0  # simulated p95 review wait, minutes
    assert "reviewer FTE" in out


def test_staff_bad_duration_is_bad_input(tmp_path: Path) -> None:
    p = bad(tmp_path, "staff", str(SCENARIOS / "clover.toml"), "--p95-wait", "soon")
    assert "--p95-wait" in p.stderr
    p = bad(tmp_path, "staff", str(SCENARIOS / "pre_clover.toml"), "--p95-wait", "30m")
    assert "gateway.enabled" in p.stderr


def test_public_api_names_all_resolve() -> None:
    import sim

    for name in sim.__all__:
        assert getattr(sim, name) is not None


def test_gateway_without_reviewers_is_bad_input(tmp_path: Path) -> None:
    p = bad(tmp_path, "run", str(SCENARIOS / "clover.toml"), "--set", "gateway.reviewers=0", *SHORT)
    assert "gateway" in p.stderr and "reviewer" in p.stderr


def test_unstable_gateway_is_reported_not_hidden(tmp_path: Path) -> None:
    proc = clover_cli(
        "run", str(SCENARIOS / "clover.toml"), "--set", "gateway.reviewers=1", *SHORT, "--no-charts",
        "--set", "gateway.warmup_s=0", "--out", str(tmp_path / "r"), cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "warning: gateway: unstable" in proc.stderr


def test_one_replication_prints_no_interval(tmp_path: Path, capsys) -> None:
    """A single replication has no interval: the table says so instead of printing [x, x]."""
    code = cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--no-charts", "--out", str(tmp_path / "one")])
    out = capsys.readouterr().out
    assert code == 0
    assert "no interval" in out and "95 % interval" not in out
    assert not any(line.count("[") for line in out.splitlines() if line.startswith("cost_eur_per_year"))
    code = cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--no-charts", "--replications", "2",
                     "--out", str(tmp_path / "two")])
    out = capsys.readouterr().out
    assert code == 0 and "95 % interval" in out
    cost_line = next(line for line in out.splitlines() if line.startswith("cost_eur_per_year "))
    assert "[" in cost_line


# --- issue 13: runs that never end, paths checked before simulating, strict JSON, cache folder ---


def never_simulate(monkeypatch) -> None:
    """Make any simulation fail loudly: the checks under test must come before it."""
    import sim.experiments.replicate

    def boom(*a, **k):
        raise AssertionError("simulated although the input was bad")

    monkeypatch.setattr(sim.experiments.replicate, "simulate", boom)


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def test_a_run_too_large_for_the_machine_is_refused_with_its_estimate(monkeypatch, capsys, tmp_path: Path) -> None:
    never_simulate(monkeypatch)
    monkeypatch.chdir(tmp_path)
    clover = str(SCENARIOS / "clover.toml")
    # a century at one-second steps: valid figures, but terabytes of arrays
    assert cli.main(["run", clover, "--set", "time.horizon_days=36500", "--set", "time.step_minutes=0.02"]) == 2
    line = one_line_error(capsys)
    assert "time.horizon_days" in line and "TB of memory" in line and "--no-limits" in line
    assert cli.main(["validate", clover, "--set", "time.horizon_days=36500", "--set", "time.step_minutes=0.02"]) == 2
    assert "TB of memory" in one_line_error(capsys)
    assert cli.main(["validate", clover, "--set", "time.horizon_days=36500", "--no-limits"]) == 0  # the override
    capsys.readouterr()
    assert cli.main(["run", clover, *SHORT, "--replications", "1000000000"]) == 2
    assert "years" in one_line_error(capsys)
    assert cli.main(["staff", clover, "--p95-wait", "30m", "--days", "1e9"]) == 2
    line = one_line_error(capsys)
    assert "--days" in line and "gateway requests" in line
    assert cli.main(["staff", clover, "--p95-wait", "30m", "--days", "inf"]) == 2
    capsys.readouterr()
    monkeypatch.setenv("CLOVER_SIM_MAX_MEMORY_GB", "0.1")  # the limits can be set for the machine
    assert cli.main(["run", clover, *SHORT]) == 2
    assert "this machine allows 100 MB" in one_line_error(capsys)
    monkeypatch.setenv("CLOVER_SIM_MAX_MEMORY_GB", "lots")
    assert cli.main(["run", clover, *SHORT]) == 2
    assert "CLOVER_SIM_MAX_MEMORY_GB" in one_line_error(capsys)
    assert not (tmp_path / "results").exists()


def test_the_estimate_bounds_what_a_run_really_takes(tmp_path: Path) -> None:
    code = (
        "import json, resource, sys, time\n"
        "from sim import load_scenario\n"
        "from sim.scenario.budget import estimate_run\n"
        "from sim.experiments.replicate import simulate\n"
        f"sc = load_scenario({str(SCENARIOS / 'clover.toml')!r}, ['time.horizon_days=21', 'time.step_minutes=15'])\n"
        "est = estimate_run(sc, 2)\n"
        "t = time.perf_counter(); r = simulate(sc, replications=2, seed=1); el = time.perf_counter() - t\n"
        "n = r.replications[0].kpis['gateway_requests_per_year'].value * 21 / 365.25\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
        "print(json.dumps([est.memory_bytes, rss, est.gateway_requests, n, est.seconds, el]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    est_mem, rss, est_requests, requests, est_s, elapsed = numbers = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rss <= est_mem <= 4 * rss, numbers  # an upper bound, but not a wild one
    assert 0.9 * requests <= est_requests <= 1.3 * requests, numbers  # the request count itself is close
    assert est_s <= 20 * max(elapsed, 0.5), numbers  # time: the right order of magnitude (machines differ)


def test_destination_problems_are_found_before_simulating(monkeypatch, capsys, tmp_path: Path) -> None:
    never_simulate(monkeypatch)
    clover = str(SCENARIOS / "clover.toml")
    (tmp_path / "a_file").write_text("x")
    for out, words in [
        (tmp_path / "a_file" / "r", "is a file"),
        (tmp_path / ("x" * 300), "bytes; at most"),
        (Path("/sys/clover-sim-results"), "cannot write"),
        (tmp_path / "a_file", "not a folder"),
    ]:
        assert cli.main(["run", clover, *SHORT, "--out", str(out)]) == 2, out
        line = one_line_error(capsys)
        assert "--out" in line and words in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_found_before_simulating(monkeypatch, capsys, tmp_path: Path) -> None:
    never_simulate(monkeypatch)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--out", str(ro / "r")]) == 2
        assert "cannot write" in one_line_error(capsys)
    finally:
        ro.chmod(0o755)


def test_summary_json_is_strict_json(tmp_path: Path) -> None:
    out = tmp_path / "r"
    code = cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--no-charts", "--out", str(out),
                     "--set", "data_classes.user_content.retention_days=inf"])
    assert code == 0
    text = (out / "summary.json").read_text()
    summary = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in summary.json"))
    assert summary["resolved_scenario"]["data_classes"]["user_content"]["retention_days"] == "inf"
    assert summary["kpis"]["failover_rtt_ms_p95"]["mean"] is None  # undefined: null, not NaN


def test_compiled_kernels_and_matplotlib_use_the_user_cache_folder(tmp_path: Path) -> None:
    import numba

    from sim.cachedir import cache_dir
    from sim.model.gateway import kernel

    expected = os.environ.get("NUMBA_CACHE_DIR") or str(cache_dir("numba"))
    dispatchers = [f for f in vars(kernel).values() if isinstance(f, numba.core.registry.CPUDispatcher)]
    assert dispatchers
    for f in dispatchers:
        assert f._cache._cache_path.startswith(expected), f._cache._cache_path  # never next to the source
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "NUMBA_CACHE_DIR", "XDG_CACHE_HOME")}
    env["CLOVER_SIM_CACHE_DIR"] = str(tmp_path / "cache")
    code = (
        "from sim.cli.app import main\n"
        f"main(['validate', {str(SCENARIOS / 'clover.toml')!r}])\n"
        "import matplotlib\nfrom numba.core import config\n"
        "import sim.model.gateway.kernel\n"
        "print(matplotlib.get_cachedir()); print(config.CACHE_DIR)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, check=True)
    mpl, nb = proc.stdout.strip().splitlines()[-2:]
    assert mpl == str(tmp_path / "cache" / "matplotlib") and nb == str(tmp_path / "cache" / "numba")


def test_a_run_pays_no_import_it_does_not_use(tmp_path: Path) -> None:
    """``clover-sim run`` (fresh interpreter) loads no SciPy statistics, optimisation or Dask.

    The statistics of one replication come from stored quantiles (sim.results.normal_quantiles);
    ``scipy.stats`` alone would cost about a second of every run.
    """
    code = (
        "import sys\nfrom sim.cli.app import main\n"
        f"code = main(['run', {str(SCENARIOS / 'clover.toml')!r}, *{SHORT!r}, '--no-charts', '--out', "
        f"{str(tmp_path / 'r')!r}])\n"
        "print(code, ' '.join(sorted(m for m in sys.modules if m.startswith("
        "('scipy.stats', 'scipy.optimize', 'scipy.spatial', 'scipy.signal', 'dask', 'distributed')))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    exit_code, *loaded = proc.stdout.strip().splitlines()[-1].split()
    assert exit_code == "0" and loaded == [], loaded
