"""Shared bits of the performance pages: the typed request and the month parameter."""

from __future__ import annotations

import datetime as dt
import re

from django.http import HttpRequest
from django.utils import timezone

from accounts.models import User


class AppRequest(HttpRequest):
    user: User


def month_param(raw: str | None) -> dt.date:
    """"2026-12" → 2026-12-01; anything else (or a month outside 2000–2099) is this month."""
    today = timezone.localdate()
    match = re.fullmatch(r"(20\d\d)-(0[1-9]|1[0-2])", (raw or "").strip())
    if not match:
        return today.replace(day=1)
    return dt.date(int(match.group(1)), int(match.group(2)), 1)


def month_links(month: dt.date) -> dict[str, str]:
    previous = (month - dt.timedelta(days=1)).replace(day=1)
    following = (month + dt.timedelta(days=32)).replace(day=1)
    return {"previous": f"{previous:%Y-%m}", "next": f"{following:%Y-%m}", "current": f"{month:%Y-%m}"}
