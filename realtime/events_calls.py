"""Typed events of the dialer's calls (issue 5: live call panel, inbound pop-up), registered in the registry.

Sent to the collector's `user.<id>` group by cases/actions/dialer.py (the dialer reaches it through
dialer/domain.py). Not stored: a call panel shows the present, and a page opened later asks nothing old.
Must not import models, the ORM or anything of `cases`: events carry ids and primitives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from realtime.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class CallStatusChanged(Event):
    """A call of the recipient moved: requested → ringing → connected → ended, or was refused at once.

    `status`: "requested", "ringing" (collector's phone), "dialling" (customer), "connected", "ended",
    "refused". `message` is the Chinese line the panel shows (the refusal rule, the end cause).
    """

    type: ClassVar[str] = "call.status_changed"
    call_uuid: str
    status: str
    direction: str  # "outbound" | "inbound"
    number_masked: str
    case_id: int | None = None
    case_label: str = ""
    case_url: str = ""  # inbound: the case to pop up
    cause: str = ""
    message: str = ""
    connected_at: str = ""  # ISO-8601 UTC, for the running timer
    duration_s: int | None = None
    sent_at: float = 0.0  # epoch seconds of the ARI event behind this update (latency benchmark)


@register
@dataclass(frozen=True, kw_only=True)
class CallRecorded(Event):
    """A call of the recipient placed through the system is now on its case's work records (the dialer writes
    it after the call ends). `needs_outcome`: no result yet, the collector is asked to enter one (P4).

    An open page of that case refreshes its work panel; the call panel links to the call's row.
    """

    type: ClassVar[str] = "call.recorded"
    case_id: int
    call_id: int
    needs_outcome: bool = False


@register
@dataclass(frozen=True, kw_only=True)
class LinesChanged(Event):
    """A line was taken or freed (M7): the lines board reloads its live part. Sent at most five times a second
    by the dialer, to the `lines` group."""

    type: ClassVar[str] = "lines.changed"
    in_use: int
    lines: int
