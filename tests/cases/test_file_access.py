"""Customer files: every access audited once per user, file, session and kind whatever the request; delivered
under a safe name with the detected type's extension; never cached; and the other small hardening items
(no-store pages, case numbers in download names, websocket CSP, the health token over plain HTTP)."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEntry
from cases.actions.calls import call_record_create
from cases.actions.chat import chat_message_send, document_request_open
from cases.actions.files import file_upload, store_checked
from cases.enums import CallResult, CaseStatus, FileKind
from cases.models import CallRecord
from cases.uploads import StoredNames, check_upload
from tests import factories as f
from tests.cases import samples as s
from tests.cases.samples import media_root  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _entries(stored):
    return list(AuditEntry.objects.filter(object_type="StoredFile", object_id=str(stored.pk)).order_by("pk"))


@pytest.fixture
def case(make_case, collector):
    c = make_case(collector=collector, status=CaseStatus.IN_PROGRESS, case_no="../../ZS-9", debtor_name="周/全部")
    f.CaseContactFactory(case=c, name="周全部", relation="本人", phone="13812345678")
    return c


@pytest.fixture
def recording(case, collector):
    call = call_record_create(
        case=case,
        collector=collector,
        by=collector,
        number="13812345678",
        contact=case.contacts.get(),
        result=CallResult.SELF_ANSWERED,
        note="",
        recording_upload=s.upload("rec.wav", s.wav(seconds=1)),
    )
    return call.recording


# --- item 20: audited once per user, file and view session ---------------------------------------------------


def test_playing_a_recording_is_audited_once_per_session_whatever_the_requests(case, recording, collector):
    # given: the case page's player
    http = _signed_in(collector)
    url = reverse("cases:case-file", args=[case.pk, recording.pk])
    # when: a plain GET, then the player seeking with Range requests
    assert http.get(url).status_code == 200
    for header in ("bytes=0-99", "bytes=100-", "bytes=-50"):
        assert http.get(url, HTTP_RANGE=header).status_code == 206
    # then: one entry for viewing it in this session
    entries = _entries(recording)
    assert [(e.action, e.actor_id) for e in entries] == [(AuditAction.VIEW_SENSITIVE, collector.pk)]
    assert entries[0].detail["case_id"] == case.pk and entries[0].detail["sha256"] == recording.sha256
    assert entries[0].summary.startswith("播放录音《")
    # when: downloading it, twice
    http.get(url, {"download": "1"})
    http.get(url, {"download": "1"})
    # then: one download entry more
    assert [e.action for e in _entries(recording)] == [AuditAction.VIEW_SENSITIVE, AuditAction.DOWNLOAD]
    # when: the same user in a new session (signed in again) plays it with a Range request only
    assert _signed_in(collector).get(url, HTTP_RANGE="bytes=0-9").status_code == 206
    # then: a new entry
    assert [e.action for e in _entries(recording)] == [
        AuditAction.VIEW_SENSITIVE,
        AuditAction.DOWNLOAD,
        AuditAction.VIEW_SENSITIVE,
    ]


def test_a_picture_shown_in_the_chat_is_audited_once(case, collector, clerk):
    # given
    docreq = document_request_open(case=case, by=collector, items=["id_copy"], reason="核对身份")
    message = chat_message_send(docreq=docreq, by=clerk, text="", upload=s.upload("身份证.png", s.png()))
    http = _signed_in(collector)
    url = reverse("cases:docreq-attachment", args=[docreq.pk, message.pk])
    # when: the chat shows it inline (twice: the page and a reload)
    for _ in range(2):
        response = http.get(url)
        assert response.status_code == 200 and response["Content-Disposition"].startswith("inline")
    # then
    assert [(e.action, e.actor_id) for e in _entries(message.attachment)] == [
        (AuditAction.VIEW_SENSITIVE, collector.pk)
    ]


def test_playing_an_unmatched_recording_is_audited_once(collector):
    # given: an inbound call's recording that matches no case yet
    upload = s.upload("in.wav", s.wav())
    found = check_upload(upload, kind=FileKind.RECORDING)
    with StoredNames() as guard:
        stored = store_checked(case=None, kind=FileKind.RECORDING, upload=upload, found=found, by=None, guard=guard)
    call = CallRecord.objects.create(
        case=None,
        collector=collector,
        direction="inbound",
        number="13900000000",
        started_at=timezone.now(),
        recording=stored,
    )
    http = _signed_in(collector)
    url = reverse("cases:recording-unmatched-file", args=[call.pk])
    # when
    bodies = [b"".join(http.get(url).streaming_content) for _ in range(2)]
    # then
    assert bodies[0][:4] == b"RIFF"
    assert [(e.action, e.actor_id) for e in _entries(stored)] == [(AuditAction.VIEW_SENSITIVE, collector.pk)]


# --- item 25: names, caching, CSP, health token ---------------------------------------------------------------


def test_a_polyglot_uploaded_as_html_downloads_under_its_detected_type(case, collector):
    # given: a file that is a valid PDF but was named like a web page
    stored = file_upload(case=case, kind=FileKind.ATTACHMENT, upload=s.upload("invoice.html", s.pdf()), by=collector)
    # when
    response = _signed_in(collector).get(reverse("cases:case-file", args=[case.pk, stored.pk]), {"download": "1"})
    # then
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment") and 'filename="invoice.pdf"' in disposition, disposition
    assert ".html" not in disposition
    assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"


def test_customer_files_and_pages_are_never_cached(case, recording, collector):
    # given
    http = _signed_in(collector)
    # when
    file_response = http.get(reverse("cases:case-file", args=[case.pk, recording.pk]))
    page = http.get(reverse("cases:case-detail", args=[case.pk]))
    listing = http.get(reverse("cases:case-list"))
    # then
    for response in (file_response, page, listing):
        assert "no-store" in response["Cache-Control"] and "max-age=300" not in response["Cache-Control"]


def test_a_case_number_with_path_characters_never_reaches_a_download_name(case, collector):
    # when
    bundle = _signed_in(collector).get(reverse("cases:case-bundle", args=[case.pk]))
    form = _signed_in(collector).get(reverse("cases:visit-form", args=[case.pk, "docx"]))
    # then
    for response in (bundle, form):
        name = unquote(response["Content-Disposition"])
        assert "../" not in name and "/" not in name.split("filename", 1)[1], name
        assert "ZS-9" in name


def test_websockets_may_connect_only_to_this_site():
    # given / when
    from django.conf import settings as live

    policy = (live.CONTENT_SECURITY_POLICY or live.CONTENT_SECURITY_POLICY_REPORT_ONLY)["DIRECTIVES"]
    # then: no wildcard websocket scheme, only 'self' and the configured hosts
    assert "wss:" not in policy["connect-src"] and "ws:" not in policy["connect-src"]
    assert all(src == "'self'" or any(f"://{h}:" in src for h in live.ALLOWED_HOSTS) for src in policy["connect-src"])


def test_the_health_token_is_refused_in_clear_text_through_the_proxy(settings):
    # given
    settings.HEALTH_TOKEN = "tok-0123456789"
    url = reverse("ops:health-json")
    auth = {"HTTP_AUTHORIZATION": "Bearer tok-0123456789"}
    # when: relayed by the proxy over plain HTTP (port 80), from another machine directly, and over HTTPS
    relayed = Client().get(url, REMOTE_ADDR="172.18.0.5", HTTP_X_FORWARDED_FOR="203.0.113.5", **auth)
    direct = Client().get(url, REMOTE_ADDR="203.0.113.5", **auth)
    secure = Client().get(url, REMOTE_ADDR="172.18.0.5", secure=True, **auth)
    own_check = Client().get(url, REMOTE_ADDR="127.0.0.1", **auth)
    # then
    assert (relayed.status_code, direct.status_code) == (401, 401)
    assert secure.status_code in (200, 503) and own_check.status_code in (200, 503)


def test_shipped_nginx_sends_the_health_probe_on_port_80_to_https():
    from pathlib import Path

    nginx = (Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf").read_text()
    plain = nginx.split("listen 80;", 1)[1].split("server {", 1)[0]
    assert "proxy_pass" not in plain and "return 301 https://" in plain
