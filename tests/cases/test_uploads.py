from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from cases import uploads
from cases.actions.files import file_upload
from cases.enums import CaseEventType, CaseStatus, FileKind
from cases.exceptions import UploadRejectedError
from cases.models import CaseEvent, StoredFile
from tests.cases import samples as s
from tests.cases.samples import media_root  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("media_root")


@pytest.mark.parametrize(("name", "data", "kind", "label"), [
    ("a.jpg", s.jpeg(), FileKind.PHOTO, "JPEG 图片"),
    ("a.png", s.png(), FileKind.PHOTO, "PNG 图片"),
    ("IMG_0001.HEIC", s.heic(), FileKind.PHOTO, "HEIC 图片"),
    ("form.pdf", s.pdf(), FileKind.VISIT_FORM_PDF, "PDF 文档"),
    ("call.wav", s.wav(), FileKind.RECORDING, "WAV 录音"),
    ("call.mp3", s.mp3_id3(), FileKind.RECORDING, "MP3 录音"),
    ("raw.mp3", s.mp3_frame(), FileKind.RECORDING, "MP3 录音"),
    ("call.m4a", s.m4a(), FileKind.RECORDING, "M4A 录音"),
    ("call.amr", s.amr(), FileKind.RECORDING, "AMR 录音"),
    ("tpl.docx", s.docx(), FileKind.DOCUMENT, "Word 文档"),
    ("tpl.xlsx", s.xlsx(), FileKind.DOCUMENT, "Excel 表格"),
])
def test_check_upload_accepts_real_files_of_each_kind(name, data, kind, label):
    # when
    found = uploads.check_upload(s.upload(name, data), kind=kind)
    # then
    assert found.label == label


@pytest.mark.parametrize(("name", "data", "kind", "message"), [
    ("x.jpg", s.pdf(), FileKind.PHOTO, "文件《x.jpg》的内容不是 JPEG/PNG/HEIC 图片，而是 PDF 文档"),
    ("setup.pdf", s.exe(), FileKind.VISIT_FORM_PDF, "文件《setup.pdf》的内容不是 PDF 文档，而是 Windows 程序"),
    ("page.jpg", s.html(), FileKind.PHOTO, "文件《page.jpg》的内容不是 JPEG/PNG/HEIC 图片，而是 网页（HTML）"),
    ("song.wav", s.jpeg(), FileKind.RECORDING, "文件《song.wav》的内容不是 WAV/MP3/M4A/AMR 录音，而是 JPEG 图片"),
    ("tpl.docx", s.pdf(), FileKind.PHOTO, "而是 PDF 文档"),
    ("photo.docx", s.jpeg(), FileKind.DOCUMENT, "而是 JPEG 图片"),
    ("notes.txt", "随便写的字".encode(), FileKind.ATTACHMENT, "无法识别其格式"),
    ("empty.jpg", b"", FileKind.PHOTO, "文件《empty.jpg》是空文件"),
])
def test_check_upload_refuses_forged_files_with_a_specific_message(name, data, kind, message):
    # when
    with pytest.raises(UploadRejectedError) as err:
        uploads.check_upload(s.upload(name, data, "image/jpeg"), kind=kind)
    # then
    assert message in str(err.value)


def test_check_upload_ignores_the_browser_supplied_type():
    # given a real PNG sent as application/pdf with a .pdf name
    forged = s.upload("scan.pdf", s.png(), "application/pdf")
    # when
    with pytest.raises(UploadRejectedError) as err:
        uploads.check_upload(forged, kind=FileKind.VISIT_FORM_PDF)
    # then
    assert "而是 PNG 图片" in str(err.value)


def test_check_upload_refuses_a_zip_that_is_not_an_office_document():
    # given
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    # when
    with pytest.raises(UploadRejectedError) as err:
        uploads.check_upload(s.upload("tpl.docx", buf.getvalue()), kind=FileKind.DOCUMENT)
    # then
    assert "而是 ZIP 压缩包" in str(err.value)


def test_check_upload_refuses_files_over_the_kind_limit(settings):
    # given
    settings.UPLOAD_MAX_BYTES_PHOTO = 100
    # when
    with pytest.raises(UploadRejectedError) as err:
        uploads.check_upload(s.upload("big.jpg", s.jpeg(size=(200, 200))), kind=FileKind.PHOTO)
    # then
    assert "超过照片的上限" in str(err.value)


@pytest.mark.django_db
def test_file_upload_stores_bytes_with_sha256_and_notes_the_timeline(make_case, collector):
    # given
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    data = s.pdf()
    # when
    stored = file_upload(case=case, kind=FileKind.ATTACHMENT, upload=s.upload("身份证复印件.pdf", data), by=collector)
    # then
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    assert stored.content_type == "application/pdf"
    assert stored.file.name.startswith(f"cases/{case.pk}/") and stored.file.name.endswith(".pdf")
    assert (s.media() / stored.file.name).read_bytes() == data
    event = CaseEvent.objects.get(case=case, type=CaseEventType.FILE_UPLOADED)
    assert "身份证复印件.pdf" in event.summary


@pytest.mark.django_db
def test_a_refused_upload_leaves_no_row_and_no_file(make_case, collector):
    # given
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    with pytest.raises(UploadRejectedError):
        file_upload(case=case, kind=FileKind.PHOTO, upload=s.upload("x.jpg", s.pdf()), by=collector)
    # then
    assert StoredFile.objects.count() == 0
    assert s.stored_files() == []
    assert not CaseEvent.objects.filter(case=case, type=CaseEventType.FILE_UPLOADED).exists()


@pytest.mark.django_db
def test_upload_view_shows_the_chinese_message_and_stores_nothing(make_case, collector, collector_client):
    # given
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    response = collector_client.post(reverse("cases:file-upload", args=[case.pk]),
                                     {"kind": FileKind.ATTACHMENT, "file": s.upload("病历.pdf", s.exe())},
                                     HTTP_HX_REQUEST="true")
    # then
    assert response.status_code == 200
    assert "文件《病历.pdf》的内容不是 PDF 文档或 JPEG/PNG/HEIC 图片，而是 Windows 程序" in response.content.decode()
    assert StoredFile.objects.count() == 0
    assert s.stored_files() == []


@pytest.mark.django_db
def test_file_view_serves_inline_with_the_chinese_name(make_case, collector, collector_client):
    # given
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    stored = file_upload(case=case, kind=FileKind.RECORDING, upload=s.upload("通话录音.wav", s.wav()), by=collector)
    # when
    response = collector_client.get(reverse("cases:case-file", args=[case.pk, stored.pk]))
    # then
    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    assert response["Content-Disposition"].startswith("inline;")
    assert "filename*=utf-8''%E9%80%9A%E8%AF%9D%E5%BD%95%E9%9F%B3.wav" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == s.wav()


@pytest.mark.django_db
def test_file_view_answers_range_requests_for_seeking_in_recordings(make_case, collector, collector_client):
    # given
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    data = s.wav(seconds=1)
    stored = file_upload(case=case, kind=FileKind.RECORDING, upload=s.upload("a.wav", data), by=collector)
    url = reverse("cases:case-file", args=[case.pk, stored.pk])
    # when
    partial = collector_client.get(url, HTTP_RANGE="bytes=100-199")
    tail = collector_client.get(url, HTTP_RANGE="bytes=-10")
    beyond = collector_client.get(url, HTTP_RANGE=f"bytes={len(data) + 5}-")
    # then
    assert partial.status_code == 206
    assert partial["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(partial.streaming_content) == data[100:200]
    assert b"".join(tail.streaming_content) == data[-10:]
    assert beyond.status_code == 416


@pytest.mark.django_db
def test_file_view_is_404_for_a_collector_of_another_case(make_case, collector, other_collector):
    # given
    from django.test import Client

    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    stored = file_upload(case=case, kind=FileKind.PHOTO, upload=s.upload("a.jpg", s.jpeg()), by=collector)
    client = Client()
    client.force_login(other_collector)
    # when
    response = client.get(reverse("cases:case-file", args=[case.pk, stored.pk]))
    # then
    assert response.status_code == 404


@pytest.mark.django_db
def test_file_view_download_is_audited(make_case, collector, collector_client):
    # given
    from accounts.models import AuditAction, AuditEntry

    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    stored = file_upload(case=case, kind=FileKind.PHOTO, upload=s.upload("门牌.jpg", s.jpeg()), by=collector)
    # when
    response = collector_client.get(reverse("cases:case-file", args=[case.pk, stored.pk]) + "?download=1")
    # then
    assert response["Content-Disposition"].startswith("attachment;")
    entry = AuditEntry.objects.get(action=AuditAction.DOWNLOAD)
    assert entry.object_id == str(stored.pk) and "门牌.jpg" in entry.summary


@pytest.mark.django_db
def test_files_are_not_reachable_through_a_media_url(make_case, collector, collector_client):
    # given
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    stored = file_upload(case=case, kind=FileKind.PHOTO, upload=s.upload("a.jpg", s.jpeg()), by=collector)
    # when
    response = collector_client.get("/media/" + stored.file.name)
    # then
    assert response.status_code == 404
