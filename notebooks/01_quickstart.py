# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 Quickstart: what does Project Clover cost, and where does the data live?
#
# **Question.** Project Clover keeps European user data in three EEA data centres (dublin,
# ireland2, hamar) behind a security gateway, for ~150 M monthly users. What does that cost a
# year, where is the data stored, how far are users from it, and how do the answers move when
# one assumption changes?
#
# **How to use it.** Every parameter is in the first code cell: change it and *Run All*. With
# the defaults (one year at 15-minute steps, 3 replications, gateway on) the notebook takes
# about half a minute. `GATEWAY = False` switches the security gateway off, which makes runs
# much faster (the test suite does this) but drops the reviewers, the oversight contract and
# the gateway waits from the results.

# %% tags=["parameters"]
import pathlib

ROOT = pathlib.Path("..")  # repository root: the scenario files are in ROOT / "scenarios"
OUT = ROOT / "results" / "notebooks" / "01_quickstart"  # result files (results/ is git-ignored)
SCENARIO = "clover.toml"  # a scenario file in scenarios/
HORIZON_DAYS = 365  # simulated days from the scenario's start date
STEP_MINUTES = 15  # time step of the bulk traffic
REPLICATIONS = 3  # independent replications (2 or more give 95 % intervals)
SEED = 1  # root seed: the same seed gives the same numbers, byte for byte
GATEWAY = True  # False: no security gateway (much faster; the tests use it)
CHANGE = "population.mau=180000000"  # one assumption to change, as `clover-sim run --set` takes it

# %%
# %matplotlib inline
import pandas as pd
from IPython.display import Markdown, display

import sim
from sim.report import charts

pd.set_option("display.float_format", sim.format_number)  # the project's one number format
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 30)


# %% [markdown]
# ## 1. Load and run the scenario
#
# `sim.load_scenario` reads the scenario file (which `extends` the shared assumptions in
# `scenarios/base.toml`), applies dotted overrides exactly like `clover-sim run --set KEY=VALUE`,
# and validates everything; the result has every default filled in. `sim.simulate` runs it
# `REPLICATIONS` times from one root seed.

# %%
def overrides(*extra: str) -> list[str]:
    """The --set overrides of this notebook: horizon, step, gateway switch, then `extra`."""
    out = [f"time.horizon_days={HORIZON_DAYS}", f"time.step_minutes={STEP_MINUTES}"]
    if not GATEWAY:
        out.append("gateway.enabled=false")
    return out + list(extra)


scenario = sim.load_scenario(ROOT / "scenarios" / SCENARIO, overrides())
print(f"{scenario.name}: {scenario.description}")
print(f"from {scenario.time.start}, {scenario.time.horizon_days:g} days at {scenario.time.step_minutes:g}-minute steps")
print(f"sites {', '.join(scenario.policy.sites)}; placement policy {scenario.policy.placement}; "
      f"transfer policy {scenario.policy.transfer}; gateway {'on' if scenario.gateway.enabled else 'off'}")

# %%
results = sim.simulate(scenario, replications=REPLICATIONS, seed=SEED)

# %% [markdown]
# ## 2. Headline KPIs
#
# `Results.kpi_summary()` gives one row per KPI: the mean over the replications and its 95 %
# Student-t interval. The unit is in the name: `_eur_per_year` and the other `_per_year` KPIs
# are yearly rates (a shorter horizon is scaled up to a year), `_pb` petabytes, `_ms`
# milliseconds, `_s` seconds, `share` a fraction between 0 and 1. Per-site KPIs are called
# `name.<site>` (e.g. `cost_eur_per_year.hamar`). `residency_share` is the share of the bytes
# of the residency-bound data classes stored inside their zone (Clover's enclave is the bundled
# `europe` zone: EEA, UK and Switzerland); `residency_share.<zone>` gives it per zone.

# %%
# names, labels, units and which direction is better come from the one KPI catalogue, sim.kpis
HEADLINE = [*sim.kpis.HEADLINE_KPIS, "stored_pb_outside_residency", "gateway_wait_s_p95", "reviewer_utilisation"]
kpis = results.kpi_summary().set_index("name")
kpis.loc[HEADLINE].assign(
    label=[sim.kpis.label(k) for k in HEADLINE], better=[sim.kpis.better(k) for k in HEADLINE]
)

# %%
cost = kpis.loc["cost_eur_per_year"]
reference = scenario.costs.reference_eur_per_year
off = 100 * (cost["mean"] / reference - 1)
against = "in line with" if abs(off) < 0.05 else f"{abs(off):.1f} % {'above' if off > 0 else 'below'}"
display(Markdown(
    f"**{scenario.name}** costs **EUR {cost['mean'] / 1e6:,.0f} m a year** (95 % interval "
    f"{cost['ci95_low'] / 1e6:,.1f} to {cost['ci95_high'] / 1e6:,.1f} m over {REPLICATIONS} replications), "
    f"{against} the {scenario.costs.reference_label.lower()} (EUR {reference / 1e9:.1f} bn). "
    f"{100 * kpis.loc['residency_share', 'mean']:.1f} % of the residency-bound data is stored in its zone, "
    f"and half of all requests travel at most {kpis.loc['user_rtt_ms_p50', 'mean']:.0f} ms round trip "
    f"(95 % at most {kpis.loc['user_rtt_ms_p95', 'mean']:.0f} ms)."
))

# %% [markdown]
# ## 3. Where the money goes
#
# `Results.table("costs")` is tidy: one row per replication, site and cost category, with the
# metered quantity each figure comes from (`quantity`, `unit`), so every euro can be traced.
# Below: EUR million a year, mean over replications. The `programme` row holds the costs not
# tied to a site: the central data-security staff, the gateway reviewers and inspection nodes,
# and the third-party oversight contract.

# %%
costs = results.table("costs")
cost_table = costs.groupby(["site", "category"])["eur_per_year"].mean().unstack("category", fill_value=0.0) / 1e6
cost_table["total"] = cost_table.sum(axis=1)
cost_table.loc["total"] = cost_table.sum()
cost_table

# %%
costs[costs["replication"] == 0].drop(columns="replication").head(8)  # the metered quantities behind the euros


# %% [markdown]
# ## 4. Three charts
#
# The charts of `sim.report.charts` take the tidy tables of one run (here replication 0) and
# return a matplotlib figure whose title states the finding:
#
# * **stored data by site** over time (stacked, PB);
# * **cost by site and category** against the published EUR 1.2 bn a year;
# * **round trip by country**: request-weighted mean RTT from each country to the sites that
#   serve it; the black marks are the fibre minimum for those sites (the physical floor: light
#   in fibre along the great circle), so the gap above a mark is route inflation and access
#   overhead.

# %%
def first(name: str) -> pd.DataFrame:
    """Table `name` of the first replication (a chart draws one run)."""
    table = results.table(name)
    return table[table["replication"] == 0].drop(columns="replication")


charts.stored_by_site_chart(first("placement"))

# %%
charts.cost_by_site_chart(first("costs"), reference_eur_per_year=scenario.costs.reference_eur_per_year)

# %%
latency = first("latency")
fibre_min = (
    latency.assign(rtt_ms=latency["fibre_min_ms"] * latency["share_of_requests"])
    .groupby("country", as_index=False)["rtt_ms"]
    .sum()
)
charts.rtt_by_country_chart(latency, fibre_min=fibre_min)


# %% [markdown]
# ## 5. Change one assumption
#
# `CHANGE` is one `--set` override (default: 180 M monthly users instead of 150 M). The changed
# scenario runs on the same seed, so both runs see the same random draws (common random
# numbers) and the difference below is the effect of the change, not noise. Notebook 02 does
# this with paired confidence intervals.

# %%
def value_at(scenario: sim.Scenario, dotted: str):
    """The resolved value of a dotted key, e.g. "population.mau"."""
    node = scenario.model_dump()
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


key = CHANGE.partition("=")[0].strip()
changed_scenario = sim.load_scenario(ROOT / "scenarios" / SCENARIO, overrides(CHANGE))
changed = sim.simulate(changed_scenario, replications=REPLICATIONS, seed=SEED)
before, after = value_at(scenario, key), value_at(changed_scenario, key)
print(f"{key}: {before!r} -> {after!r}")

# %%
DELTA_KPIS = [
    "cost_eur_per_year", "energy_mwh_per_year", "co2_t_per_year", "stored_pb_total",
    "user_rtt_ms_p95", "gateway_wait_s_p95", "mau_end",
]
delta = pd.DataFrame(
    {"baseline": [results.kpi(k) for k in DELTA_KPIS], "changed": [changed.kpi(k) for k in DELTA_KPIS]},
    index=DELTA_KPIS,
)
delta["change"] = delta["changed"] - delta["baseline"]
delta["change_pct"] = 100 * delta["change"] / delta["baseline"].where(delta["baseline"] != 0)
delta


# %%
def shown(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int | float) else repr(value)


c0, c1 = results.kpi("cost_eur_per_year"), changed.kpi("cost_eur_per_year")
u0, u1 = results.kpi("mau_end"), changed.kpi("mau_end")
display(Markdown(
    f"Changing `{key}` from {shown(before)} to {shown(after)} moves the yearly cost by "
    f"**EUR {(c1 - c0) / 1e6:+,.0f} m ({100 * (c1 / c0 - 1):+.1f} %)**; the cost per monthly user "
    f"goes from EUR {c0 / u0:.2f} to EUR {c1 / u1:.2f} a year."
))

# %% [markdown]
# ## 6. Save the run
#
# `sim.write_results` writes the same folder as `clover-sim run`: `summary.json` (KPIs with
# intervals and the fully resolved scenario), the tidy tables as CSV and the charts as PNG.
# `results/README.md` describes the layout.

# %%
folder = sim.write_results(results, OUT / scenario.name)
print(folder)
sorted(p.name for p in folder.iterdir())

# %% [markdown]
# ## What to change next
#
# * Other assumptions through `CHANGE`, e.g. `policy.sites=["dublin","hamar"]` (Clover without
#   the unconfirmed second Irish site), `sites.hamar.energy_price_eur_per_kwh=0.08`,
#   `costs.programme_staff_fte=300` or `gateway.reviewers=20`. Every key and its source is in
#   `scenarios/base.toml` and `scenarios/clover.toml`.
# * `SCENARIO = "pre_clover.toml"` for the layout before Clover (data in the US and Singapore).
# * Notebook 02 compares policies with paired intervals, 03 sizes the gateway, 04 asks which
#   assumption matters most, 05 follows the migration year by year.
