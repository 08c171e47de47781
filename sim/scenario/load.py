"""Scenario files: TOML in, a validated and fully resolved :class:`~sim.scenario.schema.Scenario` out.

A scenario file may ``extends = "other.toml"`` (a path relative to the file); tables are merged
key by key, the extending file winning. ``--set dotted.key=value`` overrides are parsed as TOML
values and validated exactly like the file. Site records start from the bundled reference table
(:mod:`sim.reference`) and any figure can be overridden in ``[sites.<id>]``.

Every problem is raised as :class:`ScenarioError` naming the file, the field and what is wrong,
so the CLI can print it on one line.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import sys
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim import reference
from sim.scenario.schema import Scenario
from sim.scenario.uncertainty import DISTRIBUTIONS as UNCERTAINTY_DISTRIBUTIONS
from sim.scenario.uncertainty import support_points as uncertainty_support_points
from sim.scenario.zones import default_zones

__all__ = [
    "ScenarioError",
    "load_scenario",
    "read_scenario_data",
    "scenario_from_dict",
    "parse_override",
    "scenario_data",
    "scenario_with",
    "check_uncertainty",
    "integer_inputs",
    "input_value",
    "scenario_roots",
    "read_toml_file",
    "parse_toml",
    "extends_target",
]


class ScenarioError(ValueError):
    """Bad scenario input: which file, which field, what is wrong.

    Attributes:
        file: the scenario file (or ``--set``) the problem is in.
        field: dotted path of the field, or "" when the file as a whole is wrong.
        problem: what is wrong, and where possible what to do.
    """

    def __init__(self, file: str, field: str, problem: str) -> None:
        problem = " ".join(str(problem).split())  # always one line
        self.file = file
        self.field = field
        self.problem = problem
        where = f"{file}: {field}: " if field else f"{file}: "
        super().__init__(where + problem)


#: Largest scenario file read, in bytes (a scenario is a few kB; anything larger is not one).
MAX_FILE_BYTES = 4 * 1024 * 1024
#: Deepest nesting of tables and arrays a scenario file may have (the schema needs 6).
MAX_DEPTH = 32
#: Environment variable with extra folders (``os.pathsep``-separated) ``extends`` may read from.
ROOTS_ENV = "CLOVER_SIM_SCENARIO_PATH"


def scenario_roots(path: str | Path) -> tuple[Path, ...]:
    """The folders an ``extends`` chain that starts at ``path`` may read from.

    ``extends`` is confined to (1) the folder of the scenario file given and everything under
    it; (2) the nearest enclosing folder named ``scenarios`` (so ``scenarios/sweeps/x.toml`` may
    extend ``../clover.toml``); (3) the ``scenarios/`` folder shipped with this source tree; and
    (4) every folder listed in ``$CLOVER_SIM_SCENARIO_PATH``. Symbolic links are resolved first,
    so a link cannot lead out of them.

    Args:
        path: the scenario file named on the command line (or passed to :func:`load_scenario`).
    """
    folder = Path(path).resolve().parent
    roots = [folder]
    for above in (folder, *folder.parents):
        if above.name == "scenarios":
            roots.append(above)
            break
    shipped = Path(__file__).resolve().parents[2] / "scenarios"
    if shipped.is_dir():
        roots.append(shipped)
    roots += [Path(p).expanduser().resolve() for p in os.environ.get(ROOTS_ENV, "").split(os.pathsep) if p]
    return tuple(dict.fromkeys(roots))


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def _read_text(path: Path, shown: str) -> str:
    """The text of a regular file of at most :data:`MAX_FILE_BYTES` (never blocks on a pipe)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ScenarioError(shown, "", "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(shown, "", "is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioError(shown, "", f"cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError(shown, "", "is a directory, not a scenario file")
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(shown, "", "is not a regular file (a pipe, device or socket); give a scenario file")
        if info.st_size > MAX_FILE_BYTES:
            raise ScenarioError(shown, "", f"is {info.st_size / 2**20:.0f} MB, larger than any scenario file (at most 4 MB)")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 16):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise ScenarioError(shown, "", "is larger than any scenario file (at most 4 MB)")
    except OSError as exc:
        raise ScenarioError(shown, "", f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioError(shown, "", "is not UTF-8 text, so not a scenario file") from None


def _check_depth(data: Any, shown: str, field: str = "") -> None:
    """Refuse tables and arrays nested deeper than :data:`MAX_DEPTH` (no scenario needs that)."""
    stack = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ScenarioError(shown, field, f"tables or arrays are nested more than {MAX_DEPTH} levels deep; no scenario needs that")
        if isinstance(node, dict):
            stack += [(v, depth + 1) for v in node.values()]
        elif isinstance(node, list):
            stack += [(v, depth + 1) for v in node]


def parse_toml(text: str, shown: str) -> dict[str, Any]:
    """Parse scenario TOML text, refusing syntax errors and absurd nesting with a :class:`ScenarioError`.

    The message gives the position of a syntax error, never the content of the file.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(shown, "", f"TOML syntax error: {exc}") from None
    except RecursionError:
        raise ScenarioError(shown, "", f"tables or arrays are nested more than {MAX_DEPTH} levels deep; no scenario needs that") from None
    _check_depth(data, shown)
    return data


def read_toml_file(path: str | Path, shown: str | None = None) -> tuple[str, dict[str, Any]]:
    """Text and parsed data of one scenario file, read safely (regular file, size, nesting).

    Args:
        path: the file.
        shown: how the file is named in errors (default: ``path``).

    Returns:
        (text, data); ``extends`` is left in the data.

    Raises:
        ScenarioError: the file is missing, not a regular file, too large, not UTF-8 or not TOML.
    """
    shown = shown or str(path)
    text = _read_text(Path(path), shown)
    return text, parse_toml(text, shown)


def extends_target(path: Path, parent: Any, roots: tuple[Path, ...], shown: str) -> Path:
    """The file that ``extends = parent`` in ``path`` names, checked against the allowed roots.

    Raises:
        ScenarioError: not a string, not a ``.toml`` file, outside :func:`scenario_roots`, or missing.
    """
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(shown, "extends", "must be a file name (string) relative to this file")
    target = (path.parent / parent).resolve()
    if target.suffix != ".toml":
        raise ScenarioError(shown, "extends", f"{parent!r} is not a scenario file (.toml)")
    if not _inside(target, roots):
        allowed = ", ".join(str(r) for r in roots)
        raise ScenarioError(
            shown, "extends", f"{parent!r} lies outside the scenario folders ({allowed}); "
            f"copy it next to this file or add its folder to {ROOTS_ENV}"
        )
    if not target.exists():
        raise ScenarioError(shown, "extends", f"file {parent!r} not found next to this file")
    return target



def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Merge ``top`` over ``base`` key by key.

    A table with numbered keys over a list patches those items (``[gateway.regions.1]`` changes
    the second region), as ``--set`` does. A table that names its ``dist`` replaces the one below
    it rather than patching it: a uniform over a triangular must not keep the triangular's mode.
    """
    out = dict(base)
    for key, value in top.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict) and "dist" in value:
            out[key] = dict(value)
        elif isinstance(value, dict) and isinstance(current, dict):
            out[key] = _deep_merge(current, value)
        elif isinstance(value, dict) and isinstance(current, list) and value and all(k.isdigit() for k in value):
            items = list(current)
            for index, patch in value.items():
                i = int(index)
                if i >= len(items):
                    raise ScenarioError("", key, f"item {i} does not exist: the list has {len(items)} items")
                both_tables = isinstance(patch, dict) and isinstance(items[i], dict)
                items[i] = _deep_merge(items[i], patch) if both_tables else patch
            out[key] = items
        else:
            out[key] = value
    return out


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (``Model`` or ``Model | None``), else None."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _numbered(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and all(isinstance(k, str) and k.isdigit() for k in value)


def _with_default_lists(data: dict[str, Any], model: type[BaseModel], file: str, where: str) -> dict[str, Any]:
    """``data`` with numbered items applied to the model's default list where no file gives the list.

    ``--set gateway.priority_classes.0.share=0.1`` (or ``[gateway.priority_classes.0]`` in a file)
    patches the first of the default priority classes when the scenario's files give none. Tables
    along the way are copied, never changed in place.
    """
    out = dict(data)
    for name, field in model.model_fields.items():
        value = out.get(name)
        if not isinstance(value, dict | list):
            continue
        path = f"{where}{name}"
        ann = field.annotation
        inner = typing.get_args(ann)
        if typing.get_origin(ann) is list and _numbered(value):
            default = field.get_default(call_default_factory=True)
            if not isinstance(default, list):
                continue
            items = [x.model_dump() if isinstance(x, BaseModel) else x for x in default]
            try:
                out[name] = _deep_merge({name: items}, {name: value})[name]
            except ScenarioError as exc:
                raise ScenarioError(file, path, exc.problem) from None
            value = out[name]
        sub = _model_in(ann)
        if sub is not None and isinstance(value, dict):
            out[name] = _with_default_lists(value, sub, file, f"{path}.")
        elif typing.get_origin(ann) is dict and isinstance(value, dict) and len(inner) == 2 and _model_in(inner[1]):
            item_model = _model_in(inner[1])
            out[name] = {
                k: _with_default_lists(v, item_model, file, f"{path}.{k}.") if isinstance(v, dict) else v  # type: ignore[arg-type]
                for k, v in value.items()
            }
        elif typing.get_origin(ann) is list and isinstance(value, list) and inner and _model_in(inner[0]):
            item_model = _model_in(inner[0])
            out[name] = [
                _with_default_lists(v, item_model, file, f"{path}.{i}.") if isinstance(v, dict) else v  # type: ignore[arg-type]
                for i, v in enumerate(value)
            ]
    return out


def _read_toml(
    path: Path, chain: tuple[Path, ...], shown: str | None = None, roots: tuple[Path, ...] | None = None
) -> dict[str, Any]:
    shown = shown or str(path)
    roots = roots if roots is not None else scenario_roots(path)
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError(shown, "extends", f"cycle: {cycle}")
    _, data = read_toml_file(path, shown)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    base_path = extends_target(path, parent, roots, shown)
    base = _read_toml(base_path, (*chain, path), roots=roots)
    try:
        return _deep_merge(base, data)
    except ScenarioError as exc:
        raise ScenarioError(shown, exc.field, exc.problem) from None


def read_scenario_data(path: str | Path) -> dict[str, Any]:
    """The scenario file merged with its ``extends`` chain, before validation.

    Raises:
        ScenarioError: for a missing file, bad TOML or a broken ``extends`` chain.
    """
    return _read_toml(Path(path), (), str(path))


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse one ``--set dotted.key=value``; the value is read as TOML, else as a string.

    Raises:
        ScenarioError: if the text has no ``=`` or an empty key.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise ScenarioError("--set", key or text, "expected dotted.key=value")
    raw = raw.strip()
    if len(key.split(".")) > MAX_DEPTH:
        raise ScenarioError("--set", key[:60] + "...", f"a key of more than {MAX_DEPTH} parts names no scenario field")
    try:
        doc = tomllib.loads(f"v = {raw}")
        value = doc["v"] if len(doc) == 1 and "\n" not in raw else raw
    except tomllib.TOMLDecodeError:
        value = raw
    except RecursionError:
        raise ScenarioError("--set", key, f"the value is nested more than {MAX_DEPTH} levels deep") from None
    _check_depth(value, "--set", key)
    return key.split("."), value


def _apply_override(data: dict[str, Any], path: list[str], value: Any) -> None:
    """Set ``value`` at a dotted path; tables are created on the way, list items are numbered."""
    node: Any = data
    for i, part in enumerate(path):
        last = i == len(path) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError("--set", ".".join(path), f"{part!r} is not an item of a list of {len(node)}")
            if last:
                node[int(part)] = value
                return
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            raise ScenarioError("--set", ".".join(path), f"{path[i - 1]!r} is a value, not a table")
        if last:
            node[part] = value
            return
        if node.get(part) is None:
            node[part] = {}
        node = node[part]


def _merge_sites(data: dict[str, Any], file: str) -> None:
    """Fill ``data['sites']`` from the reference table for every site the scenario names."""
    given = data.get("sites") or {}
    if not isinstance(given, dict):
        raise ScenarioError(file, "sites", "must be a table of site tables")
    policy = data.get("policy") or {}
    named: list[tuple[str, Any]] = []  # (field, site id) in order of mention
    for field in ("sites", "start_sites", "failover_sites"):
        listed = policy.get(field, []) if isinstance(policy, dict) else []
        if not isinstance(listed, list):
            raise ScenarioError(file, f"policy.{field}", f"must be a list of site ids, e.g. [\"dublin\"] (got {_shown(listed)})")
        named += [(f"policy.{field}", site_id) for site_id in listed]
    ref = reference.site_records()
    field_of = {site_id: field for field, site_id in reversed(named) if isinstance(site_id, str)}
    wanted = list(dict.fromkeys([*(site_id for _, site_id in named if isinstance(site_id, str)), *given]))
    sites: dict[str, Any] = {}
    for site_id in wanted:
        override = given.get(site_id, {})
        if not isinstance(override, dict):
            raise ScenarioError(file, f"sites.{site_id}", "must be a table")
        if site_id not in ref and site_id not in given:
            close = difflib.get_close_matches(site_id, list(ref), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ScenarioError(file, field_of[site_id], f"unknown site {site_id!r}{hint}; known: {sorted(ref)}")
        sites[site_id] = {**ref.get(site_id, {}), **override}
    data["sites"] = sites


def _merge_zones(data: dict[str, Any], file: str) -> None:
    """Add the bundled zones the scenario does not redefine (a scenario's zone replaces one whole)."""
    given = data.get("zones") or {}
    if not isinstance(given, dict) or not all(isinstance(z, dict) for z in given.values()):
        raise ScenarioError(file, "zones", "must be a table of zone tables, e.g. [zones.dach] countries = [\"DE\", \"AT\", \"CH\"]")
    data["zones"] = {**default_zones(), **given}


def _shown(value: Any, limit: int = 60) -> str:
    """A value for an error message, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parent_model(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Model class that owns the last element of ``loc`` (dict keys are skipped)."""
    model: Any = Scenario
    i = 0
    parts = list(loc[:-1])
    while i < len(parts):
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(parts[i]))
        if field is None:
            return None
        ann = field.annotation
        if typing.get_origin(ann) in (dict, list):  # skip the dict key or the list index
            model = _model_in(typing.get_args(ann)[-1])
            i += 2
            continue
        model = _model_in(ann)
        i += 1
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


#: "population.x: problem", the form of the user-countries check's messages (the field they name).
_NAMED_FIELD = re.compile(r"^((?:population|countries|gateway)\.[A-Za-z0-9_.]+): (.+)$", re.DOTALL)


def _first_error(exc: ValidationError, file: str) -> ScenarioError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    field = ".".join(str(p) for p in loc)
    kind = err["type"]
    in_table = loc[:1] in (("uncertainty",), ("observations",))
    if in_table:
        field, _ = _table_error_field(loc, "")
    if kind == "extra_forbidden":
        owner = _parent_model(loc)
        hint = ""
        if owner is not None:
            close = difflib.get_close_matches(str(loc[-1]), list(owner.model_fields), n=1, cutoff=0.5)
            if close:
                hint = f"; did you mean {'.'.join([*map(str, loc[:-1]), close[0]])!r}?"
        return ScenarioError(file, field, f"unknown key{hint}")
    if kind == "missing":
        return ScenarioError(file, field, "required field is missing")
    given = err.get("input")
    if kind == "list_type" and isinstance(given, dict) and given and all(str(k).isdigit() for k in given):
        return ScenarioError(
            file, field, "numbered items patch a list given by an extended file, and none gives this one: write the whole list"
        )
    message = str(err["msg"])
    message = message.removeprefix("Value error, ")
    named = _NAMED_FIELD.match(message)
    if named and (not loc or named.group(1).startswith(f"{field}.")):
        # a whole-scenario or whole-table check (users over countries, the gateway's figures) names its field first
        return ScenarioError(file, named.group(1), named.group(2))
    if in_table:
        field, message = _table_error_field(loc, message)
    if kind not in ("value_error", "assertion_error") and not isinstance(given, dict | list):
        message += f" (got {_shown(given)})"
    return ScenarioError(file, field, message)


def _table_error_field(loc: tuple[Any, ...], message: str) -> tuple[str, str]:
    """Field and message of an error in ``[uncertainty]`` / ``[observations]``.

    The dotted key of an entry is one element of ``loc``; the container (``inputs``, ``kpis``)
    and the distribution tag are left out. A message that starts with its own dotted location
    (``"uncertainty.x.y: ..."``) names the field itself.
    """
    head, sep, rest = message.partition(": ")
    if sep and head.startswith(f"{loc[0]}."):
        return head, rest
    parts = [str(p) for p in loc if p not in ("inputs", "kpis") and p not in UNCERTAINTY_DISTRIBUTIONS]
    return ".".join(parts), message


def scenario_from_dict(data: dict[str, Any], file: str = "<scenario>") -> Scenario:
    """Validate a merged scenario mapping (reference sites filled in) into a :class:`Scenario`.

    An ``[uncertainty]`` table is checked against the scenario: every key must name a numeric
    field, the field's value must lie in the distribution's support, and every value the
    distribution can reach must be valid for the field (:func:`check_uncertainty`).

    Raises:
        ScenarioError: on the first problem found.
    """
    _check_depth(data, file)
    data = _with_default_lists(dict(data), Scenario, file, "")
    _merge_sites(data, file)
    _merge_zones(data, file)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, file) from None
    if scenario.uncertainty is not None and scenario.uncertainty.inputs:
        check_uncertainty(data, scenario, file)
    return scenario


def _resolved_value(node: Any, keys: list[str]) -> Any:
    """The value at a dotted path of a dumped scenario, or ``_MISSING``."""
    for part in keys:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


_MISSING = object()


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _path_copy(data: Any, keys: list[str]) -> Any:
    """A copy of ``data`` in which the tables and lists along ``keys`` are new (the rest is shared)."""
    if not keys:
        return data
    if isinstance(data, dict):
        out = dict(data)
        if keys[0] in out:
            out[keys[0]] = _path_copy(out[keys[0]], keys[1:])
        return out
    if isinstance(data, list):
        out_list = list(data)
        if keys[0].isdigit() and int(keys[0]) < len(out_list):
            out_list[int(keys[0])] = _path_copy(out_list[int(keys[0])], keys[1:])
        return out_list
    return data


def input_value(value: float, integer: bool) -> int | float:
    """A drawn value as the field takes it: rounded to a whole number for an integer field."""
    return int(round(value)) if integer else float(value)


def scenario_with(data: dict[str, Any], values: dict[str, Any], file: str = "<scenario>") -> Scenario:
    """Validate ``data`` with dotted keys set to ``values``, exactly as ``--set`` sets them.

    ``data`` (a merged scenario mapping) is left untouched. The result is one draw of the
    inputs: its ``uncertainty``, ``observations`` and ``sweep`` tables are dropped.

    Raises:
        ScenarioError: if a key cannot be set or the result is not a valid scenario.
    """
    trial = {k: v for k, v in data.items() if k not in ("uncertainty", "observations", "sweep")}
    for key, value in values.items():
        keys = key.split(".")
        trial = _path_copy(trial, keys)
        try:
            _apply_override(trial, keys, value)
        except ScenarioError as exc:
            raise ScenarioError(file, exc.field, exc.problem) from None
    return scenario_from_dict(trial, file)


def integer_inputs(scenario: Scenario) -> dict[str, bool]:
    """Uncertain input -> whether its field holds a whole number (its draws are then rounded)."""
    if scenario.uncertainty is None:
        return {}
    resolved = scenario.model_dump()
    return {k: isinstance(_resolved_value(resolved, k.split(".")), int) for k in scenario.uncertainty.inputs}


def check_uncertainty(data: dict[str, Any], scenario: Scenario, file: str) -> None:
    """Check every ``[uncertainty]`` entry against the scenario it belongs to.

    The key must name a numeric field of the resolved scenario, and the ends of every support
    are applied through the ``--set`` path and validated as a whole scenario: all inputs at the
    low ends of their ranges at once, then all at the high ends (two validations, so a scenario
    with many uncertain inputs still loads in milliseconds). A distribution that reaches beyond
    its field's bounds (e.g. a normal on a positive field) is refused, naming the input; when the
    ends fail together but each passes alone, the error says so. Ranges that only clash inside
    the joint range (one input high while another is low) surface as the input set that hits
    them when the sets are drawn. The scenario's own value need not lie in the range: it is the
    central run, and ``--set`` may move it.

    Raises:
        ScenarioError: naming ``uncertainty.<key>`` (or ``uncertainty``) and the problem.
    """
    assert scenario.uncertainty is not None
    resolved = scenario.model_dump()
    ends: dict[str, tuple[Any, Any, float, float]] = {}
    for key, marginal in scenario.uncertainty.inputs.items():
        field = f"uncertainty.{key}"
        central = _resolved_value(resolved, key.split("."))
        # an item of a list that a later file replaced keeps its range unless dropped (--set drops them)
        hint = (f"; a list replaced in a later file keeps its items' ranges: drop this one with uncertainty.{key}={{dist=\"fixed\"}}"
                if any(part.isdigit() for part in key.split(".")) else "")
        if central is _MISSING:
            raise ScenarioError(file, field, f"unknown key: the scenario has no field {key!r}; give the dotted --set key of a number"
                                + hint)
        if not _is_number(central):
            shown = "empty" if central is None else f"a {type(central).__name__}"
            raise ScenarioError(file, field, f"{key!r} is {shown}, not a number: only numeric fields can be uncertain" + hint)
        points = uncertainty_support_points(marginal)
        lo, hi = min(points), max(points)
        integer = isinstance(central, int)
        ends[key] = (input_value(lo, integer), input_value(hi, integer), lo, hi)
    for side, i in (("low", 0), ("high", 1)):
        try:
            scenario_with(data, {k: e[i] for k, e in ends.items()}, file)
        except ScenarioError as together:
            for key, e in ends.items():
                _check_end(data, file, key, e[i], e[2 + i])
            raise ScenarioError(
                file, "uncertainty", f"with every input at the {side} end of its range the scenario is not valid: "
                f"{together.field}: {together.problem}"
            ) from None


def _check_end(data: dict[str, Any], file: str, key: str, value: Any, point: float) -> None:
    """Validate the scenario with one input at one end of its support; raise naming that input."""
    try:
        scenario_with(data, {key: value}, file)
    except ScenarioError as exc:
        field = f"uncertainty.{key}"
        where = f" ({exc.field})" if exc.field and exc.field != key else ""
        if abs(point) >= sys.float_info.max:  # an unbounded end, checked at the largest float
            side = "low" if point < 0 else "high"
            problem = exc.problem.split(" (got ", 1)[0]
            raise ScenarioError(
                file, field, f"the distribution is unbounded ({side} end), which the field refuses{where}: "
                f"{problem}; truncate it with {side} = ..."
            ) from None
        raise ScenarioError(
            file, field, f"the distribution reaches {value:g}, which the field refuses{where}: {exc.problem}"
        ) from None


def load_scenario(path: str | Path, overrides: list[str] | None = None) -> Scenario:
    """Read, merge, override and validate a scenario file.

    Args:
        path: the TOML scenario file.
        overrides: ``dotted.key=value`` strings applied after ``extends`` merging.

    Returns:
        The resolved scenario (every default filled in).

    Raises:
        ScenarioError: for any bad input, naming the file, the field and the problem.
    """
    data, shown = scenario_data(path, overrides)
    return scenario_from_dict(data, shown)


def scenario_data(path: str | Path, overrides: list[str] | None = None) -> tuple[dict[str, Any], str]:
    """The scenario file merged with its ``extends`` chain and the ``--set`` overrides, before validation.

    Returns:
        The mapping and the name to show in errors (the file, ``(with --set)`` when overridden).

    Raises:
        ScenarioError: for a missing file, bad TOML, a broken ``extends`` chain or a bad ``--set``.
    """
    path = Path(path)
    data = _read_toml(path, (), str(path))
    for text in overrides or []:
        keys, value = parse_override(text)
        _apply_override(data, keys, value)
        if isinstance(value, list) and keys[0] != "uncertainty":
            _drop_item_ranges(data.get("uncertainty"), ".".join(keys))
    return data, str(path) + (" (with --set)" if overrides else "")


def _drop_item_ranges(table: Any, list_key: str, prefix: str = "") -> None:
    """Remove the ``[uncertainty]`` entries of the items of a list that a ``--set`` replaced.

    The old items are gone, so ranges keyed by their numbers (``gateway.shifts.3.reviewers``)
    would describe whatever now stands at that number; ranges for the new items can follow in
    later ``--set`` options. Entries may be dotted keys or nested tables.
    """
    if not isinstance(table, dict):
        return
    for key in list(table):
        full = f"{prefix}{key}"
        rest = full[len(list_key) + 1:] if full.startswith(list_key + ".") else ""
        if rest[:1].isdigit():
            del table[key]
        elif isinstance(table[key], dict) and "dist" not in table[key] and list_key.startswith(full):
            _drop_item_ranges(table[key], list_key, full + ".")
