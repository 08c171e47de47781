"""Charts drawn on two processes: the same files as drawn on one, and nothing lost when the child fails."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from sim.report import render
from sim.report.charts.style import new_figure


def _chart(label: str) -> Figure:
    fig = new_figure((3.0, 2.0))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [0, len(label), 1])
    ax.set_title(label)
    return fig


def _builders(n: int, fail_in_child: set[int] = frozenset()) -> dict:
    parent = os.getpid()

    def build(i: int):
        def go() -> Figure:
            if i in fail_in_child and os.getpid() != parent:
                raise RuntimeError("child failure")
            return _chart(f"chart {i}")
        return go

    return {f"c{i}.png": build(i) for i in range(n)}


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_two_processes_write_the_same_bytes_as_one(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    render.ChartJob(_builders(5), one, dpi=50, metadata={"Software": None}, parallel=False).finish()
    render.ChartJob(_builders(5), two, dpi=50, metadata={"Software": None}, parallel=True).finish()
    assert _files(one) == _files(two)
    assert len(_files(one)) == 5


@pytest.mark.skipif(not render._can_fork(), reason="no safe fork on this platform")
def test_a_chart_the_child_failed_on_is_drawn_by_the_parent(tmp_path: Path) -> None:
    ref, out = tmp_path / "ref", tmp_path / "out"
    ref.mkdir()
    out.mkdir()
    render.ChartJob(_builders(4), ref, dpi=50, metadata={"Software": None}, parallel=False).finish()
    job = render.ChartJob(_builders(4, fail_in_child={0, 1, 2, 3}), out, dpi=50, metadata={"Software": None})
    assert job.process is not None
    job.finish()
    assert job.process.exitcode == 1  # the child failed on the first chart it took
    assert _files(out) == _files(ref)


def test_an_error_in_the_parent_is_raised_and_stops_the_child(tmp_path: Path) -> None:
    def broken() -> Figure:
        raise ValueError("bad table")

    builders = {"a.png": broken, **{f"b{i}.png": (lambda i=i: _chart(str(i))) for i in range(3)}}
    job = render.ChartJob(builders, tmp_path, dpi=50, metadata={"Software": None})
    with pytest.raises(ValueError, match="bad table"):
        job.finish()
    assert job.process is None or not job.process.is_alive()


def test_no_fork_inside_a_jupyter_kernel(monkeypatch) -> None:
    """A running kernel's messaging threads hold locks: its charts are drawn in one process."""
    import types

    class ZMQInteractiveShell:  # the class name is what the check looks at
        pass

    fake = types.SimpleNamespace(get_ipython=lambda: ZMQInteractiveShell())
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert not render._can_fork()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert render._can_fork() == sys.platform.startswith("linux")


@pytest.mark.skipif(not render._can_fork(), reason="no safe fork on this platform")
def test_a_stuck_child_is_stopped_and_its_chart_drawn_by_the_parent(tmp_path: Path, monkeypatch) -> None:
    """A child that never finishes (e.g. a lock inherited from another thread) costs a bounded wait."""
    import time

    parent = os.getpid()

    def stuck() -> Figure:
        if os.getpid() != parent:
            time.sleep(600)
        return _chart("stuck")

    monkeypatch.setattr(render, "CHILD_MIN_WAIT_S", 1.0)
    ref = tmp_path / "ref"
    ref.mkdir()
    render.ChartJob({"a.png": stuck}, ref, dpi=50, metadata={"Software": None}, parallel=False).finish()
    out = tmp_path / "out"
    out.mkdir()
    # the child starts at once and takes a.png first; the parent finds nothing left, waits, stops it
    job = render.ChartJob({"a.png": stuck, "b.png": lambda: _chart("b")}, out, dpi=50,
                            metadata={"Software": None})
    time.sleep(0.5)  # let the child take a.png before the parent looks
    started = time.perf_counter()
    job.finish()
    assert time.perf_counter() - started < 30
    assert (out / "a.png").read_bytes() == (ref / "a.png").read_bytes()
    assert (out / "b.png").exists()
