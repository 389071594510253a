"""Who may do what in progressive dialling (issue 17)."""

from __future__ import annotations

from accounts.models import User
from progressive.models import DialSession


def can_start_session(*, user: User) -> bool:
    """A phone collector dials their own cases."""
    return bool(user.is_authenticated and user.is_active and user.is_phone_collector)


def can_control_session(*, user: User, session: DialSession) -> bool:
    """Only the collector whose phone rings pauses, resumes, skips, extends or stops their session."""
    return bool(user.is_authenticated and user.is_active and session.collector_id == user.pk)
