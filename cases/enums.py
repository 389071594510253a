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
    NOTE = "note", "备注"
    STATUS_CHANGED = "status_changed", "状态变更"


class ReminderKind(models.TextChoices):
    """C11, P2, P3: what a reminder is about."""

    EXPIRY_30 = "expiry_30", "30天到期"
    EXPIRY_15 = "expiry_15", "15天到期"
    EXPIRY_7 = "expiry_7", "7天到期"
    EXPIRY_3 = "expiry_3", "3天到期"
    FIRST_CALL_OVERDUE = "first_call_overdue", "首次电话超期"
    FIRST_VISIT_OVERDUE = "first_visit_overdue", "首次外访超期"


# P2: days before the return date at which the expiry reminders fire, with their kinds.
EXPIRY_REMINDER_DAYS: dict[int, str] = {
    30: ReminderKind.EXPIRY_30,
    15: ReminderKind.EXPIRY_15,
    7: ReminderKind.EXPIRY_7,
    3: ReminderKind.EXPIRY_3,
}
