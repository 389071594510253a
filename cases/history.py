"""Append-only writers of the case timeline, one per CaseEventType. Called only from actions."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from cases.enums import CallResult, CallSource, CaseEventType, CaseStatus, VisitResult
from cases.models import Batch, CallRecord, Case, CaseEvent, Complaint, StoredFile, VisitRecord
from cases.models.cases import CaseContact, balance_words, mask_phone
from cases.models.chat import DocumentRequest, DocumentRequestStatus
from cases.models.compliance import NumberSuggestion


def case_continued(*, case: Case, previous: Case, actor: User | None) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.CONTINUED, actor=actor,
        summary=f"银行更换批次号留案：续接批次 {previous.batch.batch_no} 的原委案，有效期一个月",
        data={"previous_case_id": previous.pk},
    )


def case_superseded(*, case: Case, successor_batch: Batch, actor: User | None) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.SUPERSEDED, actor=actor,
        summary=f"银行以新批次 {successor_batch.batch_no} 留案，本案转为已退案，工作在新委案上继续",
        data={"batch_id": successor_batch.pk},
    )


# --- Case work (P4, P5, C13, C14, C15) --------------------------------------------------------------------
# Summaries never carry a full phone number or free text a deletion should take away: the timeline keeps
# what happened, the record itself (which a deletion hides) keeps what was said.

def _money(amount: object) -> str:
    return f"¥{amount:,.2f}"


def _promise(work: CallRecord | VisitRecord, *, promised: bool) -> list[str]:
    """The timeline's words for the promise a call or visit recorded (none without a 承诺还款 result)."""
    if promised and work.promise_date and work.promise_amount is not None:
        return [f"承诺 {work.promise_date:%Y-%m-%d} 还款 {_money(work.promise_amount)}"]
    return []


def case_work_started(*, case: Case, actor: User | None, reason: str) -> CaseEvent:
    """The first call or visit moved the case from 未开始 to 进行中."""
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.STATUS_CHANGED, actor=actor,
        summary=f"状态由“未开始”变为“进行中”（{reason}）",
        data={"from": "not_started", "to": "in_progress"},
    )


def call_outcome_recorded(*, call: CallRecord, actor: User | None) -> CaseEvent:
    """The collector entered the outcome of a call the dialer had written (its own 电话 entry came first)."""
    assert call.case is not None
    parts = [f"登记通话结果（{timezone.localtime(call.started_at):%m-%d %H:%M} 系统拨号）", call.get_result_display(),
             *_promise(call, promised=call.result == CallResult.PROMISE)]
    return CaseEvent.objects.create(
        case=call.case, type=CaseEventType.CALL, actor=actor, summary=" · ".join(parts)[:500],
        data={"call_id": call.pk, "outcome": True},
    )


def call_recorded(*, call: CallRecord, actor: User | None) -> CaseEvent:
    assert call.case is not None
    who = f"{call.contact.relation or '联系人'} " if call.contact_id and call.contact else ""
    parts = [f"{call.get_direction_display()} {who}{mask_phone(call.number)}"]
    if call.result:
        parts.append(call.get_result_display())
    parts += _promise(call, promised=call.result == CallResult.PROMISE)
    if call.duration_s:
        parts.append(f"通话 {call.duration_s // 60}分{call.duration_s % 60:02d}秒")
    if call.source == CallSource.DIALER:
        parts.append(call.source_label)
    return CaseEvent.objects.create(
        case=call.case, type=CaseEventType.CALL, actor=actor, summary=" · ".join(parts)[:500],
        data={"call_id": call.pk},
    )


# --- Numbers a collector typed (issue 13) -----------------------------------------------------------------
# The number is masked here like every timeline number; the audit entry keeps the full one.

def number_suggested(*, suggestion: NumberSuggestion, actor: User) -> CaseEvent:
    based_on = suggestion.based_on
    was = f"（原号码 {based_on.relation or '联系人'} {mask_phone(based_on.phone)}）" if based_on is not None else ""
    return CaseEvent.objects.create(
        case_id=suggestion.case_id, type=CaseEventType.NUMBER_SUGGESTED, actor=actor,
        summary=f"业务员手输新号码 {mask_phone(suggestion.number)} 拨打{was}，已提交负责内勤确认"[:500],
        data={"suggestion_id": suggestion.pk},
    )


def number_suggestion_decided(*, suggestion: NumberSuggestion, actor: User, contact: CaseContact | None) -> CaseEvent:
    who = suggestion.suggested_by.display_name
    if contact is not None:
        return CaseEvent.objects.create(
            case_id=suggestion.case_id, type=CaseEventType.NUMBER_ACCEPTED, actor=actor,
            summary=(f"采纳业务员 {who} 提交的号码 {mask_phone(suggestion.number)}，"
                     f"已添加为联系人（{contact.relation}）")[:500],
            data={"suggestion_id": suggestion.pk, "contact_id": contact.pk},
        )
    return CaseEvent.objects.create(
        case_id=suggestion.case_id, type=CaseEventType.NUMBER_DECLINED, actor=actor,
        summary=f"未采纳业务员 {who} 提交的号码 {mask_phone(suggestion.number)}"[:500],
        data={"suggestion_id": suggestion.pk},
    )


def visit_recorded(*, visit: VisitRecord, actor: User | None, file_count: int) -> CaseEvent:
    parts = [f"{visit.visited_on:%Y-%m-%d} {visit.collector.display_name} 外访 {visit.address}",
             visit.get_result_display()]
    if visit.met_person:
        parts.append(f"见到 {visit.met_person}")
    parts += _promise(visit, promised=visit.result == VisitResult.PROMISE)
    if file_count:
        parts.append(f"附 {file_count} 个文件")
    return CaseEvent.objects.create(
        case=visit.case, type=CaseEventType.VISIT, actor=actor, summary=" · ".join(parts)[:500],
        data={"visit_id": visit.pk},
    )


def file_uploaded(*, stored: StoredFile, actor: User | None) -> CaseEvent:
    assert stored.case is not None
    return CaseEvent.objects.create(
        case=stored.case, type=CaseEventType.FILE_UPLOADED, actor=actor,
        summary=f"上传{stored.get_kind_display()}《{stored.original_name}》（{stored.type_label}）"[:500],
        data={"file_id": stored.pk},
    )


def complaint_recorded(*, complaint: Complaint, actor: User | None) -> CaseEvent:
    against = f"，被投诉业务员 {complaint.collector.display_name}" if complaint.collector else ""
    return CaseEvent.objects.create(
        case=complaint.case, type=CaseEventType.COMPLAINT, actor=actor,
        summary=f"记录投诉：{complaint.get_reason_display()}{against}",
        data={"complaint_id": complaint.pk},
    )


def visit_form_exported(*, case: Case, actor: User | None, fmt: str) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.VISIT_FORM_EXPORTED, actor=actor,
        summary=f"导出外访记录表（{fmt.upper() if fmt == 'pdf' else 'Word'}）", data={"format": fmt},
    )


def case_downloaded(*, case: Case, actor: User | None, file_count: int) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.CASE_DOWNLOADED, actor=actor,
        summary=f"下载全部资料（工作记录表及 {file_count} 个文件）", data={"file_count": file_count},
    )


def work_deleted(*, case: Case, actor: User | None, what: str, reason: str,
                 data: dict[str, int | str]) -> CaseEvent:
    """C15: something was deleted; the entry says what (without its content), by whom (actor) and why."""
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.DELETED, actor=actor,
        summary=f"删除了{what}，原因：{reason}"[:500], data=data,
    )


# --- Document requests (C8, P9, R3) ----------------------------------------------------------------------
# The timeline notes that documents were asked for and how the request moved; the chat itself stays on the
# request page.

def document_request_opened(*, docreq: DocumentRequest, actor: User) -> CaseEvent:
    items = "、".join(docreq.item_labels)
    note = f"（{docreq.assignment_note}）" if docreq.assignment_note else ""
    return CaseEvent.objects.create(
        case_id=docreq.case_id, type=CaseEventType.DOCREQ_OPENED, actor=actor,
        summary=f"向内勤 {docreq.assigned_clerk.display_name} 索要资料：{items}{note}"[:500],
        data={"document_request_id": docreq.pk},
    )


def document_request_status_changed(*, docreq: DocumentRequest, actor: User, previous: str) -> CaseEvent:
    labels = dict(DocumentRequestStatus.choices)
    return CaseEvent.objects.create(
        case_id=docreq.case_id, type=CaseEventType.DOCREQ_STATUS_CHANGED, actor=actor,
        summary=f"资料请求 #{docreq.pk} 由“{labels.get(previous, previous)}”变为“{docreq.get_status_display()}”",
        data={"document_request_id": docreq.pk, "from": previous, "to": docreq.status},
    )


# --- Assignment (C3, C4) ----------------------------------------------------------------------------------

# (case id, collector before or None, collector after): one per case whose collector changed.
AssignmentMove = tuple[int, int | None, int]


def _assignment_summary(*, event_type: str, before: str | None, after: str, reason: str) -> str:
    if event_type == CaseEventType.ASSIGNED and before is None:
        text = f"分配给 {after}"
    elif event_type == CaseEventType.ASSIGNED:
        text = f"重新分配：由 {before} 改为 {after}"
    elif event_type == CaseEventType.SWAPPED:
        text = f"互换：由 {before} 换给 {after}"
    elif event_type == CaseEventType.HANDED_OVER:
        text = f"离职交接：由 {before} 交给 {after}"
    else:
        text = f"调整：由 {before or '未分配'} 转给 {after}"
    return f"{text}，原因：{reason}" if reason else text


def cases_assigned(*, moves: Iterable[AssignmentMove], actor: User, event_type: CaseEventType, reason: str,
                   names: dict[int, str], kind: str) -> None:
    """One entry per case that changed hands (bulk: a morning's distribution moves thousands of cases).

    `names` maps collector ids to display names, so the summary reads right after a rename.
    """
    CaseEvent.objects.bulk_create(
        [CaseEvent(case_id=case_id, type=event_type, actor_id=actor.pk,
                   summary=_assignment_summary(event_type=event_type, after=names[after], reason=reason,
                                               before=names.get(before) if before else None)[:500],
                   data={"from": before, "to": after, "kind": kind})
         for case_id, before, after in moves],
        batch_size=2000,
    )


# --- Money (C5): repayments and reversals -----------------------------------------------------------------

def repayment_recorded(*, case: Case, actor: User | None, repayment_id: int, amount: object, repaid_on: object,
                       bank_ref: str, balance: Decimal, settled: bool) -> CaseEvent:
    return CaseEvent.objects.create(case=case, actor=actor, **_repayment_line(
        repayment_id=repayment_id, amount=amount, repaid_on=repaid_on, bank_ref=bank_ref, balance=balance,
        settled=settled))


def repayments_recorded(*, actor: User | None,
                        entries: Iterable[tuple[int, int, object, object, str, Decimal, bool]]) -> None:
    """`repayment_recorded` for many at once (a bank file): (case id, repayment id, amount, date, 流水号, balance
    after, settled)."""
    CaseEvent.objects.bulk_create(
        [CaseEvent(case_id=case_id, actor=actor, **_repayment_line(
            repayment_id=repayment_id, amount=amount, repaid_on=repaid_on, bank_ref=bank_ref, balance=balance,
            settled=settled))
         for case_id, repayment_id, amount, repaid_on, bank_ref, balance, settled in entries],
        batch_size=2000,
    )


def _repayment_line(*, repayment_id: int, amount: object, repaid_on: object, bank_ref: str, balance: Decimal,
                    settled: bool) -> dict[str, object]:
    ref = f"，流水号 {bank_ref}" if bank_ref else ""
    tail = "，案件已结清" if settled else ""
    return {"type": CaseEventType.REPAYMENT,
            "summary": f"登记回款 {_money(amount)}（还款日期 {repaid_on}{ref}），{balance_words(balance)}{tail}"[:500],
            "data": {"repayment_id": repayment_id, "amount": str(amount)}}


def repayment_reversed(*, case: Case, actor: User | None, repayment_id: int, original_id: int, amount: object,
                       reason: str, balance: Decimal, reopened: bool) -> CaseEvent:
    tail = "，案件恢复为进行中" if reopened else ""
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.REPAYMENT_REVERSED, actor=actor,
        summary=f"冲正回款 {_money(amount)}，原因：{reason}，{balance_words(balance)}{tail}"[:500],
        data={"repayment_id": repayment_id, "reverses": original_id, "amount": str(amount)},
    )


def case_owners_changed(*, changes: Iterable[tuple[int, int | None]], to_clerk: User, actor: User, reason: str,
                        names: dict[int, str]) -> None:
    """One entry per case whose owner clerk changed: (case id, owner clerk before or None)."""
    CaseEvent.objects.bulk_create(
        [CaseEvent(case_id=case_id, type=CaseEventType.OWNER_CHANGED, actor_id=actor.pk,
                   summary=(f"负责内勤由 {names.get(before, '无') if before else '无'} 改为 {to_clerk.display_name}"
                            + (f"，原因：{reason}" if reason else ""))[:500],
                   data={"from": before, "to": to_clerk.pk})
         for case_id, before in changes],
        batch_size=2000,
    )


# --- Return and retention (C9, C10, P10) ------------------------------------------------------------------

def case_returned(*, case: Case, actor: User | None, previous_status: str) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.RETURNED, actor=actor,
        summary=f"确认退案（退案日期 {case.return_date:%Y-%m-%d}），案件转为已退案，业务员不能再记录工作",
        data={"from": previous_status, "to": "returned"},
    )


def case_return_undone(*, case: Case, actor: User, reason: str, restored_status: str, collector: str) -> CaseEvent:
    label = dict(CaseStatus.choices).get(restored_status, restored_status)
    who = f"，业务员 {collector} 继续处理" if collector else ""
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.RETURN_UNDONE, actor=actor,
        summary=f"撤销退案，恢复为“{label}”{who}；原因：{reason}"[:500],
        data={"from": "returned", "to": restored_status, "reason": reason},
    )


def case_retained(*, case: Case, actor: User | None, previous_date: object, reason: str) -> CaseEvent:
    why = f"，理由：{reason}" if reason else ""
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.RETAINED, actor=actor,
        summary=f"留案一个月：退案日期由 {previous_date:%Y-%m-%d} 延至 {case.return_date:%Y-%m-%d}{why}"[:500],
        data={"from": str(previous_date), "to": str(case.return_date)},
    )


def callback_scheduled(*, case: Case, actor: User | None, due_at: object, note: str) -> CaseEvent:
    """Issue 16: a callback (约定回电) agreed with the debtor, on the timeline as a note."""
    why = f"：{note}" if note else ""
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.NOTE, actor=actor,
        summary=f"约定回电 {due_at:%Y-%m-%d %H:%M}{why}"[:500], data={"callback_at": f"{due_at:%Y-%m-%d %H:%M}"},
    )


def retention_requested(*, case: Case, actor: User, reason: str, request_id: int) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.RETENTION_REQUESTED, actor=actor,
        summary=f"申请留案，理由：{reason}"[:500], data={"request_id": request_id},
    )


def retention_decided(*, case: Case, actor: User, approved: bool, note: str, request_id: int) -> CaseEvent:
    verdict = "同意留案申请" if approved else "拒绝留案申请"
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.RETENTION_DECIDED, actor=actor,
        summary=(verdict + (f"，意见：{note}" if note else ""))[:500],
        data={"request_id": request_id, "approved": approved},
    )


def number_blocked(*, case: Case, actor: User, number: str, reason_label: str, note: str) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.NUMBER_BLOCKED, actor=actor,
        summary=f"标记号码 {mask_phone(number)} 为{reason_label}：{note}", data={"reason": reason_label},
    )


def number_unblocked(*, case: Case, actor: User, number: str, reason_label: str, why: str) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.NUMBER_UNBLOCKED, actor=actor,
        summary=f"撤销号码 {mask_phone(number)} 的“{reason_label}”标记：{why}", data={"reason": reason_label},
    )
