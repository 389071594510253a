"""Reads of progressive dialling: the sessions ready for their next call (the dialer), the collector's open session
(their session bar), the sessions live now (the lines board) and a session's log."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from accounts.models import User
from progressive.models import OPEN_SESSION_STATUSES, DialSession, SessionEntry, SessionStatus


@dataclass(frozen=True)
class ReadySession:
    session_id: int
    collector_id: int
    extension: str
    ready_at: dt.datetime | None  # since when the collector has been free (the longest-waiting goes first)


def session_ready_list(*, now: dt.datetime) -> list[ReadySession]:
    """Active sessions with no call of theirs in progress and the wrap-up over (or the outcome saved)."""
    rows = (DialSession.objects.filter(status=SessionStatus.ACTIVE, current_call_uuid="")
            .filter(Q(ready_at__isnull=True) | Q(ready_at__lte=now))
            .exclude(collector__sip_endpoint="")
            .values_list("pk", "collector_id", "collector__sip_endpoint", "ready_at").order_by("ready_at", "pk"))
    return [ReadySession(session_id=pk, collector_id=cid, extension=ext, ready_at=at) for pk, cid, ext, at in rows]


def session_open_for(*, collector: User) -> DialSession | None:
    return (DialSession.objects.filter(collector=collector, status__in=OPEN_SESSION_STATUSES)
            .select_related("current_case", "awaiting_call").first())


def session_last_for(*, collector: User) -> DialSession | None:
    """The collector's open session, else the one they ended last (the bar shows how it went)."""
    return session_open_for(collector=collector) or (
        DialSession.objects.filter(collector=collector).select_related("current_case").order_by("-id").first())


def session_live_list() -> QuerySet[DialSession]:
    """Every open session, for the managers' lines board."""
    return (DialSession.objects.filter(status__in=OPEN_SESSION_STATUSES)
            .select_related("collector", "current_case").order_by("started_at", "pk"))


def session_entries(*, session: DialSession, limit: int = 20) -> QuerySet[SessionEntry]:
    return session.entries.select_related("case", "contact").order_by("-created_at", "-id")[:limit]


def session_open_call_uuids() -> list[str]:
    return list(DialSession.objects.filter(status__in=OPEN_SESSION_STATUSES).exclude(current_call_uuid="")
                .values_list("current_call_uuid", flat=True))
