"""Reads for the all-business-data export (M5): every record of the cases a user exports, in case order.

Each function takes the exported cases as a queryset of ids (`export_case_ids`) and returns a queryset the
export reads through a server-side cursor (`.iterator()`), so nothing here grows with the number of rows.
Deleted work records and deleted files are left out, as in a case's own download (C14, C15).
Must not import views, forms or `realtime`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

from django.db.models import Prefetch, QuerySet

from accounts.models import User
from cases.models import CallRecord, Case, CaseContact, CaseEvent, Complaint, Repayment, StoredFile, VisitRecord
from cases.selectors.cases import CaseFilters, case_imported_event, case_list

# A `.values("pk")` queryset of cases, used as a subquery.
CaseIds: TypeAlias = "QuerySet[Case, dict[str, object]]"


def export_case_ids(*, user: User, filters: CaseFilters) -> CaseIds:
    """The ids of the cases `user` sees that match `filters` (the case list's scope and filters)."""
    return case_list(user=user, filters=filters).order_by().values("pk")


def export_contacts(*, case_ids: CaseIds) -> QuerySet[CaseContact]:
    return (CaseContact.objects.filter(case_id__in=case_ids).select_related("case", "case__bank")
            .order_by("case_id", "id"))


def export_calls(*, case_ids: CaseIds) -> QuerySet[CallRecord]:
    return (CallRecord.objects.filter(case_id__in=case_ids, deleted_at=None)
            .select_related("case", "case__bank", "case__batch", "collector", "contact", "recording")
            .order_by("case_id", "started_at", "id"))


def export_visits(*, case_ids: CaseIds) -> QuerySet[VisitRecord]:
    live_files = StoredFile.objects.filter(deleted_at=None).exclude(file="").order_by("id")
    return (VisitRecord.objects.filter(case_id__in=case_ids, deleted_at=None)
            .select_related("case", "case__bank", "case__batch", "collector", "entered_by")
            .prefetch_related(Prefetch("files", queryset=live_files, to_attr="live_files"))
            .order_by("case_id", "visited_on", "id"))


def export_repayments(*, case_ids: CaseIds) -> QuerySet[Repayment]:
    return (Repayment.objects.filter(case_id__in=case_ids)
            .select_related("case", "case__bank", "case__batch", "recorded_by")
            .order_by("case_id", "repaid_on", "id"))


def export_complaints(*, case_ids: CaseIds) -> QuerySet[Complaint]:
    return (Complaint.objects.filter(case_id__in=case_ids)
            .select_related("case", "case__bank", "collector", "recorded_by")
            .order_by("case_id", "created_at", "id"))


def export_events(*, case_ids: CaseIds) -> Iterator[CaseEvent]:
    """Every case's timeline, case by case, oldest first: its 导入 entry (made from the batch), then the stored
    entries. Two server-side cursors read side by side, cases and events both in case id order."""
    cases = (Case.objects.filter(pk__in=case_ids).select_related("bank", "batch", "batch__imported_by")
             .order_by("id").iterator(chunk_size=2000))
    stored = (CaseEvent.objects.filter(case_id__in=case_ids).select_related("actor")
              .order_by("case_id", "created_at", "id").iterator(chunk_size=2000))
    pending = next(stored, None)
    for case in cases:
        yield case_imported_event(case=case)
        while pending is not None and pending.case_id == case.pk:
            pending.case = case
            yield pending
            pending = next(stored, None)


def export_files(*, case_ids: CaseIds) -> QuerySet[StoredFile]:
    """Live stored files of the cases (photos, signed visit forms, recordings, attachments), case by case."""
    return (StoredFile.objects.filter(case_id__in=case_ids, deleted_at=None).exclude(file="")
            .select_related("case", "case__bank", "case__batch", "visit")
            .order_by("case_id", "id"))
