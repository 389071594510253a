"""The dashboard table's rows, built in one pass in Python: Django's template loops (and the localisation of every
integer attribute) over 11 cells × 300 collectors took most of a 0.7 s page; issue 18 asks the dashboard for
p95 ≤ 150 ms on a large agency. The markup is the one dashboard.js updates live (data-scope, data-id, data-col,
data-money, nz)."""

from __future__ import annotations

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


def activity(collector_id: int) -> str:
    """The collector's work page (M3), where a manager reads their calls, visits, promises and repayments."""
    return reverse("worklist:collector-activity", args=[collector_id])


@register.simple_tag
def dashboard_rows(dashboard: object) -> SafeString:
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
    from decimal import Decimal

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


@register.filter
def money(value: object) -> str:
    """1234567.8 → "1,234,567.80"; None → "—". Plain formatting (intcomma localises per call, slow in long tables)."""
    from decimal import Decimal

    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)):,.2f}"


@register.simple_tag
def progress_bar(percent: object) -> SafeString:
    """A target-progress bar and its figure; "未设目标" without a target."""
    from decimal import Decimal

    if percent is None:
        return mark_safe('<span class="muted">未设目标</span>')
    value = Decimal(str(percent))
    width = min(int(value), 100) if value > 0 else 0
    ok = ' class="ok"' if value >= 100 else ""
    return mark_safe(f'<span class="progress-bar" title="{value}%"><i style="width: {width}%"></i></span> '  # noqa: S308
                     f"<b{ok}>{value}%</b>")
