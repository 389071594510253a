"""Scorecards (评分卡): one per bank, kept as numbered versions.

A version is edited while it is a draft; publishing freezes it (its rows are never changed again) and
retires the version published before. Every Assessment points at the version it used (PROTECT), so a
past score is always explained by the exact bins and cut-offs that produced it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from assessment.enums import CharacteristicKind, Decision, EdgeRule, Grade, VersionStatus


class Scorecard(models.Model):
    bank = models.OneToOneField("cases.Bank", on_delete=models.PROTECT, related_name="scorecard",
                                verbose_name="银行")
    name = models.CharField("名称", max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="创建人")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "评分卡"
        ordering = ["bank__code"]

    def __str__(self) -> str:
        return f"{self.bank.name} · {self.name}"


class ScorecardVersion(models.Model):
    scorecard = models.ForeignKey(Scorecard, on_delete=models.PROTECT, related_name="versions",
                                  verbose_name="评分卡")
    number = models.PositiveIntegerField("版本号")
    status = models.CharField("状态", max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    base_points = models.IntegerField("基础分", default=0)
    # The recommended limit is capped at monthly income × this multiple.
    income_multiple = models.DecimalField("月收入倍数上限", max_digits=6, decimal_places=2)
    note = models.CharField("修改说明", max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="创建人")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name="发布人")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    retired_at = models.DateTimeField("停用时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "评分卡版本"
        ordering = ["scorecard", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "number"], name="scorecard_version_number_unique"),
            models.UniqueConstraint(fields=["scorecard"], condition=models.Q(status="published"),
                                    name="scorecard_one_published"),
            models.UniqueConstraint(fields=["scorecard"], condition=models.Q(status="draft"),
                                    name="scorecard_one_draft"),
            models.CheckConstraint(condition=models.Q(income_multiple__gt=0), name="scorecard_multiple_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.scorecard} 第 {self.number} 版"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT


class GradeRule(models.Model):
    """Cut-off of one grade: a total of at least `min_points` (and below the better grade's) gets it.

    Grade E has no minimum: every total below D's cut-off is E.
    """

    version = models.ForeignKey(ScorecardVersion, on_delete=models.CASCADE, related_name="grades",
                                verbose_name="版本")
    grade = models.CharField("等级", max_length=1, choices=Grade.choices)
    min_points = models.IntegerField("最低总分", null=True, blank=True)
    decision = models.CharField("建议决定", max_length=16, choices=Decision.choices)
    limit_percent = models.DecimalField("建议额度（申请金额的百分比）", max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "等级划分"
        ordering = ["version", "grade"]
        constraints = [models.UniqueConstraint(fields=["version", "grade"], name="grade_rule_unique")]

    def __str__(self) -> str:
        return f"{self.grade} ≥ {self.min_points}"


class Characteristic(models.Model):
    version = models.ForeignKey(ScorecardVersion, on_delete=models.CASCADE, related_name="characteristics",
                                verbose_name="版本")
    kind = models.CharField("特征", max_length=32, choices=CharacteristicKind.choices)
    position = models.PositiveSmallIntegerField("顺序", default=0)
    edge_rule = models.CharField("分箱边界", max_length=8, choices=EdgeRule.choices, default=EdgeRule.LOWER_CLOSED)
    # Points when the value cannot be computed (no income for the ratio, no history for the recovery rate).
    missing_points = models.IntegerField("缺失值得分", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "评分特征"
        ordering = ["version", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "kind"], name="characteristic_kind_unique")]

    def __str__(self) -> str:
        return self.get_kind_display()


class Bin(models.Model):
    """A numeric range of a characteristic and its points. A blank edge is unbounded (−∞ or +∞)."""

    characteristic = models.ForeignKey(Characteristic, on_delete=models.CASCADE, related_name="bins",
                                       verbose_name="特征")
    position = models.PositiveSmallIntegerField("顺序", default=0)
    lower = models.DecimalField("下限", max_digits=16, decimal_places=2, null=True, blank=True)
    upper = models.DecimalField("上限", max_digits=16, decimal_places=2, null=True, blank=True)
    points = models.IntegerField("分数")

    class Meta:
        verbose_name = verbose_name_plural = "分箱"
        ordering = ["characteristic", "position", "id"]

    def __str__(self) -> str:
        return f"{self.lower} – {self.upper}: {self.points}"
