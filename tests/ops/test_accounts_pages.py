"""Account pages (S1): create with a one-time temporary password, edit with audited before/after, reset,
deactivate with the unfinished cases listed, reactivate, clerk scopes, extensions, password rules."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import AuditAction, AuditEntry, User
from cases.enums import CaseStatus
from cases.models import ClerkBankScope
from tests import factories as f

pytestmark = pytest.mark.django_db


def _temp_password(response) -> str:
    match = re.search(r'id="temp-password">([^<]+)<', response.content.decode())
    assert match, "temporary password not shown"
    return match.group(1)


def test_user_create_shows_temporary_password_once_and_forces_a_change(sysadmin_client):
    # given
    dept = f.DepartmentFactory(name="催收一部")
    # when
    response = sysadmin_client.post(reverse("ops:user-create"), {
        "username": "zhang.san", "full_name": "张三", "phone": "13900001111", "roles": ["is_phone_collector"],
        "branch": dept.branch_id, "department": dept.pk, "sip_endpoint": "8001"})
    # then
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    password = _temp_password(response)
    user = User.objects.get(username="zhang.san")
    assert user.check_password(password) and user.must_change_password
    assert user.is_phone_collector and not user.is_clerk and user.sip_endpoint == "8001"
    entry = AuditEntry.objects.get(action=AuditAction.USER_CHANGE, object_id=str(user.pk))
    assert entry.detail["changes"]["is_phone_collector"] == {"before": None, "after": True}
    assert password not in str(entry.detail)


def test_user_create_refuses_a_taken_username_in_chinese(sysadmin_client, collector):
    # when
    response = sysadmin_client.post(reverse("ops:user-create"), {"username": "COLLECTOR", "full_name": "重名"})
    # then
    assert "用户名“COLLECTOR”已被使用" in response.content.decode()


def test_user_edit_audits_before_and_after(sysadmin_client, collector):
    # when
    response = sysadmin_client.post(reverse("ops:user-edit", args=[collector.pk]), {
        "username": "ignored", "full_name": "王催收", "phone": "", "roles": ["is_phone_collector", "is_clerk"],
        "branch": collector.branch_id, "department": collector.department_id, "sip_endpoint": "PJSIP/8002"})
    # then
    assert response.status_code == 302
    collector.refresh_from_db()
    assert collector.username == "collector" and collector.is_clerk
    entry = AuditEntry.objects.filter(action=AuditAction.PERMISSION_CHANGE, object_id=str(collector.pk)).get()
    assert entry.detail["changes"]["is_clerk"] == {"before": False, "after": True}
    assert entry.detail["changes"]["sip_endpoint"] == {"before": "", "after": "8002"}


def test_department_must_belong_to_the_branch(sysadmin_client, collector):
    # given
    other = f.DepartmentFactory()
    # when
    response = sysadmin_client.post(reverse("ops:user-edit", args=[collector.pk]), {
        "full_name": "王催收", "roles": ["is_phone_collector"], "branch": collector.branch_id,
        "department": other.pk})
    # then
    assert response.status_code == 200
    assert "不属于所选的" in response.content.decode()


def test_extension_is_unique_among_active_users(sysadmin_client, collector, other_collector):
    # given
    User.objects.filter(pk=other_collector.pk).update(sip_endpoint="8009")
    # when
    response = sysadmin_client.post(reverse("ops:extension-list"), {f"ext-{collector.pk}": "8009"})
    # then
    assert "已分配给 周催收" in response.content.decode()
    collector.refresh_from_db()
    assert collector.sip_endpoint == ""


def test_admin_cannot_remove_own_admin_role(sysadmin_client, sysadmin):
    # when
    response = sysadmin_client.post(reverse("ops:user-edit", args=[sysadmin.pk]), {
        "full_name": "钱管理员", "roles": ["is_manager"]})
    # then
    assert "不能取消自己的系统管理员角色" in response.content.decode()
    sysadmin.refresh_from_db()
    assert sysadmin.is_sysadmin


def test_password_reset_then_login_forces_the_password_page(sysadmin_client, collector):
    # given
    response = sysadmin_client.post(reverse("ops:user-password-reset", args=[collector.pk]))
    password = _temp_password(response)
    client = Client()
    # when
    login = client.post(reverse("accounts:login"), {"username": "collector", "password": password})
    elsewhere = client.get(reverse("cases:case-list"))
    # then
    assert login.status_code == 302
    assert elsewhere.status_code == 302 and elsewhere["Location"] == reverse("accounts:password-change")
    assert client.get(reverse("accounts:password-change")).status_code == 200


def test_forced_password_change_runs_the_password_rules_in_chinese(collector):
    # given
    User.objects.filter(pk=collector.pk).update(must_change_password=True)
    client = Client()
    client.force_login(collector)
    # when
    short = client.post(reverse("accounts:password-change"), {
        "old_password": f.PASSWORD, "new_password1": "abc123", "new_password2": "abc123"})
    like_name = client.post(reverse("accounts:password-change"), {
        "old_password": f.PASSWORD, "new_password1": "collector1", "new_password2": "collector1"})
    common = client.post(reverse("accounts:password-change"), {
        "old_password": f.PASSWORD, "new_password1": "1234567890", "new_password2": "1234567890"})
    good = client.post(reverse("accounts:password-change"), {
        "old_password": f.PASSWORD, "new_password1": "Hu4-lan#tree9", "new_password2": "Hu4-lan#tree9"})
    # then
    assert "至少" in short.content.decode() and "10" in short.content.decode()
    assert "相似" in like_name.content.decode()
    assert "常见" in common.content.decode() or "全都是数字" in common.content.decode()
    assert good.status_code == 302
    collector.refresh_from_db()
    assert not collector.must_change_password
    assert client.get(reverse("cases:case-list")).status_code == 200


def test_deactivate_lists_unfinished_cases_and_ends_the_session(sysadmin_client, collector, make_case):
    # given
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS, case_no="HZ-001")
    make_case(collector=collector, status=CaseStatus.SETTLED, case_no="HZ-002")
    collector_client = Client()
    collector_client.force_login(collector)
    # when
    page = sysadmin_client.get(reverse("ops:user-deactivate", args=[collector.pk])).content.decode()
    done = sysadmin_client.post(reverse("ops:user-deactivate", args=[collector.pk]), {"reason": "离职"})
    # then
    assert "HZ-001" in page and "HZ-002" not in page and "1 件" in page
    assert done.status_code == 302
    collector.refresh_from_db()
    assert not collector.is_active
    assert collector_client.get(reverse("cases:case-list")).status_code == 302  # signed out
    entry = AuditEntry.objects.get(action=AuditAction.PERMISSION_CHANGE, object_id=str(collector.pk))
    assert entry.detail["reason"] == "离职"


def test_cannot_deactivate_yourself(sysadmin_client, sysadmin):
    # when
    response = sysadmin_client.post(reverse("ops:user-deactivate", args=[sysadmin.pk]), {"reason": "试试"})
    # then
    assert "不能停用自己的账号" in response.content.decode()


def test_reactivate(sysadmin_client, collector):
    # given
    User.objects.filter(pk=collector.pk).update(is_active=False)
    # when
    sysadmin_client.post(reverse("ops:user-reactivate", args=[collector.pk]))
    # then
    collector.refresh_from_db()
    assert collector.is_active


def test_scope_grid_sets_exactly_the_ticked_banks_and_audits(sysadmin_client, clerk, bank, other_bank):
    # when
    response = sysadmin_client.post(reverse("ops:scope-grid"), {"row": [clerk.pk],
                                                                "scope": [f"{clerk.pk}:{other_bank.pk}"]})
    # then
    assert response.status_code == 302
    assert set(ClerkBankScope.objects.filter(clerk=clerk).values_list("bank_id", flat=True)) == {other_bank.pk}
    entry = AuditEntry.objects.get(object_type="user", object_id=str(clerk.pk))
    assert entry.detail["changes"]["banks"] == {"before": ["招商银行"], "after": ["建设银行"]}


def test_scope_grid_ignores_non_clerks(sysadmin_client, collector, bank):
    # when
    sysadmin_client.post(reverse("ops:scope-grid"), {"row": [collector.pk], "scope": [f"{collector.pk}:{bank.pk}"]})
    # then
    assert not ClerkBankScope.objects.filter(clerk=collector).exists()


def _scope_boxes(html: str) -> dict[str, bool]:
    """The scope grid's checkboxes as rendered: value → ticked."""
    boxes = re.findall(r'<input type="checkbox" name="scope" value="([^"]*)"[^>]*?( checked)?>', html)
    return {value: bool(ticked) for value, ticked in boxes}


def test_scope_grid_page_shows_each_clerks_banks_ticked(sysadmin_client, clerk, other_clerk, bank, other_bank):
    # when: the page as the admin opens it (issue 13 item 1: every box was unticked with value="")
    response = sysadmin_client.get(reverse("ops:scope-grid"))
    # then
    assert response.status_code == 200
    assert _scope_boxes(response.content.decode()) == {
        f"{clerk.pk}:{bank.pk}": True, f"{clerk.pk}:{other_bank.pk}": False,
        f"{other_clerk.pk}:{bank.pk}": False, f"{other_clerk.pk}:{other_bank.pk}": True,
    }


def test_scope_grid_saved_as_rendered_changes_nothing(sysadmin_client, clerk, other_clerk, bank, other_bank):
    # given: the form posted back exactly as the page rendered it
    html = sysadmin_client.get(reverse("ops:scope-grid")).content.decode()
    rows = re.findall(r'<input type="hidden" name="row" value="(\d+)">', html)
    ticked = [value for value, on in _scope_boxes(html).items() if on]
    # when
    sysadmin_client.post(reverse("ops:scope-grid"), {"row": rows, "scope": ticked})
    # then
    assert set(ClerkBankScope.objects.values_list("clerk_id", "bank_id")) == {(clerk.pk, bank.pk),
                                                                              (other_clerk.pk, other_bank.pk)}
    assert not AuditEntry.objects.filter(action=AuditAction.PERMISSION_CHANGE).exists()


def test_scope_grid_leaves_clerks_the_form_did_not_show(sysadmin_client, clerk, other_clerk, bank, other_bank):
    # when: a form that showed only `clerk` (e.g. opened before `other_clerk` existed)
    sysadmin_client.post(reverse("ops:scope-grid"), {"row": [clerk.pk], "scope": [f"{clerk.pk}:{other_bank.pk}"]})
    # then
    assert set(ClerkBankScope.objects.filter(clerk=other_clerk).values_list("bank_id", flat=True)) == {other_bank.pk}
    assert set(ClerkBankScope.objects.filter(clerk=clerk).values_list("bank_id", flat=True)) == {other_bank.pk}


def test_user_list_filters(sysadmin_client, collector, clerk):
    # when
    text = sysadmin_client.get(reverse("ops:user-list"), {"role": "clerk"}).content.decode()
    # then
    assert "李内勤" in text and "王催收" not in text
