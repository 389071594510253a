"""节假日安排 (P3): the year as a calendar with where each day's answer comes from, entering dates and ranges,
removing entries and importing a whole year from an .xlsx. System admins change it; managers may look.

Adapters only: parse, call a cases action, render.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from accounts.models import User
from cases.actions.calendar import holiday_days_delete, holiday_days_set, holiday_year_import
from cases.exceptions import CalendarError
from cases.imports.holidays import holiday_template, parse_holiday_workbook
from cases.selectors.calendar import calendar_year_get, holiday_ranges
from ops.forms import HolidayForm, HolidayImportForm
from ops.policies import can_administer, sysadmin_required

YEAR_MIN, YEAR_MAX = 2004, 2100
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year(raw: object) -> int:
    text = str(raw or "")
    if text.isdigit() and YEAR_MIN <= int(text) <= YEAR_MAX:
        return int(text)
    today = timezone.localdate()
    # From November the State Council has published next year's arrangement: open the page on that year.
    return today.year + 1 if today.month >= 11 else today.year


def _back(year: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('ops:calendar')}?year={year}")


def calendar_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    assert isinstance(user, User)
    if not (can_administer(user) or user.is_manager):
        raise PermissionDenied("仅系统管理员和管理人员可以查看节假日安排。")
    year = _year(request.GET.get("year"))
    form = HolidayForm(initial={"start": dt.date(year, 1, 1)})
    return _render(request, year=year, form=form, import_form=HolidayImportForm())


def _render(request: HttpRequest, *, year: int, form: HolidayForm, import_form: HolidayImportForm,
            import_errors: list[object] | None = None, status: int = 200) -> HttpResponse:
    return render(request, "ops/calendar.html", {
        "year": year, "cal": calendar_year_get(year=year), "ranges": holiday_ranges(year=year), "form": form,
        "import_form": import_form, "import_errors": import_errors or [], "years": range(year - 1, year + 2),
        "can_edit": can_administer(request.user),  # type: ignore[arg-type]
        "weekdays": "一二三四五六日", "nav_active": "master-data",
    }, status=status)


@sysadmin_required
@require_POST
def holiday_add_view(request: HttpRequest) -> HttpResponse:
    form = HolidayForm(request.POST)
    year = _year(request.POST.get("year"))
    if form.is_valid():
        data = form.cleaned_data
        try:
            rows = holiday_days_set(by=request.user, start=data["start"], end=data["end"],  # type: ignore[arg-type]
                                    is_workday=data["kind"] == "work", name=data["name"], request=request)
        except CalendarError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已录入 {len(rows)} 天（已记入审计日志），提醒即按新日历计算。")
            return _back(data["start"].year)
    return _render(request, year=year, form=form, import_form=HolidayImportForm(), status=400)


@sysadmin_required
@require_POST
def holiday_delete_view(request: HttpRequest) -> HttpResponse:
    year = _year(request.POST.get("year"))
    try:
        start = dt.date.fromisoformat(request.POST.get("start", ""))
        end = dt.date.fromisoformat(request.POST.get("end", "") or start.isoformat())
    except ValueError:
        messages.error(request, "没有指定要删除的日期。")
        return _back(year)
    days = [start + dt.timedelta(days=i) for i in range(max(0, min((end - start).days, 366)) + 1)]
    count = holiday_days_delete(by=request.user, dates=days, request=request)  # type: ignore[arg-type]
    messages.success(request, f"已删除 {count} 天的安排（已记入审计日志）。" if count else "没有可删除的安排。")
    return _back(start.year)


@sysadmin_required
def holiday_template_view(request: HttpRequest) -> HttpResponse:
    year = _year(request.GET.get("year"))
    response = HttpResponse(holiday_template(year=year), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True,
                                                                 filename=f"{year}年节假日安排模板.xlsx")
    return response


@sysadmin_required
@require_POST
def holiday_import_view(request: HttpRequest) -> HttpResponse:
    year = _year(request.POST.get("year"))
    import_form = HolidayImportForm(request.POST, request.FILES)
    errors: list[object] = []
    if import_form.is_valid():
        upload = import_form.cleaned_data["file"]
        parsed = parse_holiday_workbook(upload, year=year)
        if not parsed.errors:
            try:
                count = holiday_year_import(by=request.user, year=year, rows=parsed.rows,  # type: ignore[arg-type]
                                            filename=upload.name, request=request)
            except CalendarError as exc:
                errors = [str(exc)]
            else:
                messages.success(request, f"已导入 {year} 年的节假日安排：共 {count} 天（已记入审计日志）。")
                return _back(year)
        else:
            errors = [str(e) for e in parsed.errors]
    form = HolidayForm(initial={"start": dt.date(year, 1, 1)})
    return _render(request, year=year, form=form, import_form=import_form, import_errors=errors, status=400)
