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
# # 04 Sensitivity: which assumption moves the answer most?
#
# **Question.** Most of the Clover cost model rests on assumptions (see `scenarios/base.toml`).
# Which of them move the yearly cost, the carbon and the gateway wait most, and which barely
# matter?
#
# **Method.** Two sweeps, both run through `sim.run_sweep` on an executor of local worker
# processes (`sim.make_executor(workers=WORKERS)`):
#
# 1. a **grid** (`scenarios/sweeps/small.toml`): monthly users x reviewers per shift, every
#    combination, `REPLICATIONS` replications each;
# 2. a **Morris screening** over the `MORRIS_RANGES` below: `MORRIS_TRAJECTORIES` x
#    (parameters + 1) design points, one at a time, which ranks the parameters by their mean
#    absolute effect (`mu_star`).
#
# Every point runs on the same seeds (common random numbers), so differences between points
# are the parameters' effects. Sweep results are stored run by run in `OUT`; running the
# notebook again reuses finished runs.
#
# **Parameters** are in the first code cell; with the defaults (a week at hourly steps) the
# notebook takes about a minute. KPIs are yearly rates, so a week's run is scaled up to a year
# (growth over the year is then not seen). `GATEWAY = False` switches the gateway off (faster;
# the tests use it): the reviewer parameters then have no effect.

# %% tags=["parameters"]
import pathlib

ROOT = pathlib.Path("..")  # repository root: the scenario files are in ROOT / "scenarios"
OUT = ROOT / "results" / "notebooks" / "04_sensitivity"  # sweep folders (resumable) go here
GRID_SWEEP = "sweeps/small.toml"  # a sweep file in scenarios/ (a [sweep] table with a grid)
HORIZON_DAYS = 7  # simulated days per run
STEP_MINUTES = 60  # time step of the bulk traffic
REPLICATIONS = 2  # replications per grid point
SEED = 1  # root seed shared by every design point
WORKERS = 2  # local worker processes
GATEWAY = True  # False: no security gateway (faster; the tests use it)
MORRIS_TRAJECTORIES = 6  # Morris trajectories: points = trajectories x (parameters + 1)
MORRIS_LEVELS = 4  # Morris grid levels (even)
MORRIS_KPIS = ["cost_eur_per_year", "co2_t_per_year", "gateway_wait_s_p95"]
MORRIS_RANGES = {  # dotted scenario key -> [low, high]; integer bounds give integer values
    "population.growth_per_year": [0.0, 0.25],
    "sites.hamar.energy_price_eur_per_kwh": [0.039, 0.098],
    "gateway.reviewers": [8, 30],
    "costs.staff_eur_per_fte_year": [80000.0, 120000.0],
    "compute.core_s_per_request": [8.0, 12.0],
}

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import sim

pd.set_option("display.float_format", sim.format_number)  # the project's one number format
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 30)

# %% [markdown]
# ## 1. The grid
#
# `sim.load_sweep` reads the sweep file and plans every run; the overrides apply to every
# point (they may not name a swept key). `sim.run_sweep` executes the runs not yet in the
# output folder and returns the tidy table: one row per run, with the swept values, the seed,
# the status and every KPI.

# %%
common = [f"time.horizon_days={HORIZON_DAYS}", f"time.step_minutes={STEP_MINUTES}"]
if not GATEWAY:
    common.append("gateway.enabled=false")

plan = sim.load_sweep(ROOT / "scenarios" / GRID_SWEEP, common, replications=REPLICATIONS, seed=SEED)
print(f"{plan.name}: {len(plan.points)} points x {REPLICATIONS} replications = {len(plan.runs)} runs; "
      f"swept keys {plan.keys}")
with sim.make_executor(workers=WORKERS) as executor:
    grid = sim.run_sweep(plan, OUT / "grid", executor)
print(f"executed {grid.executed}, reused {grid.skipped}, failed {len(grid.failed)}")
grid.table[["point", "replication", *plan.keys, "status", "cost_eur_per_year", "gateway_wait_s_p95",
            "reviewer_utilisation"]]

# %% [markdown]
# Averaged over replications: the yearly cost (EUR million) and the p95 gateway wait
# (minutes) at every grid point. More users cost roughly in proportion (servers, power and
# storage scale with demand); reviewers cost little, but too few of them and the queue backs
# up.

# %%
ok = grid.table[grid.table["status"] == "ok"]
by_point = ok.groupby(plan.keys)[["cost_eur_per_year", "gateway_wait_s_p95", "reviewer_utilisation"]].mean()
display((by_point["cost_eur_per_year"] / 1e6).unstack().rename_axis(columns="cost, EUR m/yr"))
display((by_point["gateway_wait_s_p95"] / 60).unstack().rename_axis(columns="p95 wait, min"))


# %%
def shown(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int | float) else str(value)


if len(plan.keys) == 2:
    outer, inner = plan.keys
    lines = []
    for value, block in by_point.groupby(level=outer):
        block = block.droplevel(outer).sort_index()
        low, high = block.index[0], block.index[-1]
        lines.append(
            f"- at {outer} = {shown(value)}: {inner} {shown(low)} -> {shown(high)} changes the cost by "
            f"EUR {(block.loc[high, 'cost_eur_per_year'] - block.loc[low, 'cost_eur_per_year']) / 1e6:+,.1f} m a year "
            f"and the p95 gateway wait from {block.loc[low, 'gateway_wait_s_p95'] / 60:,.1f} "
            f"to {block.loc[high, 'gateway_wait_s_p95'] / 60:,.1f} minutes"
        )
    display(Markdown("\n".join(lines)))

# %% [markdown]
# ## 2. Morris screening
#
# The Morris design is a sweep file like any other; here it is written from the parameters
# (`MORRIS_RANGES`, `MORRIS_TRAJECTORIES`, ...) next to the results, extending
# `scenarios/clover.toml`. `scenarios/sweeps/clover_morris.toml` is the same design shipped
# for the command line (`clover-sim sweep scenarios/sweeps/clover_morris.toml`).

# %%
import json
import os

OUT.mkdir(parents=True, exist_ok=True)
morris_file = OUT / "morris.toml"
base = os.path.relpath(ROOT / "scenarios" / "clover.toml", OUT)
text = [
    f"extends = {json.dumps(pathlib.Path(base).as_posix())}",
    'name = "clover-morris-notebook"',
    "",
    "[sweep]",
    "replications = 1",
    f"seed = {SEED}",
    "",
    "[sweep.sensitivity]",
    'method = "morris"',
    f"n = {MORRIS_TRAJECTORIES}",
    f"levels = {MORRIS_LEVELS}",
    f"seed = {SEED}",
    f"kpis = {json.dumps(MORRIS_KPIS)}",
    "",
    "[sweep.sensitivity.ranges]",
    *(f"{json.dumps(key)} = {json.dumps(bounds)}" for key, bounds in MORRIS_RANGES.items()),
]
morris_file.write_text("\n".join(text) + "\n", encoding="utf-8")
print(morris_file.read_text(encoding="utf-8"))

# %%
morris_plan = sim.load_sweep(morris_file, common)
print(f"{len(morris_plan.points)} design points x 1 replication")
with sim.make_executor(workers=WORKERS) as executor:
    morris = sim.run_sweep(morris_plan, OUT / "morris", executor)
print(f"executed {morris.executed}, reused {morris.skipped}, failed {len(morris.failed)}")
morris.table[["point", *morris_plan.keys, *MORRIS_KPIS]].head(10)

# %% [markdown]
# **Reading the indices.** `SweepReport.sensitivity` is tidy: KPI, parameter, index, value and
# the bootstrap 95 % half-width (`conf95`). For Morris, `mu_star` is the mean absolute
# elementary effect, in the KPI's unit, scaled to the parameter's whole range: roughly how far
# the KPI moves when the parameter goes from its low to its high bound. `mu` is the signed
# mean (its sign says which way), `sigma` the spread of the effects (large against `mu_star`:
# the effect depends on the other parameters, or is not linear). Below: `mu_star` per
# parameter and KPI, then as a share of the KPI's mean over the design, so KPIs in different
# units compare.

# %%
indices = morris.sensitivity
mu_star = indices[indices["index"] == "mu_star"].pivot(index="parameter", columns="kpi", values="value")
mu_star = mu_star.reindex(index=list(MORRIS_RANGES), columns=[k for k in MORRIS_KPIS if k in mu_star.columns])
display(mu_star.rename_axis(columns="mu_star (KPI units)"))
kpi_mean = morris.table[morris.table["status"] == "ok"][list(mu_star.columns)].mean()
relative = 100 * mu_star / kpi_mean.where(kpi_mean != 0)
relative.rename_axis(columns="mu_star, % of the KPI's mean")

# %%
parameters = list(MORRIS_RANGES)[::-1]  # first parameter on top
fig, axes = plt.subplots(len(mu_star.columns), 1, figsize=(8, 0.45 * len(parameters) * len(mu_star.columns) + 1.5),
                         squeeze=False)
for i, (ax, kpi) in enumerate(zip(axes[:, 0], mu_star.columns)):
    rows = indices[(indices["kpi"] == kpi) & (indices["index"] == "mu_star")].set_index("parameter").reindex(parameters)
    scale = 100 / kpi_mean[kpi] if kpi_mean[kpi] else np.nan
    ax.barh(rows.index, rows["value"] * scale, xerr=rows["conf95"].fillna(0.0) * scale, color=f"C{i}", capsize=3)
    ax.set_title(kpi, loc="left", fontsize=10)
axes[-1, 0].set_xlabel("mu_star, % of the KPI's mean (bars: bootstrap 95 % half-width)")
fig.tight_layout()
plt.show()

# %%
lines = []
for kpi in mu_star.columns:
    column = mu_star[kpi].dropna()
    if column.empty or column.max() <= 0:
        lines.append(f"- **{kpi}** does not move with any of these parameters here.")
        continue
    top = column.idxmax()
    quiet = column[column <= 0.05 * column.max()].index.tolist()
    lines.append(
        f"- **{kpi}** moves most with **{top}** (mu_star {column.max():,.4g}, "
        f"{relative.loc[top, kpi]:.1f} % of its mean)"
        + (f"; {', '.join(quiet)} barely matter{'s' if len(quiet) == 1 else ''} (under 5 % of that)." if quiet else ".")
    )
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## What to change
#
# * `MORRIS_RANGES`: any dotted key `--set` accepts, with the range you believe; add a key to
#   screen it. `MORRIS_TRAJECTORIES` up for steadier rankings (the `conf95` bars shrink).
# * `MORRIS_KPIS`: any KPI of the run, e.g. `user_rtt_ms_p95`, `energy_mwh_per_year`,
#   `cost_eur_per_year.hamar`.
# * For variance shares instead of a screening, load the same file with
#   `sim.load_sweep(morris_file, common, sensitivity="sobol")` (indices `S1` and `ST`; it needs
#   more points).
# * `WORKERS` up to the number of cores; for a cluster, `sim.make_executor(scheduler="tcp://HOST:8786")`.
