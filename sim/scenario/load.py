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
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from sim import reference
from sim.scenario.schema import Scenario

__all__ = ["ScenarioError", "load_scenario", "read_scenario_data", "scenario_from_dict", "parse_override"]


class ScenarioError(ValueError):
    """Bad scenario input: which file, which field, what is wrong.

    Attributes:
        file: the scenario file (or ``--set``) the problem is in.
        field: dotted path of the field, or "" when the file as a whole is wrong.
        problem: what is wrong, and where possible what to do.
    """

    def __init__(self, file: str, field: str, problem: str) -> None:
        self.file = file
        self.field = field
        self.problem = problem
        where = f"{file}: {field}: " if field else f"{file}: "
        super().__init__(where + problem)



def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Merge ``top`` over ``base`` key by key.

    A table with numbered keys over a list patches those items (``[gateway.regions.1]`` changes
    the second region), as ``--set`` does.
    """
    out = dict(base)
    for key, value in top.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
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


def _read_toml(path: Path, chain: tuple[Path, ...], shown: str | None = None) -> dict[str, Any]:
    shown = shown or str(path)
    path = path.resolve()
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError(shown, "extends", f"cycle: {cycle}")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(shown, "", "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(shown, "", "is a directory, not a scenario file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(shown, "", f"cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(shown, "", f"TOML syntax error: {exc}") from None
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(shown, "extends", "must be a file name (string) relative to this file")
    base_path = (path.parent / parent).resolve()
    if not base_path.exists():
        raise ScenarioError(shown, "extends", f"file {parent!r} not found next to this file")
    base = _read_toml(base_path, (*chain, path))
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
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
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
    names = list(policy.get("sites", []) if isinstance(policy, dict) else [])
    for extra in ("start_sites", "failover_sites"):
        names += list(policy.get(extra, []) if isinstance(policy, dict) else [])
    ref = reference.site_records()
    wanted = list(dict.fromkeys([*names, *given]))
    sites: dict[str, Any] = {}
    for site_id in wanted:
        if not isinstance(site_id, str):
            continue
        override = given.get(site_id, {})
        if not isinstance(override, dict):
            raise ScenarioError(file, f"sites.{site_id}", "must be a table")
        if site_id not in ref and site_id not in given:
            close = difflib.get_close_matches(site_id, list(ref), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ScenarioError(file, "policy.sites", f"unknown site {site_id!r}{hint}; known: {sorted(ref)}")
        sites[site_id] = {**ref.get(site_id, {}), **override}
    data["sites"] = sites


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
        if getattr(ann, "__origin__", None) is dict:
            model = ann.__args__[1]
            i += 2  # skip the dict key
            continue
        model = ann
        i += 1
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _first_error(exc: ValidationError, file: str) -> ScenarioError:
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    field = ".".join(str(p) for p in loc)
    kind = err["type"]
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
    if kind not in ("value_error", "assertion_error") and not isinstance(given, dict | list):
        message += f" (got {given!r})"
    return ScenarioError(file, field, message)


def scenario_from_dict(data: dict[str, Any], file: str = "<scenario>") -> Scenario:
    """Validate a merged scenario mapping (reference sites filled in) into a :class:`Scenario`.

    Raises:
        ScenarioError: on the first problem found.
    """
    data = dict(data)
    _merge_sites(data, file)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise _first_error(exc, file) from None


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
    path = Path(path)
    data = _read_toml(path, (), str(path))
    for text in overrides or []:
        keys, value = parse_override(text)
        _apply_override(data, keys, value)
    shown = str(path) + (" (with --set)" if overrides else "")
    return scenario_from_dict(data, shown)
