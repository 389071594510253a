from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from cases.enums import CaseStatus
from cases.models import Assignment, Case
from tests import factories as f

HTMX = {"HTTP_HX_REQUEST": "true"}


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(client, name, data, **extra):
    return client.post(reverse(name), data, **HTMX, **extra)


@pytest.fixture
def batch(bank):
    return f.BatchFactory(bank=bank)


@pytest.fixture
def cases(batch):
    """Six unassigned cases of the clerk's bank: two in 大连, four in 沈阳, amounts 1000..6000."""
    regions = ["大连市中山区", "大连市中山区", "沈阳市和平区", "沈阳市和平区", "沈阳市和平区", "沈阳市和平区"]
    return [f.CaseFactory(batch=batch, region=r, entrusted_amount=Decimal(1000 * (i + 1)))
            for i, r in enumerate(regions)]


# --- pages ------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_assign_page_lists_unassigned_cases_of_the_clerks_banks(clerk_client, cases, other_bank, collector):
    # given
    theirs = f.CaseFactory(batch=f.BatchFactory(bank=other_bank), case_no="JS-OTHER")
    # when
    response = clerk_client.get(reverse("cases:assign"))
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert all(c.case_no in body for c in cases)
    assert theirs.case_no not in body
    assert "符合条件 <b>6</b> 件" in body
    assert collector.display_name in body  # the collector picker


@pytest.mark.django_db
def test_assign_page_is_forbidden_to_collectors(collector_client):
    assert collector_client.get(reverse("cases:assign")).status_code == 403


@pytest.mark.django_db
def test_assign_collectors_picker_filters_by_department(clerk_client, collector, other_collector):
    # given
    dept = collector.department
    # when
    response = clerk_client.get(reverse("cases:assign-collectors"), {"cdept": dept.pk})
    # then
    body = response.content.decode()
    assert collector.display_name in body
    assert other_collector.display_name not in body


# --- preview and confirm ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_assign_preview_shows_count_and_money_per_collector(clerk_client, cases, collector, other_collector):
    # given: all six cases (21,000), spread by amount over two collectors
    data = {"filters": "status=unassigned", "select_all": "1", "collector": [collector.pk, other_collector.pk],
            "mode": "amount"}
    # when
    response = _post(clerk_client, "cases:assign-preview", data)
    # then
    plan = response.context["plan"]
    rows = response.context["rows"]
    assert response.status_code == 200
    assert plan.total_count == 6 and plan.total_amount == Decimal("21000")
    assert sorted(r.amount for r in rows) == [Decimal("10000"), Decimal("11000")]
    assert "确认分配 6 件" in response.content.decode()
    assert not Assignment.objects.exists()  # a preview writes nothing


@pytest.mark.django_db
def test_assign_preview_of_ticked_cases_counts_only_those(clerk_client, cases, collector):
    # given
    data = {"filters": "", "case": [cases[0].pk, cases[5].pk], "collector": [collector.pk], "mode": "one"}
    # when
    response = _post(clerk_client, "cases:assign-preview", data)
    # then
    plan = response.context["plan"]
    assert (plan.total_count, plan.total_amount) == (2, Decimal("7000"))


@pytest.mark.django_db
def test_assign_preview_explains_what_is_missing(clerk_client, cases):
    # when
    response = _post(clerk_client, "cases:assign-preview", {"filters": "", "mode": "count"})
    # then
    body = response.content.decode()
    assert "请至少选择一位业务员" in body
    assert "请先勾选委案" in body


@pytest.mark.django_db
def test_select_all_matching_assigns_exactly_the_filtered_set(clerk, clerk_client, cases, collector,
                                                              other_collector, settings):
    # given: the filter matches the four 沈阳 cases, more than one page of two
    settings.CASE_LIST_PAGE_SIZE = 2
    filters = urlencode({"status": "unassigned", "region": "沈阳"})
    page = clerk_client.get(f"{reverse('cases:assign')}?{filters}")
    assert len(page.context["page"].rows) == 2 and page.context["match_count"] == 4
    data = {"filters": filters, "select_all": "1", "collector": [collector.pk, other_collector.pk], "mode": "count"}
    preview = _post(clerk_client, "cases:assign-preview", data)
    # when
    response = _post(clerk_client, "cases:assign-confirm", {**data, "digest": preview.context["plan"].digest})
    # then
    assert response.status_code == 200 and response["HX-Redirect"].startswith(reverse("cases:assign"))
    assigned = set(Case.objects.exclude(collector=None).values_list("pk", flat=True))
    assert assigned == {c.pk for c in cases if c.region.startswith("沈阳")}
    assert Case.objects.filter(collector=collector).count() == Case.objects.filter(collector=other_collector).count()
    assert set(Case.objects.exclude(collector=None).values_list("owner_clerk", flat=True)) == {clerk.pk}


@pytest.mark.django_db
def test_assign_confirm_refuses_when_the_selection_changed_since_preview(clerk_client, cases, batch, collector):
    # given
    data = {"filters": "status=unassigned", "select_all": "1", "collector": [collector.pk], "mode": "one"}
    preview = _post(clerk_client, "cases:assign-preview", data)
    f.CaseFactory(batch=batch)  # a new matching case arrives before the clerk confirms
    # when
    response = _post(clerk_client, "cases:assign-confirm", {**data, "digest": preview.context["plan"].digest})
    # then
    assert "预览之后所选委案有变化" in response.content.decode()
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_assign_confirm_requires_a_preview(clerk_client, cases, collector):
    # when
    response = _post(clerk_client, "cases:assign-confirm",
                     {"filters": "", "select_all": "1", "collector": [collector.pk], "mode": "one"})
    # then
    assert "请先预览" in response.content.decode()
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_clerk_of_another_bank_cannot_assign_those_cases(other_clerk, cases, collector):
    # given: the other clerk ticks ids of cases of a bank they do not handle
    client = _client(other_clerk)
    data = {"filters": "", "case": [c.pk for c in cases], "collector": [collector.pk], "mode": "one"}
    # when
    preview = _post(client, "cases:assign-preview", data)
    confirm = _post(client, "cases:assign-confirm", {**data, "digest": "0" * 32})
    # then: the cases are simply not in their selection
    assert "请先勾选委案" in preview.content.decode() or "没有选择任何委案" in preview.content.decode()
    assert "没有选择任何委案" in confirm.content.decode() or "有变化" in confirm.content.decode()
    assert not Assignment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["cases:assign-preview", "cases:assign-confirm"])
def test_collectors_cannot_post_assignments(collector_client, cases, collector, name):
    # when
    response = _post(collector_client, name, {"filters": "", "select_all": "1", "collector": [collector.pk],
                                              "mode": "one"})
    # then
    assert response.status_code == 403
    assert not Assignment.objects.exists()


# --- 调整 ------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_reassign_page_lists_the_collectors_unfinished_cases(clerk_client, batch, collector):
    # given
    working = f.CaseFactory(batch=batch, collector=collector, status=CaseStatus.IN_PROGRESS, case_no="W-1")
    f.CaseFactory(batch=batch, collector=collector, status=CaseStatus.SETTLED, case_no="DONE-1")
    # when
    response = clerk_client.get(reverse("cases:reassign"), {"from": collector.pk})
    # then
    body = response.content.decode()
    assert working.case_no in body and "DONE-1" not in body
    assert response.context["load"].count == 1


@pytest.mark.django_db
def test_reassign_moves_the_ticked_cases(clerk_client, batch, collector, other_collector):
    # given
    a = f.CaseFactory(batch=batch, collector=collector, status=CaseStatus.IN_PROGRESS)
    b = f.CaseFactory(batch=batch, collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    response = clerk_client.post(reverse("cases:reassign"), {
        "from_collector": collector.pk, "to_collector": other_collector.pk, "scope": "ticked", "case": [a.pk],
        "reason": "客户要求更换"})
    # then
    assert response.status_code == 302
    assert Case.objects.get(pk=a.pk).collector == other_collector
    assert Case.objects.get(pk=b.pk).collector == collector


@pytest.mark.django_db
def test_reassign_without_reason_says_so(clerk_client, batch, collector, other_collector):
    # given
    f.CaseFactory(batch=batch, collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    response = clerk_client.post(reverse("cases:reassign"), {
        "from_collector": collector.pk, "to_collector": other_collector.pk, "scope": "all", "reason": ""})
    # then
    assert response.status_code == 400
    assert "请填写调整原因" in response.content.decode()


@pytest.mark.django_db
def test_swap_exchanges_the_cases(clerk_client, batch, collector, other_collector):
    # given
    a = f.CaseFactory(batch=batch, collector=collector, status=CaseStatus.IN_PROGRESS)
    b = f.CaseFactory(batch=batch, collector=other_collector, status=CaseStatus.IN_PROGRESS)
    # when
    response = clerk_client.post(reverse("cases:swap"), {"swap-a": collector.pk, "swap-b": other_collector.pk,
                                                         "swap-reason": "区域调整"})
    # then
    assert response.status_code == 302
    assert (Case.objects.get(pk=a.pk).collector, Case.objects.get(pk=b.pk).collector) == (other_collector, collector)


# --- 离职交接 ---------------------------------------------------------------------------------------------

@pytest.fixture
def departed(batch):
    user = f.CollectorFactory(username="gone", full_name="郑离职", is_active=False)
    for i in range(4):
        f.CaseFactory(batch=batch, collector=user, status=CaseStatus.IN_PROGRESS, entrusted_amount=Decimal(1000 + i))
    return user


@pytest.mark.django_db
def test_orphans_page_lists_inactive_users_with_unfinished_cases(clerk_client, departed):
    # when
    response = clerk_client.get(reverse("cases:orphans"))
    # then
    body = response.content.decode()
    assert "郑离职" in body
    assert "交接 4 件" in body


@pytest.mark.django_db
def test_orphans_page_shows_other_banks_holders_without_a_handover_button(other_clerk, departed):
    # when
    response = _client(other_clerk).get(reverse("cases:orphans"))
    # then
    body = response.content.decode()
    assert "郑离职" in body
    assert "由负责内勤交接" in body


@pytest.mark.django_db
def test_handover_preview_then_confirm_spreads_the_cases(clerk_client, departed, collector, other_collector):
    # given
    url = reverse("cases:handover", kwargs={"user_id": departed.pk})
    data = {"collector": [collector.pk, other_collector.pk], "mode": "count", "reason": "郑离职 离职"}
    preview = clerk_client.post(f"{url}?preview=1", data, **HTMX)
    assert preview.context["plan"].total_count == 4
    # when
    response = clerk_client.post(url, {**data, "digest": preview.context["plan"].digest}, **HTMX)
    # then
    assert response["HX-Redirect"] == reverse("cases:orphans")
    assert Case.objects.filter(collector=collector).count() == 2
    assert Case.objects.filter(collector=other_collector).count() == 2
    assert clerk_client.get(reverse("cases:orphans")).context["holders"] == []


@pytest.mark.django_db
def test_handover_of_an_active_user_is_not_found(clerk_client, collector):
    assert clerk_client.get(reverse("cases:handover", kwargs={"user_id": collector.pk})).status_code == 404


# --- history and owner clerk ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_case_assignment_history_shows_who_when_from_to_why(clerk_client, cases, collector, other_collector):
    # given
    data = {"filters": "", "case": [cases[0].pk], "collector": [collector.pk], "mode": "one"}
    preview = _post(clerk_client, "cases:assign-preview", data)
    _post(clerk_client, "cases:assign-confirm", {**data, "digest": preview.context["plan"].digest})
    clerk_client.post(reverse("cases:reassign"), {"from_collector": collector.pk, "to_collector": other_collector.pk,
                                                  "scope": "all", "reason": "客户投诉更换"})
    # when
    response = clerk_client.get(reverse("cases:case-assignments", kwargs={"case_id": cases[0].pk}))
    # then
    body = response.content.decode()
    assert [a.collector for a in response.context["assignments"]] == [other_collector, collector]
    assert "客户投诉更换" in body and "李内勤" in body and "调整" in body


@pytest.mark.django_db
def test_case_assignment_history_follows_case_visibility(collector_client, collector, other_collector, batch):
    # given
    mine = f.CaseFactory(batch=batch, collector=collector, status=CaseStatus.IN_PROGRESS)
    not_mine = f.CaseFactory(batch=batch, collector=other_collector, status=CaseStatus.IN_PROGRESS)
    # when / then
    assert collector_client.get(reverse("cases:case-assignments", kwargs={"case_id": mine.pk})).status_code == 200
    assert collector_client.get(reverse("cases:case-assignments", kwargs={"case_id": not_mine.pk})).status_code == 404


@pytest.mark.django_db
def test_collector_assignment_history_page(clerk_client, cases, collector):
    # given
    data = {"filters": "", "case": [cases[0].pk], "collector": [collector.pk], "mode": "one"}
    preview = _post(clerk_client, "cases:assign-preview", data)
    _post(clerk_client, "cases:assign-confirm", {**data, "digest": preview.context["plan"].digest})
    # when
    response = clerk_client.get(reverse("cases:collector-assignments", kwargs={"user_id": collector.pk}))
    # then
    assert response.status_code == 200
    assert cases[0].case_no in response.content.decode()


@pytest.mark.django_db
def test_case_detail_shows_the_collector_whom_to_ask_and_loads_the_history(collector_client, collector, clerk, batch):
    # given
    clerk.phone = "13912345678"
    clerk.save()
    case = f.CaseFactory(batch=batch, collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS)
    # when
    body = collector_client.get(reverse("cases:case-detail", kwargs={"case_id": case.pk})).content.decode()
    # then
    assert 'class="owner-clerk"' in body
    assert "李内勤" in body and 'href="tel:13912345678"' in body
    assert reverse("cases:case-assignments", kwargs={"case_id": case.pk}) in body


# --- departed clerks: owner clerk take-over (C6) ---------------------------------------------------------------

@pytest.fixture
def gone_clerk(batch, bank, collector):
    user = f.ClerkFactory(username="clerk_gone", full_name="钱离职", is_active=False)
    f.ClerkBankScopeFactory(clerk=user, bank=bank)
    for i in range(3):
        f.CaseFactory(batch=batch, owner_clerk=user, collector=collector, status=CaseStatus.IN_PROGRESS,
                      entrusted_amount=Decimal(2000 + i))
    return user


@pytest.mark.django_db
def test_orphans_page_lists_departed_clerks_who_own_open_cases(clerk_client, gone_clerk):
    # when
    response = clerk_client.get(reverse("cases:orphans"))
    # then
    body = response.content.decode()
    assert "离职内勤负责的委案" in body
    assert "钱离职" in body
    assert "由我接手 3 件" in body
    [owner] = response.context["owners"]
    assert (owner.user, owner.count, owner.amount) == (gone_clerk, 3, Decimal("6003"))


@pytest.mark.django_db
def test_orphans_page_take_over_makes_the_clerk_owner(clerk_client, clerk, gone_clerk):
    # when
    response = clerk_client.post(reverse("cases:orphans"), {"owner": gone_clerk.pk, "reason": ""}, follow=True)
    # then
    assert set(Case.objects.values_list("owner_clerk_id", flat=True)) == {clerk.pk}
    assert "李内勤 已接手 钱离职 负责的 3 件委案" in response.content.decode()
    assert response.context["owners"] == []


@pytest.mark.django_db
def test_orphans_page_manager_gives_a_departed_clerks_cases_to_a_chosen_clerk(manager_client, clerk, gone_clerk):
    # given
    page = manager_client.get(reverse("cases:orphans"))
    assert page.context["owners"][0].clerks == [clerk]
    # when
    manager_client.post(reverse("cases:orphans"), {"owner": gone_clerk.pk, "to_clerk": clerk.pk, "reason": "离职"})
    # then
    assert set(Case.objects.values_list("owner_clerk_id", flat=True)) == {clerk.pk}


@pytest.mark.django_db
def test_orphans_page_take_over_error_is_shown_in_chinese(other_clerk, gone_clerk):
    # when: a clerk of another bank posts the take-over anyway
    response = _client(other_clerk).post(reverse("cases:orphans"), {"owner": gone_clerk.pk})
    # then
    assert response.status_code == 400
    assert "钱离职 负责的未结委案中没有您负责银行的委案" in response.content.decode()
    assert set(Case.objects.values_list("owner_clerk_id", flat=True)) == {gone_clerk.pk}


@pytest.mark.django_db
def test_orphans_page_take_over_is_refused_to_collectors(collector_client, gone_clerk):
    # when
    response = collector_client.post(reverse("cases:orphans"), {"owner": gone_clerk.pk})
    # then
    assert response.status_code == 403


@pytest.mark.django_db
def test_deactivate_page_tells_a_sysadmin_where_the_cases_go(sysadmin_client, collector, clerk, make_case):
    # given
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    body = sysadmin_client.get(reverse("ops:user-deactivate", args=[collector.pk])).content.decode()
    clerk_page = sysadmin_client.get(reverse("ops:user-deactivate", args=[clerk.pk])).content.decode()
    # then: no link to the clerks' hand-over page (403 for admins), but where the cases will appear
    assert reverse("cases:handover", kwargs={"user_id": collector.pk}) not in body
    assert "“离职交接”列表" in body
    assert "离职内勤负责的委案" in clerk_page
