"""Who may do what in the collector's day (issue 16)."""

from __future__ import annotations

from accounts.models import User
from cases.models import Case
from cases.policies import can_record_work


def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_view_work_queue(*, user: User) -> bool:
    """今日工作 is the collector's own page."""
    return _active(user) and user.is_collector


def can_schedule_callback(*, user: User, case: Case) -> bool:
    """The collector working the case agrees callbacks on it (as calls are recorded: P4)."""
    return can_record_work(user=user, case=case)


def can_manage_work_settings(*, user: User) -> bool:
    """A manager sets each bank's promise tolerance and grace and the queue's weights."""
    return _active(user) and user.is_manager


def can_view_collector_activity(*, user: User, collector: User) -> bool:
    """M3: managers see every collector's work, clerks the work on their banks' cases, a collector their own."""
    if not _active(user) or not collector.is_collector:
        return False
    return user.is_manager or user.is_clerk or user.pk == collector.pk
