from __future__ import annotations

import io
import random
from collections import Counter

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import User
from cases.enums import CaseStatus
from cases.management.commands.seed_demo import DEMO_BATCHES, DEMO_USERS, TEMPLATE_HEADERS, build_batch_workbook
from cases.models import Bank, Batch, BatchProgress, Case, CaseContact, CollectorProgress
from cases.validators import id_number_error, is_mobile
from tests import factories as f


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db):
    return seed()


def test_seed_demo_creates_banks_staff_and_three_imported_batches(seeded):
    # then
    assert set(Bank.objects.values_list("code", flat=True)) == {"ZSYH", "JSYH"}
    batches = Batch.objects.all()
    assert {b.batch_no for b in batches} == {spec.batch_no for spec in DEMO_BATCHES}
    assert {b.product_type for b in batches} == {"credit_card", "loan"}
    assert Case.objects.count() == sum(spec.size for spec in DEMO_BATCHES)
    assert all(b.case_count == b.cases.count() and b.imported_by is not None for b in batches)


def test_seed_demo_gives_every_role_an_account_with_the_printed_password(seeded):
    # given
    output = seeded
    # then
    for spec in DEMO_USERS:
        user = User.objects.get(username=spec.username)
        assert user.check_password(spec.password), spec.username
        assert spec.username in output and spec.password in output
    roles = {r for u in User.objects.all() for r in u.roles}
    assert {r.value for r in roles} == {"clerk", "phone_collector", "field_collector", "manager", "sysadmin"}
    assert User.objects.get(username="clerk").bank_scopes.get().bank.code == "ZSYH"
    assert User.objects.get(username="clerk2").bank_scopes.get().bank.code == "JSYH"
    assert User.objects.get(username="collector").department.name == "电催一部"


def test_seed_demo_data_is_realistic(seeded):
    # then
    cases = list(Case.objects.all())
    assert all(id_number_error(c.id_number) is None for c in cases)
    assert all(is_mobile(c.mobile) for c in cases)
    assert all(c.region.startswith(("沈阳市", "大连市")) and c.home_address.startswith(c.region) for c in cases)
    assert all(c.employer and c.commission_rate > 0 and c.entrusted_amount > 0 for c in cases)
    today = timezone.localdate()
    assert all(c.entrust_date <= today <= c.return_date for c in cases)
    assert CaseContact.objects.exclude(relation="本人").count() >= len(cases)


def test_seed_demo_assigns_part_of_the_cases_to_demo_collectors(seeded):
    # then
    assigned = Case.objects.exclude(collector=None)
    assert 0 < assigned.count() < Case.objects.count()
    # some are worked by now, a few already settled by the demo repayments (issue 18)
    assert CaseStatus.IN_PROGRESS in set(assigned.values_list("status", flat=True))
    assert set(assigned.values_list("status", flat=True)) <= {CaseStatus.NOT_STARTED, CaseStatus.IN_PROGRESS,
                                                              CaseStatus.SETTLED}
    assert not assigned.filter(owner_clerk=None).exists() and not assigned.filter(assigned_at=None).exists()
    assert all(c.owner_clerk.bank_scopes.filter(bank=c.bank).exists() for c in assigned.select_related("owner_clerk"))
    assert set(Case.objects.filter(collector=None).values_list("status", flat=True)) == {CaseStatus.UNASSIGNED}
    assert all(c.batch.imported_at <= c.assigned_at <= timezone.now() for c in assigned.select_related("batch"))


def test_seed_demo_leaves_the_report_roll_ups_matching_the_demo_cases(seeded):
    # then: each demo collector's progress row holds exactly the cases they were given, per bank
    held = Counter(Case.objects.exclude(collector=None).values_list("collector_id", "bank_id"))
    rolled = {(p.collector_id, p.bank_id): p.held for p in CollectorProgress.objects.filter(held__gt=0)}
    assert held and rolled == dict(held)
    assert BatchProgress.objects.count() == Batch.objects.count()


def test_seed_demo_lets_the_collector_log_in_and_see_own_cases(seeded):
    # given
    client = Client()
    spec = next(s for s in DEMO_USERS if s.username == "collector")
    login = client.post(reverse("accounts:login"), {"username": spec.username, "password": spec.password})
    assert login.status_code == 302
    # when
    response = client.get(reverse("cases:case-list"))
    # then
    rows = response.context["page"].rows
    assert rows and all(c.collector.username == "collector" for c in rows)


def test_seed_demo_writes_in_bulk(db, django_assert_max_num_queries):
    """First start stays quick: the demo's three months of activity are written in bulk, not row by row (800
    statements when this was written; a per-row write would take tens of thousands). Its time is not asserted:
    it depends on the machine."""
    with django_assert_max_num_queries(1200):
        seed()


def test_seed_demo_twice_changes_nothing(seeded):
    # given
    counts = (Bank.objects.count(), User.objects.count(), Batch.objects.count(), Case.objects.count())
    assigned = Case.objects.exclude(collector=None).count()
    # when
    output = seed()
    # then
    assert (Bank.objects.count(), User.objects.count(), Batch.objects.count(), Case.objects.count()) == counts
    assert Case.objects.exclude(collector=None).count() == assigned
    assert "已存在" in output


def test_seed_demo_if_empty_does_nothing_when_a_bank_exists(db):
    # given
    f.BankFactory(code="GSYH", name="工商银行")
    # when
    output = seed("--if-empty")
    # then
    assert "跳过" in output
    assert not Batch.objects.exists() and not User.objects.exists()


def test_seed_demo_keeps_existing_passwords(db):
    # given: an installation where "manager" already exists with its own password
    f.ManagerFactory(username="manager")
    # when
    seed()
    # then
    assert User.objects.get(username="manager").check_password(f.PASSWORD)


def test_build_batch_workbook_uses_the_standard_template(db):
    # when
    content = build_batch_workbook(DEMO_BATCHES[0], today=timezone.localdate(), rng=random.Random(1))
    # then
    rows = list(load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True))
    assert rows[0][: len(TEMPLATE_HEADERS)] == TEMPLATE_HEADERS
    assert len(rows) == DEMO_BATCHES[0].size + 1
    assert {r[0] for r in rows[1:]} == {DEMO_BATCHES[0].batch_no}


def test_seed_demo_gives_phone_collectors_a_desk_phone_the_dialer_can_ring(seeded):
    # given
    from accounts.models import User

    # when
    phones = dict(User.objects.filter(is_phone_collector=True).values_list("username", "sip_endpoint"))
    # then: bare PJSIP endpoint names, each different, so the embedded simulator rings the right phone
    assert phones == {"collector": "8001", "collector2": "8002", "collector3": "8003"}


def test_seed_demo_holds_three_months_of_activity_that_adds_up(seeded):
    # given
    from django.db.models import Sum

    from cases.enums import CallDirection
    from cases.models import CallRecord, DailyCollectorStats, Repayment, RepaymentMonthly, VisitRecord
    from performance.models import CollectorStatement, CommissionScheme, Target
    from worklist.models import Promise

    today = timezone.localdate()
    # then: calls, visits and repayments over at least three calendar months
    months = {(d.year, d.month) for d in CallRecord.objects.dates("started_at", "month")}
    assert len(months) >= 3
    assert VisitRecord.objects.exists() and CallRecord.objects.filter(result="promise").exists()
    # every live promise call and visit has its promise record (承诺还款, issue 16), some kept, some broken
    promised = (CallRecord.objects.filter(result="promise", deleted_at=None).count()
                + VisitRecord.objects.filter(result="promise", deleted_at=None).count())
    assert Promise.objects.count() == promised
    assert {"kept", "broken"} <= set(Promise.objects.values_list("status", flat=True))
    paid_months = {(d.year, d.month) for d in Repayment.objects.dates("repaid_on", "month")}
    assert len(paid_months) >= 2 and (today.year, today.month) in paid_months | {(today.year, today.month)}
    # the dashboard counters and the report roll-ups agree with the rows
    outbound = CallRecord.objects.filter(direction=CallDirection.OUTBOUND, collector__isnull=False).count()
    assert DailyCollectorStats.objects.aggregate(n=Sum("calls_made"))["n"] == outbound
    assert RepaymentMonthly.objects.aggregate(a=Sum("amount"))["a"] == Repayment.objects.aggregate(a=Sum("amount"))["a"]
    for case in Case.objects.filter(repaid_amount__gt=0)[:20]:
        assert case.balance == case.entrusted_amount - case.repaid_amount
    # targets, schemes and an approved month of statements
    assert Target.objects.exists() and CommissionScheme.objects.count() == 2
    assert CollectorStatement.objects.exists()
