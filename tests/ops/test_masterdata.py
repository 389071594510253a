"""基础资料 (issue 15): a 系统管理员 made on the account page (no is_staff) keeps banks, branch companies and
departments on the product's own pages; every change audited; banks are never deleted."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from django.urls import reverse

from accounts.models import AuditAction, AuditEntry, BranchCompany, Department, User
from cases.actions.reminders import reminder_fire_due
from cases.enums import CaseStatus, ReminderKind
from cases.models import Bank, Reminder
from cases.selectors.banks import bank_list_for_clerk
from tests import factories as f

SH = ZoneInfo("Asia/Shanghai")


def _audits() -> list[str]:
    return list(AuditEntry.objects.filter(action=AuditAction.MASTER_DATA).order_by("pk").values_list("summary",
                                                                                                  flat=True))


def test_admin_from_account_page_sets_up_the_agency_without_django_admin(sysadmin, sysadmin_client, collector):
    # given: the 系统管理员 was made on 账号管理 (no superuser, no is_staff)
    assert not sysadmin.is_staff and not sysadmin.is_superuser
    # when: a bank, a branch company with a department, and the 2027 National Day holidays
    steps = [
        (reverse("ops:bank-list"), {"code": "gsyh", "name": "工商银行"}),
        (reverse("ops:org-list"), {"action": "branch-create", "name": "大连分公司"}),
    ]
    for url, data in steps:
        assert sysadmin_client.post(url, data).status_code == 302
    branch = BranchCompany.objects.get(name="大连分公司")
    assert sysadmin_client.post(reverse("ops:org-list"), {"action": "department-create", "branch": branch.pk,
                                                          "name": "电催一部"}).status_code == 302
    for data in ({"start": "2027-10-01", "end": "2027-10-07", "kind": "off", "name": "国庆节"},
                 {"start": "2027-10-09", "kind": "work", "name": "国庆节调休上班"}):
        assert sysadmin_client.post(reverse("ops:holiday-add"), {"year": "2027", **data}).status_code == 302
    # then: everything exists and is audited, with the admin as actor
    bank = Bank.objects.get(code="GSYH")
    department = Department.objects.get(branch=branch, name="电催一部")
    assert bank.name == "工商银行" and bank.is_active
    assert _audits() == ["新建合作银行 工商银行（GSYH）", "新建分公司 大连分公司", "新建部门 大连分公司 / 电催一部"]
    assert set(AuditEntry.objects.filter(action__in=[AuditAction.MASTER_DATA, AuditAction.CALENDAR_CHANGE])
               .values_list("actor_id", flat=True)) == {sysadmin.pk}
    # and the first-call reminders of a case of the new bank count 2027 working days: assigned Wednesday 29
    # September, its 3 working days are 30 September, 8 October and the adjusted working Saturday 9 October
    case = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, status=CaseStatus.IN_PROGRESS,
                         assigned_at=dt.datetime(2027, 9, 29, 10, tzinfo=SH), return_date=dt.date(2027, 12, 31))
    for moment, expected in ((dt.datetime(2027, 10, 9, 20, tzinfo=SH), 0),
                             (dt.datetime(2027, 10, 10, 0, 5, tzinfo=SH), 1)):
        with time_machine.travel(moment, tick=False):
            reminder_fire_due()
        assert Reminder.objects.filter(case=case, kind=ReminderKind.FIRST_CALL_OVERDUE).count() == expected
    # and the pages render for them
    for name in ("ops:bank-list", "ops:org-list", "ops:calendar"):
        assert sysadmin_client.get(reverse(name)).status_code == 200
    assert sysadmin_client.get(reverse("ops:bank-edit", args=[bank.pk])).status_code == 200
    assert sysadmin_client.get(reverse("ops:department-edit", args=[department.pk])).status_code == 200


def test_bank_code_and_name_are_checked_in_chinese(sysadmin_client, bank):
    # when
    bad = sysadmin_client.post(reverse("ops:bank-list"), {"code": "招商", "name": "某行"})
    dup = sysadmin_client.post(reverse("ops:bank-list"), {"code": "ZS2", "name": bank.name})
    # then
    assert bad.status_code == 400 and "只能是 2–16 位大写字母或数字" in bad.content.decode()
    assert dup.status_code == 400 and f"名为“{bank.name}”的银行已经存在" in dup.content.decode()
    assert Bank.objects.count() == 1


def test_bank_rename_and_deactivate_are_audited_and_stop_imports(sysadmin_client, bank, clerk):
    # when
    sysadmin_client.post(reverse("ops:bank-edit", args=[bank.pk]), {"action": "rename", "name": "招商银行沈阳分行"})
    sysadmin_client.post(reverse("ops:bank-edit", args=[bank.pk]), {"action": "deactivate"})
    # then
    bank.refresh_from_db()
    assert bank.name == "招商银行沈阳分行" and not bank.is_active
    assert list(bank_list_for_clerk(clerk=clerk)) == []
    assert _audits() == ["合作银行 ZSYH：改名为 招商银行沈阳分行（原 招商银行）", "合作银行 ZSYH：停止合作"]


def test_bank_page_offers_no_delete(sysadmin_client, bank, make_case):
    # given
    make_case()
    # when
    html = sysadmin_client.get(reverse("ops:bank-edit", args=[bank.pk])).content.decode()
    # then
    assert "删除" not in html.replace("不会被删除", "")
    assert "共有委案 1 件" in html


def test_branch_merge_moves_departments_and_people(sysadmin_client):
    # given: 铁西 has 电催一部 (which 和平 also has) and 外访部; one person in each
    old, new = f.BranchCompanyFactory(name="铁西分公司"), f.BranchCompanyFactory(name="和平分公司")
    twin_old = f.DepartmentFactory(branch=old, name="电催一部")
    twin_new = f.DepartmentFactory(branch=new, name="电催一部")
    field_dept = f.DepartmentFactory(branch=old, name="外访部")
    a = f.CollectorFactory(branch=old, department=twin_old)
    b = f.FieldCollectorFactory(branch=old, department=field_dept)
    # when
    response = sysadmin_client.post(reverse("ops:branch-edit", args=[old.pk]), {"action": "merge", "target": new.pk})
    # then
    assert response.status_code == 302
    assert not BranchCompany.objects.filter(pk=old.pk).exists()
    assert not Department.objects.filter(pk=twin_old.pk).exists()
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.branch_id, a.department_id) == (new.pk, twin_new.pk)
    assert (b.branch_id, b.department_id) == (new.pk, field_dept.pk)
    assert _audits() == ["分公司 铁西分公司 并入 和平分公司：2 人随之调入"]


def test_department_with_people_cannot_be_retired_but_can_be_merged(sysadmin_client):
    # given
    branch = f.BranchCompanyFactory(name="沈阳分公司")
    one, two = f.DepartmentFactory(branch=branch, name="一部"), f.DepartmentFactory(branch=branch, name="二部")
    person = f.CollectorFactory(branch=branch, department=one)
    # when
    refused = sysadmin_client.post(reverse("ops:department-edit", args=[one.pk]), {"action": "retire"})
    merged = sysadmin_client.post(reverse("ops:department-edit", args=[one.pk]), {"action": "merge",
                                                                                   "target": two.pk})
    # then
    assert refused.status_code == 400 and "还有人员" in refused.content.decode()
    assert merged.status_code == 302 and not Department.objects.filter(pk=one.pk).exists()
    person.refresh_from_db()
    assert person.department_id == two.pk


def test_staff_move_between_departments_of_different_branches(sysadmin_client):
    # given
    here, there = f.BranchCompanyFactory(name="沈阳分公司"), f.BranchCompanyFactory(name="大连分公司")
    source, target = f.DepartmentFactory(branch=here, name="一部"), f.DepartmentFactory(branch=there, name="外访部")
    moving, staying = f.CollectorFactory(branch=here, department=source), f.CollectorFactory(branch=here,
                                                                                              department=source)
    # when
    sysadmin_client.post(reverse("ops:department-edit", args=[source.pk]),
                         {"action": "move", "target": target.pk, "people": [moving.pk]})
    # then
    moving.refresh_from_db()
    staying.refresh_from_db()
    assert (moving.branch_id, moving.department_id) == (there.pk, target.pk)
    assert staying.department_id == source.pk
    assert _audits() == [f"调动 1 人到 大连分公司 / 外访部：{moving.display_name}"]


def test_empty_branch_is_retired(sysadmin_client):
    # given
    branch = f.BranchCompanyFactory(name="空分公司")
    # when
    sysadmin_client.post(reverse("ops:branch-edit", args=[branch.pk]), {"action": "retire"})
    # then
    assert not BranchCompany.objects.filter(pk=branch.pk).exists()
    assert _audits() == ["撤销分公司 空分公司"]


def test_other_roles_cannot_use_the_pages(manager_client, clerk_client):
    # when / then
    for client in (manager_client, clerk_client):
        assert client.get(reverse("ops:bank-list")).status_code == 403
        assert client.post(reverse("ops:org-list"), {"action": "branch-create", "name": "X"}).status_code == 403
    assert not BranchCompany.objects.exists()
    assert User.objects.count() >= 2
