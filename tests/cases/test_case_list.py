from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from cases.enums import CaseStatus
from cases.selectors.cases import (
    CappedCount,
    CaseFilters,
    SearchMode,
    case_count_capped,
    case_list,
    case_list_page,
    case_list_summary,
    case_list_totals,
    case_page,
    case_status_group_counts,
)
from tests import factories as f

URL = reverse("cases:case-list")


def ids(qs):
    return [c.pk for c in qs]


@pytest.fixture
def three(make_case, collector, other_collector, other_bank):
    a = make_case(debtor_name="王小明", collector=collector, entrusted_amount=Decimal("5000.00"),
                  region="沈阳市和平区", status=CaseStatus.IN_PROGRESS)
    b = make_case(debtor_name="李大伟", collector=other_collector, entrusted_amount=Decimal("20000.00"),
                  region="沈阳市皇姑区", status=CaseStatus.NOT_STARTED)
    c = make_case(bank=other_bank, debtor_name="王芳", entrusted_amount=Decimal("80000.00"),
                  region="大连市中山区", status=CaseStatus.SETTLED, repaid_amount=Decimal("80000.00"))
    return a, b, c


# --- scoping -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("who", "expected"), [
    ("collector", {0}), ("other_collector", {1}), ("clerk", {0, 1}), ("other_clerk", {2}),
    ("manager", {0, 1, 2}), ("sysadmin", {0, 1, 2}),
])
def test_case_list_scopes_each_role(request, three, clerk, other_clerk, manager, sysadmin, who, expected):
    # given
    user = request.getfixturevalue(who)
    # when
    got = set(ids(case_list(user=user, filters=CaseFilters())))
    # then
    assert got == {three[i].pk for i in expected}


def test_case_list_gives_a_user_with_two_roles_the_union_once(three, collector, other_bank):
    # given: the collector of case 0 is also clerk of the other bank
    collector.is_clerk = True
    collector.save()
    f.ClerkBankScopeFactory(clerk=collector, bank=other_bank)
    f.ClerkBankScopeFactory(clerk=f.ClerkFactory(), bank=three[0].bank)  # another clerk of bank 0
    # when
    got = ids(case_list(user=collector, filters=CaseFilters()))
    # then
    assert sorted(got) == sorted([three[0].pk, three[2].pk])


def test_case_list_view_shows_only_own_cases_to_a_collector(three, collector_client):
    # when
    response = collector_client.get(URL)
    # then
    assert response.status_code == 200
    assert list(response.context["page"].rows) == [three[0]]
    text = response.content.decode()
    assert "王小明" in text and "李大伟" not in text and "王芳" not in text


# --- filters ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("filters", "expected"), [
    ({"status": CaseStatus.IN_PROGRESS}, {0}),
    ({"status_group": "not_started"}, {1}),
    ({"status_group": "finished"}, {2}),
    ({"status_group": "in_progress"}, {0}),
    ({"region": "沈阳市"}, {0, 1}),
    ({"region": "沈阳市皇姑区"}, {1}),
    ({"amount_min": Decimal("10000")}, {1, 2}),
    ({"amount_max": Decimal("20000")}, {0, 1}),
    ({"amount_min": Decimal("10000"), "amount_max": Decimal("20000")}, {1}),
])
def test_case_list_filters_by_field(three, manager, filters, expected):
    # when
    got = set(ids(case_list(user=manager, filters=CaseFilters(**filters))))
    # then
    assert got == {three[i].pk for i in expected}


def test_case_list_filters_by_bank_and_batch(three, manager, other_bank):
    # when
    by_bank = ids(case_list(user=manager, filters=CaseFilters(bank_id=other_bank.pk)))
    by_batch = ids(case_list(user=manager, filters=CaseFilters(batch_id=three[1].batch_id)))
    # then
    assert by_bank == [three[2].pk]
    assert by_batch == [three[1].pk]


def test_case_list_filters_by_entrust_and_return_dates(make_case, manager):
    # given
    early = make_case(entrust_date=dt.date(2026, 8, 1), return_date=dt.date(2026, 11, 1),
                      original_return_date=dt.date(2026, 11, 1))
    late = make_case(entrust_date=dt.date(2026, 10, 1), return_date=dt.date(2027, 1, 1),
                     original_return_date=dt.date(2027, 1, 1))
    # when
    entrusted_late = ids(case_list(user=manager, filters=CaseFilters(entrust_from=dt.date(2026, 9, 1))))
    entrusted_early = ids(case_list(user=manager, filters=CaseFilters(entrust_to=dt.date(2026, 9, 1))))
    returning_soon = ids(case_list(user=manager, filters=CaseFilters(return_from=dt.date(2026, 10, 15),
                                                                     return_to=dt.date(2026, 11, 30))))
    # then
    assert entrusted_late == [late.pk]
    assert entrusted_early == [early.pk]
    assert returning_soon == [early.pk]


def test_case_list_filters_by_collector_branch_and_department(three, manager, collector, other_collector):
    # when
    by_collector = ids(case_list(user=manager, filters=CaseFilters(collector_id=other_collector.pk)))
    by_branch = ids(case_list(user=manager, filters=CaseFilters(branch_id=collector.branch_id)))
    by_dept = ids(case_list(user=manager, filters=CaseFilters(department_id=other_collector.department_id)))
    # then
    assert by_collector == [three[1].pk]
    assert by_branch == [three[0].pk]
    assert by_dept == [three[1].pk]


def test_case_list_view_applies_get_filters(three, manager_client):
    # when
    response = manager_client.get(URL, {"region": "沈阳市", "amount_min": "10000", "status": "not_started"})
    # then
    assert [c.pk for c in response.context["page"].rows] == [three[1].pk]


def test_case_list_view_offers_only_visible_banks_and_ignores_others(three, clerk_client, bank, other_bank):
    # when
    response = clerk_client.get(URL, {"bank": other_bank.pk})
    # then: the other bank is not a choice, the filter is refused and nothing leaks
    form = response.context["form"]
    assert list(form.fields["bank"].queryset) == [bank]
    assert "bank" in form.errors
    assert {c.pk for c in response.context["page"].rows} == {three[0].pk, three[1].pk}
    assert "该条件未生效" in response.content.decode()


def test_case_list_view_hides_staff_filters_from_collectors(three, collector_client, manager_client):
    # when
    as_collector = collector_client.get(URL).context["form"]
    as_manager = manager_client.get(URL).context["form"]
    # then
    assert "collector" not in as_collector.fields and "branch" not in as_collector.fields
    assert {"collector", "branch", "department"} <= set(as_manager.fields)


def test_case_list_view_reports_inverted_ranges(three, manager_client):
    # when
    response = manager_client.get(URL, {"amount_min": "9000", "amount_max": "10"})
    # then
    assert "委案金额的上限不能小于下限" in response.content.decode()


# --- search -------------------------------------------------------------------------------------------------

@pytest.fixture
def searchable(make_case):
    case = make_case(debtor_name="张三丰", case_no="ZS-0001", id_number=f.make_id_number(7),
                     mobile="13912345678")
    f.CaseContactFactory(case=case, name="张母", relation="母亲", phone="024-23456789")
    other = make_case(debtor_name="张无忌", case_no="13700000000", mobile="13800000001")
    return case, other


@pytest.mark.parametrize(("q", "mode", "expect"), [
    ("张三", SearchMode.AUTO, {"case"}),
    ("张", SearchMode.AUTO, {"case", "other"}),
    ("三丰", SearchMode.AUTO, set()),  # prefix, not substring
    ("ZS-0001", SearchMode.AUTO, {"case"}),
    ("ZS-000", SearchMode.AUTO, set()),  # case numbers are exact
    ("13912345678", SearchMode.AUTO, {"case"}),
    ("139 1234 5678", SearchMode.AUTO, {"case"}),
    ("+8613912345678", SearchMode.AUTO, {"case"}),
    ("024-23456789", SearchMode.AUTO, {"case"}),  # a contact's phone
    ("13700000000", SearchMode.AUTO, {"other"}),  # a digits-only case number
    ("张", SearchMode.CASE_NO, set()),
    ("13912345678", SearchMode.NAME, set()),
    ("13912345678", SearchMode.PHONE, {"case"}),
    ("ZS-0001", SearchMode.CASE_NO, {"case"}),
])
def test_case_list_search_modes(searchable, manager, q, mode, expect):
    # given
    names = dict(zip(("case", "other"), searchable, strict=True))
    # when
    got = set(ids(case_list(user=manager, filters=CaseFilters(q=q, search_mode=mode))))
    # then
    assert got == {names[n].pk for n in expect}


def test_case_list_search_normalises_id_numbers(make_case, manager):
    # given: an ID number ending in X
    first17 = "21010219900101123"
    from cases.validators import id_check_digit

    number = first17 + id_check_digit(first17)
    case = make_case(id_number=number)
    typed = number.lower().replace("1", "１") if number.endswith("X") else " " + number.replace("1", "１") + " "
    # when
    got = ids(case_list(user=manager, filters=CaseFilters(q=typed)))
    by_mode = ids(case_list(user=manager, filters=CaseFilters(q=number, search_mode=SearchMode.ID_NUMBER)))
    # then
    assert got == [case.pk] == by_mode


def test_case_list_search_lowercase_x_matches_id_number(make_case, manager):
    # given: find a 17-digit prefix whose check digit is X
    from cases.validators import id_check_digit

    first17 = next(p for p in (f"2101021990010112{i}" for i in range(10)) if id_check_digit(p) == "X")
    case = make_case(id_number=first17 + "X")
    # when
    got = ids(case_list(user=manager, filters=CaseFilters(q=first17 + "x")))
    # then
    assert got == [case.pk]


def test_case_list_name_search_asks_nothing_of_contacts_and_counts_from_the_name_alone(searchable, manager):
    # given
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # when
    with CaptureQueriesContext(connection) as ctx:
        got = case_count_capped(user=manager, filters=CaseFilters(q="张"))
    # then: no contact lookup for a name, and the case-number alternative drops out when no case has it
    sql = [q["sql"] for q in ctx.captured_queries]
    assert got.value == 2
    assert not any("cases_casecontact" in q for q in sql)
    assert '"case_no" =' not in sql[-1] and "LIKE" in sql[-1]


def test_case_list_search_never_widens_the_scope(searchable, collector):
    # when: a collector searches for someone else's case by its exact number
    got = ids(case_list(user=collector, filters=CaseFilters(q="ZS-0001")))
    # then
    assert got == []


# --- sort ---------------------------------------------------------------------------------------------------

def test_case_list_sorts_by_column_with_stable_tie_break(make_case, manager):
    # given: two equal amounts and one larger
    a = make_case(entrusted_amount=Decimal("100.00"))
    b = make_case(entrusted_amount=Decimal("100.00"))
    c = make_case(entrusted_amount=Decimal("900.00"))
    # when
    asc = ids(case_list(user=manager, filters=CaseFilters(sort="entrusted_amount")))
    desc = ids(case_list(user=manager, filters=CaseFilters(sort="-entrusted_amount")))
    # then
    assert asc == [a.pk, b.pk, c.pk]
    assert desc == [c.pk, b.pk, a.pk]


@pytest.mark.parametrize("sort", ["debtor_name", "-return_date", "bank", "batch", "status", "collector",
                                  "-balance", "region", "overdue_days", "-case_no", "-collector"])
def test_case_list_sorts_by_every_whitelisted_column(three, manager, sort):
    # when
    got = ids(case_list(user=manager, filters=CaseFilters(sort=sort)))
    # then
    assert sorted(got) == sorted(c.pk for c in three)


def test_case_list_ignores_unknown_sorts(three, manager):
    # when
    got = ids(case_list(user=manager, filters=CaseFilters(sort="password; drop table")))
    # then: the default, newest first
    assert got == sorted((c.pk for c in three), reverse=True)


def test_case_list_refuses_commission_sort_to_collectors(make_case, collector):
    # given
    low = make_case(collector=collector, commission_rate=Decimal("0.010000"))
    high = make_case(collector=collector, commission_rate=Decimal("0.200000"))
    # when
    got = ids(case_list(user=collector, filters=CaseFilters(sort="commission_rate")))
    # then: falls back to newest first, so the order says nothing about the rate
    assert got == [high.pk, low.pk]
    assert ids(case_list(user=collector, filters=CaseFilters(sort="-commission_rate"))) == [high.pk, low.pk]


def test_case_list_view_header_links_toggle_direction(three, manager_client):
    # when
    response = manager_client.get(URL, {"sort": "-entrusted_amount"})
    # then
    amount = next(c for c in response.context["columns"] if c.key == "entrusted_amount")
    assert amount.direction == "desc" and amount.next_sort == "entrusted_amount"
    assert 'href="?sort=entrusted_amount"' in response.content.decode()
    assert [c.pk for c in response.context["page"].rows] == [three[2].pk, three[1].pk, three[0].pk]


# --- pagination, count cap and totals -----------------------------------------------------------------------

def test_case_page_fetches_one_extra_row_for_next(make_case, manager):
    # given
    for _ in range(5):
        make_case()
    qs = case_list(user=manager, filters=CaseFilters(sort="id"))
    # when
    first = case_page(qs=qs, number=1, page_size=2)
    last = case_page(qs=qs, number=3, page_size=2)
    # then
    assert len(first.rows) == 2 and first.has_next and not first.has_previous
    assert len(last.rows) == 1 and not last.has_next and last.has_previous
    assert (last.start_index, last.end_index) == (5, 5)


@pytest.mark.parametrize("who", ["collector", "clerk", "manager"])
@pytest.mark.parametrize("sort", ["-id", "entrust_date", "-return_date", "batch", "status", "-entrusted_amount",
                                  "collector", "urgency"])
def test_case_list_page_gives_the_rows_of_case_list_page_by_page(request, make_case, collector, other_collector,
                                                                 other_bank, who, sort):
    # given: cases on two banks and two collectors, with ties in every sorted column
    import datetime as dt

    for i in range(7):
        make_case(collector=[collector, other_collector, None][i % 3], **({"bank": other_bank} if i % 4 == 3 else {}),
                  entrusted_amount=Decimal(1000 + 100 * (i % 2)), entrust_date=dt.date(2026, 11, 1 + i % 2),
                  return_date=dt.date(2027, 2, 1 + i % 2), status=[CaseStatus.IN_PROGRESS, CaseStatus.RETURNED][i % 2])
    user = request.getfixturevalue(who)
    filters = CaseFilters(sort=sort)
    expected = ids(case_list(user=user, filters=filters))
    # when
    pages = [case_list_page(user=user, filters=filters, number=n, page_size=2) for n in (1, 2, 3, 4)]
    # then
    assert [c.pk for p in pages for c in p.rows] == expected
    assert [p.has_next for p in pages] == [len(expected) > 2 * n for n in (1, 2, 3, 4)]
    assert all(hasattr(c, "urgency") for p in pages for c in p.rows)


@pytest.mark.parametrize("sort", ["-id", "id"])
@pytest.mark.parametrize("capped", [False, True])
def test_case_list_page_sorts_a_counted_few_after_filtering_with_the_same_rows(make_case, manager, sort, capped):
    # given: old matches for a date filter (the primary-key walk from the newest case passed them last)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    old = [make_case(entrust_date=dt.date(2026, 10, 1)) for _ in range(3)]
    for _ in range(3):
        make_case(entrust_date=dt.date(2026, 11, 20))
    filters = CaseFilters(sort=sort, entrust_from=dt.date(2026, 10, 1), entrust_to=dt.date(2026, 10, 1))
    # when: the view's count says the filter matches at most the cap (or more)
    with CaptureQueriesContext(connection) as queries:
        pages = [case_list_page(user=manager, filters=filters, number=n, page_size=2,
                                matches=CappedCount(value=3, capped=capped)) for n in (1, 2)]
    # then: the same rows in the same order; the few matches are sorted after filtering (id + 0 takes no index)
    expected = sorted(c.pk for c in old)
    assert [c.pk for p in pages for c in p.rows] == (expected if sort == "id" else expected[::-1])
    assert [p.has_next for p in pages] == [True, False]
    assert [('."id" + 0)' in q["sql"]) for q in queries.captured_queries] == [not capped, not capped]


def test_case_list_view_counts_before_it_pages(make_case, manager_client):
    # given
    make_case(entrust_date=dt.date(2026, 10, 1))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # when
    with CaptureQueriesContext(connection) as queries:
        response = manager_client.get(URL, {"entrust_from": "2026-10-01", "entrust_to": "2026-10-01"})
    # then: the page was read knowing the filter's count
    assert response.status_code == 200
    assert len(response.context["page"].rows) == 1
    assert any('."id" + 0)' in q["sql"] for q in queries.captured_queries)


def test_case_list_page_keeps_the_role_scope_and_filters(three, collector, clerk):
    # when
    mine = case_list_page(user=collector, filters=CaseFilters(), number=1, page_size=10)
    filtered = case_list_page(user=clerk, filters=CaseFilters(region="沈阳市皇姑区"), number=1, page_size=10)
    # then
    assert [c.pk for c in mine.rows] == [three[0].pk]
    assert [c.pk for c in filtered.rows] == [three[1].pk]


def test_case_list_view_paginates(make_case, manager_client, settings):
    # given
    settings.CASE_LIST_PAGE_SIZE = 2
    cases = [make_case() for _ in range(3)]
    # when
    first = manager_client.get(URL)
    second = manager_client.get(URL, {"page": 2})
    # then
    assert [c.pk for c in first.context["page"].rows] == [cases[2].pk, cases[1].pk]
    assert 'href="?page=2"' in first.content.decode()
    assert [c.pk for c in second.context["page"].rows] == [cases[0].pk]
    assert "下一页" not in second.content.decode()


def test_case_count_capped_stops_at_the_cap(make_case, manager):
    # given
    for _ in range(4):
        make_case()
    # when
    under = case_count_capped(user=manager, filters=CaseFilters(), cap=10)
    over = case_count_capped(user=manager, filters=CaseFilters(), cap=3)
    exact = case_count_capped(user=manager, filters=CaseFilters(), cap=4)
    # then
    assert (under.value, under.capped) == (4, False)
    assert (over.value, over.capped, str(over)) == (3, True, "3+")
    assert (exact.value, exact.capped) == (4, False)


def test_case_count_capped_uses_a_limited_subquery(make_case, manager, django_assert_num_queries):
    # given
    make_case()
    # when
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        case_count_capped(user=manager, filters=CaseFilters(), cap=10)
    # then
    sql = ctx.captured_queries[0]["sql"].upper()
    assert "COUNT(" in sql and "LIMIT 11" in sql


def test_case_list_view_caps_the_count_and_hides_totals(make_case, manager_client, settings):
    # given
    settings.CASE_LIST_COUNT_CAP = 2
    for _ in range(3):
        make_case()
    # when
    response = manager_client.get(URL)
    # then
    text = response.content.decode()
    assert response.context["count"].capped and response.context["totals"] is None
    assert "共 <b>2+</b> 条" in text
    assert "金额合计在结果不超过 2 条时显示" in text


def test_case_list_totals_sum_the_filtered_set(three, manager):
    # when
    totals = case_list_totals(user=manager, filters=CaseFilters(region="沈阳市"))
    # then
    assert totals.entrusted_amount == Decimal("25000.00")
    assert totals.balance == Decimal("25000.00")
    assert totals.repaid_amount == Decimal("0.00")


def test_case_list_view_shows_totals_under_the_cap(three, clerk_client):
    # when
    response = clerk_client.get(URL)
    # then
    assert response.context["totals"].entrusted_amount == Decimal("25000.00")
    assert "25,000.00" in response.content.decode()


def test_case_status_group_counts_ignore_the_status_filter(three, manager):
    # when
    counts = case_status_group_counts(user=manager, filters=CaseFilters(status=CaseStatus.SETTLED))
    # then
    assert {k: v.value for k, v in counts.items()} == {"finished": 1, "not_started": 1, "in_progress": 1}


def test_case_status_group_counts_are_one_query_and_capped(make_case, manager, django_assert_num_queries):
    # given
    for status in (CaseStatus.SETTLED, CaseStatus.RETURNED, CaseStatus.NOT_STARTED, CaseStatus.IN_PROGRESS):
        make_case(status=status)
    # when
    with django_assert_num_queries(1):
        counts = case_status_group_counts(user=manager, filters=CaseFilters(), cap=1)
    # then
    assert {k: str(v) for k, v in counts.items()} == {"finished": "1+", "not_started": "1", "in_progress": "1"}


def test_case_list_view_shows_group_tabs_to_managers_not_collectors(three, manager_client, collector_client):
    # when
    as_manager = manager_client.get(URL, {"group": "finished"})
    as_collector = collector_client.get(URL)
    # then
    assert [c.pk for c in as_manager.context["page"].rows] == [three[2].pk]
    assert 'class="tabs"' in as_manager.content.decode() and "已完成" in as_manager.content.decode()
    assert as_collector.context["group_tabs"] is None


# --- masking and the collector's view -----------------------------------------------------------------------

def test_case_list_view_masks_id_numbers_for_collectors(make_case, collector, collector_client, clerk_client):
    # given
    case = make_case(collector=collector)
    # when
    as_collector = collector_client.get(URL).content.decode()
    as_clerk = clerk_client.get(URL).content.decode()
    # then
    assert case.id_number not in as_collector and case.masked_id_number in as_collector
    assert case.id_number in as_clerk


def test_case_list_view_never_shows_commission_to_collectors(make_case, collector, collector_client, clerk_client):
    # given
    make_case(collector=collector, commission_rate=Decimal("0.123400"))
    # when
    as_collector = collector_client.get(URL).content.decode()
    as_clerk = clerk_client.get(URL).content.decode()
    # then
    assert "佣金" not in as_collector and "12.34%" not in as_collector
    assert "佣金比例" in as_clerk and "12.34%" in as_clerk


def test_case_list_view_shows_balance_zero_when_cleared(make_case, collector, collector_client):
    # given
    make_case(collector=collector, entrusted_amount=Decimal("3000.00"), repaid_amount=Decimal("3000.00"),
              status=CaseStatus.SETTLED)
    # when
    row = collector_client.get(URL).context["page"].rows[0]
    # then
    assert row.balance == Decimal("0.00")


def test_case_list_view_renders_the_table_partial_for_htmx(three, manager_client):
    # when
    response = manager_client.get(URL, headers={"HX-Request": "true"})
    # then
    text = response.content.decode()
    assert 'id="case-table"' in text and "<html" not in text


def test_case_list_view_has_keyboard_friendly_search(three, manager_client):
    # when
    text = manager_client.get(URL, {"q": "王"}).content.decode()
    # then
    assert "autofocus" in text and 'type="search"' in text
    assert "清除筛选" in text


def test_case_list_summary_sums_only_under_the_cap(three, manager):
    # when
    under = case_list_summary(user=manager, filters=CaseFilters(), cap=3)
    over = case_list_summary(user=manager, filters=CaseFilters(), cap=2)
    # then
    assert (under.count.value, under.count.capped) == (3, False)
    assert under.totals.entrusted_amount == Decimal("105000.00")
    assert under.totals.repaid_amount == Decimal("80000.00") and under.totals.balance == Decimal("25000.00")
    assert over.count.capped and over.totals is None


def test_case_list_view_lets_a_picked_status_override_the_group_tab(three, manager_client):
    # when: the 已完成 tab is open and the user picks 进行中 in the status box
    response = manager_client.get(URL, {"group": "finished", "status": "in_progress"})
    # then
    assert [c.pk for c in response.context["page"].rows] == [three[0].pk]
    assert response.context["current_group"] == ""


def test_case_list_view_marks_return_dates_within_30_days(make_case, collector, collector_client):
    # given
    from django.utils import timezone

    today = timezone.localdate()
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS, entrust_date=today - dt.timedelta(days=80),
              return_date=today + dt.timedelta(days=10), original_return_date=today + dt.timedelta(days=10))
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS, entrust_date=today - dt.timedelta(days=10),
              return_date=today + dt.timedelta(days=80), original_return_date=today + dt.timedelta(days=80))
    # when
    text = collector_client.get(URL).content.decode()
    # then
    assert text.count("due-soon") == 1 and 'title="30 天内到期"' in text
