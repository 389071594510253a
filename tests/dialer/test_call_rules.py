"""拨打规则 (issue 15): a manager sets a bank's calling window and daily caps on the product's page, inside the
national limits; the dialer's guard reads them for the next call; every change audited."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEntry
from cases.models import CallPolicy
from cases.selectors.dialer import compliance_facts


def _rules(client, bank, **values):
    data = {"bank": bank.pk, "window_start": "09:00", "window_end": "20:00", "max_answered_per_debtor": "2",
            "max_unanswered_per_number": "5", **values}
    return client.post(reverse("cases:call-rules"), data)


def test_manager_sets_a_banks_rules_and_the_guard_reads_them(manager_client, manager, make_case):
    # given
    case = make_case()
    # when
    response = _rules(manager_client, case.bank)
    # then
    assert response.status_code == 302
    facts = compliance_facts(case=case, number="13800001234", now=timezone.now())
    assert (facts.window_start, facts.window_end, facts.max_answered_per_debtor, facts.max_unanswered_per_number) == (
        dt.time(9), dt.time(20), 2, 5)
    entry = AuditEntry.objects.get(action=AuditAction.CALL_RULES)
    assert entry.actor == manager
    assert entry.detail["before"].startswith("默认：08:00–21:00")
    assert entry.summary == ("招商银行 拨打规则改为 09:00–20:00，每名债务人每日接通 ≤2 次，每个号码每日未接通 ≤5 次，"
                             "本人号码未接通 3 次后可联系第三方，第三方每案每日接通 ≤1 次")


def test_rules_outside_the_national_limits_are_refused_in_chinese(manager_client, bank):
    # when / then
    for values, message in (({"window_start": "07:30"}, "拨打时段不得早于 08:00 或晚于 22:00"),
                            ({"window_end": "22:30"}, "拨打时段不得早于 08:00 或晚于 22:00"),
                            ({"window_start": "20:00", "window_end": "09:00"}, "开始必须早于结束"),
                            ({"max_answered_per_debtor": "5"}, "每名债务人每日接通次数须在 1–3 次之间"),
                            ({"max_unanswered_per_number": "0"}, "每个号码每日未接通次数须在 1–10 次之间"),
                            ({"window_start": "nine"}, "开始时间请填写为 时:分")):
        response = _rules(manager_client, bank, **values)
        assert response.status_code == 400 and message in response.content.decode(), values
    assert not CallPolicy.objects.exists()
    assert not AuditEntry.objects.filter(action=AuditAction.CALL_RULES).exists()


def test_page_lists_banks_with_defaults_and_active_blocks(manager_client, bank):
    # when
    html = manager_client.get(reverse("cases:call-rules")).content.decode()
    # then
    assert "招商银行" in html and "（默认）" in html and 'value="08:00"' in html and 'value="21:00"' in html


def test_only_managers_set_rules(clerk_client, sysadmin_client, bank):
    # when / then
    for client in (clerk_client, sysadmin_client):
        assert client.get(reverse("cases:call-rules")).status_code == 403
        assert _rules(client, bank).status_code == 403
    assert not CallPolicy.objects.exists()
