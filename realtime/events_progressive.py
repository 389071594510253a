"""Typed events of progressive dialling (连续外呼, issue 17): a session moved (started, paused, resumed, a call
placed or ended, wrap-up extended, stopped). Sent by progressive/actions.py after commit to the collector (their
call panel's session bar) and to the lines board. Not stored: the bar shows the present.

Must not import models, the ORM or anything of `cases`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from realtime.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class DialSessionChanged(Event):
    type: ClassVar[str] = "dialsession.changed"
    session_id: int
    collector_id: int
    status: str  # SessionStatus value
