"""`manage.py seed_performance`: demo targets for this and last month, a commission scheme per demo bank, and
the month before last's statements approved (issue 18). Does nothing twice: it stops when a scheme exists."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import User
from accounts.selectors import collector_list
from cases.models import Bank
from performance.actions.commission import scheme_create, statement_approve
from performance.actions.targets import targets_set
from performance.models import CommissionScheme, SchemeKind, TargetScope
from performance.selectors.targets import month_actuals


class Command(BaseCommand):
    help = "写入演示业绩数据：本月和上月目标、每家演示银行的提成方案、前月提成表审批。"

    def handle(self, *args: object, **options: object) -> None:
        manager = User.objects.filter(is_manager=True, is_active=True).order_by("pk").first()
        if manager is None or CommissionScheme.objects.exists():
            self.stdout.write("已有提成方案（或没有管理人员账号），跳过演示业绩数据。")
            return
        today = timezone.localdate()
        this_month = today.replace(day=1)
        last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
        before = (last_month - dt.timedelta(days=1)).replace(day=1)
        banks = {b.code: b for b in Bank.objects.all()}
        start = before - dt.timedelta(days=120)
        if "ZSYH" in banks:
            scheme_create(name="招行固定 1.5%", bank=banks["ZSYH"], batch=None, kind=SchemeKind.FLAT,
                          rate=Decimal("0.015"), tiers=[], effective_from=start, effective_to=None, by=manager)
        if "JSYH" in banks:
            scheme_create(name="建行回收金额阶梯", bank=banks["JSYH"], batch=None, kind=SchemeKind.AMOUNT_TIERS,
                          rate=None, tiers=[(Decimal("0"), Decimal("0.01")), (Decimal("20000"), Decimal("0.02")),
                                            (Decimal("60000"), Decimal("0.03"))],
                          effective_from=start, effective_to=None, by=manager)
        people = list(collector_list())
        for month in (last_month, this_month):
            done = month_actuals(month=last_month)
            entries = []
            for i, person in enumerate(people):
                base = done.get(person.pk, (Decimal("0"), 0))[0]
                # A little above what last month brought in, rounded to a thousand: some reach it, some do not.
                goal = max(Decimal("10000"), (base * Decimal(str(1.05 + 0.1 * (i % 3))) / 1000).quantize(
                    Decimal("1")) * 1000)
                entries.append((TargetScope.COLLECTOR, person.pk, goal, 60 + 10 * (i % 4)))
            targets_set(month=month, entries=entries, by=manager)
        approved = 0
        for person in people:
            statement_approve(collector=person, month=before, by=manager)
            approved += 1
        self.stdout.write(f"  演示业绩：{len(people)} 名业务员的本月和上月目标、2 个提成方案，"
                          f"{before:%Y年%m月} 提成表已审批 {approved} 份")
