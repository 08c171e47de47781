"""Every transfer KPI is measured at one point, the border, and the tables and the report agree.

What crosses (``transfer_tb_out_of_residency_per_year``) is the gateway's approved volume after
pseudonymisation; what was blocked (``transfer_tb_blocked_per_year``) is measured the same way:
what the blocked jobs would have let cross (``crossed_gb`` of the blocked rows of the per-request
table), plus the exports the transfer policy stopped before the gateway times their
pseudonymisation factor. Before, the blocked figure was the jobs' size before pseudonymisation
(20x the crossing volume of the aggregates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.meters.gateway import GatewayRows
from sim.model.world import run_world
from sim.results.costs import annualise
from sim.results.gateway import gateway_requests_frame
from sim.results.replication import replication_result
from sim.seeds import replication_seeds
from tests.conftest import short


class _Rows:
    """A request sink keeping copies of every block."""

    def __init__(self) -> None:
        self.blocks: list[GatewayRows] = []

    def start(self, requests: int) -> None:
        pass

    def write(self, rows: GatewayRows) -> None:
        self.blocks.append(GatewayRows(**{f: (v.copy() if isinstance(v, np.ndarray) else v) for f, v in vars(rows).items()}))


def _run(*overrides: str):
    sc = short("clover.toml", *overrides, days=2, step_minutes=60)
    sink = _Rows()
    m = run_world(sc, replication_seeds(0, 1)[0], sink)
    res = replication_result(m, sc)
    jobs = pd.concat([gateway_requests_frame(b) for b in sink.blocks], ignore_index=True)
    return sc, m, res, jobs[jobs["kind"] == "transfer"]


@pytest.fixture(scope="module")
def gateway_run():
    return _run()


def test_blocked_and_crossed_are_measured_after_pseudonymisation(gateway_run) -> None:
    sc, m, res, jobs = gateway_run
    blocked = jobs[jobs["outcome"] == "blocked"]
    approved = jobs[jobs["outcome"] == "approved"]
    assert len(blocked) > 10 and m.export_blocked_gb.sum() == 0  # only the gateway blocks here
    factor = sc.gateway.transfers.factor("pseudonymised_aggregates")
    assert factor < 1  # the measuring point matters
    crossed_kpi = res.kpis["transfer_tb_out_of_residency_per_year"].value
    blocked_kpi = res.kpis["transfer_tb_blocked_per_year"].value
    want_crossed = annualise(approved["crossed_gb"].sum() / 1000.0, m.horizon_s)
    want_blocked = annualise(blocked["crossed_gb"].sum() / 1000.0, m.horizon_s)
    before = annualise(blocked["size_gb"].sum() / 1000.0, m.horizon_s)
    assert crossed_kpi == pytest.approx(want_crossed, rel=1e-12)
    assert blocked_kpi == pytest.approx(want_blocked, rel=1e-12), (
        f"blocked {blocked_kpi:.3f} TB/yr, at the border {want_blocked:.3f}, before pseudonymisation {before:.3f}")
    assert blocked_kpi < before


def test_the_transfers_table_adds_up_to_the_kpi(gateway_run) -> None:
    _, m, res, _ = gateway_run
    t = res.tables["transfers"]
    leaving = annualise(t.loc[t["leaves_residency"], "tb"].sum(), m.horizon_s)
    assert leaving == pytest.approx(res.kpis["transfer_tb_out_of_residency_per_year"].value, rel=1e-12)


def test_exports_stopped_by_the_policy_are_measured_at_the_border_too() -> None:
    sc, m, res, jobs = _run('policy.transfer="strict"', "data_classes.protected_personal.export_share=0.01")
    k = m.classes.index("protected_personal")
    stopped_gb = m.export_blocked_gb[k]
    assert stopped_gb > 0 and not (jobs["data_class"] == "protected_personal").any()
    factor = sc.gateway.transfers.factor("protected_personal")
    gateway_gb = jobs.loc[jobs["outcome"] == "blocked", "crossed_gb"].sum()
    want = annualise((stopped_gb * factor + gateway_gb) / 1000.0, m.horizon_s)
    got = res.kpis["transfer_tb_blocked_per_year"].value
    assert got == pytest.approx(want, rel=1e-12), f"blocked {got:.3f} TB/yr, expected {want:.3f}"


def test_without_a_gateway_nothing_is_pseudonymised() -> None:
    sc = short("china_transfers_suspended.toml", "gateway.enabled=false", days=2, step_minutes=60)
    m = run_world(sc, replication_seeds(0, 1)[0])
    res = replication_result(m, sc)
    assert m.gateway is None and m.export_blocked_gb.sum() > 0
    want = annualise(m.export_blocked_gb.sum() / 1000.0, m.horizon_s)
    assert res.kpis["transfer_tb_blocked_per_year"].value == pytest.approx(want, rel=1e-12)
