"""Executors: where many runs execute, one process per core or on a Dask cluster.

An executor takes :class:`~sim.experiments.runs.RunTask` s and calls ``on_outcome`` in the driver process
(the caller's thread) once per task, in completion order. Runs are sent in *chunks* of a few
runs so that short runs do not pay the dispatch cost one by one; the pool is kept between
calls so worker start-up is paid once.

* :class:`SerialExecutor` - in this process (tests, tiny jobs).
* :class:`LocalExecutor` - a ``ProcessPoolExecutor`` with the *spawn* start method, one worker
  per core by default. A worker that dies breaks the pool: the pool is rebuilt and the chunks in
  flight are sent again, one run per chunk; a run whose worker dies twice is reported failed.
  On Ctrl-C the workers (which ignore SIGINT themselves) are terminated and the interrupt is
  re-raised: runs already handed to ``on_outcome`` are kept, runs in flight are lost.
* :class:`DaskExecutor` - a running Dask distributed scheduler (``tcp://HOST:PORT``). Dask
  re-runs the tasks of a worker that dies on the remaining workers; a task that Dask gives up on
  is reported as failed runs.

No executor prints; progress goes through the ``on_outcome`` callback.
"""

from __future__ import annotations

import math
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Protocol

from sim.experiments.runs import RunOutcome, RunTask, execute_chunk

__all__ = [
    "Executor",
    "ExecutorError",
    "SerialExecutor",
    "LocalExecutor",
    "DaskExecutor",
    "make_executor",
    "chunk_size",
]

OnOutcome = Callable[[RunOutcome], None]

#: Upper bound of runs per chunk: a Ctrl-C loses at most this many runs per worker.
MAX_CHUNK = 16


class ExecutorError(RuntimeError):
    """The executor itself cannot go on (e.g. the Dask scheduler is unreachable)."""


class Executor(Protocol):
    """Runs tasks somewhere and reports each outcome to the driver."""

    @property
    def workers(self) -> int:
        """How many runs can execute at once."""
        ...

    def run(self, tasks: Sequence[RunTask], on_outcome: OnOutcome) -> None:
        """Execute every task; call ``on_outcome`` once per task in the caller's thread."""
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


def chunk_size(n_tasks: int, workers: int, *, per_worker: int = 10) -> int:
    """Runs per chunk: about ``per_worker`` chunks per worker, between 1 and :data:`MAX_CHUNK`."""
    return max(1, min(MAX_CHUNK, math.ceil(n_tasks / max(1, workers * per_worker))))


def _chunks(tasks: Sequence[RunTask], size: int) -> Iterator[list[RunTask]]:
    for i in range(0, len(tasks), size):
        yield list(tasks[i : i + size])


class SerialExecutor:
    """Runs every task in this process, one after the other."""

    workers = 1

    def run(self, tasks: Sequence[RunTask], on_outcome: OnOutcome) -> None:
        """Execute the tasks in order."""
        for task in tasks:
            on_outcome(execute_chunk([task])[0])

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> SerialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _init_local_worker() -> None:
    """Worker start-up: leave Ctrl-C to the driver, import the model once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import sim.experiments.replicate  # noqa: F401 - warm import of the model, paid once per worker


@dataclass
class _Chunk:
    tasks: list[RunTask]
    attempts: int = 0


class LocalExecutor:
    """A pool of local worker processes (spawn start method), kept between calls.

    Args:
        workers: number of processes; default every core (``os.cpu_count()``).
        max_attempts: how often a run is sent again after its worker died before it is
            reported failed.
    """

    def __init__(self, workers: int | None = None, *, max_attempts: int = 2) -> None:
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1 (got {workers})")
        self._workers = workers or os.cpu_count() or 1
        self._max_attempts = max_attempts
        self._pool: ProcessPoolExecutor | None = None

    @property
    def workers(self) -> int:
        """Number of worker processes."""
        return self._workers

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_local_worker,
            )
        return self._pool

    def start(self) -> LocalExecutor:
        """Start the worker processes now (otherwise they start with the first run)."""
        pool = self._get_pool()
        for f in [pool.submit(os.getpid) for _ in range(self._workers)]:
            f.result()
        return self

    def run(self, tasks: Sequence[RunTask], on_outcome: OnOutcome) -> None:
        """Execute the tasks on the pool; see the module docstring for failures and Ctrl-C."""
        queue = deque(_Chunk(c) for c in _chunks(tasks, chunk_size(len(tasks), self._workers)))
        in_flight: dict[Future[list[RunOutcome]], _Chunk] = {}
        try:
            while queue or in_flight:
                pool = self._get_pool()
                while queue and len(in_flight) < 2 * self._workers:
                    chunk = queue.popleft()
                    in_flight[pool.submit(execute_chunk, chunk.tasks)] = chunk
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                broken = False
                for future in done:
                    chunk = in_flight.pop(future)
                    try:
                        outcomes = future.result()
                    except BrokenProcessPool:
                        broken = True
                        self._retry(chunk, queue, on_outcome)
                        continue
                    for outcome in outcomes:
                        on_outcome(outcome)
                if broken:
                    for chunk in in_flight.values():
                        self._retry(chunk, queue, on_outcome)
                    in_flight.clear()
                    self._kill_pool()
        except BaseException:
            for future in in_flight:
                future.cancel()
            self._kill_pool()
            raise

    def _retry(self, chunk: _Chunk, queue: deque[_Chunk], on_outcome: OnOutcome) -> None:
        """Send the runs of a chunk whose worker died again, one run per chunk."""
        attempts = chunk.attempts + 1
        for task in chunk.tasks:
            if attempts > self._max_attempts:
                on_outcome(RunOutcome.failed(task.run_id, f"WorkerDied: a worker process died {attempts} times running it"))
            else:
                queue.append(_Chunk([task], attempts))

    def _kill_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # ProcessPoolExecutor has no public way to stop busy workers before Python 3.14.
        procs = list((getattr(pool, "_processes", None) or {}).values())
        for p in procs:
            if p.is_alive():
                p.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            p.join(timeout=5)

    def close(self) -> None:
        """Stop the worker processes."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DaskExecutor:
    """Runs chunks on a Dask distributed cluster started by the user.

    Args:
        address: the scheduler, e.g. ``tcp://10.0.0.5:8786``.
        timeout_s: how long to wait for the scheduler to answer.
    """

    def __init__(self, address: str, *, timeout_s: float = 10.0) -> None:
        try:
            from distributed import Client
        except ImportError as exc:  # pragma: no cover - dask is a dependency
            raise ExecutorError("--scheduler needs dask distributed: pip install 'dask[distributed]'") from exc
        try:
            self._client: Any = Client(address, timeout=timeout_s, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    @property
    def workers(self) -> int:
        """Threads over all workers currently connected (at least 1)."""
        return max(1, sum(self._client.nthreads().values()))

    def run(self, tasks: Sequence[RunTask], on_outcome: OnOutcome) -> None:
        """Submit every chunk and hand each outcome back as its chunk completes."""
        from distributed import as_completed

        size = chunk_size(len(tasks), self.workers)
        chunks = {}
        for chunk in _chunks(tasks, size):
            key = f"clover-run-{chunk[0].run_id[:16]}-{os.urandom(4).hex()}"
            future = self._client.submit(execute_chunk, chunk, pure=False, key=key)
            chunks[future] = chunk
        try:
            for future in as_completed(list(chunks), loop=self._client.loop):
                chunk = chunks.pop(future)
                try:
                    outcomes = future.result()
                except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: the runs failed, the sweep goes on
                    outcomes = [RunOutcome.failed(t.run_id, f"{type(exc).__name__}: {exc}") for t in chunk]
                for outcome in outcomes:
                    on_outcome(outcome)
        except BaseException:
            self._client.cancel(list(chunks))
            raise

    def close(self) -> None:
        """Disconnect from the scheduler (the cluster keeps running)."""
        self._client.close()

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def make_executor(scheduler: str | None = None, workers: int | None = None) -> LocalExecutor | DaskExecutor:
    """The executor the command line asks for.

    Args:
        scheduler: a Dask scheduler address (``tcp://HOST:PORT``), or None for local processes.
        workers: local worker processes (default every core); ignored with a scheduler.
    """
    if scheduler:
        return DaskExecutor(scheduler)
    return LocalExecutor(workers)
