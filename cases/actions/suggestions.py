"""Numbers a collector typed instead of choosing a listed one (issue 13): for a call placed through the system
(dial_request) or a call made outside it and recorded by hand (call_record_create's 或其他号码).

Each typed number is audited; one the case does not hold yet is offered to the owner clerk (one pending offer per
number) and the offer goes on the case's timeline once. The clerk's decision is number_suggestion_decide
(cases.actions.dialer). Must not import views, `realtime.consumers` or `dialer`.
"""

from __future__ import annotations

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases import history
from cases.enums import CaseEventType
from cases.models import Case, CaseContact, CaseEvent, NumberSuggestion
from cases.models.cases import mask_phone
from cases.models.compliance import NumberSuggestionStatus

# How the number was typed → the audit summary's words.
TYPED_VIA = {"dial": "拨打手输号码", "manual": "登记电话记录（其他号码）"}


def typed_number_record(*, case: Case, by: User, number: str, contact: CaseContact | None = None,
                        via: str = "dial") -> NumberSuggestion | None:
    """Audit a typed number; offer it to the owner clerk when the case does not hold it. Returns the pending offer.

    Runs inside the caller's transaction (a refused dial or an invalid record takes the entries back with it).
    Emits: nothing. Raises: nothing.
    """
    suggestion: NumberSuggestion | None = None
    if not (CaseContact.objects.filter(case=case, phone=number).exists() or case.mobile == number):
        suggestion, _ = NumberSuggestion.objects.get_or_create(
            case=case, number=number, status=NumberSuggestionStatus.PENDING,
            defaults={"based_on": contact, "suggested_by": by})
        if not CaseEvent.objects.filter(case=case, type=CaseEventType.NUMBER_SUGGESTED,
                                        data__suggestion_id=suggestion.pk).exists():
            history.number_suggested(suggestion=suggestion, actor=by)
    instead = f"（代替 {contact.relation or '联系人'} {mask_phone(contact.phone)}）" if contact is not None else ""
    offered = "，新号码已提交负责内勤确认" if suggestion is not None else "，该号码已在委案中"
    audit_record(actor=by, action=AuditAction.NUMBER_TYPED, object_type="Case", object_id=case.pk,
                 summary=f"委案 {case.case_no} {TYPED_VIA.get(via, via)} {mask_phone(number)}{instead}{offered}",
                 detail={"case_id": case.pk, "number": number, "via": via,
                         "contact_id": contact.pk if contact is not None else None,
                         "suggestion_id": suggestion.pk if suggestion is not None else None})
    return suggestion
