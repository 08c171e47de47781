"""Speed-ups change no result: a 30-day run through the optimised path against plain references.

The optimised path is what a run does: the gateway's draws chunk by chunk, the compiled queues
over a ring of slots, the tally instead of a row per request, the KPIs from the tally, the
per-request table streamed to a sink. The reference is the plain path kept for this: every draw
at once (``draw_streams``), the SimPy engine, the full record, and the pre-optimisation formulas
of the KPIs and of the transfers reconciliation, written out here. The gateway is scaled down
(~20x fewer requests than Clover's) so that SimPy takes about a second; the world is the Clover
scenario over 30 days.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest

import sim.model.world as world_module
from sim.meters.gateway import ACCESS, GatewayRows, GatewayRun, GatewayTally
from sim.model.gateway import simulate_gateway
from sim.model.world import run_world
from sim.reference.units import YEAR_S
from sim.report.files import GatewayRequestsWriter, read_gateway_requests
from sim.results.gateway import gateway_kpis, gateway_requests_frame
from sim.results.replication import replication_result
from sim.results.tables import transfers_table
from sim.scenario.places import endpoint_in_residency
from sim.seeds import replication_seeds
from tests.conftest import short


class Collect:
    """A request sink that keeps copies of every block it is given."""

    def __init__(self) -> None:
        self.started: int | None = None
        self.blocks: list[GatewayRows] = []

    def start(self, requests: int) -> None:
        self.started = requests

    def write(self, rows: GatewayRows) -> None:
        copied = {f: (v.copy() if isinstance(v, np.ndarray) else v) for f, v in vars(rows).items()}
        self.blocks.append(GatewayRows(**copied))


def scaled_clover():
    """Clover over 30 days with the gateway's requesters, reviewers and transfer jobs scaled down."""
    sc = short("clover.toml", days=30, step_minutes=60)
    data = sc.gateway.model_dump()
    for region in data["regions"]:
        region["head_count"] = max(1, region["head_count"] // 20)
    for cause in data["user_driven"]:  # they follow the simulated users
        cause["requests_per_million_mau_per_day"] /= 20
    for shift in data["shifts"]:
        shift["reviewers"] = max(1, shift["reviewers"] // 15)
    data["third_party"]["staff"] = 1
    data["auto_check_servers"] = 2
    data["transfers"]["size_gb"]["mean"] *= 20  # jobs follow the exports: 20x fewer, 20x larger
    data["resubmit_share"] = 0.8  # resubmission chains of several levels
    data["approve_probability"] = 0.6
    data["sla_s"] = 3600.0  # a tight SLA, so that some requests breach it
    return sc.model_copy(update={"gateway": type(sc.gateway).model_validate(data)})


@pytest.fixture(scope="module")
def runs():
    """(scenario, optimised meters, streamed blocks, reference meters)."""
    sc = scaled_clover()
    seed = replication_seeds(3, 1)[0]
    sink = Collect()
    mp = pytest.MonkeyPatch()
    try:  # the optimised path in small chunks (results must not depend on them)
        mp.setattr(world_module, "simulate_gateway", functools.partial(simulate_gateway, chunk_rows=1000))
        fast = run_world(sc, seed, sink)
        mp.setattr(world_module, "simulate_gateway", _reference_gateway)
        ref = run_world(sc, seed)
    finally:
        mp.undo()
    assert isinstance(fast.gateway, GatewayTally) and isinstance(ref.gateway, GatewayRun)
    assert ref.gateway.method == "simpy"
    return sc, fast, sink, ref


def _reference_gateway(config, **kwargs):  # noqa: ANN001, ANN003, ANN202 - stands in for simulate_gateway
    kwargs.update(method="simpy", record="full", requests=None)
    return simulate_gateway(config, **kwargs)


def plain_gateway_kpis(run: GatewayRun) -> dict[str, float]:
    """The gateway KPIs as computed before the tally: straight from the per-request arrays."""
    counted = run.arrival_s >= run.warmup_s
    access = counted & (run.kind == ACCESS)
    waits = run.wait_s[access]
    p50, p95, p99 = (float(x) for x in np.quantile(waits, [0.5, 0.95, 0.99]))
    capacity = float(run.capacity_s_by_week_hour.sum())
    scale = YEAR_S / (run.horizon_s - run.warmup_s)
    return {
        "gateway_wait_s_mean": float(waits.mean()),
        "gateway_wait_s_p50": p50,
        "gateway_wait_s_p95": p95,
        "gateway_wait_s_p99": p99,
        "gateway_sla_breach_share": float(np.mean(waits > run.sla_s_by_class[run.priority[access]])),
        "reviewer_utilisation": float(run.busy_s_by_week_hour.sum()) / capacity,
        "gateway_requests_per_year": float(counted.sum()) * scale,
    }


def plain_through_gateway(transfers: pd.DataFrame, requests: pd.DataFrame) -> float:
    """The transfers reconciliation as it was, from the per-request frame (in place; blocked TB)."""
    jobs = requests[requests["kind"] == "transfer"]
    key = ["data_class", "destination"]
    exports = transfers["kind"] == "export"
    offered_tb = transfers.loc[exports].groupby(key)["tb"].sum()
    crossed_tb = jobs[jobs["outcome"] == "approved"].groupby(key, observed=True)["crossed_gb"].sum() / 1000.0
    crossed_tb.index = crossed_tb.index.set_levels([lvl.astype(str) for lvl in crossed_tb.index.levels])
    ratio = (crossed_tb.reindex(offered_tb.index, fill_value=0.0) / offered_tb).where(offered_tb > 0, 0.0)
    keys = pd.MultiIndex.from_frame(transfers.loc[exports, key])
    transfers.loc[exports, "tb"] = transfers.loc[exports, "tb"].to_numpy() * ratio.reindex(keys, fill_value=0.0).to_numpy()
    return float(jobs.loc[jobs["outcome"] == "blocked", "crossed_gb"].sum()) / 1000.0


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_the_run_is_big_enough_to_mean_something(runs) -> None:
    _, fast, sink, ref = runs
    run = ref.gateway
    assert 10_000 < len(run.arrival_s) < 80_000
    assert (run.parent >= 0).sum() > 500 and (run.kind != ACCESS).sum() > 500
    assert np.count_nonzero(run.wait_s[run.simulated] > 0) > 1000  # queues formed
    assert len(sink.blocks) > 10  # the table came in many blocks


def test_replication_kpis_are_equal(runs) -> None:
    sc, fast, _, ref = runs
    a = replication_result(fast, sc).kpis
    b = replication_result(ref, sc).kpis
    assert a.keys() == b.keys()
    different = {k: (a[k].value, b[k].value) for k in a if not _same(a[k].value, b[k].value)}
    assert not different


def test_gateway_kpis_from_the_tally_equal_the_plain_formulas(runs) -> None:
    _, fast, _, ref = runs
    plain = plain_gateway_kpis(ref.gateway)
    assert plain["gateway_wait_s_p95"] > 0 and 0 < plain["gateway_sla_breach_share"] < 1
    for record in (fast.gateway, ref.gateway):
        got = gateway_kpis(record)
        assert all(_same(got[k], plain[k]) for k in plain), (got, plain)


def test_transfers_table_equals_the_frame_based_reconciliation(runs) -> None:
    sc, fast, _, ref = runs
    result = replication_result(fast, sc)
    start = pd.Timestamp(sc.time.start)

    def crossing(data_class: str, source: str, destination: str) -> tuple[bool, bool]:
        rule = sc.data_classes[data_class].residency
        assert rule != "home"  # the Clover classes: a zone or any
        if rule == "any":
            return False, False
        a, b = (endpoint_in_residency(sc, e, rule) for e in (source, destination))
        return a != b, a and not b

    transfers = transfers_table(ref, start, crossing)
    blocked_tb = plain_through_gateway(transfers, gateway_requests_frame(ref.gateway))
    assert blocked_tb > 0
    pd.testing.assert_frame_equal(result.tables["transfers"], transfers, check_exact=True)


def test_request_table_equals_the_full_record(runs) -> None:
    _, _, sink, ref = runs
    streamed = pd.concat([gateway_requests_frame(b) for b in sink.blocks], ignore_index=True)
    expected = gateway_requests_frame(ref.gateway)
    pd.testing.assert_frame_equal(streamed, expected, check_exact=True)
    assert sink.started == len(ref.gateway.arrival_s)  # announced: every request drawn


def test_request_file_holds_the_table(runs, tmp_path) -> None:
    _, _, sink, ref = runs
    writer = GatewayRequestsWriter(tmp_path / "requests.parquet")
    writer.ROW_GROUP = 5000  # several row groups
    for block in sink.blocks:
        writer.write(block)
    back = read_gateway_requests(writer.close())
    expected = gateway_requests_frame(ref.gateway)
    assert len(back) == len(expected) == writer.rows
    for col in ("arrival_s", "wait_s", "service_s", "size_gb", "crossed_gb"):  # written as integer ms and MB
        np.testing.assert_array_equal(back[col].to_numpy(), np.round(expected[col].to_numpy() * 1000.0) / 1000.0)
    for col in ("kind", "class", "region", "outcome", "destination", "data_class"):
        assert back[col].astype(object).where(back[col].notna(), None).tolist() == \
            expected[col].astype(object).where(expected[col].notna(), None).tolist(), col


def test_quantiles_of_zeros_and_values_are_numpys() -> None:
    """The KPIs' quantiles never build the array of waits: the same numbers as numpy.quantile on it."""
    from sim.results.gateway import WAIT_QUANTILES, zero_padded_quantiles

    rng = np.random.default_rng(0)
    for trial in range(400):
        zeros = int(rng.integers(0, 3000)) if trial % 2 else int(rng.integers(0, 5))
        values = rng.exponential(rng.uniform(0.1, 1e4), int(rng.integers(0 if zeros else 1, 400)))
        if trial % 5 == 0:
            values = np.round(values) + 1.0  # ties
        full = np.concatenate([np.zeros(zeros), rng.permutation(values)])
        for q in ([0.5, 0.95, 0.99], WAIT_QUANTILES, rng.random(7)):
            assert np.array_equal(zero_padded_quantiles(zeros, values, q), np.quantile(full, q)), (zeros, len(values))


def test_decay_path_is_scipy_lfilter_bit_for_bit() -> None:
    """Storage ages bytes without importing scipy.signal: the same numbers as lfilter."""
    from scipy.signal import lfilter

    from sim.model.storage import decay_path

    rng = np.random.default_rng(1)
    for _ in range(50):
        steps, countries = int(rng.integers(1, 2000)), int(rng.integers(1, 30))
        writes = rng.exponential(rng.uniform(1.0, 1e6), (steps, countries, 3)) * (rng.random((steps, countries, 3)) < 0.9)
        v0 = rng.exponential(1e7, countries)
        d = float(np.exp(-900.0 / rng.uniform(1e4, 1e9)))
        expected = lfilter([1.0], [1.0, -d], writes[:, :, 1], axis=0, zi=d * v0[None, :])[0]
        assert np.array_equal(decay_path(writes[:, :, 1], d, d * v0), expected)
