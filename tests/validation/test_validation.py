"""The gateway configured through a scenario file as a textbook M/M/c queue, against Erlang C.

Runs the whole public path (scenario file, --set overrides, the world, 30 replications, the
KPI summary), so a wiring mistake anywhere between the file and the KPI would show.
"""

from __future__ import annotations

import pytest

from sim import load_scenario, simulate
from sim.theory.queueing import mmc_mean_wait
from tests.conftest import SCENARIOS

MMC = SCENARIOS / "validation" / "mmc.toml"


@pytest.mark.parametrize(
    ("reviewers", "rho", "days"),
    [(1, 0.95, 1095), (3, 0.83, 365), (10, 0.9, 120)],
)
def test_mmc_mean_wait_interval_covers_erlang_c(reviewers: int, rho: float, days: int) -> None:
    mean_min = 5.0
    per_hour = rho * reviewers * 60.0 / mean_min
    sc = load_scenario(
        MMC,
        [
            f"gateway.reviewers={reviewers}",
            f"gateway.access_requests_per_hour={per_hour}",
            f"gateway.review_minutes_mean={mean_min}",
            f"time.horizon_days={days}",
            f"gateway.warmup_s={0.05 * days * 86400}",
        ],
    )
    res = simulate(sc, replications=30, seed=11)
    row = res.kpi_summary().set_index("name").loc["gateway_wait_s_mean"]
    expected = mmc_mean_wait(per_hour / 3600.0, mean_min * 60.0, reviewers)
    assert row.ci95_low <= expected <= row.ci95_high, (row.ci95_low, expected, row.ci95_high)
    # Little's law on the same runs: busy reviewers = arrival rate x mean service time
    assert res.kpi("reviewer_utilisation") == pytest.approx(rho, rel=0.02)
