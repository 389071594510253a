"""Vocabularies of the pre-loan assessment: characteristics, grades, decisions, statuses."""

from __future__ import annotations

from django.db import models


class CharacteristicKind(models.TextChoices):
    AGE = "age", "年龄"
    DTI = "dti", "负债收入比"
    INCOME = "income", "月收入"
    EMPLOYMENT_YEARS = "employment_years", "工作年限"
    OVERDUE_RECORDS = "overdue_records", "逾期记录"
    HISTORY_CASES = "history_cases", "本公司催收委案数"
    HISTORY_OPEN_CASES = "history_open_cases", "未结委案数"
    HISTORY_OPEN_BALANCE = "history_open_balance", "未结委案余额"
    HISTORY_RECOVERY_RATE = "history_recovery_rate", "历史回款率"
    HISTORY_COMPLAINTS = "history_complaints", "投诉次数"


# Characteristics fed by the agency's own collection history (the history check, not the applicant's form).
HISTORY_KINDS: frozenset[str] = frozenset({
    CharacteristicKind.HISTORY_CASES, CharacteristicKind.HISTORY_OPEN_CASES,
    CharacteristicKind.HISTORY_OPEN_BALANCE, CharacteristicKind.HISTORY_RECOVERY_RATE,
    CharacteristicKind.HISTORY_COMPLAINTS,
})

# Unit shown after a value, and how each value is defined (shown in the editor and printed in the report).
UNITS: dict[str, str] = {
    CharacteristicKind.AGE: "岁", CharacteristicKind.DTI: "%", CharacteristicKind.INCOME: "元",
    CharacteristicKind.EMPLOYMENT_YEARS: "年", CharacteristicKind.OVERDUE_RECORDS: "次",
    CharacteristicKind.HISTORY_CASES: "件", CharacteristicKind.HISTORY_OPEN_CASES: "件",
    CharacteristicKind.HISTORY_OPEN_BALANCE: "元", CharacteristicKind.HISTORY_RECOVERY_RATE: "%",
    CharacteristicKind.HISTORY_COMPLAINTS: "次",
}
DEFINITIONS: dict[str, str] = {
    CharacteristicKind.AGE: "评分当日的周岁年龄（由身份证号码中的出生日期计算）",
    CharacteristicKind.DTI: "（现有月还款额 + 申请金额 ÷ 申请期限）÷ 月收入 × 100%，保留 2 位小数；月收入为 0 时为缺失",
    CharacteristicKind.INCOME: "申请人填报的月收入（元）",
    CharacteristicKind.EMPLOYMENT_YEARS: "申请人在现单位的工作年限（年）",
    CharacteristicKind.OVERDUE_RECORDS: "申请人征信中现有的逾期记录次数",
    CharacteristicKind.HISTORY_CASES: "本公司各银行曾受托催收、证件号码与申请人相同的委案件数",
    CharacteristicKind.HISTORY_OPEN_CASES: "上述委案中尚未结清或退案的件数",
    CharacteristicKind.HISTORY_OPEN_BALANCE: "上述未结委案的余额合计（元）",
    CharacteristicKind.HISTORY_RECOVERY_RATE: "上述委案已还金额合计 ÷ 委案金额合计 × 100%；没有委案时为缺失",
    CharacteristicKind.HISTORY_COMPLAINTS: "上述委案上登记的投诉次数",
}


class EdgeRule(models.TextChoices):
    """Which edge of every bin of a characteristic belongs to it. Fixed per characteristic, so adjacent bins
    share one cut point and a value on it falls in exactly one bin."""

    LOWER_CLOSED = "lower", "左闭右开：下限 ≤ 值 < 上限"
    UPPER_CLOSED = "upper", "左开右闭：下限 < 值 ≤ 上限"


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"
    E = "E", "E"


GRADES: tuple[str, ...] = ("A", "B", "C", "D", "E")


class Decision(models.TextChoices):
    APPROVE = "approve", "批准"
    APPROVE_LOWER = "approve_lower", "降额批准"
    REFER = "refer", "转人工审核"
    DECLINE = "decline", "拒绝"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    RETIRED = "retired", "已停用"


class ApplicantStatus(models.TextChoices):
    PENDING = "pending", "待评分"
    SCORED = "scored", "待复核"
    REVIEWED = "reviewed", "已复核"


class Sex(models.TextChoices):
    MALE = "M", "男"
    FEMALE = "F", "女"


class IntakeSource(models.TextChoices):
    FORM = "form", "录入"
    IMPORT = "import", "Excel 导入"
