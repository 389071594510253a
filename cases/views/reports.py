"""Report pages (C12, M6): tables in Chinese, each exportable to .xlsx. Clerks see their banks only;
collectors have no report pages (their own figures are on their dashboard). Adapters only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.inputs import bounded_date, id_param
from cases.actions.exports import report_export
from cases.selectors.banks import bank_list_for_user
from cases.selectors.reports import (
    BATCH_STATES,
    BREAKDOWNS,
    PERIODS,
    PROGRESS_HEADERS,
    ReportTable,
    batch_for_reports,
    batch_progress_by_collector,
    batch_progress_list,
    batch_progress_table,
    can_view_reports,
    collector_progress_table,
    complaint_report,
    credit_card_batch_report,
    progress_report,
    repayment_report,
)
from cases.views.cases import AppRequest

KINDS = {"repayments": "回款与佣金", "credit_card": "信用卡批次回款率", "progress": "工作进度",
         "complaints": "投诉统计"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A day × batch table of a month is thousands of rows: the page shows them 100 at a time (the totals and the
# .xlsx export cover every row), because rendering is what a long table costs, not the roll-up query.
REPORT_PAGE_SIZE = 100


def _fmt(value: object) -> str:
    """Figures formatted once in Python (template filters per cell cost more than the query on big tables)."""
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _date(raw: str | None, default: dt.date) -> dt.date:
    try:
        value = dt.date.fromisoformat(raw) if raw else default
    except ValueError:
        return default
    return bounded_date(value, default) or default


def _figure(value: object) -> float:
    """A table cell as a number to draw: Decimal, int, or a "12.34%" / "—" string."""
    if isinstance(value, Decimal | int):
        return float(value)
    text = str(value).rstrip("%")
    try:
        return float(text)
    except ValueError:
        return 0.0


def report_chart(kind: str, table: ReportTable) -> dict[str, object] | None:
    """The chart drawn above a report table (issue 18 item 1), built from the table's own rows so the two agree:
    repayments summed per period (trend), and a comparison per batch, collector or group for the others."""
    if not table.rows:
        return None
    if kind == "repayments":
        periods: dict[str, list[Decimal]] = {}
        with_commission = "佣金" in table.headers
        for row in table.rows:
            acc = periods.setdefault(str(row[0]), [Decimal("0.00"), Decimal("0.00")])
            acc[0] += row[3]  # type: ignore[operator]
            if with_commission:
                acc[1] += row[4]  # type: ignore[operator]
        labels = sorted(periods)
        series: list[dict[str, object]] = [{"name": "回款金额", "data": [float(periods[k][0]) for k in labels]}]
        if with_commission:
            series.append({"name": "佣金", "data": [float(periods[k][1]) for k in labels]})
        return {"type": "line" if len(labels) > 12 else "bar", "unit": "元", "categories": labels,
                "series": series, "title": f"{table.headers[0]}回款趋势"}
    if kind == "credit_card":
        return {"type": "bar", "unit": "%", "categories": [f"{r[0]} {r[1]}" for r in table.rows],
                "series": [{"name": "回款率", "data": [_figure(r[5]) for r in table.rows]}], "title": "各批次回款率"}
    if kind == "progress":
        return {"type": "bar", "unit": "元", "categories": [str(r[0]) for r in table.rows],
                "series": [{"name": "回款金额", "data": [_figure(r[5]) for r in table.rows]}],
                "title": f"回款金额（按{table.headers[0]}）"}
    if kind == "complaints":
        return {"type": "bar", "unit": "次", "categories": [str(r[0]) for r in table.rows],
                "series": [{"name": "投诉", "data": [_figure(r[-1]) for r in table.rows]}], "title": "各业务员投诉数"}
    return None


@login_required
@require_GET
def report_view(request: AppRequest) -> HttpResponse:
    if not can_view_reports(request.user):
        raise PermissionDenied
    g = request.GET
    kind = g.get("kind") if g.get("kind") in KINDS else "repayments"
    period = g.get("period") if g.get("period") in PERIODS else "month"
    by = g.get("by") if g.get("by") in BREAKDOWNS else "batch"
    group = g.get("group") if g.get("group") in ("collector", "department", "branch") else "collector"
    today = timezone.localdate()
    default_from = {"day": today - dt.timedelta(days=30), "month": today.replace(month=1, day=1),
                    "year": dt.date(today.year - 4, 1, 1)}[period]
    date_from, date_to = _date(g.get("from"), default_from), _date(g.get("to"), today)
    bank_id = id_param(g.get("bank"))
    if kind == "repayments":
        table: ReportTable = repayment_report(user=request.user, period=period, by=by, date_from=date_from,
                                              date_to=date_to, bank_id=bank_id)
    elif kind == "credit_card":
        table = credit_card_batch_report(user=request.user)
    elif kind == "progress":
        table = progress_report(user=request.user, group=group)
    else:
        table = complaint_report(user=request.user)
    if g.get("format") == "xlsx":
        data = report_export(table=table, by=request.user, detail={k: v for k, v in g.items() if k != "format"})
        response = HttpResponse(data, content_type=XLSX)
        name = f"{table.title}-{today:%Y%m%d}.xlsx"
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return response
    query = g.copy()
    query["format"] = "xlsx"
    query.pop("page", None)
    # A collector's name links to their work page (M3: calls, visits, promises, repayments) for those who may open it.
    links = ([reverse("worklist:collector-activity", args=[pk]) if pk else "" for pk in table.row_collectors]
             if table.row_collectors and (request.user.is_manager or request.user.is_clerk) else [])
    page = Paginator(list(zip(table.rows, links or [""] * len(table.rows), strict=True)),
                     REPORT_PAGE_SIZE).get_page(g.get("page"))
    cut = table.label_cols
    return render(request, "reports/report.html", {
        "table": table, "page": page, "row_count": len(table.rows),
        "display_rows": [([_fmt(v) for v in row[:cut]], [_fmt(v) for v in row[cut:]], link)
                         for row, link in page.object_list],
        "display_total": ([_fmt(v) for v in table.total[:cut]], [_fmt(v) for v in table.total[cut:]])
        if table.total else None,
        "display_headers": (table.headers[:cut], table.headers[cut:]),
        "kind": kind, "kinds": KINDS, "period": period, "periods": PERIODS, "by": by,
        "breakdowns": BREAKDOWNS, "group": group, "date_from": date_from, "date_to": date_to,
        "banks": bank_list_for_user(user=request.user), "bank_id": bank_id, "export_query": query.urlencode(),
        "chart": report_chart(kind, table),
    })


def _xlsx_response(request: AppRequest, table: ReportTable) -> HttpResponse:
    data = report_export(table=table, by=request.user,
                         detail={k: v for k, v in request.GET.items() if k != "format"})
    response = HttpResponse(data, content_type=XLSX)
    name = f"{table.title}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@login_required
@require_GET
def batch_progress_view(request: AppRequest) -> HttpResponse:
    """Issue 18 item 4: every batch's progress (cases, contacted, visited, promised, repaid, recovery rate,
    returned / retained, days to the return date), the clerk's look before 退案; drill down per batch."""
    if not can_view_reports(request.user):
        raise PermissionDenied
    g = request.GET
    state = g.get("state") if g.get("state") in BATCH_STATES else "open"
    bank_id = id_param(g.get("bank"))
    rows = batch_progress_list(user=request.user, bank_id=bank_id, state=state)
    table = batch_progress_table(rows)
    if g.get("format") == "xlsx":
        return _xlsx_response(request, table)
    query = g.copy()
    query["format"] = "xlsx"
    return render(request, "reports/batch_progress.html", {
        "rows": rows, "total": table.total, "headers": PROGRESS_HEADERS, "state": state, "states": BATCH_STATES,
        "banks": bank_list_for_user(user=request.user), "bank_id": bank_id, "export_query": query.urlencode(),
        "kinds": KINDS, "kind": "batches", "nav_active": "reports",
        "chart": {"type": "bar", "unit": "%", "categories": [f"{r.bank_name} {r.batch_no}" for r in rows[:40]],
                  "series": [{"name": "回收率", "data": [_figure(r.figures.rate) for r in rows[:40]]}],
                  "title": "各批次回收率（按退案日期，最多 40 个）"} if rows else None,
    })


@login_required
@require_GET
def batch_progress_detail_view(request: AppRequest, batch_id: int) -> HttpResponse:
    """Drill-down of one batch to the collectors holding its cases."""
    if not can_view_reports(request.user):
        raise PermissionDenied
    batch = batch_for_reports(user=request.user, batch_id=batch_id)
    if batch is None:
        raise Http404
    rows = batch_progress_by_collector(batch=batch)
    table = collector_progress_table(batch=batch, rows=rows)
    if request.GET.get("format") == "xlsx":
        return _xlsx_response(request, table)
    return render(request, "reports/batch_progress_detail.html", {
        "batch": batch, "rows": rows, "total": table.total, "headers": PROGRESS_HEADERS,
        "days_left": (batch.return_date - timezone.localdate()).days, "kinds": KINDS, "kind": "batches",
        "nav_active": "reports",
    })
