from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import factory

from accounts.models import BranchCompany, Department, User
from cases.enums import CaseStatus, ProductType
from cases.models import Bank, Batch, Case, CaseContact, ClerkBankScope
from cases.validators import id_check_digit

PASSWORD = "Test-Passw0rd!"


def make_id_number(seq: int, birth: dt.date = dt.date(1985, 6, 15)) -> str:
    first17 = f"210102{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_check_digit(first17)


class BranchCompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BranchCompany
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"第{n}分公司")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    branch = factory.SubFactory(BranchCompanyFactory)
    name = factory.Sequence(lambda n: f"催收{n}部")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"员工{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):  # noqa: N805
        if create:
            obj.save()


class ClerkFactory(UserFactory):
    username = factory.Sequence(lambda n: f"clerk{n}")
    is_clerk = True


class CollectorFactory(UserFactory):
    username = factory.Sequence(lambda n: f"collector{n}")
    is_phone_collector = True
    department = factory.SubFactory(DepartmentFactory)
    branch = factory.SelfAttribute("department.branch")


class FieldCollectorFactory(CollectorFactory):
    is_phone_collector = False
    is_field_collector = True


class ManagerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"manager{n}")
    is_manager = True


class SysadminFactory(UserFactory):
    username = factory.Sequence(lambda n: f"admin{n}")
    is_sysadmin = True


class BankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bank
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"BK{n:02d}")
    name = factory.Sequence(lambda n: f"测试银行{n}")


class ClerkBankScopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClerkBankScope

    clerk = factory.SubFactory(ClerkFactory)
    bank = factory.SubFactory(BankFactory)


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch

    bank = factory.SubFactory(BankFactory)
    batch_no = factory.Sequence(lambda n: f"PC2026{n:04d}")
    product_type = ProductType.CREDIT_CARD
    entrust_date = dt.date(2026, 11, 1)
    return_date = dt.date(2027, 2, 1)


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    batch = factory.SubFactory(BatchFactory)
    bank = factory.SelfAttribute("batch.bank")
    case_no = factory.Sequence(lambda n: f"AJ{n:07d}")
    debtor_name = factory.Sequence(lambda n: random.Random(n).choice(["王", "李", "张", "刘", "陈"]) + "某某")
    id_number = factory.Sequence(make_id_number)
    product_type = ProductType.CREDIT_CARD
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    region = "沈阳市和平区"
    entrusted_amount = Decimal("10000.00")
    balance = factory.LazyAttribute(lambda o: o.entrusted_amount - o.repaid_amount)
    repaid_amount = Decimal("0.00")
    commission_rate = Decimal("0.035000")
    entrust_date = factory.SelfAttribute("batch.entrust_date")
    return_date = factory.SelfAttribute("batch.return_date")
    original_return_date = factory.SelfAttribute("return_date")
    status = CaseStatus.UNASSIGNED


class CaseContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseContact

    case = factory.SubFactory(CaseFactory)
    name = "本人"
    relation = "本人"
    phone = factory.Sequence(lambda n: f"137{n:08d}")
