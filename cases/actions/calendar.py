"""The yearly holiday arrangement (节假日安排, P3): entered by a 系统管理员 as dates and ranges, or imported
for a whole year from an .xlsx; every change audited. `cases.workdays` reads the rows (they override the
chinese-calendar package), so the next reminder check counts the new calendar without a restart.

Must not import views, consumers or the dialer.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import HttpRequest

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases.exceptions import CalendarError
from cases.imports.holidays import MAX_SPAN_DAYS, HolidayRow
from cases.models import HolidayArrangement


def _label(is_workday: bool) -> str:
    return "调休上班" if is_workday else "放假"


def _snapshot(days: list[dt.date]) -> dict[str, str]:
    return {d.isoformat(): f"{_label(w)} {n}".strip()
            for d, w, n in HolidayArrangement.objects.filter(date__in=days).values_list("date", "is_workday", "name")}


@transaction.atomic
def holiday_days_set(*, by: User, start: dt.date, end: dt.date | None, is_workday: bool, name: str,
                     request: HttpRequest | None = None) -> list[HolidayArrangement]:
    """Enter `start`..`end` (inclusive) as days off or adjusted working days, replacing what those dates held.

    Emits: nothing (the scheduler reads the calendar on its next tick).
    Raises: CalendarError.
    """
    end = end or start
    if end < start:
        raise CalendarError("结束日期不能早于开始日期。")
    if start.year != end.year:
        raise CalendarError("开始日期和结束日期须在同一年（跨年的假期请分两次录入）。")
    if (end - start).days >= MAX_SPAN_DAYS:
        raise CalendarError(f"一次最多录入 {MAX_SPAN_DAYS} 天。")
    name = name.strip()[:32]
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    before = _snapshot(days)
    rows = [HolidayArrangement.objects.update_or_create(date=d, defaults={"is_workday": is_workday, "name": name})[0]
            for d in days]
    span = f"{start:%Y-%m-%d}" if start == end else f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}"
    audit_record(actor=by, action=AuditAction.CALENDAR_CHANGE,
                 summary=f"节假日安排：{span} {_label(is_workday)} {name}".strip(),
                 object_type="holiday_arrangement", object_id=start.year,
                 detail={"dates": [d.isoformat() for d in days], "is_workday": is_workday, "name": name,
                         "before": before},
                 request=request)
    return rows


@transaction.atomic
def holiday_days_delete(*, by: User, dates: list[dt.date], request: HttpRequest | None = None) -> int:
    """Remove the entries of `dates` (those days fall back to the package or Monday–Friday); returns how many.

    Emits: nothing.
    Raises: nothing.
    """
    before = _snapshot(dates)
    if not before:
        return 0
    count, _ = HolidayArrangement.objects.filter(date__in=dates).delete()
    first = min(dates)
    audit_record(actor=by, action=AuditAction.CALENDAR_CHANGE,
                 summary=f"删除节假日安排：{'、'.join(sorted(before))}"[:480],
                 object_type="holiday_arrangement", object_id=first.year, detail={"before": before},
                 request=request)
    return count


@transaction.atomic
def holiday_year_import(*, by: User, year: int, rows: list[HolidayRow], filename: str,
                        request: HttpRequest | None = None) -> int:
    """Make the parsed file the whole arrangement of `year` (entries of that year not in the file are removed).

    Emits: nothing. Returns the number of dates entered.
    Raises: CalendarError when a row lies outside `year` or the file holds nothing.
    """
    if not rows:
        raise CalendarError("文件中没有任何安排。")
    wanted: dict[dt.date, tuple[bool, str]] = {}
    for row in rows:
        for day in row.days():
            if day.year != year:
                raise CalendarError(f"第 {row.row_number} 行的日期 {day:%Y-%m-%d} 不在 {year} 年。")
            wanted[day] = (row.is_workday, row.name)
    existing = HolidayArrangement.objects.filter(date__year=year)
    before = _snapshot(list(existing.values_list("date", flat=True)))
    existing.exclude(date__in=list(wanted)).delete()
    for day, (is_workday, name) in wanted.items():
        HolidayArrangement.objects.update_or_create(date=day, defaults={"is_workday": is_workday, "name": name})
    off = sum(1 for w, _ in wanted.values() if not w)
    audit_record(actor=by, action=AuditAction.CALENDAR_CHANGE,
                 summary=f"导入 {year} 年节假日安排（{filename}）：放假 {off} 天，调休上班 {len(wanted) - off} 天",
                 object_type="holiday_arrangement", object_id=year,
                 detail={"filename": filename, "before": before,
                         "after": {d.isoformat(): f"{_label(w)} {n}".strip() for d, (w, n) in sorted(wanted.items())}},
                 request=request)
    return len(wanted)
