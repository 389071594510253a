"""Reads of repayments (C5): a case's entries with their reversals. Must not import views or actions."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from cases.models import Case, Repayment


def repayment_list(*, case: Case) -> QuerySet[Repayment]:
    """The case's entries, newest first, each annotated `is_reversed`."""
    return (
        Repayment.objects.filter(case=case)
        .annotate(is_reversed=Exists(Repayment.objects.filter(reverses=OuterRef("pk"))))
        .select_related("recorded_by", "reverses")
        .order_by("-created_at", "-id")
    )


def repayment_get(*, case: Case, repayment_id: int) -> Repayment | None:
    return Repayment.objects.filter(case=case, pk=repayment_id).select_related("case").first()
