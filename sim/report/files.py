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
    residency.csv       daily share of residency-bound bytes stored inside their zone
    gateway_waits.csv   quantiles of the access-request waits per class (the wait chart's data)
    gateway_requests.parquet  only with --requests: one row per gateway request (first
                        replication, request order): arrival_ms, kind, class, region, wait_ms,
                        service_ms, outcome, size_mb, crossed_mb, destination, data_class
                        (read_gateway_requests gives seconds and GB); written while the run goes
                        on (GatewayRequestsWriter), never held whole
    reviewer_utilisation.csv  gateway reviewer utilisation by hour of day
    *.png               charts
    with --uncertainty N: assumption ranges and drivers in summary.json, drivers.csv,
                        uncertainty_runs.csv, tornado_<KPI>.png (sim.report.uncertainty_files)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from matplotlib.figure import Figure

from sim.report import charts
from sim.report.format import format_eur
from sim.report.io import atomic_dir, dumps_json
from sim.report.render import ChartJob
from sim.results.replication import Results

if TYPE_CHECKING:
    from sim.experiments.uncertainty import Propagation
    from sim.meters.gateway import GatewayRows

__all__ = [
    "GatewayRequestsWriter",
    "atomic_dir",
    "milestones",
    "read_gateway_requests",
    "result_chart_builders",
    "result_charts",
    "write_gateway_requests",
    "write_results",
]

_PNG_META = {"Software": None}


_MS_COLUMNS = {"arrival_s": "arrival_ms", "wait_s": "wait_ms", "service_s": "service_ms"}
_MB_COLUMNS = {"size_gb": "size_mb", "crossed_gb": "crossed_mb"}
#: Columns of the per-request table, in file order, with the ``GatewayRows`` field and the labels.
_REQUEST_COLUMNS = ("arrival_ms", "kind", "class", "region", "wait_ms", "service_ms", "outcome", "size_mb",
                    "crossed_mb", "destination", "data_class")


class GatewayRequestsWriter:
    """Writes the per-request gateway table while the run goes on (a ``RequestSink``).

    Blocks of simulated requests (:class:`sim.meters.gateway.GatewayRows`, request order) are
    gathered into row groups of about :attr:`ROW_GROUP` rows and appended to a Parquet file:
    times as integer ms and volumes as integer MB (delta encoded), labels dictionary-encoded
    straight from the integer codes (no Python object per row), zstd. The file is written to
    ``path``; :func:`write_results` moves it into the results folder.

    Args:
        path: the file to write (a temporary sibling of the results folder, see :meth:`next_to`).
        announce: called once with a line announcing the table's size, before anything is written.
    """

    #: Rows per Parquet row group.
    ROW_GROUP = 1 << 18
    #: Bytes per request on disk, measured on the Clover year (for the announcement).
    BYTES_PER_REQUEST = 8.0

    def __init__(self, path: Path, announce: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self.announce = announce
        self.rows = 0
        self._pending: list[Any] = []
        self._pending_rows = 0
        self._writer: Any = None

    @classmethod
    def next_to(cls, out: Path, announce: Callable[[str], None] | None = None) -> GatewayRequestsWriter:
        """A writer into a hidden temporary file next to the results folder ``out``."""
        import tempfile

        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{out.name}.requests-", suffix=".parquet", dir=out.parent)
        os.close(fd)
        return cls(Path(name), announce)

    def start(self, requests: int) -> None:
        """Announce the table: ``requests`` rows at most, and about how many MB."""
        if self.announce is not None:
            size_mb = requests * self.BYTES_PER_REQUEST / 1e6
            self.announce(f"gateway_requests.parquet: up to {requests:,} requests, about {size_mb:,.0f} MB "
                          "(written while the run goes on)")

    def write(self, rows: GatewayRows) -> None:
        """Take a block of simulated requests (kept as integer columns until a row group is full)."""
        self._pending.append(_request_columns(rows))
        self._pending_rows += len(rows)
        if self._pending_rows >= self.ROW_GROUP:
            self._flush()

    def close(self) -> Path | None:
        """Write what is left and close the file; its path, or None if no request came."""
        self._flush()
        if self._writer is None:
            return None
        self._writer.close()
        self._writer = None
        return self.path

    def discard(self) -> None:
        """Close and delete the file (after a failed run, or once it has been moved)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self.path.unlink(missing_ok=True)

    def _flush(self) -> None:
        if not self._pending:
            return
        import pyarrow.parquet as pq

        table = _requests_table(self._pending)
        self._pending, self._pending_rows = [], 0
        if self._writer is None:
            self._writer = pq.ParquetWriter(
                self.path, table.schema, compression="zstd",
                use_dictionary=[c for c in _REQUEST_COLUMNS if not c.endswith(("_ms", "_mb"))],
                column_encoding={c: "DELTA_BINARY_PACKED" for c in _REQUEST_COLUMNS if c.endswith(("_ms", "_mb"))})
        self._writer.write_table(table, row_group_size=len(table))
        self.rows += len(table)


def _request_columns(rows: GatewayRows) -> dict[str, Any]:
    """The per-request columns of a block as new integer arrays (times in ms, volumes in MB, codes)."""
    import numpy as np

    from sim.meters.gateway import KIND_NAMES, OUTCOME_NAMES

    def per_thousand(values: np.ndarray) -> np.ndarray:
        return np.round(values * 1000.0).astype(np.int64)

    return {
        "arrival_ms": per_thousand(rows.arrival_s),
        "kind": (rows.kind.astype(np.int32), KIND_NAMES),
        "class": (rows.priority.astype(np.int32), rows.class_names),
        "region": (rows.region.astype(np.int32), rows.region_names),
        "wait_ms": per_thousand(rows.wait_s),
        "service_ms": per_thousand(rows.service_s),
        "outcome": (rows.outcome.astype(np.int32), OUTCOME_NAMES),
        "size_mb": per_thousand(rows.size_gb),
        "crossed_mb": per_thousand(rows.crossed_gb),
        "destination": (rows.destination.astype(np.int32), rows.destination_names),
        "data_class": (rows.data_class.astype(np.int32), rows.data_class_names),
    }


def _requests_table(blocks: list[dict[str, Any]]) -> Any:
    """An Arrow table from blocks of :func:`_request_columns` (codes -> dictionary-encoded labels)."""
    import numpy as np
    import pyarrow as pa

    columns = {}
    for name in _REQUEST_COLUMNS:
        if isinstance(blocks[0][name], tuple):
            codes = np.concatenate([b[name][0] for b in blocks])
            labels = pa.array(list(blocks[0][name][1]), type=pa.string())
            columns[name] = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0), labels)
        else:
            columns[name] = np.concatenate([b[name] for b in blocks])
    return pa.table(columns)


def write_gateway_requests(rows: Iterable[GatewayRows], path: Path) -> Path | None:
    """Write blocks of gateway requests (e.g. a whole run's) as the per-request table at ``path``.

    Returns:
        ``path``, or None if there was no request (nothing written).
    """
    writer = GatewayRequestsWriter(Path(path))
    for block in rows:
        writer.write(block)
    return writer.close()


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
        out.append(("99 % in its zone", pd.Timestamp(date99)))
    merged: dict[pd.Timestamp, list[str]] = {}
    for label, when in out:
        merged.setdefault(when, []).append(label)
    return [(", ".join(labels), when) for when, labels in sorted(merged.items())]


def result_chart_builders(results: Results, summary: Mapping[str, Any] | None = None) -> dict[str, Callable[[], Figure]]:
    """The standard charts of a run (first replication's tables): file name -> function building it.

    Each figure is built only when its function is called, so the charts can be drawn by
    different processes (:mod:`sim.report.render`).
    """
    first = results.replications[0].tables
    summary = summary if summary is not None else results.summary()
    ref = results.scenario.costs.reference_eur_per_year
    latency = first["latency"]

    def rtt() -> Figure:
        fibre = (
            latency.assign(w=latency["fibre_min_ms"] * latency["share_of_requests"])
            .groupby("country", as_index=False)["w"]
            .sum()
            .rename(columns={"w": "rtt_ms"})
        )
        return charts.rtt_by_country_chart(latency, fibre_min=fibre)

    out: dict[str, Callable[[], Figure]] = {
        "stored_by_site.png": lambda: charts.stored_by_site_chart(
            first["placement"], milestones=milestones(summary, results.scenario.world_sites)
        ),
        "cost_by_site.png": lambda: charts.cost_by_site_chart(
            first["costs"], reference_eur_per_year=ref,
            reference_label=f"{results.scenario.costs.reference_label} {format_eur(ref)}/yr"),
        "rtt_by_country.png": rtt,
    }
    waits = first.get("gateway_waits")
    if waits is not None and len(waits):
        out["gateway_wait_cdf.png"] = lambda: charts.gateway_wait_quantile_chart(waits)
        out["reviewer_utilisation.png"] = lambda: charts.reviewer_utilisation_chart(
            results.table("reviewer_utilisation"))
    return out


def result_charts(results: Results, summary: Mapping[str, Any] | None = None) -> dict[str, Figure]:
    """The standard charts of a run (first replication's tables), built."""
    return {name: build() for name, build in result_chart_builders(results, summary).items()}


def write_results(
    results: Results,
    out: Path,
    *,
    with_charts: bool = True,
    gateway_requests: Path | None = None,
    uncertainty: Propagation | None = None,
) -> Path:
    """Write every file of a run into ``out`` atomically.

    Args:
        results: the run.
        out: destination folder (replaced if it exists).
        with_charts: also render the PNG charts.
        gateway_requests: the per-request table written while the run went on
            (:class:`GatewayRequestsWriter`), moved into the folder as
            ``gateway_requests.parquet``; None: no such table.
        uncertainty: the run's input sets (``--uncertainty N``): assumption ranges and drivers
            in ``summary.json``, ``drivers.csv``, ``uncertainty_runs.csv`` and tornado charts
            (:mod:`sim.report.uncertainty_files`).

    Returns:
        The destination folder.
    """

    def fill(tmp: Path) -> None:
        summary = results.summary()
        if uncertainty is not None:
            from sim.report.uncertainty_files import add_uncertainty

            summary = add_uncertainty(summary, uncertainty)
        # the charts start first: where the platform can fork, a child draws part of them meanwhile
        job = ChartJob(result_chart_builders(results, summary), tmp, dpi=110, metadata=_PNG_META) \
            if with_charts else None
        try:
            tables(tmp, summary)
        except BaseException:
            if job is not None:
                job.cancel()
            raise
        if job is not None:
            job.finish()

    def tables(tmp: Path, summary: dict[str, Any]) -> None:
        if uncertainty is not None:
            from sim.report.uncertainty_files import write_uncertainty_files

            central = {k: v["mean"] for k, v in summary["kpis"].items()}
            write_uncertainty_files(uncertainty, tmp, central=central, with_charts=with_charts)
        (tmp / "summary.json").write_text(dumps_json(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")  # strict JSON
        results.kpi_summary().to_csv(tmp / "kpis.csv", index=False)
        for name in ("placement", "transfers", "latency", "costs", "costs_by_year", "residency", "reviewer_utilisation",
                     "gateway_waits"):
            if name in results.replications[0].tables:
                results.table(name).to_csv(tmp / f"{name}.csv", index=False)
        if gateway_requests is not None:  # one row per request, written while the run went on
            os.replace(gateway_requests, tmp / "gateway_requests.parquet")

    return atomic_dir(out, fill)
