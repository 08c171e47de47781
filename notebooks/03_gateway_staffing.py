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
# # 03 Gateway staffing: how long do people wait, and how many reviewers does it take?
#
# **Question.** Every employee access to European user data and every transfer out of the enclave
# passes Clover's security gateway, where requests for restricted data (and all requests from
# outside the EEA) wait for a human reviewer. With the reviewer shifts of `clover.toml`, how
# long do requests wait against their service-level agreement (SLA), how busy are the
# reviewers hour by hour, and how many reviewers per shift would meet a target for the 95th
# percentile of the review wait?
#
# **Method.** `sim.simulate_gateway` simulates the gateway alone, every request individually,
# for `WEEKS` weeks (the first day is warm-up and not counted). Stand-alone, transfer jobs
# arrive at the configured default rates (`gateway.transfers.flows`); inside a full
# `sim.simulate` run they follow the data classes' exports. `sim.staff_for_target` starts from
# Erlang C and lets the simulation judge. Last, a sanity check: configured as a textbook
# M/M/c queue, the simulated wait must agree with Erlang C.
#
# **Parameters** are in the first code cell. The defaults take about half a minute.

# %% tags=["parameters"]
import pathlib

ROOT = pathlib.Path("..")  # repository root: the scenario files are in ROOT / "scenarios"
SCENARIO = "clover.toml"  # the scenario whose [gateway] table is simulated
WEEKS = 8  # simulated weeks of gateway traffic (the first day is warm-up)
SEED = 0  # seed of the gateway's random draws
P95_TARGET_S = 1800  # target for the 95th percentile of the review wait, seconds
STAFFING_WEEKS = 4  # simulated weeks per staffing trial
TEXTBOOK_REVIEWERS = 5  # Erlang C check: reviewers c of the M/M/c queue
TEXTBOOK_UTILISATION = 0.8  # Erlang C check: utilisation rho = lambda x E[S] / c
TEXTBOOK_WEEKS = 8  # Erlang C check: simulated weeks per replication
TEXTBOOK_SEEDS = 10  # Erlang C check: independent replications

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

import sim
from sim.report import charts

pd.set_option("display.float_format", sim.format_number)  # the project's one number format
pd.set_option("display.width", 140)
pd.set_option("display.max_columns", 30)

# %% [markdown]
# ## 1. The gateway as configured
#
# Who asks (requester regions, local working hours, the share touching restricted data; and the
# user-driven causes, per million monthly users a day), who reviews (shifts, hours in UTC) and
# the SLA per priority class. None of these figures is published: they are TikTok's
# organisation as `clover.toml` assumes it (the model has none of its own), and any item can be
# changed with `--set` (`gateway.reviewers=20`, `gateway.shifts.3.reviewers=30`, ...).
# docs/gateway_demand.md derives the number of requests from them.

# %%
WEEK_S = 7 * 86400.0
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

scenario = sim.load_scenario(ROOT / "scenarios" / SCENARIO)
gateway = scenario.gateway


def days(shift) -> str:
    if shift.days == list(range(7)):
        return "every day"
    if shift.days == list(range(5)):
        return "Mon-Fri"
    return ", ".join(DAYS[d] for d in shift.days)


display(pd.DataFrame([
    {"region": r.name, "in zone": r.in_zone, "requests per hour": r.rate_per_hour(),
     "local hours": f"{r.start_hour:g}-{r.end_hour:g} (UTC{r.utc_offset_h:+g})",
     "weekdays only": r.weekdays_only, "restricted share": r.restricted_share}
    for r in gateway.regions
]).set_index("region"))
display(pd.DataFrame([
    {"cause": c.name, "per million users a day": c.requests_per_million_mau_per_day,
     "per day now": c.requests_per_day(scenario.population.mau), "handled by": c.handled_by or "around the clock",
     "review share": c.review_share}
    for c in gateway.user_driven
]).set_index("cause"))
display(pd.DataFrame([
    {"shift": s.name, "reviewers": s.reviewers,
     "hours": f"{s.start_hour:02.0f}:00-{s.end_hour:02.0f}:00 (UTC{s.utc_offset_h:+g})", "days": days(s)}
    for s in gateway.effective_shifts()
]).set_index("shift"))
display(pd.DataFrame([
    {"class": c.name, "share": c.share, "SLA, h": (c.sla_s if c.sla_s is not None else gateway.sla_s) / 3600}
    for c in gateway.priority_classes
]).set_index("class"))
print(f"mean review time {gateway.review_minutes_mean:g} min ({gateway.review_distribution}); "
      f"reviewer FTE {gateway.reviewer_fte():.1f} at EUR {gateway.reviewer_cost_eur_per_year:,.0f} each")

# %%
run = sim.simulate_gateway(
    gateway, start_utc=scenario.start_utc, horizon_s=WEEKS * WEEK_S, rng=np.random.default_rng(SEED),
    mau=scenario.population.mau,  # the user-driven requests at the scenario's users
)
print("stable" if not run.unstable else f"UNSTABLE: {run.message}")
pd.Series(sim.gateway_kpis(run), name="value").to_frame()

# %% [markdown]
# ## 2. Waits against the SLA, per priority class
#
# The wait of an access request is its total queueing time across the gateway's stages
# (automatic check, human review, third-party sample). Most requests need no human review and
# pass in seconds; the tail is the reviewed ones, and the `incident` class is served before
# `routine` (non-preemptive priority). The table counts requests arriving after the warm-up;
# the chart is the cumulative distribution (share of requests that waited at most *x*; the x
# axis is linear below one minute and logarithmic above), with each class's SLA dashed.

# %%
requests = sim.gateway_requests_frame(run)
access = requests[(requests["kind"] == "access") & (requests["arrival_s"] >= run.warmup_s)]
sla_s = dict(zip(run.class_names, run.sla_s_by_class))
summary = []
for name, group in access.groupby("class", observed=True):
    wait = group["wait_s"].to_numpy()
    summary.append({
        "class": name, "requests": len(wait), "waited at all": np.mean(wait > 0),
        "p50, min": np.quantile(wait, 0.5) / 60, "p95, min": np.quantile(wait, 0.95) / 60,
        "p99, min": np.quantile(wait, 0.99) / 60, "SLA, h": sla_s[name] / 3600,
        "within SLA": np.mean(wait <= sla_s[name]),
    })
waits = pd.DataFrame(summary).set_index("class")
waits

# %%
fig, ax = plt.subplots(figsize=(8, 4.2))
for i, (name, group) in enumerate(access.groupby("class", observed=True)):
    minutes = np.sort(group["wait_s"].to_numpy()) / 60
    ax.step(minutes, np.arange(1, len(minutes) + 1) / len(minutes), where="post", color=f"C{i}",
            label=f"{name}: {100 * waits.loc[name, 'within SLA']:.2f} % within SLA")
    ax.axvline(sla_s[name] / 60, color=f"C{i}", linestyle="--", linewidth=1, label=f"{name} SLA {sla_s[name] / 3600:g} h")
bottom = np.floor(10 * (1 - waits["waited at all"].max())) / 10  # most requests do not wait: zoom in
ax.set_xscale("symlog", linthresh=1.0)
ax.set_xlim(left=0)
ax.set_ylim(bottom, 1.002)
ax.set_xlabel("wait, minutes")
ax.set_ylabel("share of access requests")
ax.set_title(f"Access request waits over {WEEKS} weeks (y axis from {100 * bottom:.0f} %)", loc="left")
ax.legend(loc="lower right", fontsize=8)
plt.show()

# %% [markdown]
# ## 3. Reviewer utilisation by hour of day
#
# Busy reviewer time over staffed reviewer time, per hour of the day (UTC), over the whole
# run. Hours near 100 % are where queues build; an hour can exceed 100 % when a review started
# in a shift runs past its end. The shifts of the table above set the capacity; the requester
# regions' working hours set the load (EEA mornings, US afternoons and evenings in UTC).

# %%
charts.reviewer_utilisation_chart(sim.reviewer_utilisation_by_hour(run))

# %% [markdown]
# ## 4. Reviewers per shift for a p95 target
#
# `sim.staff_for_target` looks for the fewest reviewers per shift such that, in every shift,
# the 95th percentile of the *review-stage* wait of requests arriving while that shift is on
# duty meets `P95_TARGET_S`. Its starting point (`erlang_c_reviewers`) is Erlang C: for each
# hour of the week, the M/M/c staff meeting the target for that hour's expected arrivals,
# covered by the shifts at the fewest reviewer-hours. The simulation (same seed in every
# trial) then adds reviewers where the target is missed and gives back those not needed.
# Erlang C and the simulation disagree where its assumptions fail: queues carried over a
# shift change, lognormal rather than exponential review times, priority classes.

# %%
staff = sim.staff_for_target(
    gateway, p95_wait_s=P95_TARGET_S, start_utc=scenario.start_utc,
    horizon_s=STAFFING_WEEKS * WEEK_S, seed=SEED, mau=scenario.population.mau,
)
shifts = {s.name: s for s in gateway.effective_shifts()}


def fte(name: str, reviewers: int) -> float:
    """Reviewer FTE of a shift: reviewers x shift hours x days per week / 40 h (as the cost model)."""
    shift = shifts[name]
    return reviewers * shift.hours() * len(shift.days) / 40.0


staff.insert(1, "reviewers_now", [shifts[n].reviewers for n in staff["shift"]])
staff["fte_now"] = [fte(n, r) for n, r in zip(staff["shift"], staff["reviewers_now"])]
staff["fte_needed"] = [fte(n, r) for n, r in zip(staff["shift"], staff["reviewers"])]
staff["p95_wait_min"] = staff.pop("p95_wait_s") / 60
staff.set_index("shift")

# %%
fte_now, fte_needed = staff["fte_now"].sum(), staff["fte_needed"].sum()
eur = gateway.reviewer_cost_eur_per_year
display(Markdown(
    f"Keeping the p95 review wait within **{P95_TARGET_S / 60:g} minutes** in every shift takes "
    f"**{fte_needed:.1f} reviewer FTE** (EUR {fte_needed * eur / 1e6:.1f} m a year) against "
    f"{fte_now:.1f} FTE today (EUR {fte_now * eur / 1e6:.1f} m); Erlang C alone would staff "
    f"{sum(fte(n, r) for n, r in zip(staff['shift'], staff['erlang_c_reviewers'])):.1f} FTE."
))


# %% [markdown]
# ## 5. Sanity check: the gateway as a textbook M/M/c queue
#
# Configured as a textbook queue (one round-the-clock Poisson stream of requests that all need
# review, `TEXTBOOK_REVIEWERS` reviewers around the clock, exponential review times, no
# automatic check, no third party, no transfers, one priority class, everything approved),
# the simulated mean wait must match Erlang C: P(wait) = C(c, a) and
# W_q = C(c, a) / (c mu - lambda), with a = lambda / mu. The overrides are the same `--set`
# keys a scenario file takes. Erlang C is written out here in a few lines (Erlang B by its
# stable recursion, then C).

# %%
def erlang_c(servers: int, load: float) -> float:
    """Probability of waiting in an M/M/c queue with offered load `load` Erlangs (< servers)."""
    b = 1.0
    for k in range(1, servers + 1):  # Erlang B, B(k) = a B(k-1) / (k + a B(k-1))
        b = load * b / (k + load * b)
    return servers * b / (servers - load * (1.0 - b))


mean_review_s = gateway.review_minutes_mean * 60.0
rate_per_s = TEXTBOOK_UTILISATION * TEXTBOOK_REVIEWERS / mean_review_s
p_wait = erlang_c(TEXTBOOK_REVIEWERS, rate_per_s * mean_review_s)
theory_wait_s = p_wait / (TEXTBOOK_REVIEWERS / mean_review_s - rate_per_s)

textbook = sim.load_scenario(ROOT / "scenarios" / SCENARIO, [
    f"gateway.access_requests_per_hour={rate_per_s * 3600.0}",
    "gateway.auto_check=false",
    'gateway.staffing="24x7"',
    f"gateway.reviewers={TEXTBOOK_REVIEWERS}",
    'gateway.review_distribution="exponential"',
    "gateway.approve_probability=1.0",
    "gateway.resubmit_share=0.0",
    "gateway.third_party.enabled=false",
    "gateway.transfers.flows=[]",
    'gateway.priority_classes=[{name="all", share=1.0}]',
]).gateway

replications = []
for seed in range(TEXTBOOK_SEEDS):
    r = sim.simulate_gateway(textbook, start_utc=scenario.start_utc, horizon_s=TEXTBOOK_WEEKS * WEEK_S,
                             rng=np.random.default_rng(1000 + seed))
    frame = sim.gateway_requests_frame(r)
    counted = frame[frame["arrival_s"] >= r.warmup_s]
    replications.append({"mean_wait_s": counted["wait_s"].mean(), "waited_share": (counted["wait_s"] > 0).mean(),
                         "requests": len(counted)})
replications = pd.DataFrame(replications)


# %%
def interval(x: pd.Series) -> tuple[float, float, float]:
    """Mean and 95 % Student-t interval (zero width for one value)."""
    from scipy import stats

    mean = float(x.mean())
    if len(x) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x)))
    return mean, mean - half, mean + half


check = []
for label, column, theory in [("mean wait, s", "mean_wait_s", theory_wait_s), ("P(wait > 0)", "waited_share", p_wait)]:
    mean, low, high = interval(replications[column])
    check.append({"quantity": label, "Erlang C": theory, "simulated": mean, "ci95_low": low, "ci95_high": high,
                  "relative error": mean / theory - 1, "interval covers theory": low <= theory <= high})
print(f"M/M/{TEXTBOOK_REVIEWERS} at rho = {TEXTBOOK_UTILISATION}, mean review {mean_review_s / 60:g} min, "
      f"{TEXTBOOK_SEEDS} replications of {TEXTBOOK_WEEKS} weeks "
      f"(~{replications['requests'].mean():,.0f} counted requests each)")
pd.DataFrame(check).set_index("quantity")

# %% [markdown]
# With long enough runs the interval covers the Erlang C value (the test suite checks this
# with 30 replications in `tests/test_gateway_theory.py`); on a short run it may not: the
# relative error is then the thing to look at.
#
# ## What to change
#
# * `P95_TARGET_S` for a stricter or looser target; `WEEKS` / `STAFFING_WEEKS` for steadier
#   figures.
# * The gateway itself in the scenario file or with `--set`: `gateway.review_minutes_mean`,
#   `gateway.reviewers` (every shift), `gateway.regions.1.head_count` (the US requesters),
#   `gateway.sla_s`. Load such a variant with
#   `sim.load_scenario(ROOT / "scenarios" / SCENARIO, ["gateway.review_minutes_mean=8"])`.
# * The gateway's cost and waits inside a full run: notebook 01 (`GATEWAY = True`).
