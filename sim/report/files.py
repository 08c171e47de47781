"""Writing a run's results to disk, atomically.

Everything is written into a temporary folder next to the destination and renamed into place
at the end, so an interrupted or failed run never leaves a half-written results folder.

Layout of a results folder (see results/README.md):
    summary.json        scenario, seed, replications, start, end, KPIs (mean and 95 % interval),
                        the resolved scenario
    kpis.csv            the same KPIs as a table
    placement.csv       time, site, data_class, stored_tb (daily, per replication)
    transfers.csv       monthly flows: source, destination, data_class, kind, tb, border flags
    latency.csv         country, site, rtt_ms, share_of_requests
    costs.csv           site, category, eur_per_year (+ the metered quantity behind it)
    costs_by_year.csv   year, site, category, eur, eur_per_year, days
    residency.csv       daily share of EEA-only bytes physically in the EEA
    gateway_requests.parquet  one row per gateway request (first replication): arrival_ms, kind,
                        class, region, wait_ms, service_ms, outcome, size_mb, crossed_mb,
                        destination, data_class (read_gateway_requests gives seconds and GB)
    reviewer_utilisation.csv  gateway reviewer utilisation by hour of day
    *.png               charts
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from sim.report import charts
from sim.report.charts.report import gateway_wait_chart
from sim.report.io import atomic_dir
from sim.results.replication import Results

__all__ = ["write_results", "atomic_dir", "result_charts", "milestones", "write_gateway_requests", "read_gateway_requests"]

_PNG_META = {"Software": None}


_MS_COLUMNS = {"arrival_s": "arrival_ms", "wait_s": "wait_ms", "service_s": "service_ms"}
_MB_COLUMNS = {"size_gb": "size_mb", "crossed_gb": "crossed_mb"}


def write_gateway_requests(requests: pd.DataFrame, path: Path) -> None:
    """Write the per-request gateway table compactly (7 M requests ~ 50 MB).

    Rows are sorted by arrival, times written as integer ms and volumes as integer MB with delta
    encoding, labels dictionary-encoded.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = requests.sort_values("arrival_s", kind="stable")
    out = {}
    for col in df.columns:
        if col in _MS_COLUMNS:
            out[_MS_COLUMNS[col]] = np.round(df[col].to_numpy(dtype=float) * 1000.0).astype(np.int64)
        elif col in _MB_COLUMNS:
            out[_MB_COLUMNS[col]] = np.round(df[col].to_numpy(dtype=float) * 1000.0).astype(np.int64)
        else:
            out[col] = pa.array(df[col].astype(object), from_pandas=True, type=pa.string())
    table = pa.table(out)
    ints = [c for c in table.column_names if c.endswith(("_ms", "_mb"))]
    labels = [c for c in table.column_names if c not in ints]
    pq.write_table(
        table,
        path,
        compression="zstd",
        use_dictionary=labels,
        column_encoding={c: "DELTA_BINARY_PACKED" for c in ints},
    )


def read_gateway_requests(path: Path) -> pd.DataFrame:
    """Read a per-request gateway table back with seconds and GB columns."""
    df = pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path)
    for s_col, ms_col in {**_MS_COLUMNS, **_MB_COLUMNS}.items():
        if ms_col in df.columns:
            df[s_col] = df.pop(ms_col) / 1000.0
    return df


def milestones(summary: Mapping[str, Any], sites: Iterable[str] | None = None) -> list[tuple[str, pd.Timestamp]]:
    """Events worth marking on a time chart: sites online, migration start, 99 % residency.

    Works from a ``summary.json`` document (``Results.summary()`` or a result folder's file), so
    the CLI, the report and the notebooks mark the same days. Events on one day are merged.

    Args:
        summary: with ``resolved_scenario`` and ``kpis``.
        sites: sites to mark (default: every site of the resolved scenario).
    """
    resolved = summary.get("resolved_scenario", {})
    site_table = resolved.get("sites", {})
    out = []
    for s in site_table if sites is None else sites:
        date = site_table.get(s, {}).get("online_date")
        if date:
            out.append((f"{s} online", pd.Timestamp(date)))
    start = resolved.get("network", {}).get("migration_start")
    if start:
        out.append(("migration starts", pd.Timestamp(start)))
    date99 = summary.get("kpis", {}).get("residency_99_date", {}).get("mean")
    if isinstance(date99, str) and date99:
        out.append(("99 % resident in EEA", pd.Timestamp(date99)))
    merged: dict[pd.Timestamp, list[str]] = {}
    for label, when in out:
        merged.setdefault(when, []).append(label)
    return [(", ".join(labels), when) for when, labels in sorted(merged.items())]


def result_charts(results: Results, summary: Mapping[str, Any] | None = None) -> dict[str, Figure]:
    """The standard charts of a run (first replication's tables)."""
    first = results.replications[0].tables
    summary = summary if summary is not None else results.summary()
    ref = results.scenario.costs.reference_eur_per_year
    latency = first["latency"]
    fibre = (
        latency.assign(w=latency["fibre_min_ms"] * latency["share_of_requests"])
        .groupby("country", as_index=False)["w"]
        .sum()
        .rename(columns={"w": "rtt_ms"})
    )
    out = {
        "stored_by_site.png": charts.stored_by_site_chart(
            first["placement"], milestones=milestones(summary, results.scenario.world_sites)
        ),
        "cost_by_site.png": charts.cost_by_site_chart(first["costs"], reference_eur_per_year=ref),
        "rtt_by_country.png": charts.rtt_by_country_chart(latency, fibre_min=fibre),
    }
    requests = first.get("gateway_requests")
    if requests is not None and (requests["kind"] == "access").any():
        gw = results.scenario.gateway
        sla = {c.name: c.sla_s if c.sla_s is not None else gw.sla_s for c in gw.priority_classes}
        out["gateway_wait_cdf.png"] = gateway_wait_chart(requests, sla_s_by_class=sla)
        out["reviewer_utilisation.png"] = charts.reviewer_utilisation_chart(results.table("reviewer_utilisation"))
    return out


def write_results(results: Results, out: Path, *, with_charts: bool = True, with_requests: bool = True) -> Path:
    """Write every file of a run into ``out`` atomically.

    Args:
        results: the run.
        out: destination folder (replaced if it exists).
        with_charts: also render the PNG charts.
        with_requests: also write the per-request gateway table (7 M rows a year for Clover).

    Returns:
        The destination folder.
    """

    def fill(tmp: Path) -> None:
        summary = results.summary()
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        results.kpi_summary().to_csv(tmp / "kpis.csv", index=False)
        for name in ("placement", "transfers", "latency", "costs", "costs_by_year", "residency", "reviewer_utilisation"):
            if name in results.replications[0].tables:
                results.table(name).to_csv(tmp / f"{name}.csv", index=False)
        if with_requests and "gateway_requests" in results.replications[0].tables:
            # one row per request (millions a year): the first replication, as Parquet
            write_gateway_requests(results.replications[0].tables["gateway_requests"], tmp / "gateway_requests.parquet")
        if with_charts:
            for filename, fig in result_charts(results, summary).items():
                fig.savefig(tmp / filename, dpi=110, metadata=_PNG_META)

    return atomic_dir(out, fill)
