"""The assumptions table: every figure of a run's resolved scenario, its value, basis and source.

Each figure is a dotted key of the resolved scenario. Its documentation is the comment the
scenario files give it (the file chain is found under ``scenarios/`` by the scenario's name and
its ``extends`` links) or, for ``sites.<id>.<field>``, the matching clause of the reference table's
``source`` column, or the reference facts that filled it in, or the scenario model's field
description. :func:`classify_source` labels a row "source" only if its text carries a P, S or D
marker or a citation; "assumption" if it says so, "assumption (not documented)" if nothing
documents it. Values that differ from the scenario file (``--set`` overrides) are labelled as set
at run time.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim import reference
from sim.report.format import format_setting
from sim.scenario import ScenarioError
from sim.scenario.load import extends_target, read_toml_file, scenario_roots

__all__ = ["classify_source", "parse_toml_comments", "flatten", "assumptions_table", "input_label", "range_text"]

_MARKER = re.compile(r"(?:^|[\s(/,;])(?:P|S|D)(?=[\s:)/,;]|$)")
_CITATION = re.compile(r"https?://|\bdoi\b|\bet al\b|\([A-Z][A-Za-z&. ]+,? (?:19|20)\d\d\)", re.IGNORECASE)
_ASSUMED = re.compile(r"assum|unverified", re.IGNORECASE)


def classify_source(comment: str | None) -> str:
    """Label a figure by the text that documents it.

    Args:
        comment: the scenario-file comment or reference-table clause (None if there is none).

    Returns:
        "source" (P / S / D marker or a citation, no assumption), "assumption (partly sourced)"
        (markers and an assumption), "assumption" (says ASSUMPTION), "assumption (comment cites no
        source)" (a comment without markers) or "assumption (not documented)" (no text).
    """
    if not comment or not comment.strip():
        return "assumption (not documented)"
    sourced = bool(_MARKER.search(comment) or _CITATION.search(comment))
    assumed = bool(_ASSUMED.search(comment))
    if sourced and assumed:
        return "assumption (partly sourced)"
    if assumed:
        return "assumption"
    if sourced:
        return "source"
    return "assumption (comment cites no source)"


def _split_comment(line: str) -> tuple[str, str]:
    """Split a TOML line into code and comment, respecting quoted strings."""
    quote = ""
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i], line[i + 1:].strip()
        i += 1
    return line, ""


def _depth(code: str) -> int:
    depth, quote = 0, ""
    for ch in code:
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
    return depth


def _split_key(text: str) -> list[str]:
    parts, cur, quote = [], "", ""
    for ch in text.strip():
        if quote:
            if ch == quote:
                quote = ""
            else:
                cur += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    parts.append(cur.strip())
    return [p for p in parts if p != ""]


def parse_toml_comments(text: str) -> dict[str, str]:
    """Map each assigned dotted key of a TOML document to its trailing comment.

    Tables (``[a.b]``) and arrays of tables (``[[a.b]]``, indexed ``a.b.0``, ``a.b.1`` ...) set the
    key prefix; multi-line arrays collect the comments of all their lines. Comment-only lines are
    ignored (they describe the file or a table, not one figure).

    Args:
        text: the TOML source.

    Returns:
        ``{"population.mau": "P: ...", ...}`` for keys that have a comment.
    """
    comments: dict[str, str] = {}
    prefix: list[str] = []
    arrays: dict[str, int] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        code, comment = _split_comment(lines[i])
        stripped = code.strip()
        i += 1
        if not stripped:
            continue
        if stripped.startswith("[["):
            path = _split_key(stripped[2:stripped.find("]]")])
            key = ".".join(path)
            arrays[key] = arrays.get(key, -1) + 1
            prefix = [*_with_indices(path[:-1], arrays), path[-1], str(arrays[key])]
            continue
        if stripped.startswith("["):
            prefix = _with_indices(_split_key(stripped[1:stripped.find("]")]), arrays)
            continue
        if "=" not in stripped:
            continue
        key_text, _, value = stripped.partition("=")
        parts = [comment] if comment else []
        depth = _depth(value)
        while depth > 0 and i < len(lines):
            code2, comment2 = _split_comment(lines[i])
            i += 1
            depth += _depth(code2)
            if comment2:
                parts.append(comment2)
        if parts:
            comments[".".join([*prefix, *_split_key(key_text)])] = " ".join(parts)
    return comments


def _with_indices(path: list[str], arrays: Mapping[str, int]) -> list[str]:
    """Insert the current index after each prefix of ``path`` that is an array of tables."""
    out: list[str] = []
    for k in range(len(path)):
        out.append(path[k])
        key = ".".join(path[: k + 1])
        if key in arrays:
            out.append(str(arrays[key]))
    return out


@dataclass(frozen=True)
class _ScenarioFile:
    path: Path
    data: dict[str, Any]
    comments: dict[str, str]
    parent: Path | None


_MISSING = object()


def _read_scenario_file(path: Path) -> _ScenarioFile | None:
    """A scenario file read as the loader reads it (regular file, size, nesting, confined ``extends``), or None."""
    try:
        text, data = read_toml_file(path)
        parent = data.pop("extends", None)
        parent_path = extends_target(path.resolve(), parent, scenario_roots(path), str(path)) if parent is not None else None
    except ScenarioError:
        return None
    return _ScenarioFile(path.resolve(), data, parse_toml_comments(text), parent_path)


def _chain(path: Path, cache: dict[Path, _ScenarioFile | None]) -> list[_ScenarioFile]:
    """The file and the files it extends, most specific first."""
    out: list[_ScenarioFile] = []
    seen: set[Path] = set()
    current: Path | None = path.resolve()
    while current is not None and current not in seen:
        seen.add(current)
        if current not in cache:
            cache[current] = _read_scenario_file(current) if current.is_file() else None
        f = cache[current]
        if f is None:
            break
        out.append(f)
        current = f.parent
    return out


def _get(data: Any, keys: Sequence[str]) -> Any:
    for k in keys:
        if isinstance(data, dict) and k in data:
            data = data[k]
        elif isinstance(data, list) and k.isdigit() and int(k) < len(data):
            data = data[int(k)]
        else:
            return _MISSING
    return data


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (dt.date, dt.datetime, dt.time)):
        return a.isoformat() == str(b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts (and lists of dicts, by index) to dotted keys; other lists stay values."""
    out: dict[str, Any] = {}
    if isinstance(obj, dict) and obj:
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
        for i, v in enumerate(obj):
            out.update(flatten(v, f"{prefix}.{i}"))
    else:
        out[prefix] = obj
    return out


def _find_chain(name: str, resolved_flat: Mapping[str, Any], scenario_dir: Path) -> list[_ScenarioFile]:
    """The scenario file chain whose name matches and whose values agree best with the run."""
    if not scenario_dir.is_dir():
        return []
    cache: dict[Path, _ScenarioFile | None] = {}
    best: tuple[int, int, str] | None = None
    best_chain: list[_ScenarioFile] = []
    for path in sorted(scenario_dir.rglob("*.toml")):
        chain = _chain(path, cache)
        if not chain:
            continue
        file_name = next((f.data.get("name") for f in chain if "name" in f.data), None)
        if file_name != name:
            continue
        score = sum(1 for key, value in resolved_flat.items()
                    if any((v := _get(f.data, key.split("."))) is not _MISSING and _same(v, value) for f in chain))
        rank = (score, int("name" in chain[0].data), str(path))
        if best is None or rank[:2] > best[:2]:
            best, best_chain = rank, chain
    return best_chain


def _comment_for(f: _ScenarioFile, key: str) -> str | None:
    parts = key.split(".")
    for n in range(len(parts), 0, -1):
        c = f.comments.get(".".join(parts[:n]))
        if c:
            return c
    return None


_SITE_FIELD_WORDS: dict[str, tuple[str, ...]] = {
    "pue": ("pue",),
    "energy_price_eur_per_kwh": ("price",),
    "grid_gco2_per_kwh": ("carbon",),
    "online_date": ("online", "live", "date", "target"),
    "it_mw_contracted": ("mw",),
    "it_mw_campus": ("campus",),
    "operator": ("operator",),
}


def _site_source(site: str, fieldname: str, value: Any) -> tuple[str, str] | None:
    """(basis, source) from the reference table's source column for one field of a site."""
    record = reference.site_records().get(site)
    if record is None or fieldname not in record or not _same(record[fieldname], value):
        return None
    text = str(record.get("source", ""))
    words = _SITE_FIELD_WORDS.get(fieldname)
    if words:
        clauses = [c.strip() for c in text.split(";") if any(w in c.lower() for w in words)]
        if clauses:
            clause = "; ".join(clauses)
            return classify_source(clause), f"sim/data/sites.csv ({site}): {clause}"
    return ("assumption (not documented)",
            f"sim/data/sites.csv ({site}) gives the value; its source column does not document this field")


def _model_description(keys: Sequence[str]) -> str | None:
    """The pydantic Field description of a dotted key of the Scenario model, if any."""
    from pydantic import BaseModel

    from sim.scenario import Scenario

    annotation: Any = Scenario
    description = None
    for k in keys:
        annotation = _unwrap(annotation)
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(k)
            if info is None:
                return None
            description = info.description
            annotation = info.annotation
        elif origin in (list, tuple):
            args = typing.get_args(annotation)
            annotation = args[0] if args else Any
        elif origin is dict:
            args = typing.get_args(annotation)
            annotation = args[1] if len(args) > 1 else Any
        else:
            return description
    return description


#: Words of a dotted key written out when a field has no description (``core_s_per_request``).
_KEY_WORDS = {"s": "seconds", "ms": "ms", "eur": "EUR", "pb": "PB", "tb": "TB", "gb": "GB", "mw": "MW",
              "kw": "kW", "kwh": "kWh", "w": "W", "fte": "FTE", "gco2": "g CO2", "mau": "MAU", "dau": "DAU",
              "it": "IT", "pue": "PUE", "sla": "SLA", "rtt": "round trip", "gbps": "Gbit/s", "p95": "p95"}


def input_label(key: str) -> str:
    """A reader's name for an input of a scenario, from its dotted key.

    The scenario model's field description up to its first comma or parenthesis ("server life"
    for ``compute.server_amortisation_years``), with the table entry it belongs to
    (``sites.dublin.pue`` -> "... (dublin)"); a field without a description is its key written out
    ("core seconds per request").

    Args:
        key: a dotted key of the resolved scenario, e.g. ``compute.core_s_per_request``.

    Returns:
        The label.
    """
    keys = [k for k in str(key).split(".") if k]
    if not keys:
        return str(key)
    description = _model_description(keys) if len(keys) > 1 else None
    field_info_owner = _model_description(keys[:-1]) if len(keys) > 2 else None
    entry = keys[1] if len(keys) == 3 and keys[0] in ("sites", "data_classes") else None
    if description and description != field_info_owner:
        text = re.split(r"[,;(]", description, maxsplit=1)[0].strip()
    else:
        text = " ".join(_KEY_WORDS.get(w, w) for w in keys[-1].split("_"))
    if entry:
        text = f"{text} ({entry})"
    return text or str(key)


def _unwrap(annotation: Any) -> Any:
    """Strip Optional / Annotated wrappers."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _reference_default(key: str, value: Any, resolved: Mapping[str, Any]) -> tuple[str, str] | None:
    """Figures filled in from sim.reference rather than the scenario files."""
    if key == "costs.reference_eur_per_year" and _same(value, reference.CLOVER_COST_EUR_PER_YEAR):
        text = "P/S: published Project Clover yearly cost, announcement 2023-03-08 (sim.reference)"
        return classify_source(text), text
    if key == "population.countries" and isinstance(value, list) and tuple(value) == reference.european_codes():
        text = ("P: the published user base is EEA + UK + CH; the 32 European countries of "
                "sim/reference/data/world_countries.csv")
        return classify_source(text), text
    return None


_SKIP = ("name", "description")


def assumptions_table(
    resolved: Mapping[str, Any],
    *,
    scenario_dir: str | Path = "scenarios",
    name: str | None = None,
) -> tuple[pd.DataFrame, str]:
    """Every figure of a resolved scenario with its value, basis and source text.

    Args:
        resolved: the ``resolved_scenario`` of a summary.
        scenario_dir: folder searched (recursively) for the scenario file of this name and its
            ``extends`` chain.
        name: scenario name to look for (default ``resolved["name"]``).

    Returns:
        (table with columns key, value, basis, source, range (the distribution the scenario's
        ``[uncertainty]`` gives the figure, or ""); a note about the file lookup, "" if the
        scenario file was found). The ``[uncertainty]`` table itself is shown in the range
        column of the figures it describes, not as rows of its own.
    """
    flat = {k: v for k, v in flatten(dict(resolved)).items()
            if k not in _SKIP and not (k.startswith("sites.") and k.endswith(".source"))
            and not k.startswith("uncertainty.") and not (isinstance(v, Mapping) and not v)}  # an empty table sets nothing
    uncertain = resolved.get("uncertainty", {})
    inputs = uncertain.get("inputs", {}) if isinstance(uncertain, Mapping) else {}
    name = name or str(resolved.get("name", ""))
    chain = _find_chain(name, flat, Path(scenario_dir))
    note = ""
    if chain:
        shown = " -> ".join(_rel(f.path) for f in chain)
    else:
        shown = ""
        note = (f"no scenario file named {name!r} under {scenario_dir}/: comments are unavailable, so only "
                "reference tables document figures")
    rows = []
    for key, value in flat.items():
        basis, source = _document(key, value, chain, resolved)
        rows.append((key, format_setting(value), basis, source, range_text(inputs.get(key))))
    df = pd.DataFrame(rows, columns=["key", "value", "basis", "source", "range"])
    if shown:
        note = ""
        df.attrs["chain"] = shown
    return df, note


def range_text(spec: Any) -> str:
    """The distribution of an uncertain input as a reader's phrase: "triangular: low 3, mode 5, high 6".

    Args:
        spec: one entry of the scenario's ``[uncertainty] inputs`` (``dist`` and its parameters,
            optionally ``source``), or None.

    Returns:
        The phrase with the range's source, or "" when the input has no distribution.
    """
    if not isinstance(spec, Mapping):
        return ""
    params = ", ".join(f"{k} {format_setting(v)}" for k, v in spec.items()
                       if k not in ("dist", "source") and v is not None)
    text = f"{spec.get('dist', 'distribution')}: {params}" if params else str(spec.get("dist", ""))
    source = spec.get("source")
    return f"{text} ({source})" if source else text


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _document(key: str, value: Any, chain: Sequence[_ScenarioFile], resolved: Mapping[str, Any]) -> tuple[str, str]:
    keys = key.split(".")
    winner = None
    for f in chain:
        v = _get(f.data, keys)
        if v is _MISSING:
            continue
        if winner is None:
            winner = (f, v)
            if not _same(v, value):
                comment = _comment_for(f, key)
                extra = f"; the file's comment: {comment}" if comment else ""
                return ("assumption (set at run time)",
                        f"{_rel(f.path)} has {format_setting(v)}, the run used {format_setting(value)} (--set){extra}")
        if _same(v, value):
            comment = _comment_for(f, key)
            if comment:
                return classify_source(comment), f"{_rel(f.path)}: {comment}"
    if winner is not None:
        return "assumption (not documented)", f"set in {_rel(winner[0].path)} without a comment"
    if keys[0] == "sites" and len(keys) == 3:
        found = _site_source(keys[1], keys[2], value)
        if found:
            return found
    found = _reference_default(key, value, resolved)
    if found:
        return found
    desc = _model_description(keys)
    if desc and _ASSUMED.search(desc):
        return "assumption", f"model default: {desc}"
    if desc:
        return "assumption (not documented)", f"model default ({desc}); no source given"
    return "assumption (not documented)", "model default; no source given"

