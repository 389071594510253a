"""Complaints (C13). Must not import views or `realtime.consumers`."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from cases import history
from cases.models import Case, Complaint


@transaction.atomic
def complaint_record(*, case: Case, content: str, reason: str, collector: User | None, by: User) -> Complaint:
    """Record a complaint on `case` against `collector` (usually the case's collector).

    Emits: nothing.
    Raises: nothing.
    """
    complaint = Complaint.objects.create(case=case, content=content.strip(), reason=reason, collector=collector,
                                         recorded_by=by)
    history.complaint_recorded(complaint=complaint, actor=by)
    return complaint
