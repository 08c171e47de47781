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
# # 07 Other cases: Project Texas and a German in-country rule, next to Clover
#
# **Question.** Nothing in the simulator is specific to Clover: sites, users, data classes,
# residency rules and the gateway organisation are scenario data. How do two other residency
# regimes compare with Clover in cost, energy, carbon, stored data, round trip and gateway wait?
#
# * **Project Texas** (`scenarios/examples/project_texas.toml`): US users' protected data held in
#   the US on three Oracle Cloud sites, access controlled by TikTok U.S. Data Security (USDS,
#   ~1,500 FTE) behind gateways Oracle controls; ~170 M monthly users; reported running cost
#   USD 700 M - 1 bn a year.
# * **Germany in-country** (`scenarios/examples/germany_in_country.toml`): a *hypothetical* rule
#   that keeps German users' personal data in Germany (20.9 M monthly users), on two German sites
#   (Frankfurt, Berlin) behind a small gateway.
#
# Every figure in the two files is sourced (P/S/D) or labelled ASSUMPTION; `docs/examples.md`
# lists the sources. The cases differ in size (20.9 M to 175 M users), so the comparison is made
# per monthly user as well as in total.
#
# Each case states its own rule as a zone: Clover's `europe` (EEA + UK + CH), Project Texas's
# `us`, and Germany's `home` (each user's personal data in the user's own country).
#
# **Parameters** are in the first code cell. The defaults (four weeks at hourly steps, two
# replications, gateway on) take about a minute; `GATEWAY = False` is faster (the tests use it)
# but drops the reviewers, the oversight contracts and the gateway waits.

# %% tags=["parameters"]
import pathlib

ROOT = pathlib.Path("..")  # repository root: the scenario files are in ROOT / "scenarios"
OUT = ROOT / "results" / "notebooks" / "07_other_cases"  # cases.csv goes here
HORIZON_DAYS = 28  # simulated days from each scenario's start date
STEP_MINUTES = 60  # time step of the bulk traffic
REPLICATIONS = 2  # independent replications per case (2 or more give 95 % intervals)
SEED = 1  # root seed of every case
GATEWAY = True  # False: no security gateway in any case (faster; the tests use it)
# label -> (scenario file under scenarios/, extra --set overrides); Clover first, the baseline
CASES = {
    "Clover": ("clover.toml", []),
    "Project Texas": ("examples/project_texas.toml", []),
    "Germany in-country": ("examples/germany_in_country.toml", []),
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
# ## 1. The cases
#
# Each case is a scenario file plus the notebook's overrides (horizon, step, gateway switch).
# The table shows what each file says: users, sites and their countries, the placement rule and
# the published or derived reference cost it is compared with.

# %%
common = [f"time.horizon_days={HORIZON_DAYS}", f"time.step_minutes={STEP_MINUTES}"]
if not GATEWAY:
    common.append("gateway.enabled=false")
scenarios = {
    label: sim.load_scenario(ROOT / "scenarios" / file, [*common, *extra])
    for label, (file, extra) in CASES.items()
}
pd.DataFrame([
    {
        "case": label,
        "scenario": s.name,
        "monthly users, M": s.population.mau / 1e6,
        "countries": ", ".join(s.population.countries),
        "sites": ", ".join(f"{site} ({s.sites[site].country})" for site in s.policy.sites),
        "placement": s.policy.placement,
        "gateway": s.gateway.enabled and s.policy.transfer != "open",
        "reference, EUR m/yr": s.costs.reference_eur_per_year / 1e6,
    }
    for label, s in scenarios.items()
]).set_index("case")

# %%
results = {label: sim.simulate(s, replications=REPLICATIONS, seed=SEED) for label, s in scenarios.items()}
for label, r in results.items():
    for warning in r.warnings():
        print(f"{label}: warning: {warning}")


# %% [markdown]
# ## 2. The KPIs side by side
#
# Means over the replications, in readable units; `per user` rows divide by the case's monthly
# users at the start. The residency share is the share of each residency-bound class stored in
# its zone (Europe for Clover, the US for Project Texas, the user's own country for Germany). The
# table is saved as `cases.csv` in `OUT`.

# %%
means = {label: r.kpi_summary().set_index("name")["mean"] for label, r in results.items()}


def kpi(label: str, *names: str) -> float:
    """Mean of the first KPI of `names` that case `label` reports (NaN if none)."""
    for name in names:
        if name in means[label].index and means[label][name] is not None:
            return float(means[label][name])
    return float("nan")


ROWS = {  # row label -> (KPI names, first found; divide by; per monthly user?)
    "Yearly cost, EUR m": (("cost_eur_per_year",), 1e6, False),
    "Yearly cost per user, EUR": (("cost_eur_per_year",), 1.0, True),
    "Energy, GWh/yr": (("energy_mwh_per_year",), 1e3, False),
    "Energy per user, kWh/yr": (("energy_mwh_per_year",), 1e-3, True),
    "CO2, kt/yr": (("co2_t_per_year",), 1e3, False),
    "CO2 per user, kg/yr": (("co2_t_per_year",), 1e-3, True),
    "Stored, PB": (("stored_pb_total",), 1.0, False),
    "Stored per user, GB": (("stored_pb_total",), 1e-6, True),
    "Residency share, %": (("residency_share",), 0.01, False),
    "Stored outside the zone, PB": (("stored_pb_outside_residency",), 1.0, False),
    "Sent out of the zone, TB/yr": (("transfer_tb_out_of_residency_per_year",), 1.0, False),
    "Round trip p95, ms": (("user_rtt_ms_p95",), 1.0, False),
    "Gateway requests, M/yr": (("gateway_requests_per_year",), 1e6, False),
    "Gateway wait p95, min": (("gateway_wait_s_p95",), 60.0, False),
}
table = pd.DataFrame({
    label: {
        row: kpi(label, *names) / scale / (scenarios[label].population.mau if per_user else 1.0)
        for row, (names, scale, per_user) in ROWS.items()
    }
    for label in results
})
table.loc["Reference cost, EUR m"] = [s.costs.reference_eur_per_year / 1e6 for s in scenarios.values()]
table.loc["Cost / reference"] = table.loc["Yearly cost, EUR m"] / table.loc["Reference cost, EUR m"]
OUT.mkdir(parents=True, exist_ok=True)
table.rename_axis("kpi").to_csv(OUT / "cases.csv")
table

# %% [markdown]
# ## 3. Per user, against Clover
#
# The cases differ eightfold in users, so the chart compares them per monthly user: yearly cost,
# energy, CO2 and stored data per user, each as a multiple of Clover's (1 = as Clover). Bars
# above 1 cost, use or store more per user than Clover. The last panel is the yearly cost
# against each case's own reference figure (the published Clover cost, the reported Project
# Texas cost, Clover's cost per user applied to German users).

# %%
PER_USER = ["Yearly cost per user, EUR", "Energy per user, kWh/yr", "CO2 per user, kg/yr", "Stored per user, GB"]
baseline = next(iter(CASES))
relative = table.loc[PER_USER].div(table.loc[PER_USER, baseline], axis=0)
fig, (ax, ax_ref) = plt.subplots(1, 2, figsize=(13, 4.2), gridspec_kw={"width_ratios": [3, 1.2]})
width = 0.8 / len(relative.columns)
x = np.arange(len(PER_USER))
for i, label in enumerate(relative.columns):
    ax.bar(x + (i - (len(relative.columns) - 1) / 2) * width, relative[label], width, label=label, color=f"C{i}")
ax.axhline(1.0, color="black", linewidth=0.8)
ax.set_xticks(x, [name.split(",")[0] for name in PER_USER])
ax.set_ylabel(f"multiple of {baseline}")
ax.set_title(f"Per monthly user, as a multiple of {baseline} ({HORIZON_DAYS:g}-day runs)", loc="left", fontsize=10)
ax.legend(loc="upper left", fontsize=9)
ax_ref.bar(table.columns, table.loc["Yearly cost, EUR m"], color=[f"C{i}" for i in range(len(table.columns))])
ax_ref.scatter(table.columns, table.loc["Reference cost, EUR m"], color="black", marker="_", s=900, zorder=3,
               label="reference figure")
ax_ref.set_ylabel("EUR million per year")
ax_ref.set_title("Yearly cost and its reference", loc="left", fontsize=10)
ax_ref.tick_params(axis="x", labelrotation=20)
ax_ref.legend(loc="upper right", fontsize=9)
fig.tight_layout()
plt.show()


# %% [markdown]
# ## 4. The finding in words
#
# Computed from the table above, so it stays true when the parameters or the files change.

# %%
def more_less(x: float) -> str:
    return "more" if x > 1 else "less"


lines = []
base_per_user = table.loc["Yearly cost per user, EUR", baseline]
for label in table.columns:
    per_user = table.loc["Yearly cost per user, EUR", label]
    ratio = table.loc["Cost / reference", label]
    line = (f"- **{label}** ({scenarios[label].population.mau / 1e6:,.1f} M users) costs "
            f"**EUR {table.loc['Yearly cost, EUR m', label]:,.0f} m a year**, EUR {per_user:,.2f} per user "
            f"({ratio:.2f} x its reference figure of EUR {table.loc['Reference cost, EUR m', label]:,.0f} m)")
    if label != baseline:
        line += f"; per user that is {abs(100 * (per_user / base_per_user - 1)):.0f} % {more_less(per_user / base_per_user)} than {baseline}"
    lines.append(line + f", with {table.loc['Residency share, %', label]:.1f} % of its residency-bound data in its zone.")
display(Markdown("\n".join(lines)))

# %% [markdown]
# ## What to change
#
# * `HORIZON_DAYS = 365` for a full year (seasons and the New Year's Eve peak included).
# * Add a case to `CASES`, e.g. Germany with Virginia as a third site: the `home` rule keeps the
#   personal data in Germany all the same:
#   `"Germany + Virginia": ("examples/germany_in_country.toml", ['policy.sites=["frankfurt","berlin","virginia"]'])`.
# * Project Texas with TikTok's own Virginia site as a failover-only backup:
#   `("examples/project_texas.toml", ['policy.failover_sites=["virginia"]'])`.
# * The same runs from the command line: `clover-sim run scenarios/examples/project_texas.toml`.
