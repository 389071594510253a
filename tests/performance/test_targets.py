"""Monthly targets and rankings (issue 18 item 2): progress to target, ties, the department and agency targets,
setting them one by one and from an .xlsx, and who may."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from accounts.models import AuditAction, AuditEntry
from cases.actions.stats import daily_stats_bump
from performance.actions.targets import targets_import, targets_set
from performance.imports import parse_target_workbook
from performance.models import Target, TargetScope
from performance.selectors.targets import RankRow, competition_rank, month_target_total, ranking_for_month
from performance.views.charts import dashboard_chart_data
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def month():
    return timezone.localdate().replace(day=1)


@pytest.fixture
def team(collector):
    """Three collectors of one department (the `collector` fixture's) and one of another."""
    a = collector
    b = f.CollectorFactory(branch=a.branch, department=a.department, username="b_col", full_name="乙催收")
    c = f.CollectorFactory(branch=a.branch, department=a.department, username="c_col", full_name="丙催收")
    other_dept = f.DepartmentFactory(branch=a.branch, name="催收二部")
    d = f.CollectorFactory(branch=a.branch, department=other_dept, username="d_col", full_name="丁催收")
    return a, b, c, d


def _repaid(user, amount):
    daily_stats_bump(collector_id=user.pk, repaid_amount=D(amount))


def _row(ranking, user):
    return next(r for rows in ranking.collectors.values() for r in rows if r.key == user.pk)


def test_ranking_ties_share_a_rank_and_the_next_rank_skips(team, month):
    # given
    a, b, c, d = team
    _repaid(a, "500.00")
    _repaid(b, "500.00")
    _repaid(c, "300.00")
    _repaid(d, "9000.00")  # another department: not ranked against them
    # when
    ranking = ranking_for_month(month=month)
    # then
    assert [_row(ranking, u).rank for u in (a, b, c, d)] == [1, 1, 3, 1]


def test_competition_rank_orders_and_handles_all_equal():
    rows = [RankRow(key=i, name=n, group="", actual=D(a), target=None, contacts=0, contact_target=None)
            for i, (n, a) in enumerate([("甲", "1"), ("乙", "1"), ("丙", "1")])]
    competition_rank(rows)
    assert [r.rank for r in rows] == [1, 1, 1]


def test_progress_to_target_and_gap(team, month, manager):
    # given
    a, b, *_ = team
    targets_set(month=month, entries=[(TargetScope.COLLECTOR, a.pk, D("1000.00"), 40),
                                      (TargetScope.COLLECTOR, b.pk, D("200.00"), None)], by=manager)
    _repaid(a, "250.00")
    _repaid(b, "260.00")
    # when
    ranking = ranking_for_month(month=month)
    ra, rb = _row(ranking, a), _row(ranking, b)
    # then
    assert (ra.progress, ra.gap, ra.contact_target) == (D("25.00"), D("750.00"), 40)
    assert (rb.progress, rb.gap) == (D("130.00"), D("0.00"))
    dept = next(r for r in ranking.departments if r.key == a.department_id)
    assert dept.target == D("1200.00")  # no department target: its members' targets added up
    assert dept.actual == D("510.00")


def test_department_target_wins_over_members_and_agency_target_prefers_the_top(team, month, manager):
    # given
    a, *_ = team
    targets_set(month=month, entries=[(TargetScope.COLLECTOR, a.pk, D("100.00"), None)], by=manager)
    assert month_target_total(month=month) == D("100.00")
    # when
    targets_set(month=month, entries=[(TargetScope.DEPARTMENT, a.department_id, D("5000.00"), None)], by=manager)
    # then
    dept = next(r for r in ranking_for_month(month=month).departments if r.key == a.department_id)
    assert dept.target == D("5000.00")
    assert month_target_total(month=month) == D("5000.00")
    targets_set(month=month, entries=[(TargetScope.BRANCH, a.branch_id, D("8000.00"), None)], by=manager)
    assert month_target_total(month=month) == D("8000.00")


def test_setting_targets_is_audited_and_an_empty_amount_clears(team, month, manager):
    # given
    a, *_ = team
    targets_set(month=month, entries=[(TargetScope.COLLECTOR, a.pk, D("100.00"), None)], by=manager)
    # when
    targets_set(month=month, entries=[(TargetScope.COLLECTOR, a.pk, None, None)], by=manager)
    # then
    assert not Target.objects.exists()
    assert AuditEntry.objects.filter(action=AuditAction.TARGET_SET, actor=manager).count() == 2


def _workbook(rows, headers=("对象类型", "名称", "回款目标（元）", "接通目标（次）")):
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for r in rows:
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_targets_import_from_xlsx_sets_every_row(team, month, manager):
    # given
    a, b, c, d = team
    data = _workbook([("业务员", a.username, 1000, 50), ("业务员", "乙催收", "2,000.50", None),
                      ("部门", f"{a.branch.name}/{a.department.name}", 9000, None),
                      ("分公司", a.branch.name, 20000, None), ("业务员", c.username, None, None)])
    # when
    parsed = parse_target_workbook(data)
    done, errors = targets_import(month=month, rows=parsed.rows, by=manager)
    # then
    assert (parsed.errors, errors, done) == ([], [], 4)
    assert Target.objects.get(collector=b).repayment_target == D("2000.50")
    assert Target.objects.get(collector=a).contact_target == 50
    assert month_target_total(month=month) == D("20000.00")


def test_targets_import_refuses_the_whole_file_with_chinese_errors(team, month, manager):
    # given
    a, *_ = team
    data = _workbook([("业务员", a.username, 1000, None), ("经理", "x", 1, None), ("业务员", "不存在的人", 5, None),
                      ("业务员", a.username, "很多", None), ("业务员", a.username, 7, None)])
    # when
    parsed = parse_target_workbook(data)
    done, errors = targets_import(month=month, rows=parsed.rows, by=manager)
    # then
    assert any("第 3 行：对象类型“经理”" in e for e in parsed.errors)
    assert any("第 5 行：回款目标“很多”不是金额" in e for e in parsed.errors)
    assert done == 0 and any("找不到业务员“不存在的人”" in e for e in errors)
    assert any("第 6 行：与第 2 行是同一对象" in e for e in errors)
    assert not Target.objects.exists()


def test_targets_import_refuses_a_file_that_is_not_xlsx_or_lacks_columns():
    assert "不是 Excel" in parse_target_workbook(b"hello,world\n").errors[0] or \
        "文本文件" in parse_target_workbook(b"hello,world\n").errors[0]
    assert "缺少列：回款目标（元）" in parse_target_workbook(_workbook([], headers=("对象类型", "名称"))).errors[0]


def test_manager_sets_targets_on_the_page_and_bad_amounts_are_named(team, month, manager_client):
    # given
    a, b, *_ = team
    url = reverse("performance:targets")
    # when
    bad = manager_client.post(url, {"month": f"{month:%Y-%m}", f"t-collector-{a.pk}": "-5",
                                    f"t-collector-{b.pk}": "300"})
    good = manager_client.post(url, {"month": f"{month:%Y-%m}", f"t-collector-{a.pk}": "1,500",
                                     f"c-collector-{a.pk}": "30"})
    # then
    assert bad.status_code == 200 and "回款目标应为不小于 0 的金额" in bad.content.decode()
    assert good.status_code == 302
    assert Target.objects.get().repayment_target == D("1500.00")


def test_only_managers_set_targets_and_see_the_ranking(client, clerk, collector, sysadmin, month):
    for user, edit, view in ((clerk, 403, 403), (collector, 403, 403), (sysadmin, 403, 200)):
        client.force_login(user)
        assert client.get(reverse("performance:targets")).status_code == edit
        assert client.get(reverse("performance:ranking")).status_code == view


def test_template_lists_everyone_with_current_targets(team, month, manager, manager_client):
    # given
    a, *_ = team
    targets_set(month=month, entries=[(TargetScope.COLLECTOR, a.pk, D("777.00"), None)], by=manager)
    # when
    response = manager_client.get(reverse("performance:target-template") + f"?month={month:%Y-%m}")
    # then
    rows = list(load_workbook(io.BytesIO(response.content)).active.values)
    assert rows[0] == ("对象类型", "名称", "回款目标（元）", "接通目标（次）")
    assert ("业务员", a.username, 777, None) in rows
    # and the template reads back as the same targets
    assert not parse_target_workbook(response.content).errors


def test_dashboard_month_chart_draws_the_target(team, month, manager):
    # given
    a, *_ = team
    targets_set(month=month, entries=[(TargetScope.COLLECTOR, a.pk, D("3100.00"), None)], by=manager)
    # when
    data = dashboard_chart_data(user=manager, today=timezone.localdate())["repayments"]
    # then
    target_line = next(s for s in data["series"] if s["name"] == "目标进度")
    assert D(str(target_line["data"][-1])) == D("3100.00")
    assert data["summary"]["target"] == "3100.00"


def test_ranking_page_and_dashboard_fragment_show_rank_and_progress(team, month, manager, manager_client):
    # given
    a, *_ = team
    targets_set(month=month, entries=[(TargetScope.COLLECTOR, a.pk, D("1000.00"), None)], by=manager)
    _repaid(a, "400.00")
    # when
    page = manager_client.get(reverse("performance:ranking")).content.decode()
    compact = manager_client.get(reverse("performance:ranking") + "?fragment=compact").content.decode()
    # then
    assert "40.00%" in page and "400.00" in page and 'content="dashboard"' in page
    assert "本月目标进度" in compact and "1,000.00" in compact


def test_competition_rank_skips_after_each_tie():
    rows = [RankRow(key=i, name=str(i), group="", actual=D(a), target=None, contacts=0, contact_target=None)
            for i, a in enumerate(["300", "500", "100", "500", "300"])]
    competition_rank(rows)
    assert [(r.actual, r.rank) for r in rows] == [(D("500"), 1), (D("500"), 1), (D("300"), 3), (D("300"), 3),
                                                  (D("100"), 5)]


def test_ranking_reads_three_plain_queries_and_names_each_department_leader(team, month, manager,
                                                                              django_assert_num_queries):
    # given: collectors' targets only (the agency's target is their sum), two departments
    a, b, c, d = team
    targets_set(month=month, entries=[(TargetScope.COLLECTOR, u.pk, D("1000"), None) for u in team], by=manager)
    _repaid(b, "800.00")
    _repaid(d, "100.00")
    # when: the dashboard reloads this on every counter change
    with django_assert_num_queries(3):  # month's actuals, targets, collectors
        ranking = ranking_for_month(month=month)
    # then
    assert ranking.total.target == D("4000.00")
    leaders = {row.key: row.leader.key for row in ranking.departments}
    assert leaders == {a.department_id: b.pk, d.department_id: d.pk}
