"""The project's number formatters (sim.report.format) and the command line's use of them."""

from __future__ import annotations

import math

import pytest

from sim.report import format as fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (1234567.0, "1,234,567"),
        (123.4, "123"),
        (56.78, "56.8"),
        (8.9, "8.9"),
        (1.0, "1"),
        (0.123, "0.12"),
        (0.005, "0.005"),  # below 1: two significant figures, never "0"
        (0.00166, "0.0017"),
        (1e-9, "0.000000001"),  # no exponent
        (-0.0042, "-0.0042"),
        (math.nan, "n/a"),
        (math.inf, "n/a"),
    ],
)
def test_format_number(value: float, text: str) -> None:
    assert fmt.format_number(value) == text


def test_money_shares_durations_changes() -> None:
    assert fmt.format_eur(1.13e9) == "EUR 1.13 bn"
    assert fmt.format_eur(8.5e8) == "EUR 850 M"  # millions are M for money and counts alike
    assert fmt.format_share(0.999) == "99.90 %"
    assert fmt.format_share(0.5) == "50.0 %"
    assert fmt.format_share(0.0) == "0.0 %"
    assert fmt.format_share(0.0042) == "0.42 %"
    assert [fmt.format_duration(s) for s in (42, 720, 12600, 3 * 86400)] == ["42 s", "12 min", "3.5 h", "3 days"]
    assert fmt.format_change(1.17, 1.0) == "+17 %"
    assert fmt.format_change(0.999, 0.0, "share") == "+99.9 pp"
    assert fmt.format_change(1.0, 0.0) == "n/a"
    assert fmt.format_change(None, 1.0) == "n/a"
    assert fmt.format_count(12345) == "12,345"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (1.2e9, "EUR/yr", "EUR 1.2 bn/yr"),
        (6.22e6, "EUR/yr", "EUR 6.22 M/yr"),
        (664_183.0, "MWh/yr", "664 GWh/yr"),
        (512.0, "MWh/yr", "512 MWh/yr"),
        (86_300.0, "t/yr", "86.3 kt CO2/yr"),
        (0.999, "share", "99.90 %"),
        (7200.0, "s", "2 h"),
        (8.94e6, "requests/yr", "8.94 M requests/yr"),
        (1.5e9, "users", "1.5 bn users"),
        (1100.0, "PB", "1,100 PB"),
        (2.5e6, "TB/yr", "2.5 M TB/yr"),
        ("2025-01-01", "date", "2025-01-01"),
        (None, "ms", "n/a"),
        (math.nan, "ms", "n/a"),
    ],
)
def test_format_kpi(value: float | str | None, unit: str, text: str) -> None:
    assert fmt.format_kpi(value, unit) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.202e9, "1.202 bn"),
        (301.96e6, "301.96 M"),
        (664_183.0, "664,183"),
        (26.98, "26.98"),
        (0.00165, "0.00165"),
        (0.0, "0"),
        (math.nan, "-"),
        (math.inf, "-"),  # was "inf bn"
    ],
)
def test_format_value_is_the_command_lines(value: float, text: str) -> None:
    from sim.cli.common import format_value

    assert format_value is fmt.format_value
    assert format_value(value) == text


def test_format_setting() -> None:
    assert fmt.format_setting(0.1 + 0.2) == "0.3"
    assert fmt.format_setting([1.0, "a", None]) == "[1, a, none]"
    assert fmt.format_setting({}) == "{}"
    assert fmt.format_setting({"a": 1}) == '{"a": 1}'
    assert fmt.format_setting(True) == "True"
