"""Django's admin is no back door (issue 15): every path through /admin/ that could change a case's money, status
or collector, or delete an audited row, is tried as a superuser and refused; a 系统管理员 made on the account page
never needs it (and is sent to the admin's own login)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.actions import audit_record
from accounts.admin import ReadOnlyAdmin, lock_down
from accounts.models import AuditAction, AuditEntry
from cases.enums import CaseStatus
from cases.models import BlockedNumber, CallPolicy, CallRefusal, Case, HolidayArrangement
from tests import factories as f


@pytest.fixture
def superuser(db):
    return f.SysadminFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def root_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def case(make_case, collector, clerk):
    return make_case(case_no="ADM-1", status=CaseStatus.IN_PROGRESS, collector=collector, owner_clerk=clerk,
                     entrusted_amount=Decimal("1000.00"), balance=Decimal("1000.00"))


def _url(obj, view: str) -> str:
    meta = obj._meta
    args = [] if view in ("changelist", "add") else [obj.pk]
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def test_no_registered_model_can_be_added_changed_or_deleted(superuser):
    # given
    request = RequestFactory().get("/admin/")
    request.user = superuser
    # when / then
    assert admin.site._registry, "the read-only admin still lists the product's data"
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label
        assert isinstance(model_admin, ReadOnlyAdmin), label
        assert not model_admin.has_add_permission(request), label
        assert not model_admin.has_change_permission(request), label
        assert not model_admin.has_delete_permission(request), label
        assert "delete_selected" not in model_admin.get_actions(request), label


def test_case_money_status_and_collector_cannot_be_changed(root_client, case, other_collector):
    # when: the change form posted with new figures, a new status and another collector
    response = root_client.post(_url(case, "change"), {
        "repaid_amount": "999.00", "balance": "1.00", "commission_rate": "0.5", "status": CaseStatus.SETTLED,
        "collector": other_collector.pk, "case_no": case.case_no, "debtor_name": case.debtor_name})
    # then
    assert response.status_code == 403
    after = Case.objects.get(pk=case.pk)
    assert (after.repaid_amount, after.balance, after.status, after.collector_id) == (
        Decimal("0.00"), Decimal("1000.00"), CaseStatus.IN_PROGRESS, case.collector_id)


def test_case_page_shows_no_form_fields(root_client, case):
    # when
    response = root_client.get(_url(case, "change"))
    # then: a read-only view, nothing to submit
    assert response.status_code == 200
    assert 'name="repaid_amount"' not in response.content.decode()
    assert 'type="submit"' not in response.content.decode().split('id="content-main"')[-1]


def test_case_cannot_be_deleted_one_by_one_or_in_bulk(root_client, case):
    # when
    single = root_client.post(_url(case, "delete"), {"post": "yes"})
    bulk = root_client.post(_url(case, "changelist"), {"action": "delete_selected", "_selected_action": [case.pk],
                                                       "post": "yes"})
    # then
    assert single.status_code == 403
    assert bulk.status_code in (200, 302)
    assert Case.objects.filter(pk=case.pk).exists()


def test_audited_rows_cannot_be_deleted(root_client, case, collector):
    # given: an audit entry, a refused call, a holiday and a blocked number
    entry = audit_record(actor=None, action=AuditAction.LOGIN, summary="登录")
    refusal = CallRefusal.objects.create(collector=collector, case=case, number="13800001234", rule="window",
                                         message="不在允许拨打时段")
    holiday = HolidayArrangement.objects.create(date="2027-10-01", is_workday=False, name="国庆节")
    blocked = BlockedNumber.objects.create(number="13800009999", reason="empty")
    rows = [entry, refusal, holiday, blocked]
    # when
    codes = [root_client.post(_url(row, "delete"), {"post": "yes"}).status_code for row in rows]
    bulk = [root_client.post(_url(row, "changelist"), {"action": "delete_selected", "_selected_action": [row.pk],
                                                        "post": "yes"}) for row in rows]
    # then
    assert codes == [403, 403, 403, 403]
    assert all(r.status_code in (200, 302) for r in bulk)
    for row in rows:
        assert type(row).objects.filter(pk=row.pk).exists(), type(row).__name__


def test_calling_rules_blocked_numbers_and_holidays_cannot_be_added(root_client, bank):
    # when
    codes = {name: root_client.post(reverse(f"admin:cases_{name}_add"), data).status_code for name, data in {
        "callpolicy": {"bank": bank.pk, "window_start": "07:00", "window_end": "23:00",
                       "max_answered_per_debtor": 9, "max_unanswered_per_number": 9},
        "blockednumber": {"number": "13800008888", "reason": "empty"},
        "holidayarrangement": {"date": "2027-01-01", "name": "元旦"},
        "bank": {"code": "XX", "name": "某银行"},
    }.items()}
    # then
    assert set(codes.values()) == {403}
    assert not CallPolicy.objects.exists() and not BlockedNumber.objects.exists()
    assert not HolidayArrangement.objects.exists()


def test_account_roles_cannot_be_changed_there(root_client, collector):
    # when: make a collector a superuser and a 系统管理员 through the admin
    response = root_client.post(_url(collector, "change"), {"username": collector.username, "is_sysadmin": "on",
                                                            "is_superuser": "on", "is_staff": "on",
                                                            "is_active": "on"})
    # then
    collector.refresh_from_db()
    assert response.status_code == 403
    assert not (collector.is_sysadmin or collector.is_superuser or collector.is_staff)
    assert not AuditEntry.objects.filter(action=AuditAction.PERMISSION_CHANGE).exists()


@pytest.mark.parametrize("path", ["/admin/auth/group/", "/admin/axes/accessattempt/", "/admin/axes/accesslog/",
                                  "/admin/otp_totp/totpdevice/"])
def test_third_party_writable_admins_are_gone(root_client, path):
    # when / then: groups, lockout records and 2FA devices are kept on the product's pages
    assert root_client.get(path).status_code == 404


def test_admin_from_account_page_is_sent_to_the_admin_login(sysadmin, case):
    # given
    client = Client()
    client.force_login(sysadmin)
    # when
    response = client.get(_url(case, "change"))
    # then: no is_staff, so Django's admin never opens for them (they use the product's pages)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_lock_down_refuses_a_writable_registration(db):
    # given
    site = admin.AdminSite(name="probe")
    site.register(Case, admin.ModelAdmin)
    # when / then
    with pytest.raises(ImproperlyConfigured, match="cases.Case"):
        lock_down(site)
