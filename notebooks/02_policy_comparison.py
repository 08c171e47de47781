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
# # 02 Policy comparison: what does keeping the data in Europe cost?
#
# **Question.** Before Clover, European user data lived in the US (virginia) and Singapore.
# Clover moves it to EEA sites behind a security gateway. How much more (or less) does that
# cost, what does it do to carbon, to the data stored outside its residency zone and to the round
# trip users see, and would another in-zone placement (each user's nearest site in the zone, or the
# cost-optimal placement from the LP solver) do better?
#
# **Method.** `sim.compare` runs every policy on the *same* replications and seeds (common
# random numbers): replication *r* of every policy sees the same demand. A KPI's difference
# against the first policy is taken replication by replication and its 95 % interval is the
# paired Student-t interval, so the noise the policies share cancels.
#
# **Parameters** are in the first code cell: horizon, step, replications, seed, the gateway
# switch and the policies (label -> scenario file and overrides; the first one is the
# baseline). The defaults (one year at hourly steps, 5 replications) take about a minute.
# `GATEWAY = False` switches the gateway off for the Clover policies (faster; the tests use it).

# %% tags=["parameters"]
import pathlib

ROOT = pathlib.Path("..")  # repository root: the scenario files are in ROOT / "scenarios"
OUT = ROOT / "results" / "notebooks" / "02_policy_comparison"  # compare.csv goes here
HORIZON_DAYS = 365  # simulated days from each scenario's start date
STEP_MINUTES = 60  # time step of the bulk traffic
REPLICATIONS = 5  # paired replications per policy (2 or more give intervals)
SEED = 1  # root seed shared by every policy (common random numbers)
GATEWAY = True  # False: no security gateway in any policy (faster; the tests use it)
# label -> (scenario file in scenarios/, extra --set overrides); the first policy is the baseline
POLICIES = {
    "pre_clover": ("pre_clover.toml", []),
    "clover": ("clover.toml", []),
    "nearest_in_zone": ("clover.toml", ['policy.placement="nearest_in_zone"']),
    "cost_optimal": ("clover.toml", ['policy.placement="cost_optimal"']),
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
# ## 1. The policies
#
# Each policy is a scenario: a file plus overrides. The label becomes the scenario's `name`,
# which `sim.compare` uses to tell them apart. `nearest_in_zone` and `cost_optimal` keep Clover's
# sites, gateway and costs and change only where the data is placed.

# %%
common = [f"time.horizon_days={HORIZON_DAYS}", f"time.step_minutes={STEP_MINUTES}"]
if not GATEWAY:
    common.append("gateway.enabled=false")
scenarios = [
    sim.load_scenario(ROOT / "scenarios" / file, [*common, f'name="{label}"', *extra])
    for label, (file, extra) in POLICIES.items()
]
pd.DataFrame([
    {
        "policy": s.name,
        "placement": s.policy.placement,
        "sites": ", ".join(s.policy.sites),
        "transfer": s.policy.transfer,
        "gateway": s.gateway.enabled and s.policy.transfer != "open",
    }
    for s in scenarios
])

# %%
comparison = sim.compare(scenarios, replications=REPLICATIONS, seed=SEED)
table = comparison.table()
OUT.mkdir(parents=True, exist_ok=True)
table.to_csv(OUT / "compare.csv", index=False)
baseline = comparison.labels[0]
print(f"{len(scenarios)} policies x {REPLICATIONS} replications; baseline {baseline}; "
      f"common random numbers: {comparison.common_random_numbers}")

# %% [markdown]
# ## 2. The numbers
#
# `Comparison.table()` is tidy: one row per policy and KPI with the mean, its 95 % interval,
# and the paired difference against the baseline (`diff_mean`, `diff_ci95_low`,
# `diff_ci95_high`, in the KPI's unit). It is saved as `compare.csv`. Below, a selection in
# readable units: first the means, then the differences against the baseline, each ± the
# half-width of its paired 95 % interval.

# %%
SHOWN = {  # kpi -> (display unit, divide by); labels come from the KPI catalogue (sim.kpis)
    "cost_eur_per_year": ("EUR m/yr", 1e6),
    "co2_t_per_year": ("kt/yr", 1e3),
    "energy_mwh_per_year": ("GWh/yr", 1e3),
    "stored_pb_outside_residency": ("PB", 1.0),
    "residency_share": ("%", 0.01),
    "transfer_tb_out_of_residency_per_year": ("TB/yr", 1.0),
    "user_rtt_ms_p95": ("ms", 1.0),
    "gateway_wait_s_p95": ("min", 60.0),
}
SHOWN = {k: (f"{sim.kpis.label(k)}, {unit}", scale) for k, (unit, scale) in SHOWN.items()}
shown = table[table["kpi"].isin(list(SHOWN))].copy()
scale = shown["kpi"].map({k: v[1] for k, v in SHOWN.items()})
for column in ["mean", "ci95_low", "ci95_high", "diff_mean", "diff_ci95_low", "diff_ci95_high"]:
    shown[column] = shown[column] / scale
shown["kpi"] = shown["kpi"].map({k: v[0] for k, v in SHOWN.items()})
order = [v[0] for v in SHOWN.values()]
means = shown.pivot(index="kpi", columns="scenario", values="mean").reindex(index=order, columns=comparison.labels)
means


# %%
def with_interval(row) -> str:
    return f"{row.diff_mean:+,.1f} ± {(row.diff_ci95_high - row.diff_ci95_low) / 2:.2g}"


others = shown[shown["scenario"] != baseline]
(
    others.assign(difference=others.apply(with_interval, axis=1))
    .pivot(index="kpi", columns="scenario", values="difference")
    .reindex(index=order, columns=comparison.labels[1:])
    .rename_axis(columns=f"difference to {baseline}")
)


# %% [markdown]
# ## 3. Cost and its paired differences, with error bars
#
# Left: the yearly cost of each policy with its 95 % interval, against the published Clover
# figure. Right: the paired differences against the baseline in cost, CO2 and p95 round trip.
# Error bars are 95 % intervals; they are small because a year of traffic is trillions of
# requests, so demand noise averages out, and the paired differences cancel most of what is
# left.

# %%
def rows(kpi: str) -> pd.DataFrame:
    return table[table["kpi"] == kpi].set_index("scenario").reindex(comparison.labels)


def bars(ax, frame: pd.DataFrame, value: str, low: str, high: str, scale: float, ylabel: str, title: str) -> None:
    y = frame[value].to_numpy() / scale
    err = np.vstack([y - frame[low].to_numpy() / scale, frame[high].to_numpy() / scale - y])
    ax.bar(frame.index, y, yerr=err, capsize=5, color=[f"C{i}" for i in range(len(frame))])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, loc="left", fontsize=10)
    ax.tick_params(axis="x", labelrotation=30)


fig, ax = plt.subplots(figsize=(6, 4))
bars(ax, rows("cost_eur_per_year"), "mean", "ci95_low", "ci95_high", 1e6, "EUR million per year",
     "Yearly cost per policy (95 % interval)")
ax.axhline(scenarios[0].costs.reference_eur_per_year / 1e6, color="black", linestyle="--",
           label="published Clover figure")
ax.set_ylim(top=ax.get_ylim()[1] * 1.15)
ax.legend(loc="upper left")
plt.show()

fig, axes = plt.subplots(1, 3, figsize=(13, 4))
for ax, (kpi, scale, ylabel) in zip(axes, [
    ("cost_eur_per_year", 1e6, "EUR million per year"),
    ("co2_t_per_year", 1e3, "kt CO2 per year"),
    ("user_rtt_ms_p95", 1.0, "ms"),
]):
    frame = rows(kpi).drop(index=baseline)
    bars(ax, frame, "diff_mean", "diff_ci95_low", "diff_ci95_high", scale, ylabel, f"{kpi}: change vs {baseline}")
fig.tight_layout()
plt.show()

# %% [markdown]
# **What pairing buys.** Had every policy run on its own seeds, the interval of a difference
# would be roughly the two intervals combined (sqrt of the sum of the squared half-widths).
# The paired interval is computed from the per-replication differences instead. The square of
# the ratio of the two half-widths is roughly how many times more replications independent
# seeds would need for the same precision.

# %%
kpi = "cost_eur_per_year"
ref_row = rows(kpi).loc[baseline]
widths = []
for label in comparison.labels[1:]:
    row = rows(kpi).loc[label]
    independent = np.hypot(row.ci95_high - row["mean"], ref_row.ci95_high - ref_row["mean"])
    paired = (row.diff_ci95_high - row.diff_ci95_low) / 2
    widths.append({"policy": label, "independent half-width, EUR m": independent / 1e6,
                   "paired half-width, EUR m": paired / 1e6,
                   "ratio": independent / paired if paired > 0 else np.nan})
pd.DataFrame(widths).set_index("policy")


# %% [markdown]
# ## 4. The finding in words
#
# Computed from the table above (so it stays true when the parameters change).

# %%
def get(label: str, kpi: str, column: str = "mean") -> float:
    return float(rows(kpi).loc[label, column])


def more_less(x: float) -> str:
    return "more" if x > 0 else "less"


lines = []
base_cost = get(baseline, "cost_eur_per_year")
for label in comparison.labels[1:]:
    d, lo, hi = (get(label, "cost_eur_per_year", c) for c in ("diff_mean", "diff_ci95_low", "diff_ci95_high"))
    co2 = get(label, "co2_t_per_year", "diff_mean") / get(baseline, "co2_t_per_year")
    lines.append(
        f"- **{label}** costs **{abs(100 * d / base_cost):.1f} % {more_less(d)}** than {baseline} "
        f"(EUR {d / 1e6:+,.1f} m ± {(hi - lo) / 2e6:.2g} m a year, paired 95 % interval), "
        f"emits {abs(100 * co2):.0f} % {more_less(co2)} CO2, keeps "
        f"{get(label, 'stored_pb_outside_residency'):,.0f} PB outside its zone "
        f"(against {get(baseline, 'stored_pb_outside_residency'):,.0f} PB), and its p95 round trip is "
        f"{get(label, 'user_rtt_ms_p95'):.0f} ms (against {get(baseline, 'user_rtt_ms_p95'):.0f} ms)."
    )
resident = [lab for lab in comparison.labels if get(lab, "stored_pb_outside_residency") < 1e-9]
if resident:
    cheapest = min(resident, key=lambda lab: get(lab, "cost_eur_per_year"))
    lines.append(
        f"\nOf the policies that keep all residency-bound data in its zone, **{cheapest}** is the cheapest at "
        f"EUR {get(cheapest, 'cost_eur_per_year') / 1e9:.2f} bn a year."
    )
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## What to change
#
# * `REPLICATIONS` for tighter intervals, `HORIZON_DAYS` / `STEP_MINUTES` for speed.
# * Add a policy to `POLICIES`, e.g. `"carbon_optimal": ("clover.toml", ['policy.placement="carbon_optimal"'])`,
#   `"latency_optimal"`, or Clover without ireland2:
#   `"clover_2_sites": ("clover.toml", ['policy.sites=["dublin","hamar"]'])`.
# * Put a what-if first to make it the baseline, e.g. `("dpf_invalidated.toml", [])`.
# * The same comparison from the command line: `clover-sim compare` (see the README).
