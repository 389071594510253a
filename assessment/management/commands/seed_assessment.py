"""`manage.py seed_assessment`: the pre-loan assessment's demo data, also run at the end of `seed_demo`.

One published scorecard per demo bank (the default characteristics) and a few applicants per bank; one
applicant of each bank carries the ID number of a demo collection case of the OTHER bank, so the history
check across banks and its effect on the grade show at once. Runs through the module's actions; running it
again adds nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.models import User
from assessment.actions.applicants import applicant_create
from assessment.actions.assessments import assessment_score
from assessment.actions.scorecards import scorecard_create, scorecard_version_publish
from assessment.identity import birth_date_of, sex_of
from assessment.imports.rows import ApplicantInput
from assessment.models import Applicant, Scorecard
from cases.models import Bank, Case
from cases.validators import id_check_digit

# (name, area code + birth date, phone, employer, years, income, debt, monthly payment, amount, term, purpose)
PEOPLE: tuple[tuple[str, str, str, str, str, str, str, str, str, int, str], ...] = (
    ("韩立新", "21010219850312", "13904001122", "沈阳华信汽车配件厂", "6", "9800", "30000", "1200", "80000", 36,
     "装修"),
    ("冯雅琴", "21010319920708", "13504002233", "辽宁百汇超市连锁有限公司", "2.5", "5200", "0", "0", "30000", 24,
     "购车首付"),
    ("邓志远", "21020219780125", "18604003344", "个体经营（餐饮）", "11", "15000", "120000", "4800", "200000", 60,
     "经营周转"),
)


def _id_number(prefix14: str, seq: int) -> str:
    first17 = f"{prefix14}{seq:03d}"
    return first17 + id_check_digit(first17)


class Command(BaseCommand):
    help = "写入贷前评估演示数据：每家演示银行一张已发布的评分卡和几位申请人（其中一位与演示委案的证件号码相同）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--manager", default="manager", help="以该管理人员的名义创建（默认 manager）")

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        manager = User.objects.filter(username=options["manager"], is_manager=True).first() \
            or User.objects.filter(is_manager=True, is_active=True).order_by("id").first()
        if manager is None:
            self.stdout.write("没有管理人员账号，跳过贷前评估演示数据。")
            return
        banks = list(Bank.objects.filter(is_active=True).order_by("code"))
        for bank in banks:
            if not Scorecard.objects.filter(bank=bank).exists():
                version = scorecard_create(bank=bank, name="个人消费贷款评分卡", by=manager)
                scorecard_version_publish(version=version, by=manager)
                self.stdout.write(f"  评分卡：{bank.name} 第 1 版已发布")
        made = 0
        for index, bank in enumerate(banks):
            if Applicant.objects.filter(bank=bank).exists():
                continue
            made += self._applicants(bank, banks[(index + 1) % len(banks)], manager, seq=index * 10 + 1)
        self.stdout.write(f"  贷前评估演示申请人：{made} 位")

    def _applicants(self, bank: Bank, other: Bank, manager: User, *, seq: int) -> int:
        inputs: list[ApplicantInput] = []
        for n, (name, prefix, phone, employer, years, income, debt, pay, amount, term, purpose) in enumerate(PEOPLE):
            number = _id_number(prefix, seq + n)
            inputs.append(ApplicantInput(
                name=name, id_number=number, phone=phone[:-1] + str((seq + n) % 10), birth_date=birth_date_of(number),
                sex=sex_of(number), employer=employer, employment_years=Decimal(years), monthly_income=Decimal(income),
                total_debt=Decimal(debt), monthly_debt_payment=Decimal(pay), loan_amount=Decimal(amount),
                loan_term_months=term, purpose=purpose))
        # A debtor the agency worked for the other bank now asks this bank for a loan.
        old = (Case.objects.filter(bank=other).exclude(repaid_amount=0).order_by("id").first()
               or Case.objects.filter(bank=other).order_by("id").first())
        if old is not None and len(old.id_number) == 18 and birth_date_of(old.id_number) <= dt.date(2006, 1, 1):
            inputs.append(ApplicantInput(
                name=old.debtor_name, id_number=old.id_number, phone=old.mobile or "13900000000",
                birth_date=birth_date_of(old.id_number), sex=sex_of(old.id_number), employer=old.employer,
                employment_years=Decimal("4"), monthly_income=Decimal("8500"), monthly_debt_payment=Decimal("900"),
                loan_amount=Decimal("60000"), loan_term_months=36, purpose="日常消费"))
        created = [applicant_create(bank=bank, data=data, by=manager) for data in inputs]
        for applicant in created[1:]:  # the first stays 待评分
            assessment_score(applicant=applicant, by=manager)
        return len(created)
