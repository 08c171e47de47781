"""The fast gateway equals the SimPy reference, request by request, whatever its chunks.

The fast method draws the streams chunk by chunk (``StreamChunks``) and runs the compiled queues
over a ring of slots (``QueueRunner``); the reference draws everything at once (``draw_streams``)
and runs SimPy. These tests run both on many seeds and shapes (regional shifts, priorities,
outages, deterministic times that create ties, resubmissions, transfers, third-party sampling,
the three policies, chunks of a few rows up to whole runs) with small horizons so that each
SimPy run takes a fraction of a second.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model import gateway as gw
from sim.model.gateway import GatewayConfig, simulate_gateway
from sim.model.gateway import kernel as kernels
from sim.model.gateway.calendar import week_offset_s
from sim.model.gateway.engines import run_fast
from sim.model.gateway.routing import plan
from sim.model.gateway.run import queue_inputs
from sim.model.gateway.streams import draw_streams
from sim.results.gateway import gateway_kpis
from tests.conftest import clover_gateway

START = dt.datetime(2024, 3, 4, 6, 30, tzinfo=dt.timezone.utc)  # a Monday
DAY = 86400.0


#: Users over the runs, hour by hour (growing, so that the user-driven rates change at every step).
MAU_PATH = (np.arange(0.0, 3 * DAY + 1.0, 3600.0), 150e6 * (1.0 + 0.01 * np.arange(72)))


def small_defaults(**overrides: object) -> GatewayConfig:
    """Clover's gateway organisation scaled down ~20x so that SimPy stays fast.

    ``transfers`` and ``third_party`` patch Clover's tables (the code has no transfer or monitor
    figures of its own); the monitor is off unless ``third_party`` turns it on.
    """
    data = clover_gateway().model_dump()
    for region in data["regions"]:
        region["head_count"] = max(1, region["head_count"] // 20)
    for cause in data["user_driven"]:
        cause["requests_per_million_mau_per_day"] /= 20
    for shift in data["shifts"]:
        shift["reviewers"] = max(1, shift["reviewers"] // 15)
    data["transfers"]["flows"] = [dict(f, jobs_per_hour=f["jobs_per_hour"] / 4) for f in data["transfers"]["flows"]]
    data["third_party"]["staff"] = 1
    data["auto_check_servers"] = 2
    data["warmup_s"] = 0.0
    if "review_minutes_values" in overrides:
        del data["review_minutes_mean"]  # the mean of the values
    # a transfers or third_party table patches Clover's (the monitor off unless it says so)
    overrides = dict(overrides)
    if "transfers" in overrides:
        overrides["transfers"] = {**data["transfers"], **overrides["transfers"]}  # type: ignore[dict-item]
    if "third_party" in overrides:
        overrides["third_party"] = {**data["third_party"], "enabled": False, **overrides["third_party"]}  # type: ignore[dict-item]
    data.update(overrides)
    return GatewayConfig.model_validate(data)


def run_both(config: GatewayConfig, seed: int, horizon_s: float, chunk_rows: int = 1 << 15,
             **kwargs: object) -> tuple[gw.GatewayRun, gw.GatewayRun]:
    kwargs.setdefault("mau", MAU_PATH)
    fast = simulate_gateway(config, start_utc=START, horizon_s=horizon_s,
                            rng=np.random.default_rng(seed), method="fast", chunk_rows=chunk_rows, **kwargs)
    ref = simulate_gateway(config, start_utc=START, horizon_s=horizon_s,
                           rng=np.random.default_rng(seed), method="simpy", **kwargs)
    return fast, ref


def assert_same(fast: gw.GatewayRun, ref: gw.GatewayRun) -> None:
    assert len(fast.arrival_s) == len(ref.arrival_s) > 0
    for name in ("arrival_s", "wait_s", "review_wait_s", "service_s", "done_s"):
        a, b = getattr(fast, name), getattr(ref, name)
        assert np.array_equal(a, b, equal_nan=True), (name, np.nanmax(np.abs(a - b)))
    for name in ("kind", "priority", "region", "outcome", "parent", "crossed_gb"):
        assert np.array_equal(getattr(fast, name), getattr(ref, name)), name
    assert np.array_equal(fast.busy_s_by_week_hour, ref.busy_s_by_week_hour)
    assert gateway_kpis(fast) == gateway_kpis(ref)
    assert fast.unstable == ref.unstable and fast.message == ref.message
    assert fast.offered_load == ref.offered_load
    a, b = fast.tally, ref.tally
    assert (a.requests, a.requests_counted, a.access_counted) == (b.requests, b.requests_counted, b.access_counted)
    for name in ("access_counted_by_class", "wait_rank", "wait_s", "wait_class", "approved_data_class",
                 "approved_destination", "approved_crossed_gb", "blocked_crossed_gb"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("policy", ["gateway", "strict", "open"])
def test_regional_shifts_and_policies(seed: int, policy: str) -> None:
    fast, ref = run_both(small_defaults(), seed, 2.5 * DAY, transfer_policy=policy)
    assert_same(fast, ref)


@pytest.mark.parametrize("seed", range(4))
def test_ties_deterministic_times_outages_and_shift_changes(seed: int) -> None:
    """Deterministic review and check times with outages and shift changes on whole hours.

    Many completions, restarts and capacity changes fall on the same instant.
    """
    config = small_defaults(
        review_distribution="deterministic", review_minutes_mean=5.0,
        auto_check_s={"kind": "deterministic", "mean": 60.0},
        outage_windows_s=[(3 * 3600.0, 5 * 3600.0), (26 * 3600.0, 26.5 * 3600.0), (30 * 3600.0, 31 * 3600.0)],
        third_party={"enabled": True, "staff": 1, "access_share": 0.3, "transfer_share": 0.3,
                     "review_minutes": {"kind": "deterministic", "mean": 10.0}},
    )
    fast, ref = run_both(config, seed, 2 * DAY)
    assert_same(fast, ref)
    # ties really happen: several requests finish their review at the same instant
    done = fast.done_s[fast.reviewed]
    assert len(done) - len(np.unique(done)) > 0


@pytest.mark.parametrize("chunk_rows", [1, 7, 250])
def test_any_chunks_give_the_same_requests(chunk_rows: int) -> None:
    """Chunks of one row, of a few rows and of hundreds: the ring grows, queues wrap, results stay."""
    config = small_defaults(
        approve_probability=0.5, resubmit_share=0.9, max_resubmissions=3,
        resubmit_delay_h={"kind": "exponential", "mean": 1.0},
        outage_windows_s=[(5 * 3600.0, 9 * 3600.0)], outage_mtbf_h=10.0, outage_mttr_h=0.5,
        third_party={"staff": 1, "access_share": 0.3, "transfer_share": 0.3},
        priority_classes=[{"name": "incident", "share": 0.2, "sla_s": 900.0}, {"name": "routine", "share": 0.8}],
    )
    fast, ref = run_both(config, 11, 1.5 * DAY, chunk_rows=chunk_rows, transfer_policy="strict")
    assert_same(fast, ref)
    assert (fast.parent >= 0).sum() > 50 and (fast.kind == gw.TRANSFER).sum() > 50
    assert np.count_nonzero(fast.wait_s[fast.simulated] > 3600.0) > 20  # queues held rows over many chunks


@pytest.mark.parametrize("seed", range(3))
def test_resubmissions_and_priorities(seed: int) -> None:
    config = small_defaults(
        approve_probability=0.4, resubmit_share=0.9, max_resubmissions=3,
        resubmit_delay_h={"kind": "exponential", "mean": 2.0},
        priority_classes=[{"name": "incident", "share": 0.2, "sla_s": 1800.0},
                          {"name": "urgent", "share": 0.3}, {"name": "routine", "share": 0.5}],
        review_distribution="empirical", review_minutes_values=[2.0, 5.0, 5.0, 12.0],
    )
    fast, ref = run_both(config, seed, 2 * DAY)
    assert_same(fast, ref)
    assert (fast.parent >= 0).sum() > 10
    assert (fast.outcome == gw.RESUBMITTED).sum() > 10


@pytest.mark.parametrize("seed", range(3))
def test_random_outages_transfers_and_third_party(seed: int) -> None:
    config = small_defaults(
        outage_mtbf_h=8.0, outage_mttr_h=1.0, staffing="24x7", reviewers=3,
        transfers={"nodes": 1, "inspection_gb_per_s": 0.01, "approve_probability": 0.8,
                   "size_gb": {"kind": "lognormal", "mean": 4.0, "cv": 2.0}},
        third_party={"staff": 1, "access_share": 0.2, "transfer_share": 0.5},
    )
    fast, ref = run_both(config, seed, 1.5 * DAY, transfer_policy="strict")
    assert_same(fast, ref)
    assert (fast.kind == gw.TRANSFER).sum() > 20


def test_transfer_rate_override_and_textbook_mode() -> None:
    config = small_defaults(access_requests_per_hour=40.0, auto_check=False, staffing="24x7", reviewers=4,
                            review_distribution="exponential", review_minutes_mean=5.0)
    rates = {("protected_personal", "CN"): 3.0, ("pseudonymised_aggregates", "US"): 10.0}
    fast, ref = run_both(config, 7, 2 * DAY, transfer_jobs_per_hour=rates)
    assert_same(fast, ref)
    assert set(fast.destination_names) == {"CN", "US"}


classes = st.lists(st.floats(0.05, 1.0), min_size=1, max_size=3)
dists = st.sampled_from(["exponential", "lognormal", "deterministic", "empirical"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    weights=classes,
    review=dists,
    auto=st.booleans(),
    reviewers=st.lists(st.integers(0, 4), min_size=4, max_size=4).filter(lambda r: sum(r) > 0),
    approve=st.floats(0.2, 1.0),
    outage=st.one_of(st.none(), st.tuples(st.floats(0, 30 * 3600.0), st.floats(60.0, 6 * 3600.0))),
    tp_share=st.floats(0.0, 0.5),
    chunk_rows=st.sampled_from([3, 64, 1 << 15]),
)
def test_random_shapes(seed, weights, review, auto, reviewers, approve, outage, tp_share, chunk_rows) -> None:  # noqa: ANN001
    total = sum(weights)
    data = {
        "priority_classes": [{"name": f"c{i}", "share": w / total} for i, w in enumerate(weights)],
        "review_distribution": review,
        "auto_check": auto,
        "approve_probability": approve,
        "outage_windows_s": [] if outage is None else [(outage[0], outage[0] + outage[1])],
        "third_party": {"staff": 1, "access_share": tp_share, "transfer_share": tp_share},
    }
    if review == "empirical":
        data["review_minutes_values"] = [1.0, 4.0, 9.0]
    config = small_defaults(**data)
    shifts = config.model_dump()["shifts"]
    for shift, count in zip(shifts, reviewers):
        shift["reviewers"] = count
    config = GatewayConfig.model_validate({**config.model_dump(exclude_unset=True), "shifts": shifts})
    fast, ref = run_both(config, seed, 1.5 * DAY, chunk_rows=chunk_rows)
    assert_same(fast, ref)


def test_kernel_equals_its_plain_python_twin() -> None:
    config = small_defaults(approve_probability=0.5, resubmit_share=0.8,
                            resubmit_delay_h={"kind": "exponential", "mean": 1.0},
                            outage_windows_s=[(7200.0, 9000.0)])
    streams = draw_streams(config, START, DAY, np.random.default_rng(3), None, MAU_PATH)
    routes = plan(streams, config, "gateway")
    inp = queue_inputs(config, streams, routes, DAY, week_offset_s(START))
    compiled = run_fast(inp, chunk_rows=100)
    plain = run_fast(inp, chunk_rows=100, kernel=kernels.queue_events_py)
    for name in ("arrival", "wait", "service", "review_start", "review_wait", "done"):
        assert np.array_equal(getattr(compiled, name), getattr(plain, name), equal_nan=True), name
    assert compiled.complete and plain.complete
    assert (inp.child >= 0).sum() > 10  # resubmissions ran through both


def test_helper_kernels_equal_their_twins() -> None:
    rng = np.random.default_rng(0)
    start = rng.uniform(0, 5 * DAY, 500)
    length = rng.exponential(3000.0, 500)
    weight = rng.integers(1, 4, 500).astype(float)
    args = (start, length, weight, 3600.0, 4 * DAY, 1234.5, 3600.0, 168)
    assert np.array_equal(kernels.bin_intervals(*args), kernels.bin_intervals_py(*args))
    assert kernels.bin_intervals(*args).sum() == pytest.approx(
        (np.minimum(start + length, 4 * DAY) - np.maximum(start, 3600.0)).clip(0) @ weight)
    cum = np.array([0.0, 50.0, 50.0, 120.0])
    bounds = np.array([0.0, 100.0, 200.0, 300.0])
    total_rate = np.array([0.5, 0.0, 0.7])
    cum_p = np.cumsum(rng.dirichlet(np.ones(4), 3), axis=1)
    cum_p[:, -1] = 1.0
    gamma = np.sort(rng.uniform(0, 120.0, 400))
    u = rng.random(400)
    fast = kernels.arrivals_from_intensity(gamma, cum, bounds, total_rate, cum_p, u)
    plain = kernels.arrivals_from_intensity_py(gamma, cum, bounds, total_rate, cum_p, u)
    assert all(np.array_equal(a, b) for a, b in zip(fast, plain))
    times = fast[0]
    assert np.all(np.diff(times) >= 0) and not np.any((times > 100.0) & (times < 200.0))  # no arrivals at rate 0
    groups = rng.integers(0, 3, 400)
    probs = np.array([0.1, 0.5, 0.9])
    assert np.array_equal(kernels.below_by_group(u, groups, probs), kernels.below_by_group_py(u, groups, probs))
    assert np.array_equal(kernels.below_by_group(u, groups, probs), u < probs[groups])


def test_compiled_helpers_equal_their_twins() -> None:
    """The per-block tally, the routing and the flag marking, compiled and plain, on one run's rows."""
    config = small_defaults(approve_probability=0.5, resubmit_share=0.8, transfers={"approve_probability": 0.7})
    streams = draw_streams(config, START, DAY, np.random.default_rng(5), None, MAU_PATH)
    protected = np.array([c == "protected_personal" for c in streams.data_class_names] + [False])
    args = (streams.kind, streams.needs_review, streams.approved, streams.third_party, streams.child, streams.size_gb,
            streams.data_class, streams.factor_by_class, protected, True, True, True)
    for a, b in zip(kernels.route_rows(*args), kernels.route_rows_py(*args)):
        assert np.array_equal(a, b)
    route, child, outcome, crossed = kernels.route_rows(*args)
    inp = queue_inputs(config, streams, plan(streams, config, "strict"), DAY, week_offset_s(START))
    res = run_fast(inp)
    state = [(np.zeros(len(config.priority_classes), np.int64), np.zeros(168), np.zeros(4), np.zeros(4, np.bool_))
             for _ in range(2)]
    block = (res.arrival, streams.kind, streams.prio.astype(np.int8), res.wait, outcome, route, res.review_start,
             streams.s_auto, streams.s_review, streams.s_inspect, streams.s_third, streams.data_class, streams.destination,
             streams.size_gb, crossed, 3600.0, DAY, 1234.0, 0)
    compiled = kernels.tally_rows(*block, *state[0])
    plain = kernels.tally_rows_py(*block, *state[1])
    for a, b in zip(compiled, plain):
        assert np.array_equal(a, b)
    for a, b in zip(state[0], state[1]):
        assert np.array_equal(a, b)
    assert compiled[2] > 100 and len(compiled[3]) > 10 and len(compiled[6]) > 10  # waits and approved jobs
    u = np.random.default_rng(1).random(500)
    group = np.random.default_rng(2).integers(0, 3, 500)
    flags_c, flags_p = np.full(500, 2, np.uint8), np.full(500, 2, np.uint8)
    kernels.mark_below(u, group, np.array([0.1, 0.5, 0.9]), flags_c, 4)
    kernels.mark_below_py(u, group, np.array([0.1, 0.5, 0.9]), flags_p, 4)
    assert np.array_equal(flags_c, flags_p)
    assert np.array_equal(flags_c == 6, u < np.array([0.1, 0.5, 0.9])[group])


def test_skipped_uniforms_move_the_generator_as_draws_do() -> None:
    """Certain outcomes are not drawn: the generator is moved past them, bit for bit."""
    config = small_defaults(approve_probability=1.0, resubmit_share=0.0,
                            priority_classes=[{"name": "only", "share": 1.0}],
                            transfers={"approve_probability": 1.0})
    fast, ref = run_both(config, 4, 2 * DAY)
    assert_same(fast, ref)
    assert np.all(fast.outcome == gw.APPROVED)


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.Philox])
def test_decisions_on_two_threads_or_one_give_the_same_requests(bit_generator: type, monkeypatch) -> None:
    """Decisions drawn on two threads (PCG64) or in one pass (other generators) equal the reference.

    With a PCG64 stream the originals' decisions are drawn in two halves on two threads, each
    from a copy jumped to its rows, beside the automatic check times' pass.
    """
    from sim.model.gateway import streams

    jumps: list[int] = []
    jumped = streams._jumped
    monkeypatch.setattr(streams, "_jumped", lambda rng, n: jumps.append(n) or jumped(rng, n))
    config = small_defaults(priority_classes=[{"name": "a", "share": 0.3}, {"name": "b", "share": 0.7}])

    def rng() -> np.random.Generator:
        return np.random.Generator(bit_generator(np.random.SeedSequence(5)))

    fast = simulate_gateway(config, start_utc=START, horizon_s=2 * DAY, rng=rng(), method="fast", chunk_rows=64,
                            mau=MAU_PATH)
    ref = simulate_gateway(config, start_utc=START, horizon_s=2 * DAY, rng=rng(), method="simpy", mau=MAU_PATH)
    assert_same(fast, ref)
    assert (len(jumps) > 0) == (bit_generator is np.random.PCG64)
