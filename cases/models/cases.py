from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models

from cases.enums import OPEN_STATUSES, CaseStatus, ContactSource, ProductType

ZERO = Decimal("0.00")


class Case(models.Model):
    """One entrusted account (委案): the standard template's fields, its money and who works it."""

    # The FK columns' own indexes are left out (db_index=False) where a composite index below leads with them.
    bank = models.ForeignKey("cases.Bank", on_delete=models.PROTECT, related_name="cases", verbose_name="银行",
                             db_index=False)
    batch = models.ForeignKey("cases.Batch", on_delete=models.PROTECT, related_name="cases", verbose_name="批次",
                              db_index=False)
    case_no = models.CharField("案件编号", max_length=64)
    debtor_name = models.CharField("客户姓名", max_length=64)
    id_number = models.CharField("证件号码", max_length=18)
    product_type = models.CharField("产品类型", max_length=16, choices=ProductType.choices,
                                    default=ProductType.OTHER)
    card_no = models.CharField("卡号", max_length=32, blank=True)
    mobile = models.CharField("手机号码", max_length=11, blank=True)
    home_address = models.CharField("家庭地址", max_length=255, blank=True)
    employer = models.CharField("单位名称", max_length=128, blank=True)
    work_address = models.CharField("单位地址", max_length=255, blank=True)
    region = models.CharField("地区", max_length=64, blank=True)
    note = models.TextField("备注", blank=True)

    entrusted_amount = models.DecimalField("委案金额", max_digits=14, decimal_places=2)
    principal = models.DecimalField("本金", max_digits=14, decimal_places=2, null=True, blank=True)
    interest = models.DecimalField("利息", max_digits=14, decimal_places=2, null=True, blank=True)
    fees = models.DecimalField("费用", max_digits=14, decimal_places=2, null=True, blank=True)
    overdue_days = models.PositiveIntegerField("逾期天数", null=True, blank=True)
    # A fraction: 3.5% is stored as 0.035000. Never shown to collectors (P7).
    commission_rate = models.DecimalField("佣金比例", max_digits=8, decimal_places=6)
    # Kept by the repayment actions: balance = entrusted − repaid (0 once settled).
    repaid_amount = models.DecimalField("已还金额", max_digits=14, decimal_places=2, default=ZERO)
    balance = models.DecimalField("余额", max_digits=14, decimal_places=2)

    # Indexed below together with id (the list's default order and tie-break), not alone.
    entrust_date = models.DateField("委案日期")
    return_date = models.DateField("退案日期", help_text="当前退案日期（留案后顺延）")
    original_return_date = models.DateField("原退案日期")

    status = models.CharField("状态", max_length=16, choices=CaseStatus.choices, default=CaseStatus.UNASSIGNED)
    status_changed_at = models.DateTimeField("状态变更时间", auto_now_add=True)
    owner_clerk = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="owned_cases", verbose_name="负责内勤", db_index=False)
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="collected_cases", verbose_name="催收业务员",
                                  db_index=False)
    assigned_at = models.DateTimeField("分配时间", null=True, blank=True)

    # C9: a case the bank retained under a new batch number continues an earlier one.
    previous_case = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="continuations", verbose_name="原委案",
                                      db_index=False)
    # Columns of the bank's file outside the standard template, kept as {header: text}.
    extra = models.JSONField("其他字段", default=dict, blank=True)

    created_at = models.DateTimeField("导入时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "委案"
        ordering = ["-id"]
        constraints = [
            # 案件编号 is unique among a bank's open cases (closed ones may share it with their continuation).
            models.UniqueConstraint(fields=["bank", "case_no"], condition=models.Q(status__in=OPEN_STATUSES),
                                    name="case_no_unique_open_per_bank"),
            models.CheckConstraint(condition=models.Q(entrusted_amount__gt=0), name="case_entrusted_positive"),
            models.CheckConstraint(condition=models.Q(return_date__gte=models.F("entrust_date")),
                                   name="case_return_after_entrust"),
        ]
        indexes = [
            models.Index(fields=["bank", "case_no"], name="case_bank_caseno_idx"),
            models.Index(fields=["collector", "status"], name="case_collector_status_idx"),
            models.Index(fields=["owner_clerk", "status"], name="case_owner_status_idx"),
            # Covering: per-batch progress (the batch roll-up, its drill-down to collectors) reads a batch's cases
            # from the index alone, never the wide case rows (issue 18: 5,000 scattered rows of a batch cost
            # 100–200 ms from disk). Key columns, not INCLUDE, which SQLite lacks (a system-check warning there).
            models.Index(fields=["batch", "status", "collector", "product_type", "entrusted_amount", "repaid_amount",
                                 "id"], name="case_batch_status_idx"),
            # A batch's newest cases first (the list's default order): without it PostgreSQL walked the primary key
            # backwards past every younger batch (bench/case_list.py, manager · batch: 490 ms → 1 ms).
            models.Index(fields=["batch", "id"], name="case_batch_id_idx"),
            # Managers' status tabs and status filters count from here (capped counts stop after cap + 1 entries).
            models.Index(fields=["status"], name="case_status_idx"),
            models.Index(fields=["entrusted_amount"], name="case_amount_idx"),
            models.Index(fields=["balance"], name="case_balance_idx"),
            # Prefix search on names (LIKE '王%'); the opclass matters on PostgreSQL only. The status rides along so
            # the status tabs of a name search count from the index alone (王: 600 ms → 30 ms for the three).
            # Riding columns are key columns here, not INCLUDE, which SQLite lacks (a system-check warning there).
            models.Index(fields=["debtor_name", "status"], name="case_name_prefix_idx",
                         opclasses=["varchar_pattern_ops", "varchar_ops"]),
            # The case list's exact searches across banks (bench/case_list.py: 287 ms → ~1 ms on a million rows).
            models.Index(fields=["case_no"], name="case_caseno_idx"),
            models.Index(fields=["mobile"], name="case_mobile_idx"),
            # Sorting the list by collector walks this index instead of sorting every row.
            models.Index(fields=["collector", "id"], name="case_collector_id_idx"),
            # Exact lookups (search by ID number, repayment matching by card number). Explicit indexes rather
            # than db_index=True: on PostgreSQL that also builds a varchar_pattern_ops twin nothing uses, and
            # every index costs the 100k-row import (issue 2, item 11).
            models.Index(fields=["id_number"], name="case_idnumber_idx"),
            models.Index(fields=["card_no"], name="case_cardno_idx"),
            # The list's region filter is a prefix match (LIKE '沈阳市%'): the pattern opclass serves it and equality.
            models.Index(fields=["region"], name="case_region_prefix_idx", opclasses=["varchar_pattern_ops"]),
            # A clerk's list is one bank's cases: region and amount filters within it, and the money totals, are
            # answered from this index without reading the table (clerk · region + amount: 850 ms → 15 ms).
            models.Index(fields=["bank", "region", "entrusted_amount", "repaid_amount", "balance"],
                         name="case_bank_region_amount_idx",
                         opclasses=["int8_ops", "varchar_pattern_ops", "numeric_ops", "numeric_ops", "numeric_ops"]),
            # Date filters and sorts. The list pages by id: with id next in the key and the status and bank alongside,
            # the page's ids come from the index alone in the order shown (entrust date + 未开始: 220 ms → 2 ms).
            # INCLUDE, not key columns: as key columns `status IN (…)` became an index condition costed per value,
            # and the planner went back to walking the primary key (290 ms). SQLite ignores INCLUDE (models.W040).
            models.Index(fields=["entrust_date", "id"], name="case_entrust_id_idx", include=["status", "bank"]),
            models.Index(fields=["return_date", "id"], name="case_return_id_idx", include=["status", "bank"]),
            # Only continuations have a previous case: a partial index stays small and import-cheap.
            models.Index(fields=["previous_case"], name="case_previous_idx",
                         condition=models.Q(previous_case__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.case_no} {self.debtor_name}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def overpaid_amount(self) -> Decimal:
        """What was repaid beyond the entrusted amount (多还): the negated balance, else 0."""
        return -self.balance if self.balance < 0 else Decimal("0.00")

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


class CaseContact(models.Model):
    """A phone number of the debtor or of a contact person named in the file."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="contacts", verbose_name="委案")
    name = models.CharField("联系人姓名", max_length=64, blank=True)
    relation = models.CharField("关系", max_length=32, blank=True, help_text="本人的号码写“本人”")
    # Indexed through Meta.indexes: db_index=True would also build a varchar_pattern_ops twin on PostgreSQL
    # that no query uses (phone searches are exact), and every index costs the import ~2.7 contacts per case.
    phone = models.CharField("电话", max_length=32)
    source = models.CharField("来源", max_length=16, choices=ContactSource.choices, default=ContactSource.IMPORT)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "联系方式"
        ordering = ["id"]
        indexes = [models.Index(fields=["phone"], name="contact_phone_idx")]

    def __str__(self) -> str:
        return f"{self.relation} {self.name} {self.phone}".strip()

    @property
    def is_debtor(self) -> bool:
        return self.relation == "本人"


def balance_words(balance: Decimal) -> str:
    """余额 ¥1,234.50, or 多还 ¥1,234.50 when more than the entrusted amount was repaid (never a negative 余额)."""
    if balance < 0:
        return f"多还 ¥{-balance:,.2f}"
    return f"余额 ¥{balance:,.2f}"


def mask_id_number(value: str) -> str:
    """110101********1234: the region and the last four stay readable."""
    if len(value) <= 10:
        return value[:2] + "*" * max(len(value) - 2, 0)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_card_no(value: str) -> str:
    """622202******1234: the issuer's six digits and the last four, as banks print a card number."""
    return mask_id_number(value)


def mask_phone(value: str) -> str:
    """138****5678 for mobiles; landlines keep their area code and last four."""
    digits = value.strip()
    if len(digits) <= 7:
        return digits[:2] + "*" * max(len(digits) - 2, 0)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
