"""Assessments (评分结果): one scoring of an applicant against one scorecard version, line by line.

Everything needed to explain the result is copied here at scoring time (each characteristic's value, the
bin it fell in, its points, the history check's figures), so later changes to cases or scorecards never
change what a past assessment says.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from assessment.enums import CharacteristicKind, Decision, Grade


class Assessment(models.Model):
    applicant = models.ForeignKey("assessment.Applicant", on_delete=models.PROTECT, related_name="assessments",
                                  verbose_name="申请人")
    version = models.ForeignKey("assessment.ScorecardVersion", on_delete=models.PROTECT,
                                related_name="assessments", verbose_name="评分卡版本")
    scored_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                  verbose_name="评分人")
    scored_at = models.DateTimeField("评分时间", auto_now_add=True, db_index=True)
    as_of = models.DateField("评分日期")
    base_points = models.IntegerField("基础分")
    total_points = models.IntegerField("总分")
    grade = models.CharField("等级", max_length=1, choices=Grade.choices, db_index=True)
    recommended_decision = models.CharField("建议决定", max_length=16, choices=Decision.choices)
    recommended_limit = models.DecimalField("建议额度", max_digits=14, decimal_places=2)
    limit_explanation = models.CharField("额度计算", max_length=500)
    # The same applicant as if the agency held no collection record: shows what the history changed.
    clean_total_points = models.IntegerField("无催收记录时总分")
    clean_grade = models.CharField("无催收记录时等级", max_length=1, choices=Grade.choices)
    history = models.JSONField("催收历史核查结果", default=dict)

    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="复核人")
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    final_decision = models.CharField("最终决定", max_length=16, choices=Decision.choices, blank=True)
    final_limit = models.DecimalField("最终额度", max_digits=14, decimal_places=2, null=True, blank=True)
    overridden = models.BooleanField("推翻建议", default=False)
    override_reason = models.TextField("推翻理由", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "评分结果"
        ordering = ["-scored_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(overridden=False) | ~models.Q(override_reason=""),
                                   name="assessment_override_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.applicant.name} {self.grade} {self.total_points} 分"

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None

    @property
    def history_points(self) -> int:
        """How many points the agency's collection history added (negative: took away)."""
        return self.total_points - self.clean_total_points


class AssessmentLine(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="lines",
                                   verbose_name="评分结果")
    position = models.PositiveSmallIntegerField("顺序")
    kind = models.CharField("特征", max_length=32, choices=CharacteristicKind.choices)
    label = models.CharField("特征名称", max_length=64)
    value = models.DecimalField("取值", max_digits=16, decimal_places=2, null=True, blank=True)
    value_text = models.CharField("取值（显示）", max_length=64)
    bin_text = models.CharField("所在分箱", max_length=128)
    points = models.IntegerField("得分")
    is_history = models.BooleanField("来自催收历史", default=False)
    clean_points = models.IntegerField("无催收记录时得分")

    class Meta:
        verbose_name = verbose_name_plural = "评分明细"
        ordering = ["assessment", "position"]

    def __str__(self) -> str:
        return f"{self.label} {self.value_text} → {self.points}"
