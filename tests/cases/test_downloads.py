from __future__ import annotations

import io
import os
import zipfile

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient, Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AuditAction, AuditEntry
from cases.actions.calls import call_record_create
from cases.actions.files import file_delete, file_upload
from cases.actions.visits import visit_record_create
from cases.documents.bundle import Member, stream_zip
from cases.documents.workbook import safe_cell
from cases.enums import CallResult, CaseEventType, CaseStatus, FileKind, VisitResult
from cases.models import CaseEvent
from tests import factories as f
from tests.asgi_http import asgi_get
from tests.cases import samples as s
from tests.cases.samples import media_root  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def case(make_case, collector):
    c = make_case(collector=collector, status=CaseStatus.IN_PROGRESS, debtor_name="周全部", case_no="ZS-9")
    f.CaseContactFactory(case=c, name="周全部", relation="本人", phone="13812345678")
    call_record_create(case=c, collector=collector, by=collector, number="13812345678", contact=c.contacts.get(),
                       result=CallResult.SELF_ANSWERED, note="=HYPERLINK(\"http://evil\")",
                       recording_upload=s.upload("rec.wav", s.wav()))
    visit_record_create(case=c, collector=collector, by=collector, visited_on=timezone.localdate(),
                        address="沈阳市和平区/南京街", result=VisitResult.MET_DEBTOR,
                        photos=[s.upload("a.jpg", s.jpeg()), s.upload("b.png", s.png())],
                        signed_form=s.upload("signed.pdf", s.pdf()))
    file_upload(case=c, kind=FileKind.ATTACHMENT, upload=s.upload("身份证复印件.pdf", s.pdf()), by=collector)
    return c


def fetch_zip(client, case) -> tuple[object, zipfile.ZipFile]:
    response = client.get(reverse("cases:case-bundle", args=[case.pk]))
    assert response.status_code == 200
    assert response.streaming
    data = b"".join(response.streaming_content)
    return response, zipfile.ZipFile(io.BytesIO(data))


def test_bundle_holds_workbook_recordings_visit_forms_photos_and_attachments(case, collector_client):
    # when
    response, zf = fetch_zip(collector_client, case)
    # then
    assert zf.testzip() is None
    names = zf.namelist()
    assert "工作记录.xlsx" in names
    recordings = [n for n in names if n.startswith("录音/")]
    assert len(recordings) == 1 and "_呼出_138xxxx5678.wav" in recordings[0]
    assert zf.read(recordings[0]) == s.wav()
    photos = sorted(n for n in names if n.startswith("外访照片/"))
    assert len(photos) == 2 and all("沈阳市和平区_南京街" in n for n in photos)
    assert any(n.startswith("外访记录表/") and n.endswith("签字外访记录表.pdf") for n in names)
    assert any(n.startswith("附件/") and n.endswith("身份证复印件.pdf") for n in names)
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''ZS-9_" in response["Content-Disposition"]


def test_bundle_entries_are_stored_not_deflated(case, collector_client):
    # when
    _, zf = fetch_zip(collector_client, case)
    # then
    assert {info.compress_type for info in zf.infolist()} == {zipfile.ZIP_STORED}


def test_bundle_workbook_lists_calls_and_visits_and_neutralises_formulas(case, collector_client):
    # when
    _, zf = fetch_zip(collector_client, case)
    wb = load_workbook(io.BytesIO(zf.read("工作记录.xlsx")))
    # then
    assert wb.sheetnames == ["案件信息", "电话记录", "外访记录", "时间线"]
    calls = list(wb["电话记录"].iter_rows(values_only=True))
    assert calls[0][:5] == ("时间", "方向", "对象", "号码", "结果")
    assert calls[1][4] == "本人接听"
    assert calls[1][10] == "'=HYPERLINK(\"http://evil\")"
    visits = list(wb["外访记录"].iter_rows(values_only=True))
    assert visits[1][5] == "见到本人"
    assert "commission" not in str(list(wb["案件信息"].iter_rows(values_only=True)))


def test_bundle_download_is_audited_and_on_the_timeline(case, collector, collector_client):
    # when
    fetch_zip(collector_client, case)
    # then
    entry = AuditEntry.objects.get(action=AuditAction.DOWNLOAD)
    assert entry.actor == collector and entry.object_id == str(case.pk) and entry.detail["file_count"] == 5
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.CASE_DOWNLOADED).exists()


def test_bundle_leaves_out_deleted_files(case, sysadmin, collector_client, django_capture_on_commit_callbacks):
    # given
    attachment = case.files.get(kind=FileKind.ATTACHMENT)
    with django_capture_on_commit_callbacks(execute=True):
        file_delete(stored=attachment, by=sysadmin, reason="与本案无关")
    # when
    _, zf = fetch_zip(collector_client, case)
    # then
    assert not any(n.startswith("附件/") for n in zf.namelist())


def test_manager_downloads_any_case_and_another_collector_gets_404(case, manager_client, other_collector):
    # given
    other = Client()
    other.force_login(other_collector)
    # when / then
    assert manager_client.get(reverse("cases:case-bundle", args=[case.pk])).status_code == 200
    assert other.get(reverse("cases:case-bundle", args=[case.pk])).status_code == 404


def test_stream_zip_yields_small_chunks_for_a_big_member():
    # given a 5 MB member produced in 64 kB pieces
    piece = b"\x01" * 65536
    member = Member("录音/big.wav", 80 * len(piece), timezone.localtime(), lambda: (piece for _ in range(80)))
    # when
    sizes = [len(chunk) for chunk in stream_zip([member])]
    # then
    assert sum(sizes) > 80 * len(piece)
    assert max(sizes) <= len(piece) + 1024  # never more than one piece plus headers at a time


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"), ("+86 138", "'+86 138"), ("-5", "'-5"), ("@SUM(A1)", "'@SUM(A1)"), ("正常", "正常"), (5, 5),
])
def test_safe_cell_neutralises_formula_starts(value, expected):
    assert safe_cell(value) == expected


@pytest.mark.django_db(transaction=True)
async def test_bundle_and_single_files_stream_chunk_by_chunk_under_asgi(case, collector):
    # given: daphne's path; a sync body would be read whole into memory before the first byte goes out
    client = AsyncClient()
    await client.aforce_login(collector)
    stored = await sync_to_async(lambda: case.files.filter(kind=FileKind.RECORDING).get())()
    # when
    bundle = await client.get(reverse("cases:case-bundle", args=[case.pk]))
    zipped = b"".join([chunk async for chunk in bundle.streaming_content])
    recording = await client.get(reverse("cases:case-file", args=[case.pk, stored.pk]) + "?download=1")
    whole = b"".join([chunk async for chunk in recording.streaming_content])
    part = await client.get(reverse("cases:case-file", args=[case.pk, stored.pk]), headers={"Range": "bytes=4-11"})
    ranged = b"".join([chunk async for chunk in part.streaming_content])
    await sync_to_async(connections.close_all, thread_sensitive=True)()
    # then
    assert bundle.is_async and recording.is_async and part.is_async
    assert zipfile.ZipFile(io.BytesIO(zipped)).testzip() is None
    assert whole == s.wav() and ranged == s.wav()[4:12] and part.status_code == 206


# --- Memory of 下载全部资料 under daphne's handler (like the exports' bench) -------------------------------------

MB = 1024 * 1024


@pytest.fixture
def heavy_case(make_case, collector):
    """A case with 4 attachments of 8 MB each (random bytes, as incompressible as recordings)."""
    c = make_case(collector=collector, status=CaseStatus.IN_PROGRESS, case_no="ZS-BIG")
    for i in range(4):
        scan = s.upload(f"扫描件{i}.pdf", b"%PDF-1.4\n" + os.urandom(8 * MB))
        file_upload(case=c, kind=FileKind.ATTACHMENT, upload=scan, by=collector)
    return c


@pytest.mark.django_db(transaction=True)
async def test_bundle_memory_stays_flat_under_daphnes_handler(heavy_case, collector, monkeypatch):
    # given: 32 MB of files on the case
    path = reverse("cases:case-bundle", args=[heavy_case.pk])
    # when: downloaded through the ASGI handler daphne runs
    streamed = await asgi_get(path, user=collector)
    # then: sent in many pieces, and at no time more than a few MB held (not the 32 MB)
    assert streamed.status == 200 and streamed.size > 32 * MB
    assert len(streamed.bodies) > 100 and max(streamed.bodies) <= 300 * 1024
    assert streamed.peak_bytes < 6 * MB, f"peak {streamed.peak_bytes / MB:.1f} MB"
    # and the measurement sees the difference: the same body handed to ASGI as a plain generator (what the
    # download did before) is collected whole before the first byte goes out
    monkeypatch.setattr("cases.views.streaming._pull", lambda chunks: chunks)
    with pytest.warns(Warning, match="must consume synchronous iterators"):
        collected = await asgi_get(path, user=collector)
    # the handler's thread keeps its connection (daphne closes it at the end of the request)
    await sync_to_async(connections.close_all, thread_sensitive=True)()
    assert collected.size > 32 * MB and collected.peak_bytes > 32 * MB
