"""Who worked a case when (C3, C4): one row per period a collector held the case.

`Case.collector` says who holds the case now; `Assignment` keeps every period with who handed it over,
how (分配 / 调整 / 互换 / 离职交接) and why. Written only by `cases.actions.assignments`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AssignmentKind(models.TextChoices):
    ASSIGN = "assign", "分配"
    MOVE = "move", "调整"
    SWAP = "swap", "互换"
    HANDOVER = "handover", "离职交接"


class Assignment(models.Model):
    # No single-column FK indexes: (case, started_at) and (collector, ended_at) below lead with these columns,
    # and nobody looks rows up by who assigned them. Fewer indexes keep a 20k-case distribution's insert short.
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="assignments",
                             verbose_name="委案", db_index=False)
    collector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments",
                                  verbose_name="催收业务员", db_index=False)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", verbose_name="操作人", db_index=False)
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True, help_text="为空表示当前仍由该业务员处理")
    kind = models.CharField("方式", max_length=16, choices=AssignmentKind.choices, default=AssignmentKind.ASSIGN)
    reason = models.TextField("原因", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "分配记录"
        ordering = ["-started_at", "-id"]
        constraints = [
            # A case has at most one current holder; the actions end the open row before opening a new one.
            models.UniqueConstraint(fields=["case"], condition=models.Q(ended_at=None),
                                    name="assignment_one_open_per_case"),
        ]
        indexes = [
            models.Index(fields=["collector", "ended_at"], name="assignment_collector_open_idx"),
            models.Index(fields=["case", "started_at"], name="assignment_case_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_id} → {self.collector_id}"

    @property
    def is_current(self) -> bool:
        return self.ended_at is None
