"""Units of time the whole model shares: one year length, one day, one hour.

A year is the Julian year of 365.25 days (31,557,600 s). A planner reads per-year figures of
multi-year runs that cross leap years, and 365.25 days is their average length, so per-year
figures of a 1-year and a 4-year run agree; the LP optimiser's 8,766 hours and the cost model
already used it. Every per-year figure (costs, energy, carbon, transfers, gateway requests) is
"metered over the horizon x YEAR_S / horizon".
"""

from __future__ import annotations

__all__ = ["DAY_S", "HOUR_S", "YEAR_S", "YEAR_H", "YEAR_DAYS"]

#: Seconds in an hour.
HOUR_S = 3600.0
#: Seconds in a day.
DAY_S = 86400.0
#: Days in the model's year (the Julian year).
YEAR_DAYS = 365.25
#: Seconds in the model's year.
YEAR_S = YEAR_DAYS * DAY_S
#: Hours in the model's year.
YEAR_H = YEAR_DAYS * 24.0
