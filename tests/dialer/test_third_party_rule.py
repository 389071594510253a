"""The third-party contact rule in the compliance guard (issue 17): a contact other than the debtor (配偶, 亲属, 同事,
朋友…) is dialled only after the debtor's own numbers went unanswered N times that day (per bank, default 3), at most
M answered third-party calls per case per day (default 1), never a contact marked 拒绝联系; each refusal says why
in Chinese and is logged like the guard's other refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEntry
from cases.enums import CaseStatus
from cases.models import BlockedNumber, CallPolicy, CallRecord, CallRefusal
from cases.selectors.dialer import compliance_facts
from dialer.compliance import ComplianceFacts, check
from realtime import groups
from tests import factories as f
from tests.dialer import test_dialer as dialer_tests

# The dialer's fixtures (the autouse ones too) and helpers, shared with tests/dialer/test_dialer.py.
running, world = dialer_tests.running, dialer_tests.world
_inside_calling_hours = dialer_tests._inside_calling_hours
_close_thread_connections = dialer_tests._close_thread_connections
_record, until_db, dial = dialer_tests._record, dialer_tests.until_db, dialer_tests.dial

NOON = dt.datetime(2026, 12, 7, 12, 0)


def _facts(**overrides) -> ComplianceFacts:
    values = {"window_start": dt.time(8), "window_end": dt.time(21), "max_answered_per_debtor": 3,
              "max_unanswered_per_number": 6, "answered_today": 0, "unanswered_today": 0,
              "third_party": True, "party_label": "配偶 李某", "debtor_unanswered_today": 0,
              "third_party_after_unanswered": 3, "third_party_answered_today": 0,
              "max_third_party_answered_per_case": 1}
    values.update(overrides)
    return ComplianceFacts(**values)


# ---- the rule (pure) ---------------------------------------------------------------------------------------

def test_check_refuses_a_third_party_before_the_debtors_numbers_went_unanswered_n_times():
    # when
    refusal = check(_facts(debtor_unanswered_today=2), local_now=NOON)
    # then
    assert refusal is not None and refusal.rule == "third_party_wait"
    assert refusal.message == ("本人号码今天未接通 2 次，须先拨打本人号码未接通满 3 次，"
                               "才能联系第三方联系人（配偶 李某）")


def test_check_allows_a_third_party_after_n_unanswered_attempts_on_the_debtor():
    # when / then
    assert check(_facts(debtor_unanswered_today=3), local_now=NOON) is None


def test_check_refuses_a_third_party_once_m_third_party_calls_were_answered_today():
    # when
    refusal = check(_facts(debtor_unanswered_today=5, third_party_answered_today=1), local_now=NOON)
    # then
    assert refusal is not None and refusal.rule == "third_party_cap"
    assert refusal.message == ("该委案今天已接通第三方联系人 1 次，达到每日上限 1 次，"
                               "不能再联系第三方联系人（配偶 李某）")


def test_check_never_dials_a_contact_marked_refused():
    # when
    refusal = check(_facts(debtor_unanswered_today=5, blocked="contact_refused"), local_now=NOON)
    # then
    assert refusal is not None and refusal.rule == "contact_refused"
    assert refusal.message == "该联系人（配偶 李某）已明确拒绝联系，不能拨打"


def test_check_leaves_the_debtors_own_numbers_to_the_other_rules():
    # when / then
    assert check(_facts(third_party=False), local_now=NOON) is None


# ---- the facts (database) ------------------------------------------------------------------------------------

@pytest.fixture
def case(bank, collector):
    case = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, status=CaseStatus.IN_PROGRESS,
                         mobile="13812345678")
    f.CaseContactFactory(case=case, phone="13912345678", relation="本人", name=case.debtor_name)
    return case


@pytest.fixture
def spouse(case):
    return f.CaseContactFactory(case=case, phone="136 9876 5432", relation="配偶", name="李某")


def _call(case, number, *, answered=False, direction="outbound"):
    now = timezone.now()
    return CallRecord.objects.create(case=case, collector=case.collector, number=number, started_at=now,
                                     answered_at=now if answered else None, direction=direction)


@pytest.mark.django_db
def test_facts_count_unanswered_attempts_on_every_own_number_of_the_debtor(case, spouse):
    # given: two misses on the mobile, one on the 本人 contact's second number, one answered, one on the spouse
    _call(case, "13812345678")
    _call(case, "13812345678")
    _call(case, "13912345678")
    _call(case, "13912345678", answered=True)
    _call(case, "13698765432")
    # when
    facts = compliance_facts(case=case, number="13698765432", now=timezone.now(), contact=spouse)
    # then
    assert facts.third_party and facts.party_label == "配偶 李某"
    assert facts.debtor_unanswered_today == 3
    assert (facts.third_party_after_unanswered, facts.max_third_party_answered_per_case) == (3, 1)


@pytest.mark.django_db
def test_facts_count_answered_third_party_calls_on_the_case_only(case, spouse):
    # given: one answered call to the spouse, one answered with the debtor, one answered inbound from the spouse
    _call(case, "13698765432", answered=True)
    _call(case, "13812345678", answered=True)
    _call(case, "13698765432", answered=True, direction="inbound")
    # when: the spouse's number as the exchange writes it, no contact given
    facts = compliance_facts(case=case, number="+86 136 9876 5432", now=timezone.now())
    # then
    assert facts.third_party and facts.third_party_answered_today == 1


@pytest.mark.django_db
def test_facts_treat_the_debtors_own_numbers_and_typed_numbers_as_the_debtor(case, spouse):
    # when / then
    own = case.contacts.get(relation="本人")
    assert not compliance_facts(case=case, number="13912345678", now=timezone.now(), contact=own).third_party
    assert not compliance_facts(case=case, number="13812345678", now=timezone.now()).third_party
    assert not compliance_facts(case=case, number="13500001111", now=timezone.now()).third_party


@pytest.mark.django_db
def test_facts_read_the_banks_n_and_m(case, spouse):
    # given
    CallPolicy.objects.create(bank=case.bank, third_party_after_unanswered=1, max_third_party_answered_per_case=2)
    # when
    facts = compliance_facts(case=case, number=spouse.phone, now=timezone.now(), contact=spouse)
    # then
    assert (facts.third_party_after_unanswered, facts.max_third_party_answered_per_case) == (1, 2)


# ---- the pages -----------------------------------------------------------------------------------------------

def _rules(client, bank, *, after, cap):
    return client.post(reverse("cases:call-rules"), {
        "bank": bank.pk, "window_start": "08:00", "window_end": "21:00", "max_answered_per_debtor": "3",
        "max_unanswered_per_number": "6", "third_party_after_unanswered": after,
        "max_third_party_answered_per_case": cap})


@pytest.mark.django_db
def test_manager_sets_n_and_m_on_the_call_rules_page_audited(manager_client, bank):
    # when
    response = _rules(manager_client, bank, after="5", cap="2")
    # then
    assert response.status_code == 302
    policy = CallPolicy.objects.get(bank=bank)
    assert (policy.third_party_after_unanswered, policy.max_third_party_answered_per_case) == (5, 2)
    entry = AuditEntry.objects.get(action=AuditAction.CALL_RULES)
    assert entry.summary.endswith("本人号码未接通 5 次后可联系第三方，第三方每案每日接通 ≤2 次")


@pytest.mark.django_db
def test_call_rules_page_refuses_m_above_the_limit(manager_client, bank):
    # when
    response = _rules(manager_client, bank, after="3", cap="9")
    # then
    assert response.status_code == 400
    assert "每个委案每日第三方接通次数须在 0–3 次之间" in response.content.decode()
    assert not CallPolicy.objects.exists()


@pytest.mark.django_db
def test_collector_marks_a_contact_refused_from_the_dial_list(collector_client, case, spouse):
    # when
    response = collector_client.post(reverse("cases:number-block", args=[case.pk]),
                                     {"contact": spouse.pk, "reason": "contact_refused", "note": "配偶表示不再接听"})
    # then
    assert response.status_code == 302
    row = BlockedNumber.objects.get()
    assert (row.number, row.reason, row.get_reason_display()) == ("13698765432", "contact_refused", "拒绝联系")
    assert compliance_facts(case=case, number=spouse.phone, now=timezone.now(), contact=spouse).blocked == (
        "contact_refused")


# ---- the dialer's guard (simulator) ------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
async def test_dialer_refuses_and_logs_each_third_party_refusal_then_dials_once_allowed(running, sim, world,
                                                                                         published):
    # given: the world's case has a spouse; the debtor's mobile is 13800138000
    spouse = await sync_to_async(f.CaseContactFactory)(case=world.case, phone="13600136000", relation="配偶",
                                                      name="孙某")
    await sim.script("13600136000", answer_after=0.5, hangup_after=1)

    async def originate(uuid):
        await run.handlers.originate(call_uuid=uuid, collector_id=world.collector.pk, extension="8001",
                                     case_id=world.case.pk, contact_id=spouse.pk, number="13600136000")
        return await sync_to_async(CallRefusal.objects.filter(number="13600136000").order_by("-id").first)()

    async with running() as run:
        # when: the spouse before any attempt on the debtor
        first = await originate("tp-1")
        # then
        assert first.rule == "third_party_wait" and first.case_id == world.case.pk
        assert first.message.startswith("本人号码今天未接通 0 次") and "配偶 孙某" in first.message
        refused = [m for m in published.messages_to(groups.user(world.collector.pk)) if m.get("status") == "refused"]
        assert refused and refused[-1]["message"] == first.message
        # given: three unanswered attempts on the debtor's mobile
        now = timezone.now()
        for _ in range(3):
            await sync_to_async(CallRecord.objects.create)(case=world.case, collector=world.collector,
                                                          number="13800138000", started_at=now)
        # when: the spouse again: dialled, and answered
        assert await originate("tp-2") == first
        await until_db(lambda: _record("tp-2") is not None and _record("tp-2").answered_at is not None, 15)
        # when / then: the day's one answered third-party call is used up
        third = await originate("tp-3")
        assert third.rule == "third_party_cap" and "上限 1 次" in third.message
        # given / when / then: the spouse asks not to be called: marked 拒绝联系
        await sync_to_async(BlockedNumber.objects.create)(number="13600136000", reason="contact_refused")
        fourth = await originate("tp-4")
        assert (fourth.rule, fourth.message) == ("contact_refused", "该联系人（配偶 孙某）已明确拒绝联系，不能拨打")
