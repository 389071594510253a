"""How progressive dialling learns that an outcome was saved (`cases` must not import this app): a receiver of
the call record's save that releases a session waiting for that call's outcome, in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from cases.models import CallRecord
from progressive import actions
from progressive.models import OPEN_SESSION_STATUSES, DialSession


@receiver(post_save, sender=CallRecord, dispatch_uid="progressive-call-saved")
def call_saved(sender: type[CallRecord], instance: CallRecord, created: bool, **kwargs: Any) -> None:
    if created or not instance.result:
        return
    if DialSession.objects.filter(awaiting_call_id=instance.pk, status__in=OPEN_SESSION_STATUSES).exists():
        actions.session_outcome_saved(call_id=instance.pk)
