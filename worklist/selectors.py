"""Reads of the collector's day: a case's promises and callbacks (the queue itself is worklist.queue)."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import Case
from worklist.models import Callback, CallbackStatus, Promise


def promise_list_for_case(*, case: Case) -> QuerySet[Promise]:
    return Promise.objects.filter(case=case).select_related("collector").order_by("-due_date", "-id")


def callback_list_for_case(*, case: Case) -> QuerySet[Callback]:
    return Callback.objects.filter(case=case).select_related("collector").order_by("-due_at", "-id")


def callback_pending_for_case(*, case: Case) -> QuerySet[Callback]:
    return callback_list_for_case(case=case).filter(status=CallbackStatus.PENDING)
