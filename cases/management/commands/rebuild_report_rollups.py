"""`manage.py rebuild_report_rollups`: recompute every report roll-up from the raw data.

The repayment actions keep the daily and monthly repayment roll-ups, and the report pages refresh the
progress and credit-card roll-ups the actions marked; this command is for after a restore, a bulk load
done outside the product, or to check: it prints the row counts and the totals it rebuilt.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db.models import Sum

from cases import rollups
from cases.models import Repayment, RepaymentDaily


class Command(BaseCommand):
    help = "从原始回款、委案、电话与外访记录重建全部报表汇总（回款日/月汇总、工作进度、信用卡批次回款率）。"

    def handle(self, *args: object, **options: object) -> None:
        started = time.perf_counter()
        counts = rollups.rebuild()
        raw = Repayment.objects.aggregate(a=Sum("amount"))["a"]
        rolled = RepaymentDaily.objects.aggregate(a=Sum("amount"))["a"]
        self.stdout.write(
            f"已重建（{time.perf_counter() - started:.1f} 秒）：回款日汇总 {counts['repayment_daily']} 行，"
            f"回款月汇总 {counts['repayment_monthly']} 行，工作进度 {counts['collector_progress']} 行，"
            f"批次回款 {counts['batch_progress']} 行；回款合计 {raw or 0:,.2f} 元（汇总 {rolled or 0:,.2f} 元）"
        )
