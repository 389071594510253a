from __future__ import annotations

import datetime as dt

import pytest

from cases.models import HolidayArrangement
from cases.workdays import WorkCalendar, add_workdays, is_workday, unknown_years, year_is_known

D = dt.date


@pytest.mark.django_db
@pytest.mark.parametrize(("day", "expected"), [
    (D(2026, 10, 1), False),   # National Day
    (D(2026, 10, 7), False),
    (D(2026, 10, 8), True),    # Thursday after the holiday
    (D(2026, 10, 10), True),   # Saturday, an adjusted working day
    (D(2026, 9, 20), True),    # Sunday, an adjusted working day
    (D(2026, 10, 11), False),  # an ordinary Sunday
])
def test_is_workday_follows_statutory_calendar(day, expected):
    # given / when / then
    assert is_workday(day) is expected


@pytest.mark.django_db
def test_add_workdays_skips_national_day_holiday():
    # given: Monday 2026-09-28
    # when
    deadline = add_workdays(D(2026, 9, 28), 3)
    # then: 29th, 30th, then the holiday week, then Thursday 8 October
    assert deadline == D(2026, 10, 8)


@pytest.mark.django_db
def test_add_workdays_counts_adjusted_working_saturday():
    # given: Thursday 2026-10-08
    # when
    deadline = add_workdays(D(2026, 10, 8), 3)
    # then: Friday 9th, Saturday 10th (adjusted working day), Monday 12th
    assert deadline == D(2026, 10, 12)


@pytest.mark.django_db
def test_unknown_year_falls_back_to_monday_to_friday():
    # given: 2027 is beyond chinese-calendar 1.11.0's data
    # when / then
    assert year_is_known(2027) is False
    assert is_workday(D(2027, 1, 1)) is True   # a Friday: without the arrangement it counts as working
    assert is_workday(D(2027, 1, 2)) is False  # Saturday


@pytest.mark.django_db
def test_admin_arrangement_overrides_fallback_for_unknown_year():
    # given: an admin entered New Year's Day 2027 and a working Sunday
    HolidayArrangement.objects.create(date=D(2027, 1, 1), is_workday=False, name="元旦")
    HolidayArrangement.objects.create(date=D(2027, 1, 3), is_workday=True, name="调休上班")
    # when
    calendar = WorkCalendar.load()
    # then
    assert calendar.is_workday(D(2027, 1, 1)) is False
    assert calendar.is_workday(D(2027, 1, 3)) is True
    assert calendar.add_workdays(D(2026, 12, 31), 2) == D(2027, 1, 4)
    assert year_is_known(2027) is True


@pytest.mark.django_db
def test_admin_arrangement_overrides_package_data():
    # given: a correction for a year the package knows
    HolidayArrangement.objects.create(date=D(2026, 10, 12), is_workday=False, name="临时调整")
    # when / then
    assert is_workday(D(2026, 10, 12)) is False


@pytest.mark.django_db
def test_unknown_years_names_next_year_from_november():
    # given / when / then
    assert unknown_years(around=D(2026, 6, 1)) == []
    assert unknown_years(around=D(2026, 11, 29)) == [2027]
