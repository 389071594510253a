"""The audited entry point of the collection-history check (PIPL: every look-up is recorded)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from assessment.selectors.history import HistorySummary, collection_history

if TYPE_CHECKING:
    from django.http import HttpRequest

    from assessment.models import Applicant


def history_lookup(*, id_number: str, phone: str, by: User, applicant: Applicant | None = None,
                   request: HttpRequest | None = None) -> HistorySummary:
    """Look up the agency's cases of `id_number` (and `phone`) across all banks and audit the look-up.

    Emits: nothing. Raises: nothing.
    """
    summary = collection_history(id_number=id_number, phone=phone)
    masked = id_number[:6] + "*" * max(len(id_number) - 10, 0) + id_number[-4:] if id_number else ""
    who = f"申请人 {applicant.name}（{masked}）" if applicant is not None else f"证件号码 {masked}"
    audit_record(
        actor=by, action=AuditAction.HISTORY_CHECK,
        object_type="Applicant" if applicant is not None else "", object_id=applicant.pk if applicant else "",
        summary=f"查询{who}的催收历史：{len(summary.cases)} 件委案", request=request,
        detail={"id_number": id_number, "phone": phone, "cases": len(summary.cases),
                "phone_only_cases": len(summary.phone_only_cases)},
    )
    return summary
