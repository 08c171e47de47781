"""The one writer: nothing foreign is replaced, one writer per folder, crash-safe replacement.

Each data-loss case of issue 13 is a test here that failed on the writer before it: a results
folder holding the user's files was replaced whole; a second run into a folder being written
was not stopped; a crash between the two renames of a replacement left the folder missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sim.cli import app as cli
from sim.report import io
from tests.conftest import ROOT, SCENARIOS

SHORT = ["--set", "time.horizon_days=2", "--set", "time.step_minutes=120", "--no-charts", "--no-requests"]


def run(out: Path, *extra: str) -> int:
    return cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--out", str(out), *extra])


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    return err[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def fill_with(files: dict[str, str]):
    def fill(tmp: Path) -> None:
        for name, text in files.items():
            (tmp / name).write_text(text, encoding="utf-8")

    return fill


# --- 1. only a folder this program wrote is replaced ------------------------------------------


def test_run_refuses_a_folder_with_user_files_and_deletes_nothing(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    (out / "analysis").mkdir(parents=True)
    (out / "summary.json").write_text('{"kpis": {}}', encoding="utf-8")  # looks like a result ...
    (out / "notes.txt").write_text("my notes", encoding="utf-8")  # ... but holds the user's work
    (out / "analysis" / "fit.py").write_text("print(1)", encoding="utf-8")
    (out / "my_scenario.toml").write_text((SCENARIOS / "clover.toml").read_text(), encoding="utf-8")
    before = snapshot(out)
    assert run(out) == 2
    line = one_line(capsys)
    assert "--out" in line and "did not write" in line
    assert snapshot(out) == before


def test_a_folder_we_wrote_is_replaced_but_not_once_the_user_adds_to_it(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    assert run(out) == 0
    marker = json.loads((out / io.MARKER).read_text())
    assert "summary.json" in marker["entries"] and marker["written_by"] == "clover-sim"
    assert run(out, "--seed", "5") == 0  # our own folder: replaced
    assert json.loads((out / "summary.json").read_text())["seed"] == 5
    capsys.readouterr()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    assert run(out, "--seed", "6") == 2
    assert "notes.txt" in one_line(capsys)
    assert (out / "notes.txt").read_text() == "keep me" and json.loads((out / "summary.json").read_text())["seed"] == 5


def test_the_writer_itself_refuses_a_foreign_folder(tmp_path: Path) -> None:
    out = tmp_path / "x"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work", encoding="utf-8")
    with pytest.raises(io.OutputError, match="did not write"):
        io.atomic_dir(out, fill_with({"a.csv": "1"}))
    assert (out / "thesis.tex").read_text() == "years of work"
    assert [p.name for p in tmp_path.iterdir()] == ["x"]  # no temporary left
    empty = tmp_path / "empty"
    empty.mkdir()
    io.atomic_dir(empty, fill_with({"a.csv": "1"}))  # an empty folder holds nothing to lose
    assert (empty / "a.csv").read_text() == "1"


# --- 2. one writer per destination --------------------------------------------------------------


def _hold_lock(out: Path) -> subprocess.Popen[str]:
    code = textwrap.dedent(f"""
        import sys, time
        from sim.report.io import lock_destination
        lock_destination({str(out)!r})
        print("locked", flush=True)
        time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_run_into_a_folder_being_written_exits_2_at_once(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    assert run(out) == 0
    before = snapshot(out)
    holder = _hold_lock(out)  # another clover-sim process is writing `out`
    try:
        started = time.monotonic()
        assert run(out, "--seed", "9") == 2
        assert time.monotonic() - started < 10  # refused before simulating, without waiting
        assert "being written by another clover-sim run" in one_line(capsys)
        assert snapshot(out) == before
        with pytest.raises(io.OutputError):  # the writer itself refuses too
            io.atomic_dir(out, fill_with({"a.csv": "1"}))
    finally:
        holder.kill()
        holder.wait()
    assert run(out, "--seed", "9") == 0  # the lock died with its holder
    assert json.loads((out / "summary.json").read_text())["seed"] == 9
    assert not list((tmp_path).glob(".*"))


def test_two_runs_started_together_one_wins_the_other_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "r"
    args = [sys.executable, "-m", "sim", "run", str(SCENARIOS / "clover.toml"), *SHORT, "--out", str(out)]
    hold = _hold_lock(tmp_path / "gate")  # both start while the machine is equally busy
    procs = [subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    hold.kill()
    hold.wait()
    results = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    codes = sorted(r[2] for r in results)
    # either they overlapped (one refused, exit 2 with one line) or ran one after the other (both 0);
    # never both 0 while overlapping, never a crash
    assert codes in ([0, 2], [0, 0]), results
    for _, err, code in results:
        if code == 2:
            assert len(err.strip().splitlines()) == 1 and "being written" in err
    assert json.loads((out / "summary.json").read_text())["scenario"] == "clover"


# --- 3. crash-safe replacement ------------------------------------------------------------------


def test_exchange_swaps_two_folders_atomically(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("A")
    (b / "x").write_text("B")
    if not io._exchange(a, b):
        pytest.skip("this file system cannot exchange two paths; the rename-aside fallback is tested below")
    assert (a / "x").read_text() == "B" and (b / "x").read_text() == "A"


def test_replacement_never_leaves_the_folder_missing(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "r"
    io.atomic_dir(out, fill_with({"v.txt": "old"}))
    seen: list[bool] = []
    real_rename = os.rename

    def watching(src, dst):  # every rename during the replacement: `out` still holds a complete result
        seen.append((out / "v.txt").exists())
        real_rename(src, dst)

    monkeypatch.setattr(io.os, "rename", watching)
    io.atomic_dir(out, fill_with({"v.txt": "new"}))
    assert (out / "v.txt").read_text() == "new" and all(seen)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_a_failure_between_the_renames_restores_the_old_result(tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "r"
    io.atomic_dir(out, fill_with({"v.txt": "old"}))
    monkeypatch.setattr(io, "_exchange", lambda a, b: False)  # a file system without exchange
    real_rename = os.rename

    def second_fails(src, dst):  # the new result cannot be renamed in (the old one can be renamed back)
        if Path(dst) == out and ".tmp-" in Path(src).name:
            raise OSError("disk gone")
        real_rename(src, dst)

    monkeypatch.setattr(io.os, "rename", second_fails)
    with pytest.raises(OSError, match="disk gone"):
        io.atomic_dir(out, fill_with({"v.txt": "new"}))
    assert (out / "v.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_a_crash_between_the_renames_is_recovered_before_anything_else(tmp_path: Path, capsys, monkeypatch) -> None:
    out = tmp_path / "r"
    assert run(out) == 0
    before = snapshot(out)
    crash = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from sim.report import io
        out = Path({str(out)!r})
        io._exchange = lambda a, b: False          # the fallback path ...
        real = os.rename
        def rename(src, dst):
            if Path(dst) == out:
                os._exit(9)                        # ... killed between the two renames
            real(src, dst)
        io.os.rename = rename
        io.atomic_dir(out, lambda tmp: (tmp / "summary.json").write_text("{{}}"))
    """)
    proc = subprocess.run([sys.executable, "-c", crash], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 9, proc.stderr
    assert not out.exists()  # what the crash left: the old result set aside under a hidden name
    (old,) = [p for p in tmp_path.iterdir() if p.name.startswith(".r.old-")]
    assert snapshot(old) == before
    # a hidden folder is never taken for a result
    assert cli.main(["report", str(old), "--out", str(tmp_path / "rep")]) == 2
    assert "hidden temporary folder" in one_line(capsys)
    # the next command that touches `out` restores it first, even if it then fails
    import sim.experiments.replicate

    def boom(*a, **k):
        raise RuntimeError("the simulation failed")

    monkeypatch.setattr(sim.experiments.replicate, "simulate", boom)
    assert run(out) == 1
    assert f"restored {out} from {old.name}" in capsys.readouterr().err
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]
    assert io.recover(out) == []  # nothing left to do


def test_the_command_line_recovers_and_says_so(tmp_path: Path, capsys) -> None:
    out = tmp_path / "r"
    assert run(out) == 0
    before = snapshot(out)
    os.rename(out, tmp_path / ".r.old-abcd1234")  # as a crash between the renames leaves it
    (tmp_path / ".r.tmp-efgh5678").mkdir()  # and an unfinished temporary of another attempt
    assert cli.main(["run", str(SCENARIOS / "clover.toml"), *SHORT, "--seed", "4", "--out", str(out)]) == 0
    assert "restored" in capsys.readouterr().err
    assert snapshot(out) != before and json.loads((out / "summary.json").read_text())["seed"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


# --- strict JSON --------------------------------------------------------------------------------


def test_dumps_json_is_always_strict() -> None:
    import numpy as np

    text = io.dumps_json({"a": float("nan"), "b": [float("inf"), -np.inf, np.float64(1.5)], "c": (1, "x")})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in strict JSON")) == {
        "a": None, "b": [None, None, 1.5], "c": [1, "x"]
    }
