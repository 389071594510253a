"""Every audit entry made while serving a request carries the client's IP address and user agent (one
mechanism: accounts.origin), and the client address believes only our own proxies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEntry
from cases.enums import CaseStatus
from tests.cases.test_import_excel import make_workbook, valid_row
from tests.cases.test_import_views import upload

UA = "Mozilla/5.0 (Windows NT 10.0) 审计测试浏览器"
HEADERS = {"REMOTE_ADDR": "198.51.100.23", "HTTP_USER_AGENT": UA}


def _client(user) -> Client:
    client = Client(**HEADERS)
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_audit_entries_of_exports_repayments_imports_and_assignments_carry_ip_and_user_agent(
    clerk, manager, bank, collector, make_case
):
    # given
    case = make_case(entrusted_amount=Decimal("800.00"), collector=collector, status=CaseStatus.IN_PROGRESS)
    unassigned = [make_case(region="沈阳市和平区") for _ in range(2)]
    clerk_http, manager_http = _client(clerk), _client(manager)
    before = set(AuditEntry.objects.values_list("pk", flat=True))
    # when: the everyday audited requests, streamed ones included
    b"".join(manager_http.get(reverse("cases:cases-export")).streaming_content)
    b"".join(manager_http.get(reverse("cases:business-export")).streaming_content)
    assert manager_http.get(reverse("cases:reports"), {"kind": "progress", "format": "xlsx"}).status_code == 200
    today = timezone.localdate()
    assert (
        clerk_http.post(
            reverse("cases:repayment-create", args=[case.pk]),
            {"amount": "100.00", "repaid_on": (today - dt.timedelta(days=1)).isoformat(), "bank_ref": "AU-1"},
        ).status_code
        == 200
    )
    assert (
        clerk_http.post(
            reverse("cases:batch-import"), {"bank": bank.pk, "file": upload(make_workbook([valid_row(1)]))}
        ).status_code
        == 200
    )
    filters = urlencode({"status": "unassigned", "region": "沈阳"})
    data = {"filters": filters, "select_all": "1", "collector": [collector.pk], "mode": "one"}
    preview = clerk_http.post(reverse("cases:assign-preview"), data, HTTP_HX_REQUEST="true")
    clerk_http.post(
        reverse("cases:assign-confirm"), {**data, "digest": preview.context["plan"].digest}, HTTP_HX_REQUEST="true"
    )
    # then
    entries = list(AuditEntry.objects.exclude(pk__in=before))
    kinds = {(e.action, e.object_type) for e in entries}
    assert {
        (AuditAction.EXPORT, "cases"),
        (AuditAction.EXPORT, "business_data"),
        (AuditAction.EXPORT, "report"),
        (AuditAction.REPAYMENT, "Repayment"),
        (AuditAction.IMPORT, "batch"),
        (AuditAction.PERMISSION_CHANGE, "assignment"),
    } <= kinds, kinds
    for c in unassigned:
        c.refresh_from_db()
        assert c.collector_id == collector.pk
    assert [
        (e.summary, e.ip_address, e.user_agent)
        for e in entries
        if (e.ip_address, e.user_agent) != ("198.51.100.23", UA)
    ] == []


@pytest.mark.django_db
def test_audit_entry_outside_a_request_has_no_origin(clerk):
    # given: a management command or the scheduler (no request being served)
    from accounts.actions import audit_record

    # when
    entry = audit_record(actor=clerk, action=AuditAction.EXPORT, summary="定时任务")
    # then
    assert (entry.ip_address, entry.user_agent) == (None, "")


@pytest.mark.parametrize(
    ("meta", "trusted", "expected"),
    [
        # served directly: the connection's own address, whatever the headers claim
        (
            {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.1.1.1", "HTTP_X_REAL_IP": "2.2.2.2"},
            [],
            "203.0.113.9",
        ),
        # behind our proxy: the right-most hop the proxy appended, not what the client wrote to its left
        (
            {"REMOTE_ADDR": "172.18.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9"},
            ["172.16.0.0/12"],
            "203.0.113.9",
        ),
        # two proxies of ours in a row: skip both
        (
            {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9, 10.0.0.2"},
            ["127.0.0.0/8", "10.0.0.0/8"],
            "203.0.113.9",
        ),
        # a peer that is not our proxy is not believed
        ({"REMOTE_ADDR": "198.51.100.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, ["172.16.0.0/12"], "198.51.100.1"),
        # our proxy without X-Forwarded-For: X-Real-IP
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "203.0.113.9"}, ["127.0.0.0/8"], "203.0.113.9"),
        # garbage to the left of the proxy's hop does not matter; garbage as the last hop stops at the peer
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "<script>, 203.0.113.9"}, ["127.0.0.0/8"], "203.0.113.9"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9, nonsense"}, ["127.0.0.0/8"], "127.0.0.1"),
        ({"REMOTE_ADDR": "::ffff:203.0.113.9"}, [], "203.0.113.9"),
    ],
)
def test_client_ip_trusts_only_our_proxies(settings, meta, trusted, expected):
    # given
    from accounts.origin import client_ip_from_meta

    settings.TRUSTED_PROXIES = trusted
    # when / then
    assert client_ip_from_meta(meta) == expected


def test_shipped_nginx_appends_the_real_address_and_daphne_does_not_believe_forwarded_headers():
    """The shipped proxy writes the address it saw as the right-most X-Forwarded-For hop; daphne runs without
    --proxy-headers (which would make the left-most, client-written hop the request's address)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    nginx = (root / "deploy" / "nginx.conf").read_text()
    compose = (root / "docker-compose.yml").read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in nginx
    assert '"--proxy-headers"' not in compose and '"--proxy-headers"' not in (root / "Dockerfile").read_text()
