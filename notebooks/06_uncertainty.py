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
# # 06 Uncertainty: what range do our assumptions imply, which of them drive it, and what does the published cost say about them?
#
# **Question.** Most inputs of the Clover model are not published (compute per request, server
# life, review times, prices at scale). A single figure ("EUR 1.2 bn a year") hides how much of
# it is assumption. What range of cost, energy, carbon and round trip do the assumptions imply,
# which of them drive that range, and what do the published figures (the cost, the users, the
# Hamar contract) tell us about the inputs nobody published?
#
# **Method.**
#
# 1. **Propagation.** Every assumption carries a distribution in the scenario's `[uncertainty]`
#    table (`scenarios/base.toml` and `scenarios/clover.toml`, each with its source).
#    `sim.load_propagation` draws `SAMPLES` input sets (a Latin hypercube; rank correlations by
#    Iman-Conover) and validates each as a scenario; `sim.run_propagation` runs them on one seed
#    (common random numbers: the spread comes from the inputs, not the noise), keeping only KPIs.
#    Finished runs are stored in `OUT / "store"`, so running the notebook again reuses them.
# 2. **Drivers.** For every KPI: the Spearman rank correlation of each input with it, the
#    first-order Sobol' index (RBD-FAST, from 100 runs on) and a tornado chart.
# 3. **Calibration.** The scenario's `[observations]` state what is published, with its
#    uncertainty. `sim.calibrate` reweights the input sets by how well they reproduce it
#    (importance reweighting) and gives the posterior range of every input and KPI;
#    `sim.coverage_check` tests the method on synthetic cases drawn from the same sample.
#
# **Parameters** are in the first code cell. With the defaults (64 input sets of a year at
# hourly steps, gateway on) the propagation takes a few minutes on two cores; the tests run it
# on 2 days and 12 input sets. KPIs are yearly rates, so a short run is scaled up to a year.

# %% tags=["parameters"]
import pathlib

ROOT = pathlib.Path("..")  # repository root: the scenario files are in ROOT / "scenarios"
OUT = ROOT / "results" / "notebooks" / "06_uncertainty"  # run store and the result folder go here
SCENARIO = "clover.toml"  # a scenario file in scenarios/ with [uncertainty] and [observations]
HORIZON_DAYS = 365  # simulated days per run
STEP_MINUTES = 60  # time step of the bulk traffic
SAMPLES = 64  # input sets drawn from the [uncertainty] table
SEED = 0  # root seed: every input set runs on replication 0 of it
WORKERS = 2  # local worker processes
GATEWAY = True  # False: no security gateway (faster; the tests use it)
COVERAGE_TRIALS = 50  # synthetic cases of the calibration's coverage check
KPIS = ["cost_eur_per_year", "energy_mwh_per_year", "co2_t_per_year", "user_rtt_ms_p95"]  # KPIs to show

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

import sim
from sim.report import charts

pd.set_option("display.float_format", sim.format_number)  # the project's one number format
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 30)
pd.set_option("display.max_colwidth", 80)

# %% [markdown]
# ## 1. What we do not know
#
# The plan draws the input sets and checks each one before anything runs. Its `describe()`
# lists every uncertain input with its distribution and source; below, the inputs and the
# first input sets drawn.

# %%
common = [f"time.horizon_days={HORIZON_DAYS}", f"time.step_minutes={STEP_MINUTES}"]
if not GATEWAY:
    common.append("gateway.enabled=false")
plan = sim.load_propagation(ROOT / "scenarios" / SCENARIO, common, n=SAMPLES, seed=SEED)
spec = plan.describe()["inputs"]
resolved = plan.central.model_dump()


def central_value(key: str) -> float:
    node = resolved
    for part in key.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


inputs = pd.DataFrame(
    [{"input": k, "dist": v["dist"], "central": central_value(k), "source": v["source"]} for k, v in spec.items()]
)
inputs["p5 drawn"] = [plan.inputs[k].quantile(0.05) for k in inputs["input"]]
inputs["p95 drawn"] = [plan.inputs[k].quantile(0.95) for k in inputs["input"]]
print(f"{plan.name}: {len(plan.keys)} uncertain inputs, {len(plan.tasks)} input sets ({plan.design})")
inputs

# %% [markdown]
# ## 2. The assumption range of every KPI
#
# The central run is the scenario as written (its value for every input). The input sets give,
# per KPI, the range over the assumptions: p5, p50 and p95.

# %%
results = sim.simulate(plan.central, seed=SEED)
with sim.make_executor(workers=WORKERS) as executor:
    prop = sim.run_propagation(plan, OUT / "store", executor)
print(f"executed {prop.executed}, reused {prop.skipped}, failed {len(prop.failed)}")
ranges = prop.ranges().set_index("kpi")
central = results.kpi_summary().set_index("name")["mean"]
table = ranges.loc[[k for k in KPIS if k in ranges.index], ["p5", "p50", "p95", "unit"]]
table.insert(0, "central", central.reindex(table.index))
table

# %% [markdown]
# ## 3. What drives the range
#
# Each input's rank correlation with each KPI (sign: which way it pushes), the first-order
# Sobol' index where the number of runs allows it, and the KPI's mean over the input sets
# whose input is in its lowest and highest fifth: the bars of the tornado chart.

# %%
drivers = prop.drivers(KPIS)
display(drivers[drivers["order"] <= 5].set_index(["kpi", "order"]))
kpi = KPIS[0]
fig = charts.tornado_chart(drivers, kpi, central=float(central[kpi]), unit=sim.kpis.unit(kpi), label=sim.kpis.label(kpi))
display(fig)
plt.close("all")

# %%
lines = []
for k in KPIS:
    part = drivers[drivers["kpi"] == k].sort_values("order")
    if part.empty:
        lines.append(f"- **{sim.kpis.label(k)}** does not move over these ranges.")
        continue
    r = ranges.loc[k]
    lines.append(
        f"- **{sim.kpis.label(k)}**: {sim.format_kpi(central[k], r['unit'])} in the central run, 90 % range "
        f"{sim.format_span(r['p5'], r['p95'], r['unit'])}, driven by "
        + " and ".join(f"{d.input} (rho {d.rank_correlation:+.2f})" for d in part.head(2).itertuples())
    )
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## 4. What the published figures say
#
# The observations of the scenario, with their uncertainty, weight each input set by its
# likelihood. The effective sample size says how many input sets carry the posterior: a handful
# means the published figures sit in the tail of the assumptions, or `SAMPLES` is too small.

# %%
observations = plan.central.observations.kpis
for name, o in observations.items():
    print(f"{name}: {o.model_dump(exclude_none=True)}")
cal = sim.calibrate(plan.inputs, prop.values(), observations)
print(f"effective sample size: {cal.ess:.1f} of {len(plan.inputs)} input sets")
posterior = cal.input_posterior()
posterior.head(10)

# %%
display(charts.calibration_chart(posterior))
plt.close("all")
kpi_post = cal.kpi_posterior().set_index("kpi").loc[[k for k in KPIS if k in ranges.index]]
kpi_post[["prior_p5", "prior_p50", "prior_p95", "posterior_p5", "posterior_p50", "posterior_p95", "observed"]]

# %%
top = posterior.head(3)
lines = [
    f"- the published figures imply **{r.input}** between {sim.format_number(r.posterior_p5)} and "
    f"{sim.format_number(r.posterior_p95)} (assumed {sim.format_number(r.prior_p5)} to {sim.format_number(r.prior_p95)})"
    for r in top.itertuples()
]
c = cal.kpi_posterior().set_index("kpi").loc["cost_eur_per_year"]
lines.append(f"- and the yearly cost {sim.format_span(c.posterior_p5, c.posterior_p95, 'EUR/yr')} "
             f"(before: {sim.format_span(c.prior_p5, c.prior_p95, 'EUR/yr')})")
if cal.ess < 10:
    lines.append(f"- **but** only {cal.ess:.1f} input sets carry this posterior: it is noise until `SAMPLES` is raised")
display(Markdown("\n".join(lines)))

# %% [markdown]
# **Does the method hold?** Take one input set as the truth, make observations of its KPIs with
# the stated noise, reweight the others, and check whether each posterior 90 % interval holds
# the true input. For a correct posterior that happens 90 % of the time; far less means the
# sample is too small for the observations (few effective input sets).

# %%
cov = sim.coverage_check(plan.inputs, prop.values(), observations, trials=COVERAGE_TRIALS, seed=SEED)
print(f"posterior {cov.level:.0%} intervals held the true inputs in {cov.rate:.1%} of "
      f"{cov.trials} synthetic cases x {len(cov.by_input)} inputs (median effective sample size {cov.ess_median:.1f})")

# %% [markdown]
# ## 5. The files
#
# `sim.write_results(results, OUT / "run", uncertainty=prop)` writes what
# `clover-sim run scenarios/clover.toml --uncertainty N` writes: `summary.json` with an
# `assumption_range` per KPI, the `drivers` and how the input sets were drawn, `drivers.csv`,
# `uncertainty_runs.csv` and a tornado chart per headline KPI.

# %%
folder = sim.write_results(results, OUT / "run", with_charts=False, uncertainty=prop)
sorted(p.name for p in folder.iterdir())

# %% [markdown]
# ## What to change
#
# * `SAMPLES` up (200-1000) for steadier ranges and first-order indices (from 100 runs); on a
#   cluster, `sim.make_executor(scheduler="tcp://HOST:8786")`.
# * The ranges themselves: edit `[uncertainty]` in the scenario file, or pass
#   `--set`-style overrides in `common`, e.g.
#   `'uncertainty.compute.core_s_per_request={dist="uniform",low=5,high=20,source="my estimate"}'`.
# * Sobol' total indices: `sim.load_propagation(..., design="sobol")` with `SAMPLES` of at
#   least 8 x (inputs + 2) (needs independent inputs).
# * What is published: `[observations]` (a value with `sd` or `rel_sd`, or an interval `low`/`high`).
