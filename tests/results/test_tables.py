"""Tidy tables from hand-built meters: columns, units (GB -> TB), sums, and the weighted quantile."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.meters import FlowLog, Meters
from sim.results.tables import latency_table, placement_table, transfers_table, weighted_quantile

HOUR = 3600.0
START = pd.Timestamp("2025-01-01T00:00:00")
SITES = ["dublin", "hamar", "virginia"]
CLASSES = ["personal", "content"]
COUNTRIES = ["IE", "NO", "PT"]


def meters(
    step_s: float = 12 * HOUR,
    stored_gb: np.ndarray | None = None,
    served: np.ndarray | None = None,
    log: FlowLog | None = None,
) -> Meters:
    c, k, s = len(COUNTRIES), len(CLASSES), len(SITES)
    if stored_gb is None:
        # (T=5, K, S): value = 1000 x step + 100 x class + site, so every cell is recognisable
        t_, k_, s_ = np.meshgrid(np.arange(5), np.arange(k), np.arange(s), indexing="ij")
        stored_gb = 1000.0 * t_ + 100.0 * k_ + s_
    t = stored_gb.shape[0]
    z = np.zeros
    rtt = np.array([[5.0, 25.0, 85.0], [22.0, 6.0, 100.0], [30.0, 50.0, 90.0]])
    return Meters(
        countries=COUNTRIES,
        classes=CLASSES,
        sites=SITES,
        edges_s=np.arange(t + 1) * step_s,
        requests=z((t, c)),
        mau=z((t, c)),
        busy_core_s=z((t, s)),
        stored_gb=stored_gb,
        initial_gb=z((k, s)),
        written_gb=z((k, s)),
        replicated_gb=z((k, s)),
        deleted_gb=z((k, s)),
        dropped_gb=z((k, s)),
        moved_in_gb=z((k, s)),
        moved_out_gb=z((k, s)),
        export_blocked_gb=z(k),
        served_requests=served if served is not None else z((c, s)),
        failover_requests=z((c, s)),
        unserved_requests=z(c),
        violation_requests=0.0,
        violation_gb=z(k),
        final_stock_gb=z((c, k, s)),
        rtt_ms=rtt,
        fibre_min_ms=rtt / 2,
        flows=log if log is not None else FlowLog(),
        placement_changes_s=[0.0],
        pending_migration_gb=0.0,
        gateway=None,
    )


# ------------------------------------------------------------------------------------------------
# placement


def test_placement_table_samples_each_day_end_and_the_run_end_in_tb() -> None:
    # five 12-hour steps (2.5 days): samples at the ends of steps 1 (day 1), 3 (day 2) and 4 (run end)
    m = meters()
    table = placement_table(m, START)
    assert list(table.columns) == ["time", "site", "data_class", "stored_tb"]
    assert len(table) == 3 * len(CLASSES) * len(SITES)
    times = sorted(table.time.unique())
    assert times == [pd.Timestamp("2025-01-02"), pd.Timestamp("2025-01-03"), pd.Timestamp("2025-01-03T12:00")]
    # GB -> TB, and every (time, class, site) cell comes from the right meter cell
    for when, step in zip(times, [1, 3, 4], strict=True):
        for k, cls in enumerate(CLASSES):
            for s, site in enumerate(SITES):
                hit = table[(table.time == when) & (table.data_class == cls) & (table.site == site)]
                assert len(hit) == 1
                assert hit.stored_tb.iloc[0] == pytest.approx((1000.0 * step + 100.0 * k + s) / 1000.0)
        assert table.loc[table.time == when, "stored_tb"].sum() * 1000 == pytest.approx(m.stored_gb[step].sum())


def test_placement_table_one_row_per_step_when_sampled_every_step() -> None:
    m = meters()
    table = placement_table(m, START, every_s=12 * HOUR)
    assert table.time.nunique() == 5
    assert table.stored_tb.sum() * 1000 == pytest.approx(m.stored_gb.sum())


# ------------------------------------------------------------------------------------------------
# transfers

IN_EEA = {"IE": True, "NO": True, "PT": True, "GB": False, "US": False, "dublin": True, "hamar": True, "virginia": False}


def eea_crossing(data_class: str, source: str, destination: str) -> tuple[bool, bool]:
    """Every class bound to one zone (the EEA of IN_EEA): crosses, leaves."""
    a, b = IN_EEA[source], IN_EEA[destination]
    return a != b, a and not b


def transfer_log() -> FlowLog:
    log = FlowLog()
    log.add(0.0, "IE", "dublin", "personal", "ingest", 1500.0)
    log.add(0.0, "GB", "dublin", "content", "ingest", 250.0)
    log.add(0.0, "dublin", "GB", "content", "read", 4000.0)
    log.add(31 * 86400.0, "dublin", "virginia", "content", "replication", 700.0)
    log.add(31 * 86400.0, "virginia", "hamar", "content", "migration", 20.0)
    log.add(31 * 86400.0, "hamar", "US", "personal", "export", 3.0)
    log.add(31 * 86400.0, "dublin", "hamar", "personal", "replication", 0.0)  # zero: dropped
    return log


def test_transfers_table_columns_units_and_sums() -> None:
    log = transfer_log()
    table = transfers_table(meters(log=log), START, eea_crossing)
    assert list(table.columns) == [
        "time", "source", "destination", "data_class", "kind", "tb", "crosses_residency_border", "leaves_residency",
    ]
    assert len(table) == 6
    assert table.tb.sum() == pytest.approx((1500 + 250 + 4000 + 700 + 20 + 3) / 1000)
    assert table.tb.sum() * 1000 == pytest.approx(log.columns()["gb"].sum())
    by_kind = table.groupby("kind").tb.sum()
    assert by_kind["ingest"] == pytest.approx(1.75)
    assert by_kind["export"] == pytest.approx(0.003)
    # period starts become month-start timestamps
    assert sorted(table.time.unique()) == [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")]


@pytest.mark.parametrize(
    ("source", "destination", "kind", "crosses", "leaves"),
    [
        ("IE", "dublin", "ingest", False, False),
        ("GB", "dublin", "ingest", True, False),  # into the EEA
        ("dublin", "GB", "read", True, False),  # a UK user's own read is not a transfer out
        ("dublin", "virginia", "replication", True, True),
        ("virginia", "hamar", "migration", True, False),
        ("hamar", "US", "export", True, True),
    ],
)
def test_transfers_table_zone_flags(source: str, destination: str, kind: str, crosses: bool, leaves: bool) -> None:
    table = transfers_table(meters(log=transfer_log()), START, eea_crossing)
    hit = table[(table.source == source) & (table.destination == destination) & (table.kind == kind)]
    assert len(hit) == 1
    assert bool(hit.crosses_residency_border.iloc[0]) is crosses
    assert bool(hit.leaves_residency.iloc[0]) is leaves


def test_transfers_table_of_an_empty_log() -> None:
    table = transfers_table(meters(), START, eea_crossing)
    assert len(table) == 0
    assert "tb" in table.columns and "leaves_residency" in table.columns


# ------------------------------------------------------------------------------------------------
# latency


def test_latency_table_shares_and_round_trips() -> None:
    served = np.array([[30.0, 10.0, 0.0], [0.0, 0.0, 0.0], [0.0, 5.0, 15.0]])  # NO served nothing
    m = meters(served=served)
    table = latency_table(m)
    assert list(table.columns) == ["country", "site", "rtt_ms", "fibre_min_ms", "access_ms_mean", "share_of_requests"]
    assert (table.access_ms_mean == 0).all()  # no access network given
    got = {(r.country, r.site): (r.rtt_ms, r.fibre_min_ms, r.share_of_requests) for r in table.itertuples()}
    assert got == {
        ("IE", "dublin"): (5.0, 2.5, 0.75),
        ("IE", "hamar"): (25.0, 12.5, 0.25),
        ("PT", "hamar"): (50.0, 25.0, 0.25),
        ("PT", "virginia"): (90.0, 45.0, 0.75),
    }
    assert table.groupby("country").share_of_requests.sum().tolist() == pytest.approx([1.0, 1.0])
    # the request-weighted median round trip of PT: 75 % of its requests see 90 ms
    pt = table[table.country == "PT"]
    assert weighted_quantile(pt.rtt_ms.to_numpy(), pt.share_of_requests.to_numpy(), 0.5) == 90.0
    with_access = latency_table(m, np.array([20.0, 30.0, 40.0]))  # IE, NO, PT
    assert with_access.set_index(["country", "site"]).access_ms_mean.to_dict() == {
        ("IE", "dublin"): 20.0, ("IE", "hamar"): 20.0, ("PT", "hamar"): 40.0, ("PT", "virginia"): 40.0}


# ------------------------------------------------------------------------------------------------
# weighted quantile

VALUES = np.array([3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.0, 3.5])


@pytest.mark.parametrize("q", [0.01, 0.1, 0.25, 0.5, 0.625, 0.75, 0.9, 0.95, 1.0])
def test_equal_weights_give_the_ordinary_quantile(q: float) -> None:
    expected = float(np.quantile(VALUES, q, method="inverted_cdf"))
    assert weighted_quantile(VALUES, np.ones_like(VALUES), q) == expected
    assert weighted_quantile(VALUES, np.full_like(VALUES, 7.0), q) == expected  # scale-free


def test_equal_weights_by_hand() -> None:
    # sorted 1, 2, 3, 4, 5; cumulative weight 0.2, 0.4, 0.6, 0.8, 1.0
    v, w = np.array([3.0, 1.0, 2.0, 5.0, 4.0]), np.ones(5)
    assert [weighted_quantile(v, w, q) for q in (0.1, 0.2, 0.3, 0.4, 0.5, 0.8, 0.81, 1.0)] == [1, 1, 2, 2, 3, 4, 5, 5]


def test_zero_weight_ignores_a_value() -> None:
    v = np.array([1.0, 100.0, 2.0, 3.0])
    w = np.array([1.0, 0.0, 1.0, 1.0])
    assert weighted_quantile(v, w, 1.0) == 3.0  # the 100 carries no weight
    assert weighted_quantile(v, w, 0.5) == 2.0
    # a zero-weight value in the middle is skipped too
    assert weighted_quantile([1.0, 2.0, 3.0], [1.0, 0.0, 1.0], 0.6) == 3.0


@pytest.mark.parametrize("q", [0.01, 0.5, 0.99, 1.0])
def test_all_weight_on_one_value(q: float) -> None:
    assert weighted_quantile([1.0, 7.0, 3.0, 10.0], [0.0, 2.5, 0.0, 0.0], q) == 7.0


def test_weights_move_the_quantile() -> None:
    v = np.array([10.0, 20.0, 30.0])
    assert weighted_quantile(v, [1.0, 1.0, 1.0], 0.5) == 20.0
    assert weighted_quantile(v, [1.0, 1.0, 8.0], 0.5) == 30.0  # 80 % of the weight at 30
    assert weighted_quantile(v, [8.0, 1.0, 1.0], 0.5) == 10.0


def test_weighted_quantile_ignores_input_order() -> None:
    rng = np.random.default_rng(3)
    v, w = rng.normal(size=50), rng.uniform(size=50)
    order = rng.permutation(50)
    for q in (0.05, 0.5, 0.95):
        assert weighted_quantile(v, w, q) == weighted_quantile(v[order], w[order], q)


def test_weighted_quantile_rejects_zero_total_weight() -> None:
    with pytest.raises(ValueError, match="zero"):
        weighted_quantile([1.0, 2.0], [0.0, 0.0], 0.5)
