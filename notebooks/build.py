"""Generate the analyst notebooks (``notebooks/*.ipynb``) from the Python source below.

The notebooks are written from this file so that a change to them can be reviewed as a plain
Python diff; the committed ``.ipynb`` files must equal what this script writes (the test suite
checks it). They are written without outputs, with ``execution_count`` null and deterministic
cell ids.

    .venv/bin/python notebooks/build.py           # (re)write every notebook
    .venv/bin/python notebooks/build.py --check   # exit 1 if a committed notebook differs

Conventions every notebook follows (``tests/test_notebooks.py`` holds them to it):

* the first code cell is tagged ``parameters`` and holds every parameter, one assignment each;
* only names importable from ``sim`` itself are used, plus the chart functions of
  ``sim.report.charts``;
* markdown cells state the question, what the numbers mean and what to change.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

HERE = Path(__file__).resolve().parent

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}

Cell = tuple[str, str]  # (kind, source): kind is "markdown", "code" or "parameters"


def md(text: str) -> Cell:
    return ("markdown", textwrap.dedent(text).strip("\n"))


def code(text: str) -> Cell:
    return ("code", textwrap.dedent(text).strip("\n"))


def params(text: str) -> Cell:
    return ("parameters", textwrap.dedent(text).strip("\n"))


# Shared second cell: imports and display settings.
IMPORTS = code(
    '''
    %matplotlib inline
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    from IPython.display import Markdown, display

    import sim
    from sim.report import charts


    def _number(x: float) -> str:
        """Big numbers with thousands separators, small ones with 4 significant digits."""
        if abs(x) < 1e-9:
            return "0"
        return f"{x:,.0f}" if abs(x) >= 1e4 else f"{x:.4g}"


    pd.set_option("display.float_format", _number)
    pd.set_option("display.width", 140)
    pd.set_option("display.max_columns", 30)
    '''
)

# --------------------------------------------------------------------------------------------
# 01 quickstart
# --------------------------------------------------------------------------------------------

QUICKSTART = [
    md(
        """
        # 01 Quickstart: what does Project Clover cost, and where does the data live?

        **Question.** Project Clover keeps European user data in three EEA data centres (dublin,
        ireland2, hamar) behind a security gateway, for ~150 M monthly users. What does that cost a
        year, where is the data stored, how far are users from it, and how do the answers move when
        one assumption changes?

        **How to use it.** Every parameter is in the first code cell: change it and *Run All*. With
        the defaults (one year at 15-minute steps, 3 replications, gateway on) the notebook takes
        about half a minute. `GATEWAY = False` switches the security gateway off, which makes runs
        much faster (the test suite does this) but drops the reviewers, the oversight contract and
        the gateway waits from the results.
        """
    ),
    params(
        '''
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
        '''
    ),
    IMPORTS,
    md(
        """
        ## 1. Load and run the scenario

        `sim.load_scenario` reads the scenario file (which `extends` the shared assumptions in
        `scenarios/base.toml`), applies dotted overrides exactly like `clover-sim run --set KEY=VALUE`,
        and validates everything; the result has every default filled in. `sim.simulate` runs it
        `REPLICATIONS` times from one root seed.
        """
    ),
    code(
        '''
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
        '''
    ),
    code(
        """
        results = sim.simulate(scenario, replications=REPLICATIONS, seed=SEED)
        """
    ),
    md(
        """
        ## 2. Headline KPIs

        `Results.kpi_summary()` gives one row per KPI: the mean over the replications and its 95 %
        Student-t interval. The unit is in the name: `_eur_per_year` and the other `_per_year` KPIs
        are yearly rates (a shorter horizon is scaled up to a year), `_pb` petabytes, `_ms`
        milliseconds, `_s` seconds, `share` a fraction between 0 and 1. Per-site KPIs are called
        `name.<site>` (e.g. `cost_eur_per_year.hamar`). `eea_residency_share` is the share of the
        EEA-only data classes physically stored in the EEA.
        """
    ),
    code(
        """
        HEADLINE = [
            "cost_eur_per_year", "energy_mwh_per_year", "co2_t_per_year", "stored_pb_total",
            "stored_pb_outside_eea", "eea_residency_share", "transfer_tb_out_of_eea_per_year",
            "user_rtt_ms_p50", "user_rtt_ms_p95", "gateway_wait_s_p95", "reviewer_utilisation",
        ]
        kpis = results.kpi_summary().set_index("name")
        kpis.loc[HEADLINE]
        """
    ),
    code(
        '''
        cost = kpis.loc["cost_eur_per_year"]
        reference = scenario.costs.reference_eur_per_year
        off = 100 * (cost["mean"] / reference - 1)
        against = "in line with" if abs(off) < 0.05 else f"{abs(off):.1f} % {'above' if off > 0 else 'below'}"
        display(Markdown(
            f"**{scenario.name}** costs **EUR {cost['mean'] / 1e6:,.0f} m a year** (95 % interval "
            f"{cost['ci95_low'] / 1e6:,.1f} to {cost['ci95_high'] / 1e6:,.1f} m over {REPLICATIONS} replications), "
            f"{against} the published EUR {reference / 1e9:.1f} bn. "
            f"{100 * kpis.loc['eea_residency_share', 'mean']:.1f} % of the EEA-only data is stored in the EEA, "
            f"and half of all requests travel at most {kpis.loc['user_rtt_ms_p50', 'mean']:.0f} ms round trip "
            f"(95 % at most {kpis.loc['user_rtt_ms_p95', 'mean']:.0f} ms)."
        ))
        '''
    ),
    md(
        """
        ## 3. Where the money goes

        `Results.table("costs")` is tidy: one row per replication, site and cost category, with the
        metered quantity each figure comes from (`quantity`, `unit`), so every euro can be traced.
        Below: EUR million a year, mean over replications. The `programme` row holds the costs not
        tied to a site: the central data-security staff, the gateway reviewers and inspection nodes,
        and the third-party oversight contract.
        """
    ),
    code(
        """
        costs = results.table("costs")
        cost_table = costs.groupby(["site", "category"])["eur_per_year"].mean().unstack("category", fill_value=0.0) / 1e6
        cost_table["total"] = cost_table.sum(axis=1)
        cost_table.loc["total"] = cost_table.sum()
        cost_table
        """
    ),
    code(
        """
        costs[costs["replication"] == 0].drop(columns="replication").head(8)  # the metered quantities behind the euros
        """
    ),
    md(
        """
        ## 4. Three charts

        The charts of `sim.report.charts` take the tidy tables of one run (here replication 0) and
        return a matplotlib figure whose title states the finding:

        * **stored data by site** over time (stacked, PB);
        * **cost by site and category** against the published EUR 1.2 bn a year;
        * **round trip by country**: request-weighted mean RTT from each country to the sites that
          serve it; the black marks are the fibre minimum for those sites (the physical floor: light
          in fibre along the great circle), so the gap above a mark is route inflation and access
          overhead.
        """
    ),
    code(
        '''
        def first(name: str) -> pd.DataFrame:
            """Table `name` of the first replication (a chart draws one run)."""
            table = results.table(name)
            return table[table["replication"] == 0].drop(columns="replication")


        charts.stored_by_site_chart(first("placement"))
        '''
    ),
    code(
        """
        charts.cost_by_site_chart(first("costs"), reference_eur_per_year=scenario.costs.reference_eur_per_year)
        """
    ),
    code(
        """
        latency = first("latency")
        fibre_min = (
            latency.assign(rtt_ms=latency["fibre_min_ms"] * latency["share_of_requests"])
            .groupby("country", as_index=False)["rtt_ms"]
            .sum()
        )
        charts.rtt_by_country_chart(latency, fibre_min=fibre_min)
        """
    ),
    md(
        """
        ## 5. Change one assumption

        `CHANGE` is one `--set` override (default: 180 M monthly users instead of 150 M). The changed
        scenario runs on the same seed, so both runs see the same random draws (common random
        numbers) and the difference below is the effect of the change, not noise. Notebook 02 does
        this with paired confidence intervals.
        """
    ),
    code(
        '''
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
        '''
    ),
    code(
        """
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
        """
    ),
    code(
        '''
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
        '''
    ),
    md(
        """
        ## 6. Save the run

        `sim.write_results` writes the same folder as `clover-sim run`: `summary.json` (KPIs with
        intervals and the fully resolved scenario), the tidy tables as CSV and the charts as PNG.
        `results/README.md` describes the layout.
        """
    ),
    code(
        """
        folder = sim.write_results(results, OUT / scenario.name)
        print(folder)
        sorted(p.name for p in folder.iterdir())
        """
    ),
    md(
        """
        ## What to change next

        * Other assumptions through `CHANGE`, e.g. `policy.sites=["dublin","hamar"]` (Clover without
          the unconfirmed second Irish site), `sites.hamar.energy_price_eur_per_kwh=0.08`,
          `costs.programme_staff_fte=300` or `gateway.reviewers=20`. Every key and its source is in
          `scenarios/base.toml` and `scenarios/clover.toml`.
        * `SCENARIO = "pre_clover.toml"` for the layout before Clover (data in the US and Singapore).
        * Notebook 02 compares policies with paired intervals, 03 sizes the gateway, 04 asks which
          assumption matters most, 05 follows the migration year by year.
        """
    ),
]

# --------------------------------------------------------------------------------------------
# 02 policy comparison
# --------------------------------------------------------------------------------------------

POLICY_COMPARISON = [
    md(
        """
        # 02 Policy comparison: what does keeping the data in Europe cost?

        **Question.** Before Clover, European user data lived in the US (virginia) and Singapore.
        Clover moves it to EEA sites behind a security gateway. How much more (or less) does that
        cost, what does it do to carbon, to the data stored outside the EEA and to the round trip
        users see, and would another EEA placement (each user's nearest EEA site, or the
        cost-optimal placement from the LP solver) do better?

        **Method.** `sim.compare` runs every policy on the *same* replications and seeds (common
        random numbers): replication *r* of every policy sees the same demand. A KPI's difference
        against the first policy is taken replication by replication and its 95 % interval is the
        paired Student-t interval, so the noise the policies share cancels.

        **Parameters** are in the first code cell: horizon, step, replications, seed, the gateway
        switch and the policies (label -> scenario file and overrides; the first one is the
        baseline). The defaults (one year at hourly steps, 5 replications) take about a minute.
        `GATEWAY = False` switches the gateway off for the Clover policies (faster; the tests use it).
        """
    ),
    params(
        '''
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
            "nearest_eea": ("clover.toml", ['policy.placement="nearest_eea"']),
            "cost_optimal": ("clover.toml", ['policy.placement="cost_optimal"']),
        }
        '''
    ),
    IMPORTS,
    md(
        """
        ## 1. The policies

        Each policy is a scenario: a file plus overrides. The label becomes the scenario's `name`,
        which `sim.compare` uses to tell them apart. `nearest_eea` and `cost_optimal` keep Clover's
        sites, gateway and costs and change only where the data is placed.
        """
    ),
    code(
        '''
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
        '''
    ),
    code(
        """
        comparison = sim.compare(scenarios, replications=REPLICATIONS, seed=SEED)
        table = comparison.table()
        OUT.mkdir(parents=True, exist_ok=True)
        table.to_csv(OUT / "compare.csv", index=False)
        baseline = comparison.labels[0]
        print(f"{len(scenarios)} policies x {REPLICATIONS} replications; baseline {baseline}; "
              f"common random numbers: {comparison.common_random_numbers}")
        """
    ),
    md(
        """
        ## 2. The numbers

        `Comparison.table()` is tidy: one row per policy and KPI with the mean, its 95 % interval,
        and the paired difference against the baseline (`diff_mean`, `diff_ci95_low`,
        `diff_ci95_high`, in the KPI's unit). It is saved as `compare.csv`. Below, a selection in
        readable units: first the means, then the differences against the baseline, each ± the
        half-width of its paired 95 % interval.
        """
    ),
    code(
        '''
        SHOWN = {  # kpi -> (label, divide by)
            "cost_eur_per_year": ("cost, EUR m/yr", 1e6),
            "co2_t_per_year": ("CO2, kt/yr", 1e3),
            "energy_mwh_per_year": ("energy, GWh/yr", 1e3),
            "stored_pb_outside_eea": ("stored outside the EEA, PB", 1.0),
            "eea_residency_share": ("EEA-only data in the EEA, %", 0.01),
            "transfer_tb_out_of_eea_per_year": ("transfers out of the EEA, TB/yr", 1.0),
            "user_rtt_ms_p95": ("p95 round trip, ms", 1.0),
            "gateway_wait_s_p95": ("p95 gateway wait, min", 60.0),
        }
        shown = table[table["kpi"].isin(list(SHOWN))].copy()
        scale = shown["kpi"].map({k: v[1] for k, v in SHOWN.items()})
        for column in ["mean", "ci95_low", "ci95_high", "diff_mean", "diff_ci95_low", "diff_ci95_high"]:
            shown[column] = shown[column] / scale
        shown["kpi"] = shown["kpi"].map({k: v[0] for k, v in SHOWN.items()})
        order = [v[0] for v in SHOWN.values()]
        means = shown.pivot(index="kpi", columns="scenario", values="mean").reindex(index=order, columns=comparison.labels)
        means
        '''
    ),
    code(
        """
        def with_interval(row) -> str:
            return f"{row.diff_mean:+,.1f} ± {(row.diff_ci95_high - row.diff_ci95_low) / 2:.2g}"


        others = shown[shown["scenario"] != baseline]
        (
            others.assign(difference=others.apply(with_interval, axis=1))
            .pivot(index="kpi", columns="scenario", values="difference")
            .reindex(index=order, columns=comparison.labels[1:])
            .rename_axis(columns=f"difference to {baseline}")
        )
        """
    ),
    md(
        """
        ## 3. Cost and its paired differences, with error bars

        Left: the yearly cost of each policy with its 95 % interval, against the published Clover
        figure. Right: the paired differences against the baseline in cost, CO2 and p95 round trip.
        Error bars are 95 % intervals; they are small because a year of traffic is trillions of
        requests, so demand noise averages out, and the paired differences cancel most of what is
        left.
        """
    ),
    code(
        '''
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
        '''
    ),
    md(
        """
        **What pairing buys.** Had every policy run on its own seeds, the interval of a difference
        would be roughly the two intervals combined (sqrt of the sum of the squared half-widths).
        The paired interval is computed from the per-replication differences instead. The square of
        the ratio of the two half-widths is roughly how many times more replications independent
        seeds would need for the same precision.
        """
    ),
    code(
        '''
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
        '''
    ),
    md(
        """
        ## 4. The finding in words

        Computed from the table above (so it stays true when the parameters change).
        """
    ),
    code(
        '''
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
                f"{get(label, 'stored_pb_outside_eea'):,.0f} PB outside the EEA "
                f"(against {get(baseline, 'stored_pb_outside_eea'):,.0f} PB), and its p95 round trip is "
                f"{get(label, 'user_rtt_ms_p95'):.0f} ms (against {get(baseline, 'user_rtt_ms_p95'):.0f} ms)."
            )
        resident = [lab for lab in comparison.labels if get(lab, "stored_pb_outside_eea") < 1e-9]
        if resident:
            cheapest = min(resident, key=lambda lab: get(lab, "cost_eur_per_year"))
            lines.append(
                f"\\nOf the policies that keep all data in the EEA, **{cheapest}** is the cheapest at "
                f"EUR {get(cheapest, 'cost_eur_per_year') / 1e9:.2f} bn a year."
            )
        display(Markdown("\\n".join(lines)))
        '''
    ),
    md(
        """
        ## What to change

        * `REPLICATIONS` for tighter intervals, `HORIZON_DAYS` / `STEP_MINUTES` for speed.
        * Add a policy to `POLICIES`, e.g. `"carbon_optimal": ("clover.toml", ['policy.placement="carbon_optimal"'])`,
          `"latency_optimal"`, or Clover without ireland2:
          `"clover_2_sites": ("clover.toml", ['policy.sites=["dublin","hamar"]'])`.
        * Put a what-if first to make it the baseline, e.g. `("dpf_invalidated.toml", [])`.
        * The same comparison from the command line: `clover-sim compare` (see the README).
        """
    ),
]

# --------------------------------------------------------------------------------------------
# 03 gateway staffing
# --------------------------------------------------------------------------------------------

GATEWAY_STAFFING = [
    md(
        """
        # 03 Gateway staffing: how long do people wait, and how many reviewers does it take?

        **Question.** Every employee access to European user data and every transfer out of the EEA
        passes Clover's security gateway, where requests for restricted data (and all requests from
        outside the EEA) wait for a human reviewer. With the reviewer shifts of `clover.toml`, how
        long do requests wait against their service-level agreement (SLA), how busy are the
        reviewers hour by hour, and how many reviewers per shift would meet a target for the 95th
        percentile of the review wait?

        **Method.** `sim.simulate_gateway` simulates the gateway alone, every request individually,
        for `WEEKS` weeks (the first day is warm-up and not counted). Stand-alone, transfer jobs
        arrive at the configured default rates (`gateway.transfers.flows`); inside a full
        `sim.simulate` run they follow the data classes' exports. `sim.staff_for_target` starts from
        Erlang C and lets the simulation judge. Last, a sanity check: configured as a textbook
        M/M/c queue, the simulated wait must agree with Erlang C.

        **Parameters** are in the first code cell. The defaults take about half a minute.
        """
    ),
    params(
        '''
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
        '''
    ),
    IMPORTS,
    md(
        """
        ## 1. The gateway as configured

        Who asks (requester regions, local working hours, the share touching restricted data), who
        reviews (shifts, hours in UTC) and the SLA per priority class. None of these figures is
        published: they are the documented assumptions of `sim/model/gateway_config.py`, and
        `clover.toml` can override any of them (`gateway.reviewers=20`, `gateway.shifts`, ...).
        """
    ),
    code(
        '''
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
            {"region": r.name, "in EEA": r.in_eea, "requests per hour": r.rate_per_hour(),
             "local hours": f"{r.start_hour:g}-{r.end_hour:g} (UTC{r.utc_offset_h:+g})",
             "weekdays only": r.weekdays_only, "restricted share": r.restricted_share}
            for r in gateway.regions
        ]).set_index("region"))
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
        '''
    ),
    code(
        """
        run = sim.simulate_gateway(
            gateway, start_utc=scenario.start_utc, horizon_s=WEEKS * WEEK_S, rng=np.random.default_rng(SEED)
        )
        print("stable" if not run.unstable else f"UNSTABLE: {run.message}")
        pd.Series(run.kpis(), name="value").to_frame()
        """
    ),
    md(
        """
        ## 2. Waits against the SLA, per priority class

        The wait of an access request is its total queueing time across the gateway's stages
        (automatic check, human review, third-party sample). Most requests need no human review and
        pass in seconds; the tail is the reviewed ones, and the `incident` class is served before
        `routine` (non-preemptive priority). The table counts requests arriving after the warm-up;
        the chart is the cumulative distribution (share of requests that waited at most *x*; the x
        axis is linear below one minute and logarithmic above), with each class's SLA dashed.
        """
    ),
    code(
        '''
        requests = run.to_frame()
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
        '''
    ),
    code(
        """
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
        """
    ),
    md(
        """
        ## 3. Reviewer utilisation by hour of day

        Busy reviewer time over staffed reviewer time, per hour of the day (UTC), over the whole
        run. Hours near 100 % are where queues build; an hour can exceed 100 % when a review started
        in a shift runs past its end. The shifts of the table above set the capacity; the requester
        regions' working hours set the load (EEA mornings, US afternoons and evenings in UTC).
        """
    ),
    code(
        """
        charts.reviewer_utilisation_chart(run.utilisation_by_hour())
        """
    ),
    md(
        """
        ## 4. Reviewers per shift for a p95 target

        `sim.staff_for_target` looks for the fewest reviewers per shift such that, in every shift,
        the 95th percentile of the *review-stage* wait of requests arriving while that shift is on
        duty meets `P95_TARGET_S`. Its starting point (`erlang_c_reviewers`) is Erlang C: for each
        hour of the week, the M/M/c staff meeting the target for that hour's expected arrivals,
        covered by the shifts at the fewest reviewer-hours. The simulation (same seed in every
        trial) then adds reviewers where the target is missed and gives back those not needed.
        Erlang C and the simulation disagree where its assumptions fail: queues carried over a
        shift change, lognormal rather than exponential review times, priority classes.
        """
    ),
    code(
        '''
        staff = sim.staff_for_target(
            gateway, p95_wait_s=P95_TARGET_S, start_utc=scenario.start_utc,
            horizon_s=STAFFING_WEEKS * WEEK_S, seed=SEED,
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
        '''
    ),
    code(
        '''
        fte_now, fte_needed = staff["fte_now"].sum(), staff["fte_needed"].sum()
        eur = gateway.reviewer_cost_eur_per_year
        display(Markdown(
            f"Keeping the p95 review wait within **{P95_TARGET_S / 60:g} minutes** in every shift takes "
            f"**{fte_needed:.1f} reviewer FTE** (EUR {fte_needed * eur / 1e6:.1f} m a year) against "
            f"{fte_now:.1f} FTE today (EUR {fte_now * eur / 1e6:.1f} m); Erlang C alone would staff "
            f"{sum(fte(n, r) for n, r in zip(staff['shift'], staff['erlang_c_reviewers'])):.1f} FTE."
        ))
        '''
    ),
    md(
        """
        ## 5. Sanity check: the gateway as a textbook M/M/c queue

        Configured as a textbook queue (one round-the-clock Poisson stream of requests that all need
        review, `TEXTBOOK_REVIEWERS` reviewers around the clock, exponential review times, no
        automatic check, no third party, no transfers, one priority class, everything approved),
        the simulated mean wait must match Erlang C: P(wait) = C(c, a) and
        W_q = C(c, a) / (c mu - lambda), with a = lambda / mu. The overrides are the same `--set`
        keys a scenario file takes. Erlang C is written out here in a few lines (Erlang B by its
        stable recursion, then C).
        """
    ),
    code(
        '''
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
            frame = r.to_frame()
            counted = frame[frame["arrival_s"] >= r.warmup_s]
            replications.append({"mean_wait_s": counted["wait_s"].mean(), "waited_share": (counted["wait_s"] > 0).mean(),
                                 "requests": len(counted)})
        replications = pd.DataFrame(replications)
        '''
    ),
    code(
        '''
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
        '''
    ),
    md(
        """
        With long enough runs the interval covers the Erlang C value (the test suite checks this
        with 30 replications in `tests/test_gateway_theory.py`); on a short run it may not: the
        relative error is then the thing to look at.

        ## What to change

        * `P95_TARGET_S` for a stricter or looser target; `WEEKS` / `STAFFING_WEEKS` for steadier
          figures.
        * The gateway itself in the scenario file or with `--set`: `gateway.review_minutes_mean`,
          `gateway.reviewers` (every shift), `gateway.regions.1.head_count` (the US requesters),
          `gateway.sla_s`. Load such a variant with
          `sim.load_scenario(ROOT / "scenarios" / SCENARIO, ["gateway.review_minutes_mean=8"])`.
        * The gateway's cost and waits inside a full run: notebook 01 (`GATEWAY = True`).
        """
    ),
]

# --------------------------------------------------------------------------------------------
# 04 sensitivity
# --------------------------------------------------------------------------------------------

SENSITIVITY = [
    md(
        """
        # 04 Sensitivity: which assumption moves the answer most?

        **Question.** Most of the Clover cost model rests on assumptions (see `scenarios/base.toml`).
        Which of them move the yearly cost, the carbon and the gateway wait most, and which barely
        matter?

        **Method.** Two sweeps, both run through `sim.run_sweep` on an executor of local worker
        processes (`sim.make_executor(workers=WORKERS)`):

        1. a **grid** (`scenarios/sweeps/small.toml`): monthly users x reviewers per shift, every
           combination, `REPLICATIONS` replications each;
        2. a **Morris screening** over the `MORRIS_RANGES` below: `MORRIS_TRAJECTORIES` x
           (parameters + 1) design points, one at a time, which ranks the parameters by their mean
           absolute effect (`mu_star`).

        Every point runs on the same seeds (common random numbers), so differences between points
        are the parameters' effects. Sweep results are stored run by run in `OUT`; running the
        notebook again reuses finished runs.

        **Parameters** are in the first code cell; with the defaults (a week at hourly steps) the
        notebook takes about a minute. KPIs are yearly rates, so a week's run is scaled up to a year
        (growth over the year is then not seen). `GATEWAY = False` switches the gateway off (faster;
        the tests use it): the reviewer parameters then have no effect.
        """
    ),
    params(
        '''
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
        '''
    ),
    IMPORTS,
    md(
        """
        ## 1. The grid

        `sim.load_sweep` reads the sweep file and plans every run; the overrides apply to every
        point (they may not name a swept key). `sim.run_sweep` executes the runs not yet in the
        output folder and returns the tidy table: one row per run, with the swept values, the seed,
        the status and every KPI.
        """
    ),
    code(
        '''
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
        '''
    ),
    md(
        """
        Averaged over replications: the yearly cost (EUR million) and the p95 gateway wait
        (minutes) at every grid point. More users cost roughly in proportion (servers, power and
        storage scale with demand); reviewers cost little, but too few of them and the queue backs
        up.
        """
    ),
    code(
        '''
        ok = grid.table[grid.table["status"] == "ok"]
        by_point = ok.groupby(plan.keys)[["cost_eur_per_year", "gateway_wait_s_p95", "reviewer_utilisation"]].mean()
        display((by_point["cost_eur_per_year"] / 1e6).unstack().rename_axis(columns="cost, EUR m/yr"))
        display((by_point["gateway_wait_s_p95"] / 60).unstack().rename_axis(columns="p95 wait, min"))
        '''
    ),
    code(
        '''
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
            display(Markdown("\\n".join(lines)))
        '''
    ),
    md(
        """
        ## 2. Morris screening

        The Morris design is a sweep file like any other; here it is written from the parameters
        (`MORRIS_RANGES`, `MORRIS_TRAJECTORIES`, ...) next to the results, extending
        `scenarios/clover.toml`. `scenarios/sweeps/clover_morris.toml` is the same design shipped
        for the command line (`clover-sim sweep scenarios/sweeps/clover_morris.toml`).
        """
    ),
    code(
        '''
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
        morris_file.write_text("\\n".join(text) + "\\n", encoding="utf-8")
        print(morris_file.read_text(encoding="utf-8"))
        '''
    ),
    code(
        '''
        morris_plan = sim.load_sweep(morris_file, common)
        print(f"{len(morris_plan.points)} design points x 1 replication")
        with sim.make_executor(workers=WORKERS) as executor:
            morris = sim.run_sweep(morris_plan, OUT / "morris", executor)
        print(f"executed {morris.executed}, reused {morris.skipped}, failed {len(morris.failed)}")
        morris.table[["point", *morris_plan.keys, *MORRIS_KPIS]].head(10)
        '''
    ),
    md(
        """
        **Reading the indices.** `SweepReport.sensitivity` is tidy: KPI, parameter, index, value and
        the bootstrap 95 % half-width (`conf95`). For Morris, `mu_star` is the mean absolute
        elementary effect, in the KPI's unit, scaled to the parameter's whole range: roughly how far
        the KPI moves when the parameter goes from its low to its high bound. `mu` is the signed
        mean (its sign says which way), `sigma` the spread of the effects (large against `mu_star`:
        the effect depends on the other parameters, or is not linear). Below: `mu_star` per
        parameter and KPI, then as a share of the KPI's mean over the design, so KPIs in different
        units compare.
        """
    ),
    code(
        '''
        indices = morris.sensitivity
        mu_star = indices[indices["index"] == "mu_star"].pivot(index="parameter", columns="kpi", values="value")
        mu_star = mu_star.reindex(index=list(MORRIS_RANGES), columns=[k for k in MORRIS_KPIS if k in mu_star.columns])
        display(mu_star.rename_axis(columns="mu_star (KPI units)"))
        kpi_mean = morris.table[morris.table["status"] == "ok"][list(mu_star.columns)].mean()
        relative = 100 * mu_star / kpi_mean.where(kpi_mean != 0)
        relative.rename_axis(columns="mu_star, % of the KPI's mean")
        '''
    ),
    code(
        '''
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
        '''
    ),
    code(
        '''
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
        display(Markdown("\\n".join(lines)))
        '''
    ),
    md(
        """
        ## What to change

        * `MORRIS_RANGES`: any dotted key `--set` accepts, with the range you believe; add a key to
          screen it. `MORRIS_TRAJECTORIES` up for steadier rankings (the `conf95` bars shrink).
        * `MORRIS_KPIS`: any KPI of the run, e.g. `user_rtt_ms_p95`, `energy_mwh_per_year`,
          `cost_eur_per_year.hamar`.
        * For variance shares instead of a screening, load the same file with
          `sim.load_sweep(morris_file, common, sensitivity="sobol")` (indices `S1` and `ST`; it needs
          more points).
        * `WORKERS` up to the number of cores; for a cluster, `sim.make_executor(scheduler="tcp://HOST:8786")`.
        """
    ),
]

# --------------------------------------------------------------------------------------------
# 05 migration timeline
# --------------------------------------------------------------------------------------------

MIGRATION_TIMELINE = [
    md(
        """
        # 05 Migration timeline: when is European data resident in Europe, and what does each year cost?

        **Question.** Clover did not happen at once. From 2023 the EEA sites come online one by one
        (dublin on 2023-09-05, ireland2 assumed mid-2024, hamar on 2024-10-31) and the stored data
        crosses the inter-site links at finite bandwidth. When is 99 % of the EEA-only data in the
        EEA? How much is migrated each month, and what does each calendar year cost? And what do the
        Finnish sites (kouvola end-2026, lahti mid-2027, `finland_expansion.toml`) change?

        **Parameters** are in the first code cell: the scenario files, horizon (default 2023-2027),
        step, replications, the gateway switch and whether to save the runs. With the defaults (five
        years at hourly steps, gateway on, nothing saved) the notebook takes about a minute.
        `GATEWAY = False` switches the gateway off, which makes a five-year run ten times faster
        (the tests use it): the residency and migration figures do not change, the cost loses the
        gateway reviewers and the oversight contract.
        """
    ),
    params(
        '''
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
        '''
    ),
    IMPORTS,
    md(
        """
        ## 1. Run the timelines
        """
    ),
    code(
        '''
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
        '''
    ),
    md(
        """
        ## 2. Residency over time

        `Results.table("residency")` gives, at the end of every day, the share of the EEA-only data
        classes (`eea_share_protected`) and of all data (`eea_share_all`) physically stored in the
        EEA. The `residency_99_date` KPI is the first day the protected share reaches 99 %; in
        `Results.summary()["kpis"]` it is a calendar date (`None` if the horizon ends first).
        """
    ),
    code(
        '''
        fig, ax = plt.subplots(figsize=(9, 4))
        for i, (name, res) in enumerate(runs.items()):
            residency = res.table("residency").groupby("time")[["eea_share_protected", "eea_share_all"]].mean()
            width = 3.5 if i == 0 else 1.5  # the first scenario thicker: the lines coincide until they differ
            ax.plot(residency.index, 100 * residency["eea_share_protected"], color=f"C{i}", linewidth=width,
                    label=f"{name}: EEA-only data")
            ax.plot(residency.index, 100 * residency["eea_share_all"], color=f"C{i}", linewidth=width, linestyle=":",
                    label=f"{name}: all data")
        ax.axhline(99, color="black", linestyle="--", linewidth=0.8)
        ax.set_ylabel("stored in the EEA, %")
        ax.set_title("Share of European user data stored in the EEA", loc="left")
        ax.legend(fontsize=8, loc="lower right")
        plt.show()
        '''
    ),
    code(
        '''
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
        '''
    ),
    md(
        """
        ## 3. Migrated data per month

        The `transfers` table holds one row per month and flow (source, destination, data class,
        kind). Rows with `kind == "migration"` are stored data moved from the old sites to the new
        ones; `replication` rows are the extra copies the new sites make. Terabytes per month, mean
        over replications.
        """
    ),
    code(
        '''
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
        '''
    ),
    md(
        """
        ## 4. Cost per calendar year

        `Results.table("costs_by_year")` costs each calendar year on its own (its fleet sized for
        that year's peak): `eur` is what the simulated part of the year cost, `eur_per_year` the
        yearly rate, `days` how much of the year was simulated. While data sits on both sides of the
        Atlantic, both layouts are paid for; once the old sites are empty the cost settles.
        """
    ),
    code(
        '''
        yearly = {}
        for name, res in runs.items():
            table = res.table("costs_by_year")
            per_rep = table.groupby(["replication", "year"]).agg(eur=("eur", "sum"), days=("days", "first"))
            yearly[name] = per_rep.groupby("year").mean()
        cost_by_year = pd.DataFrame({name: frame["eur"] / 1e6 for name, frame in yearly.items()})
        cost_by_year.insert(0, "days simulated", yearly[names[0]]["days"])
        cost_by_year.rename_axis(columns="EUR million incurred")
        '''
    ),
    code(
        '''
        first_year = runs[names[0]].table("costs_by_year")
        last = int(first_year["year"].max())
        (
            first_year[first_year["year"] == last]
            .groupby(["site", "category"])["eur_per_year"].mean()
            .unstack("category", fill_value=0.0)
            .div(1e6)
            .rename_axis(columns=f"{names[0]} {last}, EUR m/yr")
        )
        '''
    ),
    code(
        '''
        lines = []
        for name in names[1:]:
            for year in cost_by_year.index:
                d = cost_by_year.loc[year, name] - cost_by_year.loc[year, names[0]]
                if abs(d) > 0.05:
                    lines.append(f"- {year}: **{name}** costs EUR {d:+,.0f} m against {names[0]} "
                                 f"({100 * d / cost_by_year.loc[year, names[0]]:+.1f} %)")
        for name, row in milestone_kpis.iterrows():
            date = row["99 % resident on"]
            lines.append(f"- {name}: 99 % of the EEA-only data is in the EEA "
                         + (f"on **{date}**." if date else "**not within the horizon**."))
        display(Markdown("\\n".join(lines) if lines else "The scenarios cost the same in every year."))
        '''
    ),
    md(
        """
        ## 5. Stored data by site, with the milestones

        Stacked stored data per site over time, with the days the sites come online, the migration
        start and the day 99 % residency is reached marked (milestones outside the horizon are left
        out).
        """
    ),
    code(
        '''
        for name, res in runs.items():
            placement = res.table("placement")
            placement = placement[placement["replication"] == 0].drop(columns="replication")
            marks = sim.milestones(res.summary(), res.scenario.world_sites)  # the days the CLI marks too
            fig = charts.stored_by_site_chart(placement, milestones=marks)
            fig.axes[0].set_title(f"{name}: " + fig.axes[0].get_title(loc="left"), loc="left")
            display(fig)
        '''
    ),
    md(
        """
        ## 6. Save the runs and the leadership report

        With `SAVE = True`, `sim.write_results` writes each run's folder (as `clover-sim run` does)
        and, with `MAKE_REPORT = True`, `sim.make_report` turns the folders into the leadership
        report (HTML and PDF). Both are off by default because a five-year run with the gateway on
        holds every gateway request (~35 M): its folder is ~260 MB and takes ~30 s to write, and the
        report reads it back.
        """
    ),
    code(
        '''
        if SAVE:
            folders = [sim.write_results(res, OUT / name) for name, res in runs.items()]
            for folder in folders:
                print(folder)
            if MAKE_REPORT:
                report = sim.make_report(folders, OUT / "report", scenario_dir=ROOT / "scenarios")
                print(report, sorted(p.name for p in report.iterdir()))
        else:
            print("SAVE = False: nothing written")
        '''
    ),
    md(
        """
        ## What to change

        * The link bandwidths decide how long the migration takes: try
          `network.default_link_gbps=100` or `network.links.0.gbps=100` (virginia-dublin) in a
          scenario file or as an extra override in `common`.
        * `network.migration_start`, a site's `online_date` (`sites.ireland2.online_date=2025-01-01`).
        * Add another what-if to `SCENARIOS`, or a shorter `HORIZON_DAYS` to look at the first years.
        """
    ),
]

NOTEBOOKS: dict[str, list[Cell]] = {
    "01_quickstart.ipynb": QUICKSTART,
    "02_policy_comparison.ipynb": POLICY_COMPARISON,
    "03_gateway_staffing.ipynb": GATEWAY_STAFFING,
    "04_sensitivity.ipynb": SENSITIVITY,
    "05_migration_timeline.ipynb": MIGRATION_TIMELINE,
}


def build(cells: list[Cell], stem: str) -> NotebookNode:
    """A notebook without outputs, with deterministic cell ids."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for i, (kind, source) in enumerate(cells):
        cell_id = f"{stem[:2]}-{i:02d}"
        if kind == "markdown":
            cell = nbformat.v4.new_markdown_cell(source, id=cell_id)
        else:
            cell = nbformat.v4.new_code_cell(source, id=cell_id)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    """The text of notebook ``name`` as committed."""
    return nbformat.writes(build(NOTEBOOKS[name], name), version=4) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed notebook differs")
    args = parser.parse_args(argv)
    stale = []
    for name in NOTEBOOKS:
        path = HERE / name
        text = render(name)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)}; run: python notebooks/build.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
