from __future__ import annotations

import pytest

from accounts.actions import audit_record
from accounts.models import AuditAction, AuditEntry
from tests.factories import ClerkFactory


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
