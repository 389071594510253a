"""Working days after the Chinese statutory calendar (P3), with admin overrides and a plain fallback.

Order of authority for a date:
1. a HolidayArrangement row an admin entered (the State Council's arrangement for a year, typically
   published in November–December, so a new year works without a code change);
2. the chinese-calendar package (1.11.0 holds the arrangements from 2004 up to 2026);
3. Monday–Friday, for years neither knows: `year_is_known()` is False then, and the UI says so to admins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import chinese_calendar

from cases.models import HolidayArrangement

SOURCE_ENTERED, SOURCE_PACKAGE, SOURCE_FALLBACK = "entered", "package", "fallback"

# A safety stop for loops that look for the n-th working day (no real calendar has 60 days off in a row).
_MAX_SCAN_DAYS = 366


def _package_is_workday(day: dt.date) -> bool | None:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # the package has no data for that year
        return None


def package_knows_year(year: int) -> bool:
    return _package_is_workday(dt.date(year, 1, 1)) is not None


@dataclass
class WorkCalendar:
    """A calendar with the admin overrides of a date range loaded once (the scheduler makes one per run)."""

    overrides: dict[dt.date, bool] = field(default_factory=dict)
    admin_years: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, start: dt.date | None = None, end: dt.date | None = None) -> WorkCalendar:
        qs = HolidayArrangement.objects.all()
        if start is not None:
            qs = qs.filter(date__gte=start)
        if end is not None:
            qs = qs.filter(date__lte=end)
        overrides = dict(qs.values_list("date", "is_workday"))
        years = {d.year for d in HolidayArrangement.objects.dates("date", "year")}
        return cls(overrides=overrides, admin_years=years)

    def is_workday(self, day: dt.date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override
        known = _package_is_workday(day)
        if known is not None:
            return known
        return day.weekday() < 5

    def source(self, day: dt.date) -> str:
        """Where the answer for `day` comes from: "entered" (an admin's entry), "package" or "fallback"."""
        if day in self.overrides:
            return SOURCE_ENTERED
        return SOURCE_PACKAGE if _package_is_workday(day) is not None else SOURCE_FALLBACK

    def year_is_known(self, year: int) -> bool:
        """True when the statutory arrangement of `year` is known (package data or admin entries)."""
        return year in self.admin_years or package_knows_year(year)

    def add_workdays(self, start: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `start` (`start` itself never counts)."""
        day, found = start, 0
        for _ in range(_MAX_SCAN_DAYS):
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                found += 1
                if found >= count:
                    return day
        raise ValueError(f"no {count} working days within a year after {start}")

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]."""
        day, count = start, 0
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                count += 1
        return count


def is_workday(day: dt.date) -> bool:
    return WorkCalendar.load(day, day).is_workday(day)


def add_workdays(start: dt.date, count: int) -> dt.date:
    return WorkCalendar.load(start, start + dt.timedelta(days=_MAX_SCAN_DAYS)).add_workdays(start, count)


def year_is_known(year: int) -> bool:
    return package_knows_year(year) or HolidayArrangement.objects.filter(date__year=year).exists()


def unknown_years(*, around: dt.date) -> list[int]:
    """Years whose arrangement is unknown, for the admins' notice: this year, and from November on (when the
    State Council publishes it) also the next."""
    years = [around.year, around.year + 1] if around.month >= 11 else [around.year]
    return [y for y in years if not year_is_known(y)]
