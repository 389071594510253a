"""The year as the 节假日安排 page shows it: every day with whether it is worked and where that answer comes from."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet

from cases.models import HolidayArrangement
from cases.workdays import SOURCE_ENTERED, SOURCE_FALLBACK, SOURCE_PACKAGE, WorkCalendar, package_knows_year

SOURCE_LABELS = {SOURCE_ENTERED: "已录入", SOURCE_PACKAGE: "软件包", SOURCE_FALLBACK: "周一至周五"}


@dataclass(frozen=True)
class CalendarDay:
    date: dt.date
    is_workday: bool
    source: str
    name: str

    @property
    def is_weekend(self) -> bool:
        return self.date.weekday() >= 5

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source]


@dataclass(frozen=True)
class CalendarMonth:
    month: int
    weeks: list[list[CalendarDay | None]]


@dataclass(frozen=True)
class CalendarYear:
    year: int
    months: list[CalendarMonth]
    package_knows: bool
    entered: int
    workdays: int
    days_off: int

    @property
    def known(self) -> bool:
        return self.package_knows or self.entered > 0


def calendar_year_get(*, year: int) -> CalendarYear:
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    work = WorkCalendar.load(start, end)
    names = dict(HolidayArrangement.objects.filter(date__year=year).values_list("date", "name"))
    months, workdays = [], 0
    for month in range(1, 13):
        weeks: list[list[CalendarDay | None]] = []
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            row: list[CalendarDay | None] = []
            for day in week:
                if day.month != month:
                    row.append(None)
                    continue
                worked = work.is_workday(day)
                workdays += worked
                row.append(CalendarDay(date=day, is_workday=worked, source=work.source(day), name=names.get(day, "")))
            weeks.append(row)
        months.append(CalendarMonth(month=month, weeks=weeks))
    total = (end - start).days + 1
    return CalendarYear(year=year, months=months, package_knows=package_knows_year(year), entered=len(names),
                        workdays=workdays, days_off=total - workdays)


def holiday_list(*, year: int) -> QuerySet[HolidayArrangement]:
    return HolidayArrangement.objects.filter(date__year=year).order_by("date")


@dataclass(frozen=True)
class HolidayRange:
    start: dt.date
    end: dt.date
    is_workday: bool
    name: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def holiday_ranges(*, year: int) -> list[HolidayRange]:
    """The year's entries folded into runs of consecutive dates with the same kind and name, for the table."""
    runs: list[HolidayRange] = []
    for row in holiday_list(year=year):
        last = runs[-1] if runs else None
        if (last is not None and last.end + dt.timedelta(days=1) == row.date
                and (last.is_workday, last.name) == (row.is_workday, row.name)):
            runs[-1] = HolidayRange(start=last.start, end=row.date, is_workday=row.is_workday, name=row.name)
        else:
            runs.append(HolidayRange(start=row.date, end=row.date, is_workday=row.is_workday, name=row.name))
    return runs
