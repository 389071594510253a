"""节假日安排 (P3, issue 15): a 系统管理员 made on the account page enters a year's holidays and adjusted working days
on the product's own page (single dates, ranges, or a whole year from an .xlsx), sees the year with where each day
comes from, and the first-call reminders count the new calendar at once; every change is audited."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from openpyxl import Workbook

from accounts.models import AuditAction, AuditEntry
from cases.actions.reminders import reminder_fire_due
from cases.enums import CaseStatus, ReminderKind
from cases.imports.holidays import holiday_template, parse_holiday_workbook
from cases.models import HolidayArrangement, Reminder

SH = ZoneInfo("Asia/Shanghai")
D = dt.date


def at(y, m, d, hh=9, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


def _xlsx(rows, header=("开始日期", "结束日期", "类型", "名称")) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "2027.xlsx"
    return out


def _sources(html: str, *days: str) -> dict[str, str]:
    import re

    found = dict(re.findall(r'data-date="([\d-]+)" data-source="(\w+)"', html))
    return {d: found[d] for d in days}


def test_year_shows_where_each_day_comes_from(sysadmin_client):
    # given: one 2027 date entered; 2026 comes from the package
    HolidayArrangement.objects.create(date=D(2027, 1, 1), is_workday=False, name="元旦")
    # when
    html_2027 = sysadmin_client.get(reverse("ops:calendar"), {"year": "2027"}).content.decode()
    html_2026 = sysadmin_client.get(reverse("ops:calendar"), {"year": "2026"}).content.decode()
    # then
    assert _sources(html_2027, "2027-01-01", "2027-01-04") == {"2027-01-01": "entered", "2027-01-04": "fallback"}
    assert _sources(html_2026, "2026-10-01") == {"2026-10-01": "package"}
    assert "没有录入的日期按周一至周五计算" in html_2027


def test_unknown_year_says_so(sysadmin_client):
    # when
    html = sysadmin_client.get(reverse("ops:calendar"), {"year": "2028"}).content.decode()
    # then
    assert "2028 年的法定节假日安排尚未录入" in html


def test_range_is_entered_and_audited(sysadmin_client, sysadmin):
    # when
    response = sysadmin_client.post(reverse("ops:holiday-add"), {
        "year": "2027", "start": "2027-10-01", "end": "2027-10-07", "kind": "off", "name": "国庆节"})
    # then
    assert response.status_code == 302
    assert list(HolidayArrangement.objects.values_list("date", flat=True)) == [
        D(2027, 10, d) for d in range(1, 8)]
    entry = AuditEntry.objects.get(action=AuditAction.CALENDAR_CHANGE)
    assert entry.actor == sysadmin
    assert entry.summary == "节假日安排：2027-10-01 至 2027-10-07 放假 国庆节"


def test_range_out_of_order_is_refused_in_chinese(sysadmin_client):
    # when
    response = sysadmin_client.post(reverse("ops:holiday-add"), {
        "year": "2027", "start": "2027-10-07", "end": "2027-10-01", "kind": "off", "name": "国庆节"})
    # then
    assert response.status_code == 400
    assert "结束日期不能早于开始日期" in response.content.decode()
    assert not HolidayArrangement.objects.exists()


def test_delete_removes_the_range_and_is_audited(sysadmin_client):
    # given
    sysadmin_client.post(reverse("ops:holiday-add"), {"year": "2027", "start": "2027-10-01", "end": "2027-10-03",
                                                      "kind": "off", "name": "国庆节"})
    # when
    sysadmin_client.post(reverse("ops:holiday-delete"), {"year": "2027", "start": "2027-10-01", "end": "2027-10-03"})
    # then
    assert not HolidayArrangement.objects.exists()
    assert AuditEntry.objects.filter(action=AuditAction.CALENDAR_CHANGE, summary__startswith="删除节假日安排").exists()


def test_import_replaces_the_year_and_is_audited(sysadmin_client):
    # given: an old entry of 2027 the file no longer has, and one of 2026 that must stay
    HolidayArrangement.objects.create(date=D(2027, 5, 5), is_workday=False, name="错的")
    HolidayArrangement.objects.create(date=D(2026, 5, 5), is_workday=False, name="别的年份")
    upload = _xlsx([(D(2027, 10, 1), D(2027, 10, 7), "放假", "国庆节"), ("2027-10-09", "", "上班", "国庆节调休上班")])
    # when
    response = sysadmin_client.post(reverse("ops:holiday-import"), {"year": "2027", "file": upload})
    # then
    assert response.status_code == 302
    days = dict(HolidayArrangement.objects.filter(date__year=2027).values_list("date", "is_workday"))
    assert days == {**{D(2027, 10, d): False for d in range(1, 8)}, D(2027, 10, 9): True}
    assert HolidayArrangement.objects.filter(date=D(2026, 5, 5)).exists()
    entry = AuditEntry.objects.get(action=AuditAction.CALENDAR_CHANGE)
    assert "放假 7 天，调休上班 1 天" in entry.summary and "2027-05-05" in entry.detail["before"]


def test_import_with_errors_saves_nothing_and_names_each_row(sysadmin_client):
    # given
    upload = _xlsx([(D(2027, 10, 1), D(2027, 10, 7), "放假", "国庆节"), (D(2026, 1, 1), "", "放假", "元旦"),
                    (D(2027, 10, 3), "", "休", "重复"), (D(2027, 2, 1), "", "补班", "")])
    # when
    response = sysadmin_client.post(reverse("ops:holiday-import"), {"year": "2027", "file": upload})
    # then
    text = response.content.decode()
    assert response.status_code == 400
    assert "第 3 行" in text and "2026-01-01 不在 2027 年" in text
    assert "类型请填写“放假”或“上班”（现为“休”）" in text
    assert "类型请填写“放假”或“上班”（现为“补班”）" in text
    assert not HolidayArrangement.objects.exists()


def test_template_round_trips():
    # given
    data = holiday_template(year=2027)
    # when
    parsed = parse_holiday_workbook(io.BytesIO(data), year=2027)
    # then
    assert parsed.errors == []
    assert [(r.start, r.end, r.is_workday, r.name) for r in parsed.rows] == [
        (D(2027, 1, 1), D(2027, 1, 1), False, "元旦"), (D(2027, 10, 1), D(2027, 10, 7), False, "国庆节")]


def test_template_download(sysadmin_client):
    # when
    response = sysadmin_client.get(reverse("ops:holiday-template"), {"year": "2027"})
    # then
    assert response.status_code == 200
    assert parse_holiday_workbook(io.BytesIO(response.content), year=2027).errors == []


def test_manager_sees_the_calendar_but_cannot_change_it(manager_client, clerk_client):
    # when
    page = manager_client.get(reverse("ops:calendar"), {"year": "2027"})
    post = manager_client.post(reverse("ops:holiday-add"), {"year": "2027", "start": "2027-10-01", "kind": "off"})
    clerk = clerk_client.get(reverse("ops:calendar"))
    # then
    assert page.status_code == 200 and "录入一段安排" not in page.content.decode()
    assert post.status_code == 403 and not HolidayArrangement.objects.exists()
    assert clerk.status_code == 403


@pytest.mark.django_db
def test_2027_entered_on_the_page_drives_first_call_reminders(sysadmin_client, make_case, collector, clerk):
    # given: the admin enters National Day 2027 (1–7 October) and the adjusted working Saturday 9 October
    for data in ({"start": "2027-10-01", "end": "2027-10-07", "kind": "off", "name": "国庆节"},
                 {"start": "2027-10-09", "kind": "work", "name": "国庆节调休上班"}):
        assert sysadmin_client.post(reverse("ops:holiday-add"), {"year": "2027", **data}).status_code == 302
    # and a case assigned Wednesday 29 September 2027: its 3 working days are 30 Sep, 8 Oct and Saturday 9 Oct
    make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, assigned_at=at(2027, 9, 29, 10),
              return_date=D(2027, 12, 31), entrust_date=D(2027, 9, 1))
    # when: Tuesday 5 October (Monday–Friday counting would have made 4 October the deadline) and the deadline day
    for moment in (at(2027, 10, 5, 9), at(2027, 10, 9, 20)):
        with time_machine.travel(moment, tick=False):
            reminder_fire_due()
    # then: not overdue yet
    assert not Reminder.objects.filter(kind=ReminderKind.FIRST_CALL_OVERDUE).exists()
    # when: Sunday 10 October
    with time_machine.travel(at(2027, 10, 10, 0, 5), tick=False):
        reminder_fire_due()
    # then
    [reminder] = Reminder.objects.filter(kind=ReminderKind.FIRST_CALL_OVERDUE)
    assert reminder.user == collector and reminder.due_at == at(2027, 10, 10, 0, 0)
