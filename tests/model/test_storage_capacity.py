"""Storage capacity binds: less room moves data elsewhere or is refused, never ignored."""

from __future__ import annotations

import numpy as np
import pytest

from sim.cli import app as cli
from sim.experiments.replicate import run_replication
from sim.model.world import ModelInputError
from sim.seeds import replication_seeds
from tests.conftest import SCENARIOS, short

FAST = ("gateway.enabled=false",)


def stored(*overrides: str) -> dict[str, float]:
    sc = short("clover.toml", *FAST, *overrides, days=3, step_minutes=240)
    r = run_replication(sc, replication_seeds(0, 1)[0])
    return {s: r.kpis[f"stored_pb.{s}"].value for s in sc.policy.sites} | {
        "overflow": r.kpis["storage_overflow_pb"].value
    }


@pytest.mark.parametrize("policy", ["clover", "nearest_in_zone", "cost_optimal"])
def test_less_storage_moves_data_within_capacity(policy: str) -> None:
    placement = f'policy.placement="{policy}"'
    roomy = stored(placement)
    caps = {"dublin": 500.0, "ireland2": 400.0, "hamar": 800.0}  # clover.toml
    sites = list(caps)
    big = max(sites, key=lambda s: roomy[s])
    spare = sum(caps[s] - roomy[s] for s in sites if s != big)
    cap = round(roomy[big] - 0.5 * spare)  # the roomy layout no longer fits; the others have room
    tight = stored(placement, f"sites.{big}.storage_pb_capacity={cap}")
    assert tight[big] <= cap * (1 + 1e-6) < roomy[big]
    assert sum(tight[s] for s in sites if s != big) > sum(roomy[s] for s in sites if s != big)
    assert sum(tight[s] for s in sites) == pytest.approx(sum(roomy[s] for s in sites), rel=1e-6)
    assert all(tight[s] <= caps[s] * (1 + 1e-6) for s in sites if s != big)
    assert tight["overflow"] == 0.0


def test_data_that_cannot_fit_is_bad_input_naming_the_sites(capsys) -> None:
    sc = short("clover.toml", *FAST, "sites.hamar.storage_pb_capacity=100", days=1, step_minutes=240)
    with pytest.raises(ModelInputError, match="storage.*hamar"):
        run_replication(sc, replication_seeds(0, 1)[0])
    code = cli.main(["run", str(SCENARIOS / "clover.toml"), "--set", "gateway.enabled=false",
                     "--set", "time.horizon_days=1", "--set", "sites.hamar.storage_pb_capacity=100",
                     "--out", "/nonexistent-never-written"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "storage" in err[0] and "hamar" in err[0]


def test_overflow_during_a_run_is_metered_and_warned() -> None:
    """Growth past the plan (here: a capacity below what is stored, seen only by the meter)."""
    from sim.results.replication import _storage_overflow_gb

    sc = short("clover.toml", *FAST, days=2, step_minutes=240)
    r = run_replication(sc, replication_seeds(0, 1)[0])
    assert r.kpis["storage_overflow_pb"].value == 0.0
    assert not any("storage capacity" in w for w in r.warnings)
    from sim.model.world import run_world

    m = run_world(sc, replication_seeds(0, 1)[0])
    hamar = m.sites.index("hamar")
    peak_pb = m.stored_gb.sum(axis=1)[:, hamar].max() / 1e6
    small = sc.model_copy(update={"sites": {**sc.sites, "hamar": sc.sites["hamar"].model_copy(
        update={"storage_pb_capacity": peak_pb - 50.0})}})
    over = _storage_overflow_gb(m, small)
    assert over[:, hamar].max() / 1e6 == pytest.approx(50.0)
    assert np.all(over[:, [i for i in range(len(m.sites)) if i != hamar]] == 0.0)
    from sim.results.replication import replication_result

    res = replication_result(m, small)
    assert res.kpis["storage_overflow_pb.hamar"].value == pytest.approx(50.0)
    assert any("hamar" in w and "storage capacity" in w for w in res.warnings)


def test_clover_serves_each_country_from_the_nearest_site_with_its_data() -> None:
    """Irish users from Ireland, Nordic users from Hamar; a farther site means a longer round trip."""
    from sim.model.world import run_world
    from sim.results.tables import latency_table

    sc = short("clover.toml", *FAST, days=2, step_minutes=240)
    m = run_world(sc, replication_seeds(0, 1)[0])
    lat = latency_table(m).set_index(["country", "site"])["share_of_requests"]
    assert lat.loc["IE"].reindex(["dublin", "ireland2"]).fillna(0).sum() > 0.99
    for country in ("NO", "SE", "FI"):
        assert lat.loc[country].get("hamar", 0.0) > 0.99
    # every site within its contract: the greedy plan respects the contracted power
    r = run_replication(sc, replication_seeds(0, 1)[0])
    for s in sc.policy.sites:
        assert r.kpis[f"it_mw_provisioned.{s}"].value <= sc.sites[s].it_mw_contracted
    # moving Hamar farther away (to Helsinki's longitude, same latitude) lengthens Nordic trips
    far = short("clover.toml", *FAST, "sites.hamar.lon=25.0", days=2, step_minutes=240)
    r_far = run_replication(far, replication_seeds(0, 1)[0])
    assert r_far.kpis["user_rtt_ms_p95"].value != r.kpis["user_rtt_ms_p95"].value
    m_far = run_world(far, replication_seeds(0, 1)[0])
    no = m.countries.index("NO")
    assert (m_far.served_requests[no] * m_far.rtt_ms[no]).sum() / m_far.served_requests[no].sum() > (
        (m.served_requests[no] * m.rtt_ms[no]).sum() / m.served_requests[no].sum()
    )
