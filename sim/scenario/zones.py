"""Residency zones: named sets of countries a data class must stay in (pure data).

A zone is ``[zones.NAME]`` with ``countries`` (ISO-2 codes), optionally ``includes`` (other zones
whose countries it also holds) and a ``label`` for charts and reports. The bundled zones
(``sim/reference/data/zones.toml``: ``eu``, ``eea``, ``europe``) are there unless a scenario
replaces one of them whole. A data class's ``residency`` is a zone name, :data:`HOME` (every
user's data stays in the user's own country) or :data:`ANY` (no rule). A site lies in every zone
that holds its country.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pydantic import BaseModel, Field

from sim import reference
from sim.scenario.fields import STRICT

__all__ = ["ZoneSpec", "HOME", "ANY", "RESERVED", "default_zones", "resolve_zones", "zone_label", "bound"]

#: Residency of a class whose users' data stays in each user's own country.
HOME = "home"
#: Residency of a class that may be stored anywhere.
ANY = "any"
#: Names a zone may not have.
RESERVED = frozenset({HOME, ANY})

_ZONE_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_ISO2_RE = re.compile(r"^[A-Z]{2}$")


class ZoneSpec(BaseModel):
    """One residency zone: its own countries and the zones it includes."""

    model_config = STRICT

    countries: list[str] = Field(default_factory=list, description="ISO-2 codes of the zone's own countries")
    includes: list[str] = Field(default_factory=list, description="other zones whose countries this one holds too")
    label: str = Field(
        "", max_length=80, description="name in the middle of chart and report sentences, e.g. 'the EEA' (default: the key)"
    )


def default_zones() -> dict[str, dict[str, object]]:
    """The bundled zones as raw tables (``{name: {countries, includes, label}}``)."""
    return reference.zone_records()


def bound(residency: str) -> bool:
    """Whether a residency rule restricts where a class may be stored (anything but ``"any"``)."""
    return residency != ANY


def resolve_zones(zones: Mapping[str, ZoneSpec], known_countries: Iterable[str]) -> dict[str, frozenset[str]]:
    """Every zone's full set of countries (its own and those of the zones it includes, recursively).

    Args:
        zones: the zone tables by name.
        known_countries: ISO-2 codes a zone may name.

    Returns:
        ``{zone: countries}``.

    Raises:
        ValueError: naming the zone (``zones.NAME...: problem``) for a bad name, an unknown
            country, an unknown or circular ``includes``, or a zone without countries.
    """
    known = set(known_countries)
    for name, zone in zones.items():
        if not _ZONE_NAME_RE.match(name) or name in RESERVED:
            raise ValueError(
                f"zones.{name}: a zone name is lower-case letters, digits and '_' (at most 40), "
                f"and not {' or '.join(sorted(RESERVED))}"
            )
        for code in zone.countries:
            if not _ISO2_RE.match(code) or code not in known:
                raise ValueError(f"zones.{name}.countries: unknown country {code!r}; use ISO-2 codes, e.g. \"DE\"")
        for other in zone.includes:
            if other not in zones:
                raise ValueError(f"zones.{name}.includes: unknown zone {other!r}; known: {sorted(zones)}")
    out: dict[str, frozenset[str]] = {}

    def visit(name: str, path: tuple[str, ...]) -> frozenset[str]:
        if name in path:
            cycle = " -> ".join([*path[path.index(name):], name])
            raise ValueError(f"zones.{path[0]}.includes: the zones include each other in a cycle ({cycle})")
        if name in out:
            return out[name]
        zone = zones[name]
        found = set(zone.countries)
        for other in zone.includes:
            found |= visit(other, (*path, name))
        out[name] = frozenset(found)
        return out[name]

    for name in zones:
        if not visit(name, ()):
            raise ValueError(f"zones.{name}: the zone holds no country; give it countries or includes")
    return out


def zone_label(zones: Mapping[str, ZoneSpec], residency: str) -> str:
    """How a residency rule is named in texts: the zone's label, else its key."""
    if residency == HOME:
        return "the user's own country"
    if residency == ANY:
        return "anywhere"
    zone = zones.get(residency)
    return zone.label if zone is not None and zone.label else residency
