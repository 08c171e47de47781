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
# # 05 Migration timeline: when is European data resident in Europe, and what does each year cost?
#
# **Question.** Clover did not happen at once. From 2023 the EEA sites come online one by one
# (dublin on 2023-09-05, ireland2 assumed mid-2024, hamar on 2024-10-31) and the stored data
# crosses the inter-site links at finite bandwidth. When is 99 % of the residency-bound data in
# its zone (the `europe` enclave)? How much is migrated each month, and what does each calendar year cost? And what do the
# Finnish sites (kouvola end-2026, lahti mid-2027, `finland_expansion.toml`) change?
#
# **Parameters** are in the first code cell: the scenario files, horizon (default 2023-2027),
# step, replications, the gateway switch and whether to save the runs. With the defaults (five
# years at hourly steps, gateway on, nothing saved) the notebook takes about a minute.
# `GATEWAY = False` switches the gateway off, which makes a five-year run ten times faster
# (the tests use it): the residency and migration figures do not change, the cost loses the
# gateway reviewers and the oversight contract.

# %% tags=["parameters"]
import pathlib

ROOT = pathlib.Path("..")  # repository root: the scenario files are in ROOT / "scenarios"
OUT = ROOT / "results" / "notebooks" / "05_migration_timeline"  # result folders and the report
SCENARIOS = ["clover_timeline.toml", "finland_expansion.toml"]  # files in scenarios/; the first is the reference
HORIZON_DAYS = 1826  # 2023-01-01 to 2027-12-31
STEP_MINUTES = 60  # time step of the bulk traffic
REPLICATIONS = 1  # the migration is nearly deterministic: one replication is enough to see it
SEED = 1  # root seed
GATEWAY = True  # False: no security gateway (ten times faster; the tests use it)
SAVE = False  # write each run's result folder to OUT (with the gateway on: ~30 s and ~260 MB per run)
MAKE_REPORT = False  # with SAVE: also write the leadership report (HTML and PDF; ~40 s with the gateway on)

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

import sim
from sim.report import charts

pd.set_option("display.float_format", sim.format_number)  # the project's one number format
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 30)

# %% [markdown]
# ## 1. Run the timelines

# %%
common = [f"time.horizon_days={HORIZON_DAYS}", f"time.step_minutes={STEP_MINUTES}"]
if not GATEWAY:
    common.append("gateway.enabled=false")

runs = {}
for file in SCENARIOS:
    scenario = sim.load_scenario(ROOT / "scenarios" / file, common)
    runs[scenario.name] = sim.simulate(scenario, replications=REPLICATIONS, seed=SEED)
names = list(runs)
pd.DataFrame([
    {"scenario": name, "site": site, "online": res.scenario.sites[site].online_date}
    for name, res in runs.items() for site in res.scenario.world_sites
]).pivot(index="site", columns="scenario", values="online")

# %% [markdown]
# ## 2. Residency over time
#
# `Results.table("residency")` gives, at the end of every day, the share of the residency-bound
# data classes stored inside their zone (`residency_share`) and of all data stored at sites inside
# the zones of every bound class (`enclave_share_all`). The `residency_99_date` KPI is the first day the protected share reaches 99 %; in
# `Results.summary()["kpis"]` it is a calendar date (`None` if the horizon ends first).

# %%
fig, ax = plt.subplots(figsize=(9, 4))
for i, (name, res) in enumerate(runs.items()):
    residency = res.table("residency").groupby("time")[["residency_share", "enclave_share_all"]].mean()
    width = 3.5 if i == 0 else 1.5  # the first scenario thicker: the lines coincide until they differ
    ax.plot(residency.index, 100 * residency["residency_share"], color=f"C{i}", linewidth=width,
            label=f"{name}: residency-bound data")
    ax.plot(residency.index, 100 * residency["enclave_share_all"], color=f"C{i}", linewidth=width, linestyle=":",
            label=f"{name}: all data")
ax.axhline(99, color="black", linestyle="--", linewidth=0.8)
ax.set_ylabel("stored in its zone, %")
ax.set_title("Share of European user data stored in its zone (the europe enclave)", loc="left")
ax.legend(fontsize=8, loc="lower right")
plt.show()

# %%
milestone_kpis = []
for name, res in runs.items():
    kpis = res.summary()["kpis"]
    milestone_kpis.append({
        "scenario": name,
        "99 % resident on": kpis["residency_99_date"]["mean"],
        "migrated, TB": kpis["migrated_tb"]["mean"],
        "still to migrate at the end, TB": kpis["pending_migration_tb"]["mean"],
        "stored at the end, PB": kpis["stored_pb_total"]["mean"],
    })
milestone_kpis = pd.DataFrame(milestone_kpis).set_index("scenario")
milestone_kpis

# %% [markdown]
# ## 3. Migrated data per month
#
# The `transfers` table holds one row per month and flow (source, destination, data class,
# kind). Rows with `kind == "migration"` are stored data moved from the old sites to the new
# ones; `replication` rows are the extra copies the new sites make. Terabytes per month, mean
# over replications.

# %%
monthly = {}
for name, res in runs.items():
    transfers = res.table("transfers")
    migration = transfers[transfers["kind"] == "migration"]
    monthly[name] = migration.groupby("time")["tb"].sum() / len(res.replications)
migrated = pd.DataFrame(monthly).fillna(0.0).sort_index()
if migrated.empty:
    print("No data was migrated within the horizon: the migration starts later (network.migration_start).")
else:
    fig, ax = plt.subplots(figsize=(10, 4))
    migrated.set_axis(migrated.index.strftime("%Y-%m")).plot.bar(ax=ax, width=0.8)
    ax.set_ylabel("TB migrated per month")
    ax.set_xlabel("")
    ax.set_title(f"Migration: peak {migrated.max().max():,.0f} TB in a month, "
                 f"{migrated.iloc[:, 0].sum() / 1000:,.1f} PB in all ({names[0]})", loc="left")
    step = max(1, len(migrated) // 24)
    for i, label in enumerate(ax.get_xticklabels()):
        label.set_visible(i % step == 0)
    plt.show()
migrated.tail(12)

# %% [markdown]
# ## 4. Cost per calendar year
#
# `Results.table("costs_by_year")` costs each calendar year on its own (its fleet sized for
# that year's peak): `eur` is what the simulated part of the year cost, `eur_per_year` the
# yearly rate, `days` how much of the year was simulated. While data sits on both sides of the
# Atlantic, both layouts are paid for; once the old sites are empty the cost settles.

# %%
yearly = {}
for name, res in runs.items():
    table = res.table("costs_by_year")
    per_rep = table.groupby(["replication", "year"]).agg(eur=("eur", "sum"), days=("days", "first"))
    yearly[name] = per_rep.groupby("year").mean()
cost_by_year = pd.DataFrame({name: frame["eur"] / 1e6 for name, frame in yearly.items()})
cost_by_year.insert(0, "days simulated", yearly[names[0]]["days"])
cost_by_year.rename_axis(columns="EUR million incurred")

# %%
first_year = runs[names[0]].table("costs_by_year")
last = int(first_year["year"].max())
(
    first_year[first_year["year"] == last]
    .groupby(["site", "category"])["eur_per_year"].mean()
    .unstack("category", fill_value=0.0)
    .div(1e6)
    .rename_axis(columns=f"{names[0]} {last}, EUR m/yr")
)

# %%
lines = []
for name in names[1:]:
    for year in cost_by_year.index:
        d = cost_by_year.loc[year, name] - cost_by_year.loc[year, names[0]]
        if abs(d) > 0.05:
            lines.append(f"- {year}: **{name}** costs EUR {d:+,.0f} m against {names[0]} "
                         f"({100 * d / cost_by_year.loc[year, names[0]]:+.1f} %)")
for name, row in milestone_kpis.iterrows():
    date = row["99 % resident on"]
    lines.append(f"- {name}: 99 % of the residency-bound data is in its zone "
                 + (f"on **{date}**." if date else "**not within the horizon**."))
display(Markdown("\n".join(lines) if lines else "The scenarios cost the same in every year."))

# %% [markdown]
# ## 5. Stored data by site, with the milestones
#
# Stacked stored data per site over time, with the days the sites come online, the migration
# start and the day 99 % residency is reached marked (milestones outside the horizon are left
# out).

# %%
for name, res in runs.items():
    placement = res.table("placement")
    placement = placement[placement["replication"] == 0].drop(columns="replication")
    marks = sim.milestones(res.summary(), res.scenario.world_sites)  # the days the CLI marks too
    fig = charts.stored_by_site_chart(placement, milestones=marks)
    fig.axes[0].set_title(f"{name}: " + fig.axes[0].get_title(loc="left"), loc="left")
    display(fig)

# %% [markdown]
# ## 6. Save the runs and the leadership report
#
# With `SAVE = True`, `sim.write_results` writes each run's folder (as `clover-sim run` does)
# and, with `MAKE_REPORT = True`, `sim.make_report` turns the folders into the leadership
# report (HTML and PDF). Both are off by default because a five-year run with the gateway on
# holds every gateway request (~35 M): its folder is ~260 MB and takes ~30 s to write, and the
# report reads it back.

# %%
if SAVE:
    folders = [sim.write_results(res, OUT / name) for name, res in runs.items()]
    for folder in folders:
        print(folder)
    if MAKE_REPORT:
        report = sim.make_report(folders, OUT / "report", scenario_dir=ROOT / "scenarios")
        print(report, sorted(p.name for p in report.iterdir()))
else:
    print("SAVE = False: nothing written")

# %% [markdown]
# ## What to change
#
# * The link bandwidths decide how long the migration takes: try
#   `network.default_link_gbps=100` or `network.links.0.gbps=100` (virginia-dublin) in a
#   scenario file or as an extra override in `common`.
# * `network.migration_start`, a site's `online_date` (`sites.ireland2.online_date=2025-01-01`).
# * Add another what-if to `SCENARIOS`, or a shorter `HORIZON_DAYS` to look at the first years.
