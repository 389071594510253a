"""Typed control events about access, registered in realtime.events' registry: sent to a session's or an
account's group so that every open websocket concerned closes or drops what its user may no longer see.

They are handled by the consumers themselves (realtime/consumers/base.py), never forwarded to the browser.
Must not import models, the ORM or anything of `cases`: events carry ids and primitives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from realtime.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class SessionEnded(Event):
    """A login session ended (logout): its sockets close with 4401."""

    type: ClassVar[str] = "session.ended"
    reason: str  # "logout"


@register
@dataclass(frozen=True, kw_only=True)
class AccountSignedOut(Event):
    """Every session of an account ended (deactivated, password reset or changed): all its sockets close."""

    type: ClassVar[str] = "account.signed_out"
    user_id: int
    reason: str  # "deactivated" | "password_changed" | "must_change_password"


@register
@dataclass(frozen=True, kw_only=True)
class CaseAccessRevoked(Event):
    """`user_id` may no longer see some cases (moved to another collector, a bank taken from a clerk): their
    sockets re-check every case and chat subscription and leave those no longer visible."""

    type: ClassVar[str] = "account.case_access_revoked"
    user_id: int
    case_ids: tuple[int, ...] = ()  # empty: re-check every case subscription (a whole bank was withdrawn)
