"""The dashboard table's rows, built in one pass in Python: Django's template loops (and the localisation of every
integer attribute) over 11 cells × 300 collectors took most of a 0.7 s page; issue 18 asks the dashboard for
p95 ≤ 150 ms on a large agency. The markup is the one dashboard.js updates live (data-scope, data-id, data-col,
data-money, nz)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from html import escape

from django import template
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def _cells(counters: object) -> str:
    parts = []
    for key, _label, value, shown in counters.cells():  # type: ignore[attr-defined]
        nz = " nz" if value else ""
        money = " data-money" if key == "repaid_amount" else ""
        parts.append(f'<td class="num{nz}" data-col="{key}"{money}>{escape(shown)}</td>')
    return "".join(parts)


def _id(value: int | None) -> str:
    return "none" if value is None else str(int(value))


def _url_for_ids(name: str) -> Callable[[int], str]:
    """reverse() once for a long table: the URL of one id, with the id swapped in per row."""
    sentinel = 2147483647
    url = reverse(name, args=[sentinel])
    return lambda pk: url.replace(str(sentinel), str(int(pk)))


@register.simple_tag
def dashboard_rows(dashboard: object) -> SafeString:
    # Each collector's name opens their work page (M3), where a manager reads their calls, visits, promises and
    # repayments.
    activity = _url_for_ids("worklist:collector-activity")
    rows = []
    for b in dashboard.branches:  # type: ignore[attr-defined]
        bid = _id(b.id)
        rows.append(f'<tr class="lvl-branch" data-scope="branch" data-id="{bid}"><th scope="row">{escape(b.name)}'
                    f"</th>{_cells(b.counters)}</tr>")
        for d in b.departments:
            did = _id(d.id)
            rows.append(f'<tr class="lvl-department" data-scope="department" data-id="{did}" data-branch="{bid}">'
                        f'<th scope="row">{escape(d.name)}</th>{_cells(d.counters)}</tr>')
            for c in d.collectors:
                rows.append(f'<tr class="lvl-collector" data-scope="collector" data-id="{int(c.id)}" '
                            f'data-department="{did}" data-branch="{bid}"><th scope="row">'
                            f'<a href="{activity(int(c.id))}" '
                            f'title="查看该业务员的通话、外访、承诺和回款">{escape(c.name)}</a></th>'
                            f"{_cells(c.counters)}</tr>")
    return mark_safe("\n".join(rows))  # noqa: S308 - names escaped, the rest are our own keys and numbers


def _shown(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))


@register.simple_tag
def progress_cells(figures: object) -> SafeString:
    """The figure cells of a batch progress row (cases … in hand), formatted once (200 batches × 12 cells)."""
    return mark_safe("".join(f'<td class="num mono">{_shown(v)}</td>'  # noqa: S308 - numbers, and escaped text
                             for v in figures.cells()))  # type: ignore[attr-defined]


def _days_left(days: int) -> str:
    css = " muted" if days < 0 else " warn" if days <= 7 else ""
    text = f"已过 {-days} 天" if days < 0 else "今天" if days == 0 else f"{days} 天"
    return f'<td class="num{css}">{text}</td>'


@register.simple_tag
def batch_progress_rows(rows: list[object]) -> SafeString:
    """The batch progress table's rows (bank, batch linking to its drill-down, return date, days left, figures),
    built in one pass: the template loop with a URL and a date filter per row cost ~60 ms for 200 batches."""
    url = _url_for_ids("cases:batch-progress-detail")
    out = []
    for r in rows:
        out.append(f'<tr data-batch="{int(r.batch_id)}">\n'  # type: ignore[attr-defined]
                   f"  <td>{escape(r.bank_name)}</td>\n"  # type: ignore[attr-defined]
                   f'  <td><a href="{url(r.batch_id)}">{escape(r.batch_no)}</a></td>\n'  # type: ignore[attr-defined]
                   f'  <td class="nowrap">{r.return_date:%Y-%m-%d}</td>\n'  # type: ignore[attr-defined]
                   f"  {_days_left(r.days_left)}\n"  # type: ignore[attr-defined]
                   f"  {progress_cells(r.figures)}\n</tr>")  # type: ignore[attr-defined]
    return mark_safe("\n".join(out))  # noqa: S308 - names escaped, the rest are dates and numbers


@register.simple_tag
def collector_progress_rows(batch: object, rows: list[object]) -> SafeString:
    """A batch's drill-down rows: each collector (linking to their cases of the batch), department, figures."""
    cases = f"{reverse('cases:case-list')}?batch={int(batch.pk)}&amp;collector="  # type: ignore[attr-defined]
    out = []
    for r in rows:
        name = escape(r.name)  # type: ignore[attr-defined]
        if r.collector_id:  # type: ignore[attr-defined]
            name = f'<a href="{cases}{int(r.collector_id)}">{name}</a>'  # type: ignore[attr-defined]
        out.append(f"<tr>\n  <td>{name}</td><td>{escape(r.department)}</td>\n"  # type: ignore[attr-defined]
                   f"  {progress_cells(r.figures)}\n</tr>")  # type: ignore[attr-defined]
    return mark_safe("\n".join(out))  # noqa: S308 - names escaped, the rest are our own URLs and numbers


@register.filter
def money(value: object) -> str:
    """1234567.8 → "1,234,567.80"; None → "—". Plain formatting (intcomma localises per call, slow in long tables)."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)):,.2f}"


@register.simple_tag
def progress_bar(percent: object) -> SafeString:
    """A target-progress bar and its figure; "未设目标" without a target."""
    if percent is None:
        return mark_safe('<span class="muted">未设目标</span>')
    value = Decimal(str(percent))
    width = min(int(value), 100) if value > 0 else 0
    ok = ' class="ok"' if value >= 100 else ""
    return mark_safe(f'<span class="progress-bar" title="{value}%"><i style="width: {width}%"></i></span> '  # noqa: S308
                     f"<b{ok}>{value}%</b>")


@register.simple_tag
def ranking_rows(rows: list[object]) -> SafeString:
    """A department's collectors on the ranking page (rank, name, month, target, progress, gap, contacts, contact
    target), built in one pass: the page reloads on every counter change and lists every collector."""
    out = []
    for row in rows:
        contact_target = row.contact_target  # type: ignore[attr-defined]
        out.append(f'<tr data-collector="{int(row.key)}"><td class="num"><b>{int(row.rank)}</b></td>'  # type: ignore[attr-defined]
                   f"<td>{escape(row.name)}</td><td class=\"num mono\">{money(row.actual)}</td>"  # type: ignore[attr-defined]
                   f'<td class="num mono">{money(row.target)}</td><td>{progress_bar(row.progress)}</td>'  # type: ignore[attr-defined]
                   f'<td class="num mono">{money(row.gap)}</td><td class="num mono">{int(row.contacts)}</td>'  # type: ignore[attr-defined]
                   f'<td class="num mono">{"—" if contact_target is None else int(contact_target)}</td></tr>')
    return mark_safe("".join(out))  # noqa: S308 - names escaped, the rest are numbers and our own markup
