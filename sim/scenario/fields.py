"""Field types shared by the scenario models: strict, finite numbers; dates; an infinite retention.

Every scenario model validates strictly: a number must be a TOML number (an integer is fine
where a float is wanted, never the other way round), a boolean a TOML boolean, a string a
string; ``"7"`` for a number, ``true`` for a count or ``"yes"`` for a switch is an error, not a
guess. Every float must be finite unless its documentation says otherwise (only
``retention_days``: ``inf`` keeps data forever). Dates and times are TOML dates (or ISO 8601
strings, which is how a resolved scenario stores them in ``summary.json``) between the years
:data:`FIRST_YEAR` and :data:`LAST_YEAR`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, PlainSerializer

__all__ = [
    "STRICT",
    "FIRST_YEAR",
    "LAST_YEAR",
    "Date",
    "DateTime",
    "Lifetime",
    "as_tuple",
]

#: Model configuration of every scenario table: unknown keys refused, strict types, finite floats.
STRICT = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

#: Earliest and latest year a scenario date may name (a run of at most a century ends before 2300).
FIRST_YEAR, LAST_YEAR = 1970, 2200


def _in_years(value: dt.date) -> dt.date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"the year must lie between {FIRST_YEAR} and {LAST_YEAR} (got {value.isoformat()})")
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        raise ValueError(f"give a date such as 2025-01-01, not a date and time (got {value.isoformat()})")
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value[:40]!r} is not a date such as 2025-01-01") from None
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value[:40]!r} is not a date and time such as 2025-01-15T18:00:00Z") from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        raise ValueError(f"give a date and time such as {value.isoformat()}T00:00:00Z, not only a date")
    return value


#: A calendar day: a TOML date or an ISO 8601 string, years FIRST_YEAR..LAST_YEAR.
Date = Annotated[dt.date, BeforeValidator(_iso_date), AfterValidator(_in_years)]
#: An instant: a TOML date-time or an ISO 8601 string, years FIRST_YEAR..LAST_YEAR.
DateTime = Annotated[dt.datetime, BeforeValidator(_iso_datetime), AfterValidator(_in_years)]


def _lifetime_in(value: Any) -> Any:
    if isinstance(value, str) and value.strip().lower() in ("inf", "infinity"):
        return math.inf
    return value


def _not_nan(value: float) -> float:
    if math.isnan(value):
        raise ValueError("must be a number (got nan)")
    return value


def _lifetime_out(value: float) -> float | str:
    return "inf" if math.isinf(value) else value


#: A lifetime in days that may be ``inf`` (kept forever); written to JSON as the string "inf".
Lifetime = Annotated[
    float,
    BeforeValidator(_lifetime_in),
    AfterValidator(_not_nan),
    PlainSerializer(_lifetime_out, when_used="json"),
]


def as_tuple(value: Any) -> Any:
    """A TOML array (list) as a tuple, for fields typed as fixed-length tuples; anything else unchanged."""
    return tuple(value) if isinstance(value, list) else value
