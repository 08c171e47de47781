"""Every number formatter of the project: plain numbers, money, shares, durations, KPI values.

One set of rules for every place a number is written as text (report tables and titles, chart
titles and labels, the command line's tables):

* numbers are rounded to about three significant figures (:func:`format_number`), with a comma
  every three digits and no exponent; a value that is not zero is never written as "0";
* large amounts are scaled with the suffixes ``bn`` (1e9) and ``M`` (1e6), for money as well as
  for counts (:func:`format_eur`, :func:`format_kpi`);
* shares (0-1) are written as percentages with a space before the sign (:func:`format_share`),
  differences of shares as percentage points (:func:`format_change`);
* durations given in seconds are written in the largest unit that reads well (:func:`format_duration`);
* a missing or non-finite value is "n/a" in text and "-" in the command line's tables.

:func:`format_value` is the command line's column format: the same suffixes with a fixed number
of decimals, so that values line up and the means of two runs can be told apart.

Pure Python, no imports beyond the standard library: the command line imports it on start-up.
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

__all__ = [
    "TICK_THOUSANDS",
    "format_number",
    "format_count",
    "format_eur",
    "format_share",
    "format_duration",
    "format_change",
    "format_kpi",
    "format_value",
    "format_setting",
    "round_to_range",
    "format_span",
]

#: A matplotlib ``StrMethodFormatter`` pattern for axes whose ticks reach the thousands.
TICK_THOUSANDS = "{x:,.0f}"


def format_number(x: float) -> str:
    """A number to about three significant figures, no exponent: '1,234', '56.7', '8.9', '0.0012'.

    Values of 100 and more are rounded to whole numbers (with a comma every three digits), values
    from 10 to 100 to one decimal, values from 1 to 10 to two decimals, smaller values to two
    significant figures (so a value that is not zero never shows as "0"); trailing zeros are
    dropped.

    Args:
        x: the number.

    Returns:
        Display text ("n/a" if the number is not finite).
    """
    if not math.isfinite(x):
        return "n/a"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        text = f"{x:.1f}"
    elif a >= 1 or a == 0:
        text = f"{x:.2f}"
    else:
        decimals = 1 - math.floor(math.log10(a))
        text = f"{x:.{decimals}f}"
    return text.rstrip("0").rstrip(".")


def format_count(n: float) -> str:
    """A count of things in full with thousands separators: '12,345'."""
    return f"{n:,.0f}"


def format_eur(x: float) -> str:
    """An amount of euros: 'EUR 1.13 bn' from 1e9 on, else 'EUR 850 M'."""
    if abs(x) >= 1e9:
        return f"EUR {format_number(x / 1e9)} bn"
    return f"EUR {format_number(x / 1e6)} M"


def format_share(x: float) -> str:
    """A share (0-1) as a percentage: '99.9 %'; two decimals just below 100 % and above 0 %."""
    v = 100 * x
    if abs(v) < 5e-4:
        v = 0.0
    if 99.0 < v < 100.0 or 0.0 < v < 1.0:
        return f"{v:.2f} %"
    return f"{v:.1f} %"


def format_duration(seconds: float) -> str:
    """A duration: '42 s', '12 min', '3.5 h' or '2.1 days'."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{format_number(seconds / 3600)} h"
    return f"{format_number(seconds / 86400)} days"


def format_change(a: float | None, b: float | None, unit: str = "") -> str:
    """Change of ``a`` against ``b``: '+17 %' (relative), or '+99.9 pp' for shares.

    Args:
        a: the new value.
        b: the value compared with.
        unit: the values' unit; "share" gives the difference in percentage points.

    Returns:
        Display text; "n/a" if a value is missing or ``b`` is zero. A change that is not nil never
        reads "+0 %" and a value that is not zero never "-100 %": such changes get the decimals
        that show them ("-99.96 %").
    """
    if a is None or b is None:
        return "n/a"
    if unit == "share":
        return f"{100 * (a - b):+.1f} pp"
    if abs(b) <= 1e-9 * max(abs(a), 1.0):
        return "n/a"
    if a == b:
        return "0 %"
    pct = 100 * (a - b) / abs(b)
    text = f"{pct:+.0f} %"
    # a real change never reads "+0 %", and a value that is not zero never reads "-100 %"
    gap = abs(pct) if text in ("+0 %", "-0 %") else (100 - abs(pct) if text == "-100 %" and a != 0 else 0.0)
    if gap > 0:
        decimals = min(6, max(1, -math.floor(math.log10(gap))))
        text = f"{pct:+.{decimals}f}".rstrip("0").rstrip(".") + " %"
    return text


def format_kpi(value: float | str | None, unit: str) -> str:
    """A KPI value with its unit, scaled for a reader: 'EUR 1.2 bn/yr', '664 GWh/yr', '99.9 %'.

    Args:
        value: the value (a date string for unit "date"; None for "not available").
        unit: the KPI's unit (``sim.results.kpis``): "EUR/yr", "MWh/yr", "t/yr", "share", "s",
            "requests/yr", "users", "PB", "ms" ...

    Returns:
        Display text; "n/a" for a missing or non-finite value.
    """
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    v = float(value)
    if not math.isfinite(v):
        return "n/a"
    if unit == "EUR/yr":
        return f"{format_eur(v)}/yr"
    if unit == "MWh/yr":
        return f"{format_number(v / 1000)} GWh/yr" if abs(v) >= 1000 else f"{format_number(v)} MWh/yr"
    if unit == "t/yr":
        return f"{format_number(v / 1000)} kt CO2/yr" if abs(v) >= 1000 else f"{format_number(v)} t CO2/yr"
    if unit == "share":
        return format_share(v)
    if unit == "s":
        return format_duration(v)
    if unit in ("requests/yr", "users") or abs(v) >= 1e6:
        if abs(v) >= 1e9:
            return f"{format_number(v / 1e9)} bn {unit}"
        if abs(v) >= 1e6:
            return f"{format_number(v / 1e6)} M {unit}"
    return f"{format_number(v)} {unit}"


def format_value(value: float) -> str:
    """A value for a column of a terminal table: '1.202 bn', '301.96 M', '664,183', '26.98', '0.00165'.

    The unit is written in its own column, so nothing is rescaled to another unit; bn and M carry
    a fixed number of decimals so that close values stay distinguishable.

    Args:
        value: the value.

    Returns:
        Display text; "-" if the value is not finite.
    """
    if not math.isfinite(value):
        return "-"
    a = abs(value)
    if a >= 1e9:
        return f"{value / 1e9:,.3f} bn"
    if a >= 1e6:
        return f"{value / 1e6:,.2f} M"
    if a >= 1e4:
        return f"{value:,.0f}"
    return f"{value:,.3g}" if a < 1 else f"{value:,.2f}"


def format_setting(value: Any) -> str:
    """A scenario setting as the assumptions table shows it.

    Floats are written to six significant figures, lists in brackets, None as "none", tables as
    JSON, anything else as ``str`` gives it.
    """
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list):
        return "[" + ", ".join(format_setting(v) for v in value) + "]"
    if value is None:
        return "none"
    if isinstance(value, dict):
        return "{}" if not value else json.dumps(value)
    return str(value)


def round_to_range(value: float, low: float, high: float) -> float:
    """``value`` rounded to the digits a range around it supports (two or three significant figures).

    A range as wide as the value's leading digit leaves two significant figures (1.23 bn with a range
    0.9-1.6 bn reads 1.2 bn); a narrower range keeps the usual three; a range never adds digits.

    Args:
        value: the value.
        low: lower end of its range.
        high: upper end of its range.

    Returns:
        The rounded value (unchanged if it is zero or not finite).
    """
    if not (math.isfinite(value) and value != 0 and math.isfinite(low) and math.isfinite(high)):
        return value
    lead = math.floor(math.log10(abs(value)))
    width = abs(high - low)
    sig = 3 if width <= 0 else min(3, max(2, lead - math.floor(math.log10(width)) + 1))
    return round(value, sig - 1 - lead)


def format_span(low: float, high: float, unit: str) -> str:
    """A range of a KPI as one phrase: 'EUR 0.9-1.6 bn/yr', '27-31 ms', '98.5-99.5 %'.

    Both ends are written in the scale of the larger one (EUR bn or M, GWh or MWh, kt or t, %)
    with :func:`format_number`; other units are written by :func:`format_kpi`, and the text the two
    ends share before and after the numbers is written once. Ends that cannot share a scale keep
    their own text: '12 min to 2 h'.

    Args:
        low: lower end.
        high: upper end.
        unit: the KPI's unit (as for :func:`format_kpi`).

    Returns:
        Display text; "n/a" if an end is not finite.
    """
    if not (math.isfinite(low) and math.isfinite(high)):
        return "n/a"
    if high > low and unit != "s":  # ends to the digit of the range's width: 0.93-1.62 bn reads 0.9-1.6 bn
        step = 10.0 ** math.floor(math.log10(high - low))
        if (high - low) / step < 3:  # a width of 1.x or 2.x keeps one digit more: 98.5-99.5 %
            step /= 10
        low, high = math.floor(low / step + 0.5) * step, math.floor(high / step + 0.5) * step
    big = max(abs(low), abs(high))
    for threshold, divisor, prefix, suffix in _SPAN_SCALES.get(unit, ()):
        if big >= threshold:
            a, b = format_number(low / divisor), format_number(high / divisor)
            joint = "-" if low >= 0 and high >= 0 else " to "
            return f"{prefix}{a}{suffix}" if a == b else f"{prefix}{a}{joint}{b}{suffix}"
    a, b = format_kpi(low, unit), format_kpi(high, unit)
    if a == b:
        return a
    head = len(os.path.commonprefix([a, b]))
    while head and (a[head - 1].isdigit() or a[head - 1] in ".,-"):
        head -= 1
    tail = len(os.path.commonprefix([a[::-1], b[::-1]]))
    while tail and (a[-tail].isdigit() or a[-tail] in ".,"):
        tail -= 1
    a_mid, b_mid = a[head:len(a) - tail], b[head:len(b) - tail]
    if _NUMBER.match(a_mid) and _NUMBER.match(b_mid):
        joint = "-" if not (a_mid.startswith("-") or b_mid.startswith("-")) else " to "
        return f"{a[:head]}{a_mid}{joint}{b_mid}{a[len(a) - tail:]}"
    return f"{a} to {b}"


#: Scales of :func:`format_span` per unit: (from this size on, divide by, text before, text after).
_SPAN_SCALES: dict[str, tuple[tuple[float, float, str, str], ...]] = {
    "EUR/yr": ((1e9, 1e9, "EUR ", " bn/yr"), (0.0, 1e6, "EUR ", " M/yr")),
    "MWh/yr": ((1000.0, 1000.0, "", " GWh/yr"), (0.0, 1.0, "", " MWh/yr")),
    "t/yr": ((1000.0, 1000.0, "", " kt CO2/yr"), (0.0, 1.0, "", " t CO2/yr")),
    "share": ((0.0, 0.01, "", " %"),),
}
_NUMBER = re.compile(r"^-?[\d,]+(\.\d+)?$")
