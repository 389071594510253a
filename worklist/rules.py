"""Rules of the collector's day that read settings but write nothing: when a callback may be agreed, and when an
unanswered case may be rung again (the calling window and the daily cap, issue 5's compliance rules)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cases.actions.call_rules import CALLBACK_HORIZON, callback_refusal, calling_window
from cases.models import CallPolicy
from cases.models.compliance import DEFAULT_MAX_UNANSWERED_PER_NUMBER, DEFAULT_WINDOW_END, DEFAULT_WINDOW_START

# callback_refusal (the case page's and the call outcome form's rule) lives in cases, which checks it when a call's
# outcome agrees a callback; re-exported here for the worklist's own callers.
__all__ = ["CALLBACK_HORIZON", "RETRY_GAP", "callback_refusal", "calling_window", "calling_windows", "in_window"]

# An unanswered case comes back to the queue this long after its last attempt.
RETRY_GAP = dt.timedelta(hours=1)


def calling_windows(bank_ids: set[int]) -> dict[int, tuple[dt.time, dt.time, int]]:
    """calling_window of several banks in one query."""
    found = {p.bank_id: (p.window_start, p.window_end, p.max_unanswered_per_number)
             for p in CallPolicy.objects.filter(bank_id__in=bank_ids)}
    default = (DEFAULT_WINDOW_START, DEFAULT_WINDOW_END, DEFAULT_MAX_UNANSWERED_PER_NUMBER)
    return {bid: found.get(bid, default) for bid in bank_ids}


def in_window(*, start: dt.time, end: dt.time, now: dt.datetime) -> bool:
    return start <= timezone.localtime(now).time() <= end
