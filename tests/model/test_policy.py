"""Placement policies: registry, copy spreading and residency rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.model.placement.policy import POLICIES, NoSiteAvailable, PlacementContext, get_policy, spread_copies


@given(
    st.lists(st.floats(min_value=0.0, max_value=100.0), min_size=1, max_size=8),
    st.integers(min_value=1, max_value=5),
)
def test_spread_copies(weights, copies) -> None:
    x = spread_copies(np.array(weights), copies)
    usable = int((np.array(weights) > 0).sum())
    assert x.sum() == pytest.approx(min(copies, usable))
    assert (x <= 1 + 1e-12).all() and (x >= 0).all()
    assert (x[np.array(weights) == 0] == 0).all()


def ctx(available=(True, True, True, True), eea=(True, True, True, False)) -> PlacementContext:
    rng = np.random.default_rng(0)
    C, _K = 5, 2
    bound = np.array([True, False])
    allowed = np.broadcast_to(np.where(bound[:, None], np.array(eea)[None, :], True), (C, 2, 4))
    return PlacementContext(
        countries=[f"C{i}" for i in range(C)],
        classes=["a", "b"],
        class_bound=bound,
        replicas=np.array([2, 3]),
        sites=["s0", "s1", "s2", "us"],
        allowed=allowed,
        site_available=np.array(available),
        site_it_mw=np.array([40.0, 30.0, 90.0, 200.0]),
        rtt_ms=rng.uniform(10, 100, size=(C, 4)),
        demand_share=np.full(C, 1 / C),
    )


@pytest.mark.parametrize("name", ["clover", "nearest_in_zone"])
def test_zone_policies_never_use_sites_outside_the_zone(name) -> None:
    p = get_policy(name).place(ctx())
    assert p.serve[:, 3].sum() == 0 and p.store[:, :, 3].sum() == 0
    np.testing.assert_allclose(p.serve.sum(axis=1), 1.0)
    np.testing.assert_allclose(p.store.sum(axis=2), [[2, 3]] * 5)


def test_clover_splits_by_contracted_mw() -> None:
    p = get_policy("clover").place(ctx())
    np.testing.assert_allclose(p.serve[0, :3], np.array([40, 30, 90]) / 160)


def test_pre_clover_uses_listed_order() -> None:
    p = get_policy("pre_clover").place(ctx(available=(False, False, True, True)))
    assert p.serve[:, 2].sum() == 5  # first available site in list order
    assert (p.store[:, 0, 2:] == 1).all()


def test_no_available_site_raises() -> None:
    with pytest.raises(NoSiteAvailable):
        get_policy("clover").place(ctx(available=(False, False, False, True)))


def test_registry_lists_the_three_policies() -> None:
    assert {"pre_clover", "clover", "nearest_in_zone"} <= set(POLICIES)
    with pytest.raises(KeyError, match="known"):
        get_policy("nope")
