"""Input guards shared by every app: what a parameter may hold before it reaches a query.

Bad input gets a clear 400 or an empty result, never a 500: page numbers and ids are kept inside what the
database's bigint holds, dates inside the years the business can mean (a date filter of 9999-12-31 used to
overflow when a day was added to it), and NUL bytes, which PostgreSQL cannot store or compare, are refused at
the door by `RejectNulMiddleware`. Must not import `cases` or `realtime`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest

# Far beyond any list the product shows (50 rows a page), far below where an OFFSET overflows.
MAX_PAGE = 100_000
BIGINT_MAX = 2**63 - 1
DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2999, 12, 31)


def page_number(raw: object) -> int:
    """A page number from a query value: 1 for anything that is not a positive number, at most MAX_PAGE."""
    text = str(raw or "").strip()
    if not text.isdigit():
        return 1
    return min(max(int(text), 1), MAX_PAGE)


def id_param(raw: object) -> int | None:
    """A positive id from a query or form value, None for anything a bigint column cannot hold."""
    text = str(raw or "").strip()
    if not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= BIGINT_MAX else None


def bounded_date(value: dt.date | None, default: dt.date | None = None) -> dt.date | None:
    """`value` when it lies in DATE_MIN..DATE_MAX, else `default`."""
    if value is None or not DATE_MIN <= value <= DATE_MAX:
        return default
    return value


class BusinessDateField(forms.DateField):
    """A date filter: 1900-01-01 … 2999-12-31, with a message saying so."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.error_messages.setdefault("invalid", "请输入正确的日期，例如 2026-03-01。")

    def validate(self, value: dt.date | None) -> None:
        super().validate(value)
        if value is not None and not DATE_MIN <= value <= DATE_MAX:
            raise forms.ValidationError(
                f"日期超出范围：请填写 {DATE_MIN:%Y-%m-%d} 至 {DATE_MAX:%Y-%m-%d} 之间的日期。", code="out_of_range"
            )


class PageField(forms.IntegerField):
    """The `page` parameter of a list: 1 … MAX_PAGE."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_PAGE)
        super().__init__(**kwargs)  # type: ignore[arg-type]


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    for data in (request.GET, request.POST if request.method == "POST" else None):
        if data is None:
            continue
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                return True
    return False


class RejectNulMiddleware:
    """A NUL byte in the path or in any parameter is refused with 400 (PostgreSQL cannot take it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            return HttpResponseBadRequest(
                "请求中含有不允许的控制字符（NUL），请检查输入后重试。".encode(),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)
