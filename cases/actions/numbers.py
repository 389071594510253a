"""Blocked numbers (禁拨号码, issue 15): a number of a case marked 空号 / 停机 / 本人要求勿扰 / 非本人 from the
dial list takes effect at once (the next dial is refused before any originate), and is lifted, never deleted, by
the case's owner clerk or a manager. Both are audited and written on the case's timeline.

Must not import views, consumers or the dialer.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases import history
from cases.exceptions import CallRulesError
from cases.models import BlockedNumber, Case
from cases.models.cases import mask_phone
from cases.models.compliance import BlockedNumberReason
from cases.policies import can_block_number, can_unblock_number
from cases.selectors.dialer import dial_key


@transaction.atomic
def number_block(*, case: Case, by: User, number: str, reason: str, note: str,
                 request: HttpRequest | None = None) -> BlockedNumber:
    """Mark `number` (one of `case`'s) so nobody dials it, with a reason; in force for the next dial.

    Emits: nothing (the dial list is re-rendered by the page that asked).
    Raises: CallRulesError (not allowed, unknown reason, no note, already marked).
    """
    if not can_block_number(user=by, case=case):
        raise CallRulesError("只有该委案的业务员、负责内勤或管理人员可以标记号码")
    if reason not in BlockedNumberReason.values:
        raise CallRulesError("请选择标记原因：空号、停机、本人要求勿扰、非本人或拒绝联系")
    note = note.strip()
    if not note:
        raise CallRulesError("请填写说明（例如：拨打提示空号、本人明确要求不再来电）")
    key = dial_key(number)
    if not key:
        raise CallRulesError("号码不正确")
    active = BlockedNumber.objects.filter(number=key, lifted_at=None).first()
    if active is not None:
        raise CallRulesError(f"该号码已被标记为{active.get_reason_display()}")
    try:
        with transaction.atomic():
            row = BlockedNumber.objects.create(number=key, reason=reason, note=note[:200], case=case, created_by=by)
    except IntegrityError as exc:  # marked by someone else a moment ago
        raise CallRulesError("该号码刚刚已被他人标记") from exc
    label = row.get_reason_display()
    history.number_blocked(case=case, actor=by, number=key, reason_label=label, note=row.note)
    audit_record(actor=by, action=AuditAction.NUMBER_BLOCK,
                 summary=f"标记号码 {mask_phone(key)} 为{label}（委案 {case.case_no}）：{row.note}"[:480],
                 object_type="blocked_number", object_id=row.pk,
                 detail={"case_id": case.pk, "reason": reason, "note": row.note}, request=request)
    return row


@transaction.atomic
def number_unblock(*, blocked: BlockedNumber, by: User, reason: str,
                   request: HttpRequest | None = None) -> BlockedNumber:
    """Lift a mark: the number may be dialled again; the row stays with who lifted it and why.

    Emits: nothing.
    Raises: CallRulesError (not allowed, no reason, already lifted).
    """
    blocked = BlockedNumber.objects.select_for_update(of=("self",)).select_related("case").get(pk=blocked.pk)
    if not can_unblock_number(user=by, case=blocked.case):
        raise CallRulesError("只有负责该委案的内勤或管理人员可以撤销标记")
    if blocked.lifted_at is not None:
        raise CallRulesError("该标记已经撤销")
    reason = reason.strip()
    if not reason:
        raise CallRulesError("请填写撤销原因")
    blocked.lifted_at, blocked.lifted_by, blocked.lift_reason = timezone.now(), by, reason[:200]
    blocked.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
    label = blocked.get_reason_display()
    if blocked.case is not None:
        history.number_unblocked(case=blocked.case, actor=by, number=blocked.number, reason_label=label,
                                 why=blocked.lift_reason)
    audit_record(actor=by, action=AuditAction.NUMBER_UNBLOCK,
                 summary=f"撤销号码 {mask_phone(blocked.number)} 的“{label}”标记：{blocked.lift_reason}"[:480],
                 object_type="blocked_number", object_id=blocked.pk,
                 detail={"case_id": blocked.case_id, "reason": blocked.reason, "why": blocked.lift_reason},
                 request=request)
    return blocked
