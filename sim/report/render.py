"""Rendering a set of charts to PNG files, on two processes where the platform can fork.

A chart costs 0.2-0.4 s to build, lay out and draw, all of it in Matplotlib's Python code under
one interpreter lock, so threads do not help. On Linux a forked child (it shares the parent's
memory, imports and tables: nothing is copied or pickled) draws charts while the parent writes
its tables; then both take the next chart not yet taken until none is left (a shared array of
states, so the work balances itself whatever each chart costs). Each file is written by exactly
one process, with the same bytes either way; a chart the child took but did not write (it
failed or could not be started) is drawn by the parent, so an error surfaces once, in the
parent, with its own message.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from sim.report.charts.style import save_png

__all__ = ["ChartJob"]

#: Shortest wait for the child once the parent has drawn its charts, s. The wait is 10 x the
#: parent's slowest chart if that is longer; past it the child is stopped (a child that inherited
#: a lock held by another thread would wait for ever) and the parent draws what it left.
CHILD_MIN_WAIT_S = 30.0

#: States of a chart in the shared array: not taken yet, taken by the child, written by the child.
_FREE, _CHILD, _WRITTEN = 0, 1, 2

ChartBuilder = Callable[[], Figure]


def _take(state: Any, taker: int) -> int:
    """Index of the next free chart, marked as taken by ``taker`` (-1 when none is left)."""
    with state.get_lock():
        for i in range(len(state)):
            if state[i] == _FREE:
                state[i] = taker
                return i
    return -1


def _child(job: ChartJob) -> None:  # pragma: no cover - runs in the forked child
    try:
        while (i := _take(job.state, _CHILD)) >= 0:
            job.write(job.names[i])
            job.state[i] = _WRITTEN
    except BaseException:  # noqa: BLE001 - the parent draws what is left and reports
        os._exit(1)
    os._exit(0)


class ChartJob:
    """Charts being written, by a forked child (started here) and then by the caller (``finish``).

    ``finish()`` draws the charts left and returns once every file is written; on an error it
    stops the child and raises. ``cancel()`` stops the child when the folder is being discarded.

    Args:
        builders: file name -> function building the chart's figure.
        folder: where the PNG files go.
        dpi: resolution, dots per inch.
        metadata: PNG metadata, as for ``savefig``.
        parallel: let a forked child draw charts (only where ``fork`` is safe: Linux).
    """

    def __init__(self, builders: Mapping[str, ChartBuilder], folder: Path, *, dpi: float,
                 metadata: dict[str, str | None], parallel: bool = True) -> None:
        self.builders, self.folder, self.dpi, self.metadata = builders, folder, dpi, metadata
        self.names: list[str] = list(builders)
        self.state: Any = None
        self.process: Any = None
        if parallel and len(self.names) > 1 and _can_fork():
            try:
                ctx = multiprocessing.get_context("fork")
                self.state = ctx.Array("b", len(self.names))
                self.process = ctx.Process(target=_child, args=(self,), daemon=True)
                sys.stdout.flush()
                sys.stderr.flush()
                self.process.start()
            except (OSError, ValueError):  # no fork here (limits): the caller draws everything
                self.state = self.process = None

    def write(self, name: str) -> None:
        """Build one chart and write its PNG."""
        save_png(self.builders[name](), self.folder / name, dpi=self.dpi, metadata=self.metadata)

    def finish(self) -> None:
        """Draw the charts left, wait for the child, draw what it took but did not write."""
        try:
            if self.state is None:
                for name in self.names:
                    self.write(name)
                return
            slowest = 0.0
            while (i := _take(self.state, -1)) >= 0:
                started = time.perf_counter()
                self.write(self.names[i])
                slowest = max(slowest, time.perf_counter() - started)
        except BaseException:
            self.cancel()
            raise
        self._join(max(CHILD_MIN_WAIT_S, 10.0 * slowest))
        for i, name in enumerate(self.names):
            if self.state[i] == _CHILD:  # taken, never written: the child failed
                self.write(name)

    def cancel(self) -> None:
        """Stop the child (the folder is being discarded)."""
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()

    def _join(self, timeout_s: float) -> None:
        self.process.join(timeout_s)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


def _can_fork() -> bool:
    """Whether a forked child may draw charts here.

    Only on Linux (macOS frameworks and Windows have no safe fork) and outside a Jupyter kernel
    (its messaging threads hold locks a forked child could inherit).
    """
    return (sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
            and not _in_jupyter_kernel())


def _in_jupyter_kernel() -> bool:
    """Whether this process is a running Jupyter (ZMQ) kernel."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
