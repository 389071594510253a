"""Permission predicates (`can_*`) and fetchers (`access_*`, raising Http404 when not visible)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from cases.enums import CallSource, CaseStatus
from cases.models import Bank, CallRecord, Case, ClerkBankScope
from cases.models.chat import DocumentRequest
from cases.selectors.cases import case_visible_to


def access_case(*, user: User, case_id: int) -> Case:
    """The case if `user` may see it; Http404 for both "missing" and "not yours"."""
    case = (
        case_visible_to(user)
        .select_related("bank", "batch", "owner_clerk", "collector", "previous_case")
        .filter(pk=case_id)
        .first()
    )
    if case is None:
        raise Http404("委案不存在或无权查看")
    return case


def can_import_batch(*, user: User, bank: Bank) -> bool:
    """C1/C7: a clerk imports only batches of the banks an admin gave them."""
    if not (user.is_authenticated and user.is_active and user.is_clerk):
        return False
    return ClerkBankScope.objects.filter(clerk=user, bank=bank).exists()


def can_import_any(*, user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_clerk)


# --- Case work (P4, P5, P11, C13, C14, C15) ---------------------------------------------------------------

def _active(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active)


def can_record_work(*, user: User, case: Case) -> bool:
    """P4: calls and visits are recorded by the collector the case is assigned to, while it is open.

    Clerks, managers and admins watch the work; they do not enter it in a collector's name.
    """
    return _active(user) and user.is_collector and case.collector_id == user.pk and case.is_open


def call_outcome_refusal(*, call: CallRecord, user: User) -> str:
    """P4: why `user` may not enter the outcome of `call` ("" when they may). The outcome of a call placed
    through the system is entered once, on the record the dialer wrote, by the collector who made the call
    (on top of `can_record_work` for its case)."""
    if call.source != CallSource.DIALER or call.case_id is None or call.deleted_at is not None:
        return "只有系统拨出并已关联委案的通话可以登记结果"
    if call.result:
        return f"这通电话已登记结果“{call.get_result_display()}”"
    if call.collector_id != user.pk:
        return "只有拨打这通电话的业务员可以登记它的结果"
    return ""


def call_outcome_open(*, call: CallRecord, user: User) -> bool:
    return not call_outcome_refusal(call=call, user=user)


def closed_case_refusal(*, user: User, case: Case) -> str:
    """Why the collector holding `case` may no longer work it ("" when nothing stops them on that ground).

    C9: a returned (or settled) case stays readable by the collector who held it, but every write is refused
    with this message, so a page left open before the return gets a reason rather than a bare 403.
    """
    if not (_active(user) and user.is_collector and case.collector_id == user.pk) or case.is_open:
        return ""
    return (f"委案 {case.case_no} {case.get_status_display()}，只能查看，不能再拨打电话、记录电话或外访、"
            f"上传文件、索要资料或申请留案")


def can_upload_case_file(*, user: User, case: Case) -> bool:
    """Attachments: the case's collector (open case), or a clerk of the case's bank (C7, C8 answers)."""
    if can_record_work(user=user, case=case):
        return True
    return _active(user) and user.is_clerk and ClerkBankScope.objects.filter(clerk=user, bank_id=case.bank_id).exists()


def can_record_complaint(*, user: User, case: Case) -> bool:
    """C13: clerks of the case's bank record complaints; managers may too."""
    if not _active(user):
        return False
    if user.is_manager:
        return True
    return user.is_clerk and ClerkBankScope.objects.filter(clerk=user, bank_id=case.bank_id).exists()


def can_list_complaints(*, user: User) -> bool:
    return _active(user) and (user.is_manager or user.is_sysadmin or user.is_clerk)


def can_delete_work(*, user: User) -> bool:
    """C15: only system admins delete uploaded content and work records (each deletion is audited)."""
    return _active(user) and user.is_sysadmin


def can_upload_bank_template(*, user: User, bank: Bank) -> bool:
    """P11: a clerk uploads templates of the banks an admin gave them."""
    return _active(user) and user.is_clerk and ClerkBankScope.objects.filter(clerk=user, bank=bank).exists()


def can_delete_bank_template(*, user: User, bank: Bank) -> bool:
    return can_upload_bank_template(user=user, bank=bank) or (_active(user) and user.is_sysadmin)


# --- Document requests (C8, P9, R3) -----------------------------------------------------------------------
# Two sides talk on a request: the collector side (who asked, and the case's collector should the case move
# to a colleague) and the clerk side (the clerk it was assigned to). Managers read along; nobody else sees it.

SIDE_COLLECTOR = "collector"
SIDE_CLERK = "clerk"


def document_request_side(*, user: User, docreq: DocumentRequest) -> str | None:
    """"collector", "clerk", or None for a reader who is not a participant (managers).

    Access ends with the case: the collector side is whoever works the case now (not whoever opened the request
    and has since lost the case), the clerk side the assigned clerk while they still handle the case's bank.
    """
    if not (user.is_authenticated and user.is_active):
        return None
    if user.pk == docreq.assigned_clerk_id and user.is_clerk and ClerkBankScope.objects.filter(
            clerk=user, bank_id=docreq.case.bank_id).exists():
        return SIDE_CLERK
    if user.is_collector and user.pk == docreq.case.collector_id:
        return SIDE_COLLECTOR
    return None


def can_view_document_request(*, user: User, docreq: DocumentRequest) -> bool:
    """The request's collector (or the case's current one), the assigned clerk, managers."""
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_manager or document_request_side(user=user, docreq=docreq) is not None


def access_document_request(*, user: User, request_id: int) -> DocumentRequest:
    """The request if `user` may see it; Http404 for both "missing" and "not yours"."""
    docreq = (
        DocumentRequest.objects.select_related("case", "case__bank", "requested_by", "assigned_clerk")
        .filter(pk=request_id)
        .first()
    )
    if docreq is None or not can_view_document_request(user=user, docreq=docreq):
        raise Http404("资料请求不存在或无权查看")
    return docreq


def can_open_document_request(*, user: User, case: Case) -> bool:
    """P9: the collector working the case asks for its documents while the case is open."""
    return bool(user.is_authenticated and user.is_active and user.is_collector and case.collector_id == user.pk
                and case.is_open)


def can_post_document_request_message(*, user: User, docreq: DocumentRequest) -> bool:
    """Only the two sides write in the chat; managers read."""
    return document_request_side(user=user, docreq=docreq) is not None


def can_view_document_request_inbox(*, user: User) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_clerk or user.is_manager))


# --- Assignment (C3, C4, C6, C7) ----------------------------------------------------------------------

def can_assign_cases(*, user: User) -> bool:
    """C3/C4: clerks distribute and re-distribute cases; managers may too. Collectors and admins do not."""
    return bool(user.is_authenticated and user.is_active and (user.is_clerk or user.is_manager))


def cases_assignable_by(user: User) -> QuerySet[Case]:
    """The cases `user` may assign: every case for managers, the cases of a clerk's banks (C7) for clerks.

    A clerk who is also a collector sees their own cases of other banks, but may not hand them on.
    """
    if not can_assign_cases(user=user):
        return Case.objects.none()
    if user.is_manager:
        return Case.objects.all()
    return Case.objects.filter(bank_id__in=ClerkBankScope.objects.filter(clerk=user).values("bank_id"))


def can_assign_case(*, user: User, case: Case) -> bool:
    return cases_assignable_by(user).filter(pk=case.pk).exists()


# --- Money (C5, C9, C10, C12) ----------------------------------------------------------------------------

def can_record_repayment(*, user: User, case: Case) -> bool:
    """C5: after the bank's notice, a clerk of the case's bank records (and reverses) its repayments."""
    return _active(user) and user.is_clerk and ClerkBankScope.objects.filter(clerk=user, bank_id=case.bank_id).exists()


def can_upload_repayment_file(*, user: User) -> bool:
    """A clerk uploads a bank's repayment list; the rows are matched within the clerk's banks only."""
    return _active(user) and user.is_clerk


def can_confirm_return(*, user: User, case: Case) -> bool:
    """C9: clerks of the case's bank confirm returns and retentions, and decide retention requests."""
    return can_record_repayment(user=user, case=case)


def return_undo_deadline(*, case: Case) -> dt.datetime | None:
    """Until when a returned case may be reopened (settings.RETURN_UNDO_DAYS after the return); None if not returned."""
    if case.status != CaseStatus.RETURNED:
        return None
    return case.status_changed_at + dt.timedelta(days=settings.RETURN_UNDO_DAYS)


def return_undo_refusal(*, user: User, case: Case) -> str:
    """C9: why `user` may not reopen `case` after its return ("" when they may). The clerk who owns the case, or
    a manager, undoes a mistaken return within settings.RETURN_UNDO_DAYS days."""
    if not _active(user):
        return "请先登录"
    deadline = return_undo_deadline(case=case)
    if deadline is None:
        return "本案未退案，无需撤销"
    if not (user.is_manager or (user.is_clerk and case.owner_clerk_id == user.pk)):
        return "只有负责该委案的内勤或管理人员可以撤销退案"
    if timezone.now() > deadline:
        return (f"退案已超过 {settings.RETURN_UNDO_DAYS} 天（可撤销至 {timezone.localtime(deadline):%Y-%m-%d %H:%M}），"
                "不能撤销；如银行重新委托，请按新批次导入")
    return ""


def can_undo_return(*, user: User, case: Case) -> bool:
    return not return_undo_refusal(user=user, case=case)


def can_request_retention(*, user: User, case: Case) -> bool:
    """C10/P10: the collector working an open case asks for a retention."""
    return _active(user) and user.is_collector and case.collector_id == user.pk and case.is_open


def can_view_returns(*, user: User) -> bool:
    return _active(user) and (user.is_clerk or user.is_manager)


# --- Exports (M4, M5) -----------------------------------------------------------------------------------

def can_export_all(*, user: User) -> bool:
    """M4/M5: managers export all cases and all business data (every export is audited)."""
    return _active(user) and user.is_manager


# --- Blocked numbers (issue 15) --------------------------------------------------------------------------

def can_block_number(*, user: User, case: Case) -> bool:
    """A number of a case is marked 空号 / 停机 / 勿扰 / 非本人 by the collector working it (from the dial list), or by
    the case's owner clerk or a manager."""
    if not _active(user):
        return False
    return can_record_work(user=user, case=case) or user.is_manager or (
        user.is_clerk and case.owner_clerk_id == user.pk)


def can_unblock_number(*, user: User, case: Case | None) -> bool:
    """A mark is lifted by the owner clerk of the case it was marked on, or a manager."""
    if not _active(user):
        return False
    return user.is_manager or (case is not None and user.is_clerk and case.owner_clerk_id == user.pk)
