"""Status and type vocabularies of the case domain."""

from __future__ import annotations

from django.db import models


class CaseStatus(models.TextChoices):
    UNASSIGNED = "unassigned", "未分配"
    NOT_STARTED = "not_started", "未开始"
    IN_PROGRESS = "in_progress", "进行中"
    SETTLED = "settled", "已结清"
    RETURNED = "returned", "已退案"
    RETAINED = "retained", "留案"


# Cases still being worked: a collector's working list, the uniqueness of a bank's case numbers.
OPEN_STATUSES: tuple[str, ...] = (
    CaseStatus.UNASSIGNED,
    CaseStatus.NOT_STARTED,
    CaseStatus.IN_PROGRESS,
    CaseStatus.RETAINED,
)
# M1's three groups for managers: finished, not started, in progress.
STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "finished": (CaseStatus.SETTLED, CaseStatus.RETURNED),
    "not_started": (CaseStatus.UNASSIGNED, CaseStatus.NOT_STARTED),
    "in_progress": (CaseStatus.IN_PROGRESS, CaseStatus.RETAINED),
}
STATUS_GROUP_LABELS: dict[str, str] = {"finished": "已完成", "not_started": "未开始", "in_progress": "进行中"}


class ProductType(models.TextChoices):
    CREDIT_CARD = "credit_card", "信用卡"
    LOAN = "loan", "贷款"
    OTHER = "other", "其他"


class ContactSource(models.TextChoices):
    IMPORT = "import", "导入"
    ADDED = "added", "后续添加"


class CaseEventType(models.TextChoices):
    IMPORTED = "imported", "导入"
    CONTINUED = "continued", "续案导入"
    SUPERSEDED = "superseded", "被新批次续案"
    ASSIGNED = "assigned", "分配"
    # Re-assignment (C4): how a case changed hands; the plain first assignment stays ASSIGNED.
    REASSIGNED = "reassigned", "调整分配"
    SWAPPED = "swapped", "互换"
    HANDED_OVER = "handed_over", "离职交接"
    # C6: the owner clerk changed (a departed clerk's cases taken over by a clerk of the bank).
    OWNER_CHANGED = "owner_changed", "更换负责内勤"
    NOTE = "note", "备注"
    STATUS_CHANGED = "status_changed", "状态变更"
    # Money (C5): repayments and their reversing corrections
    REPAYMENT = "repayment", "回款"
    REPAYMENT_REVERSED = "repayment_reversed", "回款冲正"
    # Return and retention (C9, C10, P10)
    RETURNED = "returned", "退案"
    RETURN_UNDONE = "return_undone", "撤销退案"
    RETAINED = "retained", "留案"
    RETENTION_REQUESTED = "retention_requested", "申请留案"
    RETENTION_DECIDED = "retention_decided", "留案审批"
    # Case work (P4, P5, C13, C14, C15)
    CALL = "call", "电话"
    # Numbers a collector typed (issue 13): offered to the owner clerk, who adds or declines them.
    NUMBER_SUGGESTED = "number_suggested", "业务员提交新号码"
    NUMBER_ACCEPTED = "number_accepted", "新号码添加为联系人"
    NUMBER_DECLINED = "number_declined", "新号码未采纳"
    VISIT = "visit", "外访"
    FILE_UPLOADED = "file_uploaded", "上传文件"
    COMPLAINT = "complaint", "投诉"
    VISIT_FORM_EXPORTED = "visit_form_exported", "导出外访记录表"
    CASE_DOWNLOADED = "case_downloaded", "下载资料"
    DELETED = "deleted", "删除"
    # Document requests (C8, P9, R3)
    DOCREQ_OPENED = "docreq_opened", "索要资料"
    DOCREQ_STATUS_CHANGED = "docreq_status_changed", "资料请求状态"
    # Blocked numbers (issue 15): marked from the dial list, lifted by the owner clerk or a manager.
    NUMBER_BLOCKED = "number_blocked", "标记禁拨号码"
    NUMBER_UNBLOCKED = "number_unblocked", "撤销禁拨号码"


class ReminderKind(models.TextChoices):
    """C11, P2, P3: what a reminder is about.

    The expiry labels name the window ("15天内到期") because the body names the days actually left ("还有11天"):
    a case first seen 11 days out gets the 15-day reminder, and a title "15天到期" over "还有11天" disagreed.
    """

    EXPIRY_30 = "expiry_30", "30天内到期"
    EXPIRY_15 = "expiry_15", "15天内到期"
    EXPIRY_7 = "expiry_7", "7天内到期"
    EXPIRY_3 = "expiry_3", "3天内到期"
    FIRST_CALL_OVERDUE = "first_call_overdue", "首次电话超期"
    FIRST_VISIT_OVERDUE = "first_visit_overdue", "首次外访超期"
    # Issue 16: promises to pay and agreed callbacks (worklist app).
    PROMISE_DUE = "promise_due", "今日承诺还款"
    PROMISE_BROKEN = "promise_broken", "承诺违约"
    CALLBACK_DUE = "callback_due", "约定回电"


class ReminderTopic(models.TextChoices):
    """One reminder per user, case and topic: a newer reminder of the same topic replaces the older one (the
    15-day expiry reminder replaces the 30-day one), so a user never holds two rows about the same thing."""

    EXPIRY = "expiry", "到期"
    FIRST_CALL = "first_call", "首次电话"
    FIRST_VISIT = "first_visit", "首次外访"
    PROMISE = "promise", "承诺还款"
    CALLBACK = "callback", "约定回电"


REMINDER_TOPIC: dict[str, str] = {
    ReminderKind.EXPIRY_30: ReminderTopic.EXPIRY,
    ReminderKind.EXPIRY_15: ReminderTopic.EXPIRY,
    ReminderKind.EXPIRY_7: ReminderTopic.EXPIRY,
    ReminderKind.EXPIRY_3: ReminderTopic.EXPIRY,
    ReminderKind.FIRST_CALL_OVERDUE: ReminderTopic.FIRST_CALL,
    ReminderKind.FIRST_VISIT_OVERDUE: ReminderTopic.FIRST_VISIT,
    ReminderKind.PROMISE_DUE: ReminderTopic.PROMISE,
    ReminderKind.PROMISE_BROKEN: ReminderTopic.PROMISE,
    ReminderKind.CALLBACK_DUE: ReminderTopic.CALLBACK,
}


# P2: days before the return date at which the expiry reminders fire, with their kinds.
EXPIRY_REMINDER_DAYS: dict[int, str] = {
    30: ReminderKind.EXPIRY_30,
    15: ReminderKind.EXPIRY_15,
    7: ReminderKind.EXPIRY_7,
    3: ReminderKind.EXPIRY_3,
}


# --- Case work (P4, P5, C13): kinds of stored files and the result codes of calls and visits -----------

class FileKind(models.TextChoices):
    PHOTO = "photo", "外访照片"
    VISIT_FORM_PDF = "visit_form_pdf", "签字外访记录表"
    RECORDING = "recording", "录音"
    ATTACHMENT = "attachment", "附件"
    DOCUMENT = "document", "文档"


class CallDirection(models.TextChoices):
    OUTBOUND = "outbound", "呼出"
    INBOUND = "inbound", "呼入"


class CallSource(models.TextChoices):
    MANUAL = "manual", "手工记录"
    DIALER = "dialer", "系统拨号"


class CallResult(models.TextChoices):
    PROMISE = "promise", "承诺还款"
    SELF_ANSWERED = "self_answered", "本人接听"
    THIRD_PARTY = "third_party", "第三方接听"
    NO_ANSWER = "no_answer", "无人接听"
    REJECTED = "rejected", "拒接"
    BUSY = "busy", "占线"
    INVALID_NUMBER = "invalid_number", "空号"
    POWERED_OFF = "powered_off", "关机/停机"
    OTHER = "other", "其他"


# Results that mean somebody picked up: they count as 接通 on the managers' dashboard (M7).
CONNECTED_CALL_RESULTS: frozenset[str] = frozenset({CallResult.PROMISE, CallResult.SELF_ANSWERED,
                                                    CallResult.THIRD_PARTY})


class VisitResult(models.TextChoices):
    PROMISE = "promise", "承诺还款"
    MET_DEBTOR = "met_debtor", "见到本人"
    MET_FAMILY = "met_family", "见到家属"
    MET_OTHER = "met_other", "见到其他人"
    NOBODY_HOME = "nobody_home", "无人在家"
    MOVED = "moved", "已搬离/地址不存在"
    REFUSED = "refused", "拒绝沟通"
    OTHER = "other", "其他"


class ComplaintReason(models.TextChoices):
    ATTITUDE = "attitude", "态度问题"
    FREQUENT_CALLS = "frequent_calls", "频繁来电"
    THIRD_PARTY = "third_party", "联系第三方"
    DATA_LEAK = "data_leak", "信息泄露"
    OTHER = "other", "其他"


class TemplateKind(models.TextChoices):
    DOCX = "docx", "Word 文档"
    XLSX = "xlsx", "Excel 表格"
    PDF = "pdf", "PDF 文档"
