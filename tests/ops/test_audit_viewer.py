"""Audit log viewer: filters, pages without COUNT(*), .xlsx export (neutralised cells, itself audited)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from asgiref.sync import sync_to_async
from django.db import connection, connections
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from accounts.actions import audit_record
from accounts.models import AuditAction, AuditEntry, User

pytestmark = pytest.mark.django_db


def test_filters_by_action_object_and_user(sysadmin_client, collector, clerk):
    # given
    audit_record(actor=collector, action=AuditAction.DOWNLOAD, summary="下载录音 A", object_type="file", object_id=7)
    audit_record(actor=clerk, action=AuditAction.IMPORT, summary="导入批次 B", object_type="batch", object_id=3)
    # when
    by_action = sysadmin_client.get(reverse("ops:audit-list"), {"action": "download"}).content.decode()
    by_object = sysadmin_client.get(reverse("ops:audit-list"), {"object_type": "batch", "object_id": "3"})
    by_user = sysadmin_client.get(reverse("ops:audit-list"), {"actor": clerk.pk}).content.decode()
    # then
    assert "下载录音 A" in by_action and "导入批次 B" not in by_action
    assert "导入批次 B" in by_object.content.decode() and "下载录音 A" not in by_object.content.decode()
    assert "导入批次 B" in by_user and "下载录音 A" not in by_user


def test_date_range_is_in_beijing_days(sysadmin_client, collector):
    # given
    entry = audit_record(actor=collector, action=AuditAction.EXPORT, summary="深夜导出")
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=dt.datetime(2026, 11, 27, 17, 30, tzinfo=dt.UTC))
    # when: 2026-11-28 01:30 Beijing time
    on_day = sysadmin_client.get(reverse("ops:audit-list"), {"date_from": "2026-11-28", "date_to": "2026-11-28"})
    before = sysadmin_client.get(reverse("ops:audit-list"), {"date_to": "2026-11-27"})
    # then
    assert "深夜导出" in on_day.content.decode()
    assert "深夜导出" not in before.content.decode()


def test_pages_without_counting(sysadmin_client, collector):
    # given
    AuditEntry.objects.bulk_create([AuditEntry(actor=collector, actor_name="王催收", action=AuditAction.LOGIN,
                                               summary=f"登录 {i}") for i in range(120)])
    # when
    with CaptureQueriesContext(connection) as queries:
        page3 = sysadmin_client.get(reverse("ops:audit-list"), {"page": "3"})
    # then
    assert not any("COUNT(" in q["sql"].upper() and "accounts_auditentry" in q["sql"] for q in queries)
    text = page3.content.decode()
    assert "第 3 页" in text and 'rel="prev"' in text and 'rel="next"' not in text


def test_export_neutralises_formulas_and_is_audited(sysadmin_client, collector):
    # given
    audit_record(actor=collector, action=AuditAction.EXPORT, summary="=HYPERLINK(\"http://evil\",\"点我\")")
    audit_record(actor=collector, action=AuditAction.EXPORT, summary="@SUM(A1)")
    # when
    response = sysadmin_client.get(reverse("ops:audit-export"), {"action": "export"})
    # then
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "时间"
    summaries = {r[5] for r in rows[1:]}
    assert "'=HYPERLINK(\"http://evil\",\"点我\")" in summaries and "'@SUM(A1)" in summaries
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, object_type="audit_log",
                                     summary="导出审计日志 2 条").exists()


def test_entries_cannot_be_changed_or_deleted():
    # given
    entry = audit_record(actor=None, action=AuditAction.LOGIN, summary="x")
    # when / then
    entry.summary = "y"
    with pytest.raises(ValueError, match="不可修改"):
        entry.save()
    with pytest.raises(ValueError, match="不可删除"):
        entry.delete()


def test_no_page_offers_editing_the_audit_log(sysadmin_client):
    # given
    audit_record(actor=None, action=AuditAction.LOGIN, summary="只读")
    # when
    main = sysadmin_client.get(reverse("ops:audit-list")).content.decode().split("</header>")[-1]
    # then: only GET forms (filters); no POST form, no edit or delete link
    assert 'method="post"' not in main
    assert "/edit" not in main and "/delete" not in main


@pytest.fixture
def admin_from_account_page(sysadmin_client):
    """A 系统管理员 made the way the product makes one: 账号管理 → 新建账号, then the temporary password changed."""
    shown = sysadmin_client.post(reverse("ops:user-create"), {"username": "zhao_admin", "full_name": "赵系统",
                                                               "roles": ["is_sysadmin"]})
    temporary = shown.context["password"]
    admin = User.objects.get(username="zhao_admin")
    client = Client()
    client.force_login(admin)
    client.post(reverse("accounts:password-change"), {"old_password": temporary, "new_password1": "Zhao-Admin-2026!x",
                                                      "new_password2": "Zhao-Admin-2026!x"})
    admin.refresh_from_db()
    assert admin.is_sysadmin and not admin.is_superuser and not admin.must_change_password
    return admin


@pytest.mark.django_db(transaction=True)
async def test_export_streams_from_its_file_under_asgi(admin_from_account_page):
    # given
    await sync_to_async(AuditEntry.objects.bulk_create)([
        AuditEntry(actor_name="王催收", action=AuditAction.DOWNLOAD, summary=f"下载录音 {i}", object_type="file",
                   object_id=str(i)) for i in range(50)])
    client = AsyncClient()
    await client.aforce_login(admin_from_account_page)
    # when: the ASGI path (daphne), where Django reads a plain body or a FileResponse whole into memory first
    response = await client.get(reverse("ops:audit-export"))
    data = b"".join([chunk async for chunk in response.streaming_content])
    await sync_to_async(connections.close_all, thread_sensitive=True)()
    # then: an async stream of the temporary file, block by block, whatever its size
    assert response.streaming and response.is_async
    assert int(response["Content-Length"]) == len(data)
    rows = list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    assert rows[0][0] == "时间" and sum(1 for r in rows if str(r[5]).startswith("下载录音")) == 50
