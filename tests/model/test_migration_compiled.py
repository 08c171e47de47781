"""The compiled migration loop against its specification, ``MigrationBacklog.step`` in NumPy.

The two add up in different orders, so they agree to rounding: every figure within 1e-12 of the
largest figure of its kind (a byte count that cancels to ~0 has no relative precision to hold).
The number of steps run, and so when the backlog empties, is the same.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.model.migration import MigrationBacklog
from sim.model.storage import migrate_steps


def _reference(backlog: MigrationBacklog, dt_s, retention_s, cap, stored, periods) -> dict:
    """The NumPy loop the compiled one replaced: one ``MigrationBacklog.step`` per step."""
    k, s = backlog.drops.shape
    tally = {name: np.zeros((k, s)) for name in ("deleted", "moved_out", "moved_in", "replicated", "dropped")}
    acc = np.zeros((2, periods.max() + 1, k, s, s))
    steps = len(dt_s)
    for i in range(len(dt_s)):
        if backlog.empty:
            steps = i
            break
        decay = np.exp(-dt_s[i] / retention_s)
        logical = stored[i].copy()
        d = backlog.step(float(dt_s[i]), decay, cap, logical)
        tally["deleted"] += d.extra_deleted
        tally["moved_out"] += d.moves.sum(axis=2)
        tally["moved_in"] += d.moves.sum(axis=1)
        tally["replicated"] += d.copies.sum(axis=1)
        tally["dropped"] += d.dropped
        stored[i] = logical + backlog.adjustment()
        acc[0, periods[i]] += d.moves
        acc[1, periods[i]] += d.copies
    return {**tally, "acc": acc, "stored": stored, "steps": steps, "moves": backlog.moves, "copies": backlog.copies,
            "drops": backlog.drops}


def _compiled(backlog: MigrationBacklog, dt_s, retention_s, cap, stored, periods) -> dict:
    k, s = backlog.drops.shape
    tally = {name: np.zeros((k, s)) for name in ("deleted", "moved_out", "moved_in", "replicated", "dropped")}
    acc = np.zeros((2, periods.max() + 1, k, s, s))
    decay = np.exp(-dt_s[:, None] / retention_s[None, :])
    steps = migrate_steps(backlog.moves, backlog.copies, backlog.drops, dt_s, decay, cap, stored, tally["deleted"],
                          tally["moved_out"], tally["moved_in"], tally["replicated"], tally["dropped"], periods, acc)
    return {**tally, "acc": acc, "stored": stored, "steps": steps, "moves": backlog.moves, "copies": backlog.copies,
            "drops": backlog.drops}


def _case(seed: int):
    rng = np.random.default_rng(seed)
    k, s = int(rng.integers(1, 5)), int(rng.integers(2, 10))  # 8+ sites: NumPy sums pairwise
    n = int(rng.integers(5, 400))
    backlog = MigrationBacklog(k, s)
    moves = rng.exponential(1e5, (k, s, s)) * (rng.random((k, s, s)) < 0.5)
    copies = rng.exponential(1e5, (k, s, s)) * (rng.random((k, s, s)) < 0.3)
    for a in (moves, copies):
        a[:, np.arange(s), np.arange(s)] = 0.0
    backlog.add(moves, copies, rng.exponential(1e4, (k, s)) * (rng.random((k, s)) < 0.5))
    dt_s = np.full(n, 900.0)
    dt_s[-1] = float(rng.uniform(1.0, 900.0))
    retention_s = rng.uniform(1e6, 1e9, k)
    cap = rng.uniform(0.0, 400.0, (s, s)) * (rng.random((s, s)) < 0.8)  # some links cut
    # logical stock: large, or small enough that what a site physically holds limits its sends
    stored = rng.exponential(1e5 if seed % 2 else 1e3, (n, k, s))
    periods = np.sort(rng.integers(0, 4, n)).astype(np.int64)
    return backlog, dt_s, retention_s, cap, stored, periods


@pytest.mark.parametrize("seed", range(40))
def test_compiled_migration_is_the_numpy_step_to_rounding(seed: int) -> None:
    args = _case(seed)
    ref = _reference(*_copy(args))
    got = _compiled(*_copy(args))
    assert got["steps"] == ref["steps"]
    for name, want in ref.items():
        if name == "steps":
            continue
        scale = max(float(np.abs(want).max(initial=0.0)), 1.0)
        np.testing.assert_allclose(got[name], want, rtol=0, atol=1e-12 * scale, err_msg=name)


def test_a_backlog_that_empties_stops_the_loop() -> None:
    backlog, dt_s, retention_s, cap, stored, periods = _case(3)
    cap[:] = 1e9  # everything crosses in the first step: links wide, every site holds plenty
    stored[:] = 1e12
    got = _compiled(backlog, dt_s, retention_s, cap, stored.copy(), periods)
    assert got["steps"] == 1
    assert not got["moves"].any() and not got["copies"].any() and not got["drops"].any()


def _copy(args):
    backlog, dt_s, retention_s, cap, stored, periods = args
    b = MigrationBacklog(*backlog.drops.shape)
    b.moves[:], b.copies[:], b.drops[:] = backlog.moves, backlog.copies, backlog.drops
    return b, dt_s, retention_s, cap, stored.copy(), periods
