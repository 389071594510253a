from __future__ import annotations

import pytest

from accounts.actions import audit_record
from accounts.models import AuditAction, AuditEntry
from tests.factories import ClerkFactory, SysadminFactory


@pytest.mark.django_db
def test_audit_entry_cannot_be_changed():
    # given
    entry = audit_record(actor=None, action=AuditAction.IMPORT, summary="导入批次 X")
    # when / then
    entry.summary = "改过"
    with pytest.raises(ValueError, match="不可修改"):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).summary == "导入批次 X"


@pytest.mark.django_db
def test_audit_entry_cannot_be_deleted():
    # given
    entry = audit_record(actor=None, action=AuditAction.IMPORT, summary="导入批次 X")
    # when / then
    with pytest.raises(ValueError, match="不可删除"):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_audit_keeps_actor_name_after_rename():
    # given
    user = ClerkFactory(full_name="张三")
    entry = audit_record(actor=user, action=AuditAction.EXPORT, summary="导出")
    # when
    user.full_name = "张三丰"
    user.save()
    # then
    entry.refresh_from_db()
    assert entry.actor_name == "张三"


@pytest.mark.django_db
def test_admin_role_change_is_audited_with_before_and_after(client):
    # given: Django's admin site is open only to a superuser (made outside the product, e.g. createsuperuser)
    client.force_login(SysadminFactory(is_staff=True, is_superuser=True))
    sysadmin_client = client
    user = ClerkFactory(username="wang")
    # when
    response = sysadmin_client.post(
        f"/admin/accounts/user/{user.pk}/change/",
        {"username": "wang", "full_name": user.full_name, "is_clerk": "on", "is_manager": "on", "is_active": "on",
         "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00"},
    )
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action=AuditAction.PERMISSION_CHANGE)
    assert entry.detail["changes"]["is_manager"] == {"before": False, "after": True}
