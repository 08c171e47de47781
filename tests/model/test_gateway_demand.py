"""Gateway demand follows the organisation and the users; the organisation is scenario data.

Access requests = employees x requests per person-hour x working hours (the organisation's own
work: it does not change with the users) + requests per million users per day x users (the
user-driven causes). docs/gateway_demand.md derives the figures these tests check.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.experiments.replicate import run_replication
from sim.meters.gateway import ACCESS, GatewayRows
from sim.model.gateway import GatewayConfig, simulate_gateway
from sim.model.gateway.streams import Sources
from sim.results.gateway import gateway_kpis
from sim.seeds import replication_seeds
from tests.conftest import CLOVER_MAU, clover_gateway, short

START = dt.datetime(2024, 3, 4, tzinfo=dt.timezone.utc)  # a Monday
DAY = 86400.0
WEEKS = 4


def expected_access(config: GatewayConfig, mau: float) -> dict[str, float]:
    """Expected access requests per source (regions, then causes) over WEEKS whole weeks."""
    src = Sources(config, START, WEEKS * 7 * DAY, {}, mau)
    counts = src.expected_counts()
    return {src.region_names[src.region[i]]: float(counts[i]) for i in range(len(counts)) if src.kind[i] == ACCESS}


def test_access_requests_follow_from_employees_and_users() -> None:
    config = clover_gateway()
    expected = expected_access(config, CLOVER_MAU)
    working_days = WEEKS * 5
    for region in config.regions:  # employees x requests per person-hour x working hours x working days
        assert expected[region.name] == pytest.approx(
            region.head_count * region.requests_per_person_hour * region.working_hours() * working_days, rel=1e-12)
    for cause in config.user_driven:  # per million users per calendar day x millions of users x days
        assert expected[cause.name] == pytest.approx(
            cause.requests_per_million_mau_per_day * CLOVER_MAU / 1e6 * WEEKS * 7, rel=1e-12)
    # Clover's EEA requesters: 5,000 employees x 0.25 requests per hour x 8 h x 20 working days
    assert expected["EEA"] == pytest.approx(5000 * 0.25 * 8 * 20, rel=1e-12)


def test_twenty_percent_more_users_scale_only_the_user_driven_requests() -> None:
    """+20 % users: user-driven +20 %, employees' requests unchanged, access up by 20 % x user-driven share.

    With clover.toml's figures over whole weeks: employees 69,400 requests a week, users
    23.15 per million a day x 175 M x 7 = 28,359 a week, a user-driven share of 29.0 %, so
    access requests rise by 0.2 x 0.290 = 5.80 % (transfer jobs, which follow the exports,
    come on top in a world run).
    """
    config = clover_gateway()
    before, after = expected_access(config, CLOVER_MAU), expected_access(config, 1.2 * CLOVER_MAU)
    causes = {c.name for c in config.user_driven}
    assert causes and all(after[c] == pytest.approx(1.2 * before[c], rel=1e-12) for c in causes)
    assert all(after[r.name] == before[r.name] for r in config.regions)
    share = sum(before[c] for c in causes) / sum(before.values())
    assert sum(after.values()) / sum(before.values()) == pytest.approx(1.0 + 0.2 * share, rel=1e-12)
    assert share == pytest.approx(28_358.75 / (69_400 + 28_358.75), rel=1e-9)


class _AccessCounter:
    """A RequestSink that counts access requests by source (region or cause)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def start(self, requests: int) -> None:
        self.counts = {}

    def write(self, rows: GatewayRows) -> None:
        access = rows.region[rows.kind == ACCESS]
        for code, n in enumerate(np.bincount(access, minlength=len(rows.region_names))):
            name = rows.region_names[code]
            self.counts[name] = self.counts.get(name, 0) + int(n)


def _world(mau: float, *overrides: str) -> tuple[dict[str, int], dict[str, float]]:
    sc = short("clover.toml", f"population.mau={mau}", "population.growth_per_year=0.0", *overrides, days=14)
    sink = _AccessCounter()
    result = run_replication(sc, replication_seeds(0, 1)[0], sink)
    return sink.counts, {k: v.value for k, v in result.kpis.items()}


@pytest.fixture(scope="module")
def worlds() -> tuple[tuple[dict[str, int], dict[str, float]], tuple[dict[str, int], dict[str, float]]]:
    return _world(CLOVER_MAU), _world(1.2 * CLOVER_MAU)


def test_more_users_give_more_gateway_requests_in_the_world(worlds) -> None:  # noqa: ANN001 - fixture
    """In a world run the user-driven requests grow with the users (+20 %), the employees' do not."""
    (before, kpis_before), (after, kpis_after) = worlds
    causes = [c.name for c in clover_gateway().user_driven]
    regions = [r.name for r in clover_gateway().regions]
    user_before, user_after = sum(before[c] for c in causes), sum(after[c] for c in causes)
    staff_before, staff_after = sum(before[r] for r in regions), sum(after[r] for r in regions)
    # Poisson counts of ~60,000 and ~260,000: 4 standard deviations are ~2 % and ~1 %
    assert user_after / user_before == pytest.approx(1.2, abs=0.03)
    assert staff_after / staff_before == pytest.approx(1.0, abs=0.015)
    # transfer jobs (exports) and user-driven access both follow the users: today's 5 % is gone
    ratio = kpis_after["gateway_requests_per_year"] / kpis_before["gateway_requests_per_year"]
    assert ratio > 1.08


def test_fewer_reviewers_longer_waits() -> None:
    """Same requests (same seed), reviewers cut shift by shift: the p95 wait only grows."""
    p95 = []
    for factor in (1.0, 0.9, 0.8):
        config = clover_gateway()
        data = config.model_dump()
        for shift in data["shifts"]:
            shift["reviewers"] = max(1, round(shift["reviewers"] * factor))
        run = simulate_gateway(GatewayConfig.model_validate(data), start_utc=START, horizon_s=14 * DAY,
                               rng=np.random.default_rng(5), mau=CLOVER_MAU, record="tally")
        p95.append(gateway_kpis(run)["gateway_wait_s_p95"])
    assert p95[0] < p95[1] < p95[2], p95


def test_one_shift_can_be_set_and_its_reviewers_are_paid() -> None:
    clover = short("clover.toml", days=2)
    fewer = short("clover.toml", "gateway.shifts.3.reviewers=30", days=2)
    assert fewer.gateway.shifts[3].reviewers == 30 and fewer.gateway.shifts[2] == clover.gateway.shifts[2]
    # 55 -> 30 reviewers on an 8-hour weekday shift: 25 x 8 x 5 / 40 = 25 FTE fewer
    assert clover.gateway.reviewer_fte() - fewer.gateway.reviewer_fte() == pytest.approx(25.0)


#: A non-TikTok gateway's own transfer inspection (base.toml's aggregates leave the zone): nothing else.
OWN_INSPECTION = ("gateway.transfers.nodes=2", "gateway.node_cost_eur_per_year=50000.0",
                  "gateway.transfers.inspection_gb_per_s=1.0", "gateway.transfers.approve_probability=1.0",
                  'gateway.transfers.size_gb={kind="exponential", mean=2.0}')


def test_a_gateway_without_an_organisation_pays_for_none() -> None:
    """base.toml (no company's figures) with the gateway on: no access requests, reviewers or contract.

    Its exports leave the zone, so it states its own inspection (two nodes at EUR 50,000): that is
    all it pays, nothing of TikTok's (4 nodes at EUR 60,000, 82.4 reviewers, the monitor's contract).
    """
    sc = short("base.toml", "gateway.enabled=true", 'policy.transfer="gateway"', "population.mau=100000000",
               *OWN_INSPECTION, days=3)
    sink = _AccessCounter()
    result = run_replication(sc, replication_seeds(0, 1)[0], sink)
    assert sum(sink.counts.values()) == 0
    costs = result.tables["costs"]
    gateway = costs[costs["category"].isin(["gateway", "oversight"])]
    reviewers = gateway[gateway["unit"] == "reviewer FTE"]
    assert len(reviewers) == 1 and reviewers["eur_per_year"].iloc[0] == 0.0 and reviewers["quantity"].iloc[0] == 0.0
    assert (costs["category"] == "oversight").sum() == 0  # no monitor, no contract
    # what the gateway does cost: its own two inspection nodes, nothing of TikTok's organisation
    assert gateway["eur_per_year"].sum() == pytest.approx(2 * 50_000.0)
    assert result.kpis["gateway_requests_per_year"].value > 0  # the exports' transfer jobs pass it
    # Clover's organisation is what brings the reviewers (82.4 FTE), the 4 nodes and the monitor's contract
    clover = short("clover.toml", "population.mau=100000000", days=3).gateway
    assert clover.reviewer_fte() > 80 and clover.third_party.enabled and clover.oversight_eur_per_year > 0
    assert clover.transfers.nodes * clover.node_cost_eur_per_year == pytest.approx(240_000.0)


def test_the_user_driven_rate_follows_the_users_step_by_step() -> None:
    """Users doubling after one week: twice the user-driven requests in the second week, same staff requests."""
    config = clover_gateway(warmup_s=0.0)
    week = 7 * DAY
    mau = (np.array([0.0, week, 2 * week]), np.array([100e6, 200e6]))
    src = Sources(config, START, 2 * week, {}, mau)
    expected = dict(zip([src.region_names[r] for r in src.region[src.kind == ACCESS]], src.expected_counts()))
    for cause in config.user_driven:
        assert expected[cause.name] == pytest.approx(cause.requests_per_million_mau_per_day * (100 + 200) * 7, rel=1e-12)
    run = simulate_gateway(config, start_utc=START, horizon_s=2 * week, rng=np.random.default_rng(2), mau=mau,
                           transfer_jobs_per_hour={})
    originals = (run.parent < 0) & (run.kind == ACCESS)
    support = originals & (np.asarray(run.region_names)[run.region] == "user_support")
    staff = originals & (np.asarray(run.region_names)[run.region] == "EEA")
    first, second = (support & (run.arrival_s < week)).sum(), (support & (run.arrival_s >= week)).sum()
    assert second / first == pytest.approx(2.0, abs=0.1)  # ~14,000 and ~28,000 requests
    staff_first, staff_second = (staff & (run.arrival_s < week)).sum(), (staff & (run.arrival_s >= week)).sum()
    assert staff_second / staff_first == pytest.approx(1.0, abs=0.05)
