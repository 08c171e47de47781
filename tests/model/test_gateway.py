"""Gateway configuration, policies, outages, results API and staffing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim.model import gateway as gw
from sim.model.gateway import GatewayConfig, simulate_gateway, staff_for_target
from sim.reference.units import YEAR_S
from sim.results.costs import gateway_nodes_eur_per_year, gateway_reviewer_eur_per_year
from sim.results.gateway import gateway_kpis, gateway_requests_frame, reviewer_utilisation_by_hour
from tests.conftest import CLOVER_MAU, clover_gateway

START = dt.datetime(2024, 3, 4, tzinfo=dt.timezone.utc)  # a Monday
DAY = 86400.0

KPI_KEYS = {
    "gateway_wait_s_mean", "gateway_wait_s_p50", "gateway_wait_s_p95", "gateway_wait_s_p99",
    "gateway_sla_breach_share", "reviewer_utilisation", "gateway_requests_per_year",
}


def run(config: GatewayConfig | None = None, *, days: float = 3.0, seed: int = 1, **kwargs: object) -> gw.GatewayRun:
    """The Clover organisation's gateway (or ``config``) at Clover's users."""
    kwargs.setdefault("mau", CLOVER_MAU)
    return simulate_gateway(config or clover_gateway(warmup_s=0.0), start_utc=START, horizon_s=days * DAY,
                            rng=np.random.default_rng(seed), **kwargs)


def transfer_tb_per_year(result: gw.GatewayRun, outcome: int) -> float:
    """Crossed TB per year of counted transfer jobs with this outcome.

    (The gateway's KPIs reported these before the replication's results took the transfer
    volumes over.)
    """
    counted = (result.arrival_s >= result.warmup_s) & (result.kind == gw.TRANSFER) & (result.outcome == outcome)
    return float(result.crossed_gb[counted].sum()) / 1000.0 * YEAR_S / (result.horizon_s - result.warmup_s)


# ----------------------------------------------------------------------------- config


def test_defaults_are_valid_and_round_trip() -> None:
    config = GatewayConfig()
    again = GatewayConfig.model_validate(config.model_dump())
    assert again == config
    assert config.sla_s is None  # no SLA unless a scenario sets one
    assert config.reviewers is None and config.access_requests_per_hour is None
    # no company's organisation in the code: no requesters, no reviewers, no monitor, no contract
    assert config.regions == [] and config.user_driven == [] and config.shifts == []
    assert config.reviewer_fte() == 0 and config.oversight_eur_per_year == 0 and not config.third_party.enabled
    clover = clover_gateway()
    assert {r.name for r in clover.regions} >= {"EEA", "US", "CN", "SG"} and clover.third_party.enabled


def test_textbook_overrides_like_the_cli() -> None:
    config = GatewayConfig.model_validate(
        {"reviewers": 3, "access_requests_per_hour": 30, "review_minutes_mean": 5, "review_distribution": "exponential",
         "approve_probability": 1.0})
    assert all(s.reviewers == 3 for s in config.effective_shifts())
    assert config.review_time().mean == 5.0
    single = GatewayConfig(staffing="24x7", reviewers=4)
    (shift,) = single.effective_shifts()
    assert (shift.reviewers, shift.hours(), len(shift.days)) == (4, 24.0, 7)


def test_reviewer_fte_formula_and_costs() -> None:
    config = GatewayConfig(shifts=[
        {"name": "day", "reviewers": 10, "start_hour": 8, "end_hour": 16, "days": [0, 1, 2, 3, 4]},
        {"name": "night", "reviewers": 2, "start_hour": 22, "end_hour": 6},
    ])
    # 10 x 8 h x 5 d / 40 + 2 x 8 h x 7 d / 40
    assert config.reviewer_fte() == pytest.approx(10 + 2.8)
    assert config.reviewer_cost_eur_per_year == 0.0  # a cost is the scenario's (stated when it has reviewers)
    paid = config.model_copy(update={"reviewer_cost_eur_per_year": 90_000.0})
    assert gateway_reviewer_eur_per_year(paid) == pytest.approx(12.8 * 90_000.0)
    assert gateway_nodes_eur_per_year(config) == config.transfers.nodes * config.node_cost_eur_per_year
    assert GatewayConfig(staffing="24x7", reviewers=1).reviewer_fte() == pytest.approx(4.2)
    assert config.oversight_eur_per_year == 0  # a contract is the scenario's, never a default
    assert clover_gateway().reviewer_fte() == pytest.approx(82.4)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"reviewers": 0}, ["no shift has a reviewer", "gateway.reviewers"]),
        ({"shifts": []}, ["no shift has a reviewer"]),
        ({"review_minutes_mean": -5}, ["review_minutes_mean", "> 0"]),
        ({"sla_s": -1}, ["sla_s", "must not be negative"]),
        ({"warmup_s": -1}, ["warmup_s", "must not be negative"]),
        ({"access_requests_per_hour": -3}, ["access_requests_per_hour", "must not be negative"]),
        ({"outage_windows_s": [(-5, 10)]}, ["must not be negative"]),
        ({"outage_windows_s": [(50, 10)]}, ["must end after it starts"]),
        ({"review_distribution": "gamma"}, ["unknown distribution 'gamma'", "exponential, lognormal"]),
        ({"auto_check_s": {"kind": "weibull", "mean": 2}}, ["unknown distribution 'weibull'"]),
        ({"auto_check_s": {"kind": "exponential", "mean": -2}}, ["mean", "> 0"]),
        ({"resubmit_delay_h": {"kind": "empirical"}}, ["needs a non-empty list"]),
        ({"review_distribution": "empirical", "review_minutes_values": [1, 2], "review_minutes_mean": 9},
         ["disagrees with the mean"]),
        ({"approve_probability": 1.5}, ["share", "between 0 and 1"]),
        ({"priority_classes": [{"name": "a", "share": 0.5}]}, ["add up to 1"]),
        ({"regions": [{"name": "US", "requests_per_hour": -1}]}, ["requests_per_hour", "must not be negative"]),
        ({"regions": [{"name": "US", "utc_offset_h": 20}]}, ["UTC offset"]),
        ({"shifts": [{"name": "x", "reviewers": 1, "start_hour": 0, "end_hour": 8, "days": [7]}]}, ["weekday"]),
        ({"transfers": {"nodes": 0, "flows": [{"data_class": "x", "destination": "US", "jobs_per_hour": 1.0}],
                        "size_gb": {"kind": "exponential", "mean": 1.0}}},
         ["gateway.transfers.nodes", "no inspection node"]),
        ({"transfers": {"nodes": 1, "flows": [{"data_class": "x", "destination": "US", "jobs_per_hour": 1.0}]}},
         ["gateway.transfers.size_gb", "no default"]),
        ({"review_minutes_mean": None}, ["gateway.review_minutes_mean", "no default"]),
        ({"regions": [{"name": "EEA", "head_count": 10}]}, ["gateway.regions.0.requests_per_person_hour", "no default"]),
        ({"regions": [{"name": "EEA", "in_zone": True, "head_count": 10, "requests_per_person_hour": 0.1}]},
         ["gateway.regions.0.restricted_share", "no default"]),
        ({"approve_probability": None}, ["approve_probability"]),
        ({"max_resubmissions": 1, "resubmit_delay_h": None}, ["gateway.resubmit_delay_h", "no default"]),
        ({"auto_check_s": None}, ["gateway.auto_check_s", "no default"]),
        ({"priority_classes": [{"name": "a"}, {"name": "b", "share": 0.5}]}, ["only the last priority class"]),
        ({"transfers": {"inspection_gb_per_s": 0}}, ["inspection_gb_per_s", "> 0"]),
        ({"third_party": {"enabled": True, "staff": 0, "access_share": 0.1,
                          "review_minutes": {"kind": "exponential", "mean": 10.0}}}, ["third_party", "no staff"]),
        ({"third_party": {"enabled": True, "staff": 2, "access_share": 0.1}}, ["gateway.third_party.review_minutes"]),
        ({"user_driven": [{"name": "x", "requests_per_million_mau_per_day": 1, "handled_by": "Mars"}]},
         ["user_driven.0.handled_by", "'Mars'"]),
        ({"user_driven": [{"name": "EEA", "requests_per_million_mau_per_day": 1}]}, ["also a region name"]),
        ({"user_driven": [{"name": "x", "requests_per_million_mau_per_day": -1}]}, ["must not be negative"]),
        ({"auto_check_servers": 0}, ["auto_check_servers is 0"]),
        ({"reviewrs": 3}, ["reviewrs", "Extra inputs"]),
    ],
)
def test_bad_configuration_is_a_clear_validation_error(data: dict, words: list[str]) -> None:
    with pytest.raises(ValidationError) as info:
        GatewayConfig.model_validate({**clover_gateway().model_dump(), **data})
    text = str(info.value)
    for word in words:
        assert word in text, text


def test_bad_call_arguments() -> None:
    with pytest.raises(ValueError, match="unknown transfer policy"):
        run(transfer_policy="closed")
    with pytest.raises(ValueError, match="unknown method"):
        run(method="magic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="longer than gateway.warmup_s"):
        simulate_gateway(clover_gateway(warmup_s=DAY), start_utc=START, horizon_s=DAY,
                         rng=np.random.default_rng(0), mau=CLOVER_MAU)
    with pytest.raises(ValueError, match="give mau"):
        simulate_gateway(clover_gateway(warmup_s=0.0), start_utc=START, horizon_s=DAY, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="transfer_jobs_per_hour"):
        run(transfer_jobs_per_hour={("a", "US"): -1.0})


# ----------------------------------------------------------------------------- results API


def test_run_shape_kpis_and_frame() -> None:
    result = run()
    n = len(result.arrival_s)
    assert n > 10_000
    for name in ("kind", "priority", "region", "data_class", "destination", "wait_s", "service_s",
                 "outcome", "size_gb", "crossed_gb", "parent", "done_s"):
        assert len(getattr(result, name)) == n, name
    assert np.all(np.diff(result.arrival_s[result.parent < 0]) >= 0)
    sim = result.simulated
    assert 0 < (~sim).sum() < 0.01 * n  # resubmissions that would arrive after the horizon
    assert np.all(np.isnan(result.wait_s[~sim])) and np.all(result.outcome[result.parent[~sim]] == gw.RESUBMITTED)
    assert np.all(result.wait_s[sim] >= 0) and np.all(result.done_s[sim] >= result.arrival_s[sim])
    assert np.allclose(result.done_s[sim], (result.arrival_s + result.wait_s + result.service_s)[sim],
                       rtol=0, atol=1e-6)
    kpis = gateway_kpis(result)
    assert set(kpis) == KPI_KEYS
    assert 0 < kpis["reviewer_utilisation"] < 1
    assert kpis["gateway_wait_s_p50"] <= kpis["gateway_wait_s_p95"] <= kpis["gateway_wait_s_p99"]
    frame = gateway_requests_frame(result)
    assert len(frame) == sim.sum()
    assert list(frame.columns) == ["arrival_s", "kind", "class", "region", "wait_s", "service_s", "outcome",
                                   "size_gb", "crossed_gb", "destination", "data_class"]
    assert set(frame["kind"].dropna()) == {"access", "transfer"}
    # requester regions, then the user-driven causes, each a label of its own
    assert set(frame["region"].dropna()) == {"EEA", "US", "SG", "CN", "user_support", "user_rights", "law_enforcement",
                                             "incidents"}
    assert frame.loc[frame["kind"] == "transfer", "region"].isna().all()
    util = reviewer_utilisation_by_hour(result)
    assert list(util.columns[:2]) == ["hour", "utilisation"] and len(util) == 24


def test_resubmissions_link_to_denied_originals() -> None:
    config = clover_gateway(warmup_s=0.0, approve_probability=0.5, resubmit_share=1.0, max_resubmissions=1,
                           resubmit_delay_h={"kind": "deterministic", "mean": 1.0})
    result = run(config)
    children = np.flatnonzero((result.parent >= 0) & result.simulated)
    parents = result.parent[children]
    assert len(children) > 100
    assert np.all(result.outcome[parents] == gw.RESUBMITTED)
    assert np.allclose(result.arrival_s[children], result.done_s[parents] + 3600.0)
    assert np.all(result.region[children] == result.region[parents])
    # max_resubmissions = 1: a denied resubmission is final
    assert not np.any(result.outcome[children] == gw.RESUBMITTED)


def test_working_hours_and_weekends() -> None:
    """Requests arrive in each region's local working hours, on local weekdays only."""
    result = run(days=7)
    frame = gateway_requests_frame(result)
    hours_utc = ((frame["arrival_s"] + START.hour * 3600) // 3600) % 24
    weekday = ((frame["arrival_s"] // DAY) % 7).astype(int)
    originals = result.parent[result.simulated] < 0
    us = (frame["region"] == "US") & originals
    assert set(hours_utc[us]) <= set(range(14, 22))  # 09-17 at UTC-5
    sg = (frame["region"] == "SG") & originals
    assert set(hours_utc[sg]) <= set(range(1, 9))  # 09-17 at UTC+8
    around_the_clock = frame["region"] == "incidents"  # the one user-driven cause no region handles
    assert set(weekday[(frame["kind"] == "access") & originals & ~around_the_clock]) <= {0, 1, 2, 3, 4}
    assert set(weekday[around_the_clock & originals]) == set(range(7))
    support = (frame["region"] == "user_support") & originals  # handled by the EEA, 09-17 at UTC+1
    assert support.sum() > 0 and set(hours_utc[support]) <= set(range(8, 16))
    assert set(weekday[frame["kind"] == "transfer"]) == set(range(7))


def test_shift_capacity_by_hour() -> None:
    config = clover_gateway(warmup_s=0.0, shifts=[
        {"name": "day", "reviewers": 30, "start_hour": 9, "end_hour": 17, "utc_offset_h": 1},
        {"name": "night", "reviewers": 3, "start_hour": 17, "end_hour": 9, "utc_offset_h": 1},
    ])
    result = run(config, days=2)
    cap = result.reviewer_capacity_s_by_hour / (2 * 3600.0)  # two days
    assert np.allclose(cap[8:16], 30) and np.allclose(cap[:8], 3) and np.allclose(cap[16:], 3)


# ----------------------------------------------------------------------------- policies


def test_policies() -> None:
    kwargs = {"days": 2.0, "seed": 4}
    gate, strict, open_ = (run(transfer_policy=p, **kwargs) for p in ("gateway", "strict", "open"))
    # common random numbers: the same original requests under every policy
    originals = gate.parent < 0
    assert np.array_equal(gate.arrival_s[originals], open_.arrival_s[open_.parent < 0])
    assert np.array_equal(gate.arrival_s[originals], strict.arrival_s[strict.parent < 0])
    # open: no gateway at all
    sim = open_.simulated
    assert np.all(open_.wait_s[sim] == 0) and np.all(open_.outcome == gw.APPROVED)
    assert (open_.parent[sim] >= 0).sum() == 0
    k_open = gateway_kpis(open_)
    assert transfer_tb_per_year(open_, gw.BLOCKED) == 0 and k_open["gateway_requests_per_year"] == 0
    transfers = open_.kind == gw.TRANSFER
    assert np.array_equal(open_.crossed_gb[transfers], open_.size_gb[transfers])  # nothing pseudonymised
    # strict: protected personal data never leaves, and waits no time being blocked
    protected = clover_gateway().transfers.protected_classes
    codes = [strict.data_class_names.index(c) for c in protected if c in strict.data_class_names]
    blocked = np.isin(strict.data_class, codes) & (strict.kind == gw.TRANSFER)
    assert blocked.sum() > 0
    assert np.all(strict.outcome[blocked] == gw.BLOCKED) and np.all(strict.wait_s[blocked] == 0)
    assert transfer_tb_per_year(strict, gw.BLOCKED) > transfer_tb_per_year(gate, gw.BLOCKED) > 0
    assert transfer_tb_per_year(strict, gw.APPROVED) < transfer_tb_per_year(gate, gw.APPROVED)
    # the gateway approves some transfers and blocks the rest
    t = gate.kind == gw.TRANSFER
    assert set(np.unique(gate.outcome[t])) == {gw.APPROVED, gw.BLOCKED}
    assert np.allclose(gate.crossed_gb[t], gate.size_gb[t] * np.array(
        [clover_gateway().transfers.factor(c) for c in gate.data_class_names])[gate.data_class[t]])
    # disabled gateway == open
    off = run(clover_gateway(warmup_s=0.0, enabled=False), **kwargs)
    assert gateway_kpis(off) == k_open
    for outcome in (gw.APPROVED, gw.BLOCKED):
        assert transfer_tb_per_year(off, outcome) == transfer_tb_per_year(open_, outcome)


def test_transfer_rates_can_be_driven_by_the_caller() -> None:
    rates = {("user_content", "US"): 100.0, ("protected_personal", "CN"): 20.0}
    result = run(days=2, transfer_jobs_per_hour=rates)
    t = result.kind == gw.TRANSFER
    pairs = {(result.data_class_names[c], result.destination_names[d])
             for c, d in zip(result.data_class[t], result.destination[t])}
    assert pairs == set(rates)
    assert t.sum() == pytest.approx(120 * 48, rel=0.1)
    zero = run(days=2, transfer_jobs_per_hour={})
    assert (zero.kind == gw.TRANSFER).sum() == 0


# ----------------------------------------------------------------------------- outages, stability


def test_outage_stops_new_work_but_loses_nothing() -> None:
    window = (10 * 3600.0, 16 * 3600.0)
    config = clover_gateway(warmup_s=0.0, outage_windows_s=[window])
    result = run(config, days=2)
    base = run(days=2)
    # the same original requests, all completed
    assert np.array_equal(result.arrival_s[result.parent < 0], base.arrival_s[base.parent < 0])
    inside = (result.arrival_s >= window[0]) & (result.arrival_s < window[1]) & (result.kind == gw.ACCESS)
    assert inside.sum() > 100
    # nobody who arrived during the outage finished before it ended
    assert np.all(result.done_s[inside] >= window[1])
    assert np.all(np.isfinite(result.done_s[result.simulated]))
    assert gateway_kpis(result)["gateway_wait_s_mean"] > gateway_kpis(base)["gateway_wait_s_mean"]


def test_random_outages_are_drawn_from_the_rng() -> None:
    config = clover_gateway(warmup_s=0.0, outage_mtbf_h=24.0, outage_mttr_h=3.0)
    a, b = run(config, days=10, seed=3), run(config, days=10, seed=3)
    assert np.array_equal(a.wait_s, b.wait_s, equal_nan=True)
    assert gateway_kpis(a)["gateway_wait_s_mean"] > gateway_kpis(run(days=10, seed=3))["gateway_wait_s_mean"]


def test_unstable_queue_is_reported() -> None:
    config = GatewayConfig(access_requests_per_hour=60.0, staffing="24x7", reviewers=2, review_distribution="lognormal",
                           review_minutes_mean=5.0, review_cv=1.0, approve_probability=0.9, warmup_s=0.0)
    result = run(config, days=2)
    assert result.unstable
    assert result.message.startswith("unstable: human review offered load is 2.")
    assert "add servers or reviewers" in result.message
    assert result.offered_load["human review"] == pytest.approx(2.5, rel=0.1)
    assert not run(days=2).unstable


def test_sla_breach_share_uses_class_sla() -> None:
    config = clover_gateway(warmup_s=0.0, sla_s=600.0, priority_classes=[
        {"name": "incident", "share": 0.1, "sla_s": 60.0}, {"name": "routine", "share": 0.9}])
    result = run(config)
    access = (result.kind == gw.ACCESS) & result.simulated
    limit = np.where(result.priority == 0, 60.0, 600.0)
    assert gateway_kpis(result)["gateway_sla_breach_share"] == pytest.approx(np.mean((result.wait_s > limit)[access]))


def test_warmup_excludes_early_requests_and_scales_to_a_year() -> None:
    result = run(clover_gateway(warmup_s=DAY), days=3)
    counted = result.arrival_s >= DAY
    # a year is sim.reference.units.YEAR_S = 365.25 days; two days are counted
    assert gateway_kpis(result)["gateway_requests_per_year"] == pytest.approx(counted.sum() * 365.25 / 2)


# ----------------------------------------------------------------------------- staffing


def test_staff_for_target() -> None:
    config = clover_gateway(warmup_s=0.0, third_party={"enabled": False}, shifts=[
        {"name": "early", "reviewers": 1, "start_hour": 0, "end_hour": 12},
        {"name": "late", "reviewers": 1, "start_hour": 12, "end_hour": 24},
    ])
    table = staff_for_target(config, p95_wait_s=1800.0, start_utc=START, horizon_s=5 * DAY, seed=7, mau=CLOVER_MAU)
    assert list(table.columns) == ["shift", "reviewers", "erlang_c_reviewers", "p95_wait_s", "utilisation"]
    assert list(table["shift"]) == ["early", "late"]
    assert (table["p95_wait_s"] <= 1800.0).all()
    assert table["reviewers"].between(1, 200).all()
    assert isinstance(table, pd.DataFrame)
    # the late shift (US working hours) needs more reviewers than the early one
    late, early = table.set_index("shift").loc[["late", "early"], "reviewers"]
    assert late > early
