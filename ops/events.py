"""Typed realtime events of system administration, registered in realtime.events' registry.

Imported by ops.apps.ready() in every process. Must not import models: events carry ids and primitives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from realtime.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class OpsAlertRaised(Event):
    """Something system admins must act on: a failed backup, a VPN account about to expire.

    Stored per admin (UserEvent) and sent to user.<id>, so an admin who was away sees it on reconnect.
    """

    type: ClassVar[str] = "ops.alert_raised"
    level: str  # "error" | "warn" | "info"
    title: str
    text: str
    url: str = ""
    raised_at: str  # ISO-8601 UTC
