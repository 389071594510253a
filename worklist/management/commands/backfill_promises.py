"""`manage.py backfill_promises`: promise records (承诺还款) for live promise calls and visits written without
them (in bulk: the demo's three months of work, a data migration), matched against their cases' repayments.
Writes nothing twice: a call or visit that has its promise record is left alone."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from worklist.actions import promises_backfill
from worklist.models import PromiseStatus


class Command(BaseCommand):
    help = "为没有承诺记录的承诺还款电话和外访补写承诺记录，并与回款匹配（已兑现、部分兑现、违约、待兑现）。"

    def handle(self, *args: object, **options: object) -> None:
        counts = promises_backfill()
        total = sum(counts.values())
        if not total:
            self.stdout.write("  承诺还款记录：没有需要补写的。")
            return
        shown = "、".join(f"{PromiseStatus(status).label} {n}" for status, n in counts.items() if n)
        self.stdout.write(f"  承诺还款记录：补写 {total} 条（{shown}）")
