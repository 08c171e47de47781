"""Page one of the report: the question the runs answer, the answer in one sentence, the figures, the charts.

The runs have roles (:func:`~sim.report.leadership.runs.choose_baseline`): one baseline, the
others compared with it. What they compare decides the question (:func:`comparison_kind`):

* ``residency``: a run keeps far more of the residency-bound data in its zone than the baseline
  ("What does keeping <company>'s user data in <zone> cost, and what does it buy?");
* ``policies``: placement policies with the same residency ("Which placement serves <company>'s
  users at the lowest cost, and what does it give up?");
* ``whatif``: the baseline's policy under other circumstances (outages, regulatory what-ifs);
* ``timeline``: a multi-year run in which the data moves ("How fast does <company>'s user data
  reach <zone>, and what does the move cost?");
* ``single``: one run, compared with its reference figure only (``costs.reference_label``).

<zone> is the label of the focus run's residency zone and <company> its ``company.name``. The
answer names the run it is about (the cheapest of the runs that keep the most data in its zone
when several do) and states the yearly cost with its range: the assumption range (p5-p95 of
``--uncertainty N``) and its two largest drivers where the run has them, the 95 % interval over
replications otherwise, nothing where there is neither. Values are rounded to what the range
supports (:func:`sim.report.format.round_to_range`); labels, units and better-directions come from
the KPI catalogue (:mod:`sim.results.kpis`).

Units: EUR per year, TB per year, PB, shares (0-1), ms, seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.report.charts.report import (
    SUMMARY_FIGSIZE,
    cost_by_year_chart,
    cost_comparison_chart,
    data_location_chart,
    leaving_zone_chart,
    residency_over_time_chart,
)
from sim.report.files import milestones
from sim.report.format import (
    format_change,
    format_eur,
    format_kpi,
    format_number,
    format_share,
    format_span,
    round_to_range,
)
from sim.report.leadership.assumptions import input_label
from sim.report.leadership.runs import RunFolder, Spread
from sim.report.leadership.structure import Chart, Headline, Summary
from sim.results import kpis as catalogue

__all__ = ["Roles", "comparison_kind", "question_for", "range_phrase", "build_summary", "COST", "RESIDENCY", "LEAVING"]

COST = "cost_eur_per_year"
RESIDENCY = "residency_share"
LEAVING = "transfer_tb_out_of_residency_per_year"

#: Resolution of page one's chart PNGs in the HTML page (sharp when the page is zoomed or printed).
SUMMARY_DPI = 150

#: Candidate headline KPIs per kind of comparison, in order; the first three to five that apply are shown.
HEADLINE_CANDIDATES: dict[str, tuple[str, ...]] = {
    "single": (COST, RESIDENCY, LEAVING, "user_rtt_ms_p50", "gateway_wait_s_p95", "co2_t_per_year"),
    "residency": (COST, RESIDENCY, LEAVING, "user_rtt_ms_p50", "gateway_wait_s_p95", "co2_t_per_year"),
    "policies": (COST, "co2_t_per_year", "user_rtt_ms_p95", RESIDENCY, "energy_mwh_per_year"),
    "whatif": (COST, "unavailable_request_share", "residency_violation_tb", "failover_rtt_ms_p95",
               "gateway_sla_breach_share", "user_rtt_ms_p95", LEAVING, RESIDENCY),
    "timeline": (COST, RESIDENCY, "residency_99_date", "pending_migration_tb", "migrated_tb", LEAVING),
}

#: Questions per kind of comparison; ``{zone}`` is where the focus run's bound data must stay, ``{company}`` whose data it is.
QUESTIONS = {
    "residency": "What does keeping {company}'s user data in {zone} cost, and what does it buy?",
    "policies": "Which placement serves {company}'s users at the lowest cost, and what does it give up?",
    "timeline": "How fast does {company}'s user data reach {zone}, and what does the move cost?",
}


@dataclass(frozen=True)
class Roles:
    """Who is compared with whom.

    Attributes:
        runs: every run, in the order given.
        baseline: the run the others are compared with (None for a single run).
        focus: the run the answer is about.
        kind: the kind of comparison (see the module docstring).
    """

    runs: tuple[RunFolder, ...]
    baseline: RunFolder | None
    focus: RunFolder
    kind: str

    @property
    def others(self) -> list[RunFolder]:
        """The runs compared with the baseline, in the order given."""
        return [r for r in self.runs if r is not self.baseline]

    @property
    def charted(self) -> list[RunFolder]:
        """The runs in the order page one's charts show them: the compared runs, the baseline last."""
        return [*self.others, *([self.baseline] if self.baseline is not None else [])]


def _residency(run: RunFolder) -> float | None:
    return run.kpi(RESIDENCY)


def _cheapest(runs: Sequence[RunFolder]) -> RunFolder:
    """The cheapest of the runs that keep the most residency-bound data in its zone (within 0.5 pp)."""
    shares = [s for s in (_residency(r) for r in runs) if s is not None]
    best = max(shares) if shares else None
    keep = [r for r in runs if best is None or (_residency(r) is not None and _residency(r) >= best - 0.005)]
    priced = [r for r in keep if r.kpi(COST) is not None]
    return min(priced, key=lambda r: r.kpi(COST)) if priced else keep[0]  # type: ignore[arg-type, return-value]


def comparison_kind(runs: Sequence[RunFolder], baseline: RunFolder | None) -> Roles:
    """The roles of the runs and the kind of comparison they make.

    Args:
        runs: every run, in the order given.
        baseline: the run the others are compared with (None for a single run).

    Returns:
        The roles: baseline, the run the answer is about, the kind.
    """
    others = [r for r in runs if r is not baseline]
    if baseline is None or not others:
        run = runs[0]
        return Roles(tuple(runs), None, run, "timeline" if run.is_timeline else "single")
    timelines = [r for r in others if r.is_timeline]
    if timelines:
        return Roles(tuple(runs), baseline, timelines[0], "timeline")
    base_share = _residency(baseline) if baseline is not None else None
    gains = [r for r in others if base_share is not None and (_residency(r) or 0.0) >= base_share + 0.05]
    if gains:
        return Roles(tuple(runs), baseline, _cheapest(gains), "residency")
    if baseline is not None and all(r.policy == baseline.policy for r in others):
        return Roles(tuple(runs), baseline, others[0], "whatif")
    return Roles(tuple(runs), baseline, _cheapest(others), "policies")


def question_for(roles: Roles) -> str:
    """The question the runs answer, from their roles, names and policies."""
    if roles.kind in QUESTIONS:
        return QUESTIONS[roles.kind].format(zone=roles.focus.zone_name, company=roles.focus.company)
    if roles.kind == "whatif" and roles.baseline is not None:
        names = _join([r.name for r in roles.others])
        return f"What would {names} change against {roles.baseline.name}?"
    return f"What does {roles.focus.name} cost a year, and where does {roles.focus.company}'s user data live?"


def _join(words: Sequence[str]) -> str:
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def range_phrase(spread: Spread | None, unit: str, value: float | None = None) -> str:
    """The range behind a value, as a phrase: "90 % range EUR 0.9-1.6 bn/yr, driven by A and B".

    Args:
        spread: the assumption range or the interval over replications (None: no phrase).
        unit: the KPI's unit.
        value: the value the range is around (for a relative interval when both ends read the same).

    Returns:
        The phrase, or "" when there is no spread.
    """
    if spread is None:
        return ""
    span = format_span(spread.low, spread.high, unit)
    if spread.kind == "assumption":
        text = f"90 % range {span}"
        drivers = [input_label(d) for d in spread.drivers[:2]]
        if drivers:
            text += f", driven by {_join(drivers)}"
        return text
    over = f"over {spread.count} replications" if spread.count > 1 else "over replications"
    if spread.high == spread.low:
        return f"no spread {over}"
    if " to " not in span and "-" not in span.replace(" -", " "):  # both ends read the same
        if value:
            half = 100 * (spread.high - spread.low) / 2 / abs(value)
            return f"95 % interval \u00b1{format_number(half)} % {over}"
        return f"95 % interval {span} {over}"
    return f"95 % interval {span} {over}"


def _rounded(run: RunFolder, name: str) -> float | None:
    """A KPI rounded to what its range supports: two or three significant figures, never more."""
    value = run.kpi(name)
    if value is None:
        return None
    spread = run.spread(name)
    return round_to_range(value, spread.low, spread.high) if spread is not None else round_to_range(value, value, value)


def _eur(run: RunFolder) -> str:
    value = _rounded(run, COST)
    return "n/a" if value is None else format_eur(value)


def _cost_with_range(run: RunFolder) -> str:
    """'EUR 1.2 bn a year (90 % range ..., driven by ...)'."""
    phrase = range_phrase(run.spread(COST), "EUR/yr", run.kpi(COST))
    return f"{_eur(run)} a year" + (f" ({phrase})" if phrase else "")


def _cost_change(a: RunFolder, b: RunFolder) -> str:
    """'EUR 173 M (17 %) more than b' / 'about the same as b'."""
    ca, cb = a.kpi(COST), b.kpi(COST)
    if ca is None or cb is None:
        return f"no cost to compare with {b.name}"
    rel = format_change(ca, cb)
    if rel in ("0 %", "n/a"):
        return f"the same as {b.name}"
    word = "more" if ca > cb else "less"
    return f"{format_eur(abs(ca - cb))} ({rel.lstrip('+-')}) {word} than {b.name}"


def _share(run: RunFolder, name: str = RESIDENCY) -> str:
    value = run.kpi(name)
    return "n/a" if value is None else format_share(value)


def _tb(run: RunFolder) -> str:
    value = _rounded(run, LEAVING)
    return "n/a" if value is None else f"{format_number(value)} TB"


def _lower_first(text: str) -> str:
    """``"Published Clover figure"`` -> ``"published Clover figure"`` (for the middle of a sentence)."""
    return text[:1].lower() + text[1:]


def _answer(roles: Roles) -> str:
    f, b = roles.focus, roles.baseline
    if roles.kind == "residency" and b is not None:
        keepers = [r for r in roles.others if (_residency(r) or 0.0) >= (_residency(b) or 0.0) + 0.05]
        lead = (f"Of the {len(keepers)} ways to keep {f.company}'s user data in {f.zone_name}, {f.name} costs least: "
                if len(keepers) > 1 else f"Keeping {f.company}'s user data in {f.zone_name} ({f.name}) costs ")
        text = lead + f"{_cost_with_range(f)}, {_cost_change(f, b)}"
        text += f"; it raises the residency-bound data held in {f.zone_name} from {_share(b)} to {_share(f)}"
        if f.kpi(LEAVING) is not None and b.kpi(LEAVING) is not None:
            verb = "cuts" if (f.kpi(LEAVING) or 0) < (b.kpi(LEAVING) or 0) else "raises"
            text += f" and {verb} the data leaving {f.zone_name} from {_tb(b)} to {_tb(f)} a year"
        return text + "."
    if roles.kind == "policies" and b is not None:
        ca, cb = f.kpi(COST), b.kpi(COST)
        if ca is not None and cb is not None and ca >= cb:
            return (f"None of the alternatives costs less than {b.name} ({_eur(b)} a year): the cheapest, "
                    f"{f.name}, costs {_cost_with_range(f)}, {_cost_change(f, b)}.")
        text = f"{f.name} costs least: {_cost_with_range(f)}, {_cost_change(f, b)}"
        rtt_f, rtt_b = f.kpi("user_rtt_ms_p95"), b.kpi("user_rtt_ms_p95")
        if _residency(f) is not None:
            text += f", with {_share(f)} of residency-bound data in {f.zone_name}"
        if rtt_f is not None and rtt_b is not None:
            text += (f" and a 95th-percentile round trip of {format_kpi(rtt_f, 'ms')} "
                     f"(against {format_kpi(rtt_b, 'ms')})")
        return text + "."
    if roles.kind == "whatif" and b is not None:
        text = f"Against {b.name}, {f.name} costs {_cost_with_range(f)}, {_cost_change(f, b)}"
        harms = []
        for name in ("unavailable_request_share", "residency_violation_tb", "failover_request_share"):
            if f.applies(name):
                harms.append(f"{catalogue.label(name).lower()} {format_kpi(f.kpi(name), f.unit(name))}")
        if harms:
            text += "; " + _join(harms)
        if len(roles.others) > 1:
            text += f"; the other what-ifs ({_join([r.name for r in roles.others if r is not f])}) are side by side below"
        return text + "."
    if roles.kind == "timeline":
        series = f.residency_series()
        text = f"{f.name} brings the residency-bound data held in {f.zone_name}"
        if series is not None and len(series):
            end = str(series.index.max())[:10]
            text += f" from {format_share(float(series.iloc[0]))} to {format_share(float(series.iloc[-1]))} by {end}"
        else:
            text += f" to {_share(f)} by the end of the run"
        date99 = f.kpi_text("residency_99_date")
        text += f" (99 % on {date99})" if date99 else " (99 % not reached in the run)"
        text += f"; it costs {_cost_with_range(f)} on average"
        if b is not None:
            text += f", {_cost_change(f, b)}"
        pending = f.kpi("pending_migration_tb")
        if pending:
            text += f", and {format_number(pending / 1000)} PB still waits to cross a link at the end"
        return text + "."
    ref = f.reference_eur_per_year
    cost = f.kpi(COST)
    text = f"{f.name} costs {_cost_with_range(f)}"
    if cost is not None:
        rel = format_change(cost, ref)
        side = "in line with" if rel in ("0 %",) or abs(cost - ref) < 0.005 * ref else \
            f"{rel.lstrip('+-')} {'above' if cost > ref else 'below'}"
        text += f", {side} the {_lower_first(f.reference_label)} ({format_eur(ref)})"
    if _residency(f) is not None:
        text += f"; it keeps {_share(f)} of residency-bound data in {f.zone_name}"
        if f.kpi(LEAVING) is not None:
            text += f", and {_tb(f)} a year leaves it"
    return text + "."


def _tone(name: str, a: float | None, b: float | None) -> str:
    if a is None or b is None:
        return ""
    try:
        better = catalogue.better(name)
    except KeyError:
        return ""
    if better == "neutral":
        return ""
    if abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0):
        return "same"
    return "better" if (a < b) == (better == "lower") else "worse"


def _headline(roles: Roles, name: str) -> Headline:
    f, b = roles.focus, roles.baseline
    unit = f.unit(name)
    value = f.kpi(name)
    label = catalogue.label(name)
    if unit == "date":
        return Headline(label, f.kpi_text(name) or "not reached")
    shown = format_kpi(_rounded(f, name), unit)
    spread = f.spread(name)
    note = range_phrase(spread, unit, value) if spread is not None else ""
    if b is not None and b.applies(name):
        change = format_change(value, b.kpi(name), unit)
        return Headline(label, shown, f"{change} vs {b.name}", _tone(name, value, b.kpi(name)), note)
    if b is None and name == COST and value is not None:
        ref = f.reference_eur_per_year
        if abs(value - ref) < 0.005 * ref:
            return Headline(label, shown, f"in line with the {_lower_first(f.reference_label)} {format_eur(ref)}", "same", note)
        # the reference figure is what the model is held to, not a rival: no better or worse
        return Headline(label, shown, f"{format_change(value, ref)} vs {_lower_first(f.reference_label)} {format_eur(ref)}", "", note)
    if b is not None:
        return Headline(label, shown, f"does not apply to {b.name}", "", note)
    return Headline(label, shown, "", "", note)


#: Headline KPIs that fill page one up to three figures when too few of a kind's candidates apply.
FILLERS = ("co2_t_per_year", "user_rtt_ms_p95", "energy_mwh_per_year", "stored_pb_total")


def _figures(roles: Roles) -> list[Headline]:
    f, b = roles.focus, roles.baseline

    def shown(name: str) -> bool:
        # a what-if also shows a failure that only the baseline had (it went away)
        return f.applies(name) or (roles.kind == "whatif" and b is not None and b.applies(name)
                                   and f.kpi(name) is not None)

    names = [n for n in HEADLINE_CANDIDATES[roles.kind] if shown(n)]
    names += [n for n in FILLERS if len(names) < 3 and n not in names and shown(n)]
    return [_headline(roles, n) for n in names[:5]]


def _cost_chart(roles: Roles) -> Chart | None:
    runs = [r for r in roles.charted if r.cost_by_category()]
    if not runs:
        return None
    f, b = roles.focus, roles.baseline
    spreads = {}
    for r in runs:
        s = r.spread(COST)
        if s is not None:
            spreads[r.name] = (s.low, s.high)
    ref = f.reference_eur_per_year
    title = f"{f.name} costs {_eur(f)} a year"
    if b is not None and b is not f:
        rel = format_change(f.kpi(COST), b.kpi(COST))
        title += f", {rel} against {b.name}" if rel != "n/a" else ""
    title += f"; {_lower_first(f.reference_label)} {format_eur(ref)}"
    fig = cost_comparison_chart({r.name: r.cost_by_category() for r in runs},
                                baseline=b.name if b is not None else None, spreads=spreads,
                                reference_eur_per_year=ref, reference_label=f.reference_label, title=title)
    alt = (f"Yearly cost per run, stacked by category, with the {_lower_first(f.reference_label)} as a dashed line"
           + ("; whiskers are the ranges" if spreads else ""))
    return Chart(fig, alt, SUMMARY_DPI)


def _location_chart(roles: Roles) -> Chart | None:
    runs = [r for r in roles.charted if r.stored_pb_by_site()]
    if not runs:
        return None
    in_zone: dict[str, bool | None] = {}
    for r in runs:
        for s in r.stored_pb_by_site():
            in_zone.setdefault(s, r.site_in_zone(s))
    f, b = roles.focus, roles.baseline
    zone = f.zone_name
    title = f"{f.name} holds {_share(f)} of residency-bound data in {zone}"
    if b is not None and b is not f:
        title += f"; {b.name} {_share(b)}"
    fig = data_location_chart({r.name: r.stored_pb_by_site() for r in runs}, in_zone,
                              baseline=b.name if b is not None else None,
                              residency={r.name: _residency(r) for r in runs}, zone=zone, title=title)
    return Chart(fig, f"Stored data per run at the end of the run, stacked by site; hatched sites are outside {zone}",
                 SUMMARY_DPI)


def _leaving_chart(roles: Roles) -> Chart | None:
    data = {}
    for r in roles.charted:
        g = r.leaving(by=("kind",))
        if g is not None:
            data[r.name] = {str(k): float(v) for k, v in zip(g["kind"], g["tb_per_year"], strict=True)}
    if not data:
        return None
    f, b = roles.focus, roles.baseline
    total = sum(data.get(f.name, {}).values())
    zone = f.zone_name
    title = (f"{_tb(f)} a year still leaves {zone} under {f.name}" if total > 0
             else f"Nothing leaves {zone} under {f.name}")
    if b is not None and b is not f and b.name in data:
        title += f"; {b.name} {_tb(b)}"
    fig = leaving_zone_chart(data, baseline=b.name if b is not None else None, zone=zone, title=title)
    return Chart(fig, f"Data leaving {zone} per run, TB per year, labelled with what it is", SUMMARY_DPI)


def _residency_chart(roles: Roles) -> Chart | None:
    f = roles.focus
    series = f.residency_series()
    if series is None or series.empty:
        return None
    date99 = f.kpi_text("residency_99_date")
    zone = f.zone_name
    title = (f"99 % of residency-bound data is in {zone} on {date99}" if date99 else
             f"{format_share(float(series.iloc[-1]))} of residency-bound data is in {zone} at the end; 99 % not reached")
    sites = list(f.stored_pb_by_site())
    marks = [m for m in milestones({"resolved_scenario": f.resolved, "kpis": f.kpis}, sites)
             if "99 %" not in m[0]]
    fig = residency_over_time_chart({f.name: series}, milestones=marks, zone=zone, title=title)
    return Chart(fig, f"{f.name}: share of residency-bound data held in {zone} over time", SUMMARY_DPI)


def _cost_by_year_chart(roles: Roles) -> Chart | None:
    f = roles.focus
    by_year = f.first("costs_by_year")
    if by_year is None or "year" not in by_year.columns or by_year.empty:
        return None
    totals = by_year.groupby("year")["eur"].sum()
    peak = int(totals.idxmax())
    title = f"{f.name}: spending peaks in {peak} at {format_eur(float(totals.max()))}"
    fig = cost_by_year_chart(by_year, reference_eur_per_year=f.reference_eur_per_year, title=title,
                             figsize=SUMMARY_FIGSIZE)
    return Chart(fig, f"{f.name}: cost per calendar year by site against the {_lower_first(f.reference_label)}", SUMMARY_DPI)


def _charts(roles: Roles) -> list[Chart]:
    if roles.kind == "timeline":
        makers = [_residency_chart, _cost_by_year_chart,
                  _cost_chart if roles.baseline is not None else _leaving_chart]
    else:
        makers = [_cost_chart, _location_chart, _leaving_chart]
    charts = [c for c in (m(roles) for m in makers) if c is not None]
    return charts[:3]


def _notes(roles: Roles) -> list[str]:
    notes = []
    if roles.baseline is not None:
        others = _join([r.name for r in roles.others])
        notes.append(f"Baseline: {roles.baseline.name} (policy {roles.baseline.policy}); compared with it: {others}. "
                     "Changes are relative, or in percentage points for shares.")
    spread = roles.focus.spread(COST)
    if spread is not None and spread.kind == "assumption":
        sets = f"the {spread.count} input sets" if spread.count else "the input sets"
        notes.append(f"Ranges are the 5th to 95th percentiles over {sets} drawn from the scenario's "
                     "uncertain assumptions; drivers are the inputs that move the figure most.")
    elif spread is not None:
        notes.append("Intervals are 95 % intervals over replications: they cover the model's randomness, "
                     "not what is unknown about its inputs.")
    else:
        notes.append("One replication and no uncertainty run: figures are point values without a range.")
    return notes


def build_summary(roles: Roles, *, question: str | None = None) -> Summary:
    """Page one of the report.

    Args:
        roles: the runs and their roles (:func:`comparison_kind`).
        question: the question to state instead of the one derived from the runs.

    Returns:
        The question, the answer sentence, three to five headline figures, two or three charts
        and the reading notes.
    """
    return Summary(question or question_for(roles), _answer(roles), _figures(roles), _charts(roles), _notes(roles))
