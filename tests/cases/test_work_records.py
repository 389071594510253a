from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEntry
from cases.actions.calls import call_record_create
from cases.actions.files import file_delete, file_upload, work_record_delete
from cases.actions.visits import visit_record_create
from cases.enums import CallResult, CallSource, CaseEventType, CaseStatus, FileKind, VisitResult
from cases.exceptions import (
    CaseClosedForWorkError,
    DeleteReasonRequiredError,
    PromiseDetailsRequiredError,
    UploadRejectedError,
)
from cases.models import CallRecord, CaseEvent, DailyCollectorStats, StoredFile, VisitRecord
from cases.policies import can_delete_work, can_record_work
from tests import factories as f
from tests.cases import samples as s
from tests.cases.samples import media_root  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def case(make_case, collector):
    c = make_case(collector=collector, status=CaseStatus.NOT_STARTED, debtor_name="赵欠款")
    f.CaseContactFactory(case=c, name="赵欠款", relation="本人", phone="13912345678")
    return c


def hx(client, url, data):
    return client.post(url, data, HTTP_HX_REQUEST="true")


def test_call_record_create_moves_a_not_started_case_in_progress_and_notes_the_timeline(case, collector):
    # given
    contact = case.contacts.get()
    # when
    call = call_record_create(case=case, collector=collector, by=collector, number=contact.phone, contact=contact,
                              result=CallResult.PROMISE, promise_date=timezone.localdate() + dt.timedelta(days=3),
                              promise_amount=Decimal("3000.00"), note="答应月底前还")
    # then
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS
    event = CaseEvent.objects.get(case=case, type=CaseEventType.CALL)
    assert event.data == {"call_id": call.pk}
    assert "承诺还款" in event.summary and "¥3,000.00" in event.summary and "139****5678" in event.summary
    assert "13912345678" not in event.summary
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.STATUS_CHANGED).count() == 1


def test_call_record_create_counts_the_call_on_the_dashboard(case, collector):
    # when
    call_record_create(case=case, collector=collector, by=collector, number="13912345678",
                       result=CallResult.SELF_ANSWERED)
    call_record_create(case=case, collector=collector, by=collector, number="13912345678",
                       result=CallResult.NO_ANSWER)
    # then
    stats = DailyCollectorStats.objects.get(collector=collector, day=timezone.localdate())
    assert (stats.calls_made, stats.calls_connected, stats.cases_worked) == (2, 1, 1)


def test_call_record_create_refuses_a_promise_without_date_and_amount(case, collector):
    # when
    with pytest.raises(PromiseDetailsRequiredError):
        call_record_create(case=case, collector=collector, by=collector, number="13912345678",
                           result=CallResult.PROMISE)
    # then
    assert CallRecord.objects.count() == 0


def test_call_record_create_refuses_a_closed_case(make_case, collector):
    # given
    closed = make_case(collector=collector, status=CaseStatus.SETTLED)
    # when / then
    with pytest.raises(CaseClosedForWorkError, match="已结清，不能再添加工作记录"):
        call_record_create(case=closed, collector=collector, by=collector, number="13912345678",
                           result=CallResult.NO_ANSWER)


def test_call_record_create_from_the_dialer_is_idempotent_by_call_uuid(case, collector):
    # given
    start = timezone.now() - dt.timedelta(minutes=2)
    kwargs = {"case": case, "collector": collector, "by": None, "number": "13912345678",
              "source": CallSource.DIALER, "started_at": start, "answered_at": start + dt.timedelta(seconds=5),
              "ended_at": start + dt.timedelta(seconds=65), "call_uuid": "ari-1700000000.42"}
    # when
    first = call_record_create(**kwargs)
    again = call_record_create(**kwargs)
    # then
    assert first.pk == again.pk
    assert first.duration_s == 60
    assert CallRecord.objects.count() == 1
    assert CaseEvent.objects.filter(type=CaseEventType.CALL).count() == 1


def test_an_inbound_call_may_match_no_case_yet(collector):
    # when
    call = call_record_create(case=None, collector=None, by=None, number="13800001111", direction="inbound",
                              source=CallSource.DIALER, call_uuid="in-1")
    # then
    assert call.case_id is None and not CaseEvent.objects.exists()


def test_visit_record_create_stores_photos_form_and_recording_entered_for_a_field_colleague(
        case, collector, field_collector):
    # when
    visit = visit_record_create(
        case=case, collector=field_collector, by=collector, visited_on=timezone.localdate(),
        address="沈阳市和平区某街1号", met_person="本人", result=VisitResult.MET_DEBTOR, note="本人在家，态度尚可",
        photos=[s.upload("门牌.jpg", s.jpeg()), s.upload("现场.png", s.png())],
        signed_form=s.upload("外访记录表.pdf", s.pdf()), recording=s.upload("外访.m4a", s.m4a()),
    )
    # then
    assert visit.entered_by == collector and visit.collector == field_collector
    kinds = sorted(visit.files.values_list("kind", flat=True))
    assert kinds == sorted([FileKind.PHOTO, FileKind.PHOTO, FileKind.VISIT_FORM_PDF, FileKind.RECORDING])
    assert len(s.stored_files()) == 4
    event = CaseEvent.objects.get(case=case, type=CaseEventType.VISIT)
    assert "吴外访" in event.summary and "附 4 个文件" in event.summary
    assert DailyCollectorStats.objects.get(collector=field_collector).visits == 1
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS


def test_visit_with_one_forged_photo_is_refused_whole_and_leaves_nothing(case, collector):
    # when
    with pytest.raises(UploadRejectedError, match="《假照片.jpg》"):
        visit_record_create(case=case, collector=collector, by=collector, visited_on=timezone.localdate(),
                            address="沈阳", result=VisitResult.NOBODY_HOME,
                            photos=[s.upload("真照片.jpg", s.jpeg()), s.upload("假照片.jpg", s.html())])
    # then
    assert VisitRecord.objects.count() == 0 and StoredFile.objects.count() == 0
    assert s.stored_files() == []


def test_file_delete_removes_the_bytes_keeps_a_marker_and_audits(case, collector, sysadmin,
                                                                 django_capture_on_commit_callbacks):
    # given
    stored = file_upload(case=case, kind=FileKind.ATTACHMENT, upload=s.upload("错传.pdf", s.pdf()), by=collector)
    path = s.media() / stored.file.name
    assert path.exists()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        file_delete(stored=stored, by=sysadmin, reason="上传错了案件")
    # then
    assert not path.exists()
    stored.refresh_from_db()
    assert stored.is_deleted and stored.deleted_by == sysadmin and stored.file.name == ""
    event = CaseEvent.objects.get(case=case, type=CaseEventType.DELETED)
    assert event.actor == sysadmin and "错传.pdf" in event.summary and "上传错了案件" in event.summary
    audit = AuditEntry.objects.get(action=AuditAction.DELETE)
    assert audit.detail["sha256"] == stored.sha256 and audit.detail["reason"] == "上传错了案件"


def test_file_delete_needs_a_reason(case, collector, sysadmin):
    # given
    stored = file_upload(case=case, kind=FileKind.ATTACHMENT, upload=s.upload("a.pdf", s.pdf()), by=collector)
    # when / then
    with pytest.raises(DeleteReasonRequiredError):
        file_delete(stored=stored, by=sysadmin, reason="  ")


def test_work_record_delete_hides_a_visit_and_removes_its_files(case, collector, sysadmin,
                                                                django_capture_on_commit_callbacks):
    # given
    visit = visit_record_create(case=case, collector=collector, by=collector, visited_on=timezone.localdate(),
                                address="沈阳", result=VisitResult.NOBODY_HOME, photos=[s.upload("a.jpg", s.jpeg())])
    # when
    with django_capture_on_commit_callbacks(execute=True):
        work_record_delete(record=visit, by=sysadmin, reason="重复录入")
    # then
    visit.refresh_from_db()
    assert visit.is_deleted
    assert s.stored_files() == []
    assert "外访记录" in CaseEvent.objects.get(type=CaseEventType.DELETED).summary
    assert AuditEntry.objects.get(action=AuditAction.DELETE).object_type == "VisitRecord"


@pytest.mark.parametrize(("role", "status", "expected"), [
    ("collector", CaseStatus.IN_PROGRESS, True),
    ("collector", CaseStatus.NOT_STARTED, True),
    ("collector", CaseStatus.RETAINED, True),
    ("collector", CaseStatus.SETTLED, False),
    ("collector", CaseStatus.RETURNED, False),
    ("other_collector", CaseStatus.IN_PROGRESS, False),
    ("clerk", CaseStatus.IN_PROGRESS, False),
    ("manager", CaseStatus.IN_PROGRESS, False),
    ("sysadmin", CaseStatus.IN_PROGRESS, False),
])
def test_can_record_work(request, make_case, collector, role, status, expected):
    # given
    user = request.getfixturevalue(role)
    case = make_case(collector=collector, status=status)
    # then
    assert can_record_work(user=user, case=case) is expected


@pytest.mark.parametrize(("role", "expected"), [("sysadmin", True), ("manager", False), ("clerk", False),
                                                ("collector", False)])
def test_only_system_admins_may_delete(request, role, expected):
    assert can_delete_work(user=request.getfixturevalue(role)) is expected


def test_call_form_on_the_case_page_saves_and_refreshes_the_timeline(case, collector, collector_client):
    # given
    case.status = CaseStatus.IN_PROGRESS
    case.save()
    contact = case.contacts.get()
    # when
    response = hx(collector_client, reverse("cases:call-create", args=[case.pk]), {
        "contact": contact.pk, "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "result": CallResult.THIRD_PARTY, "note": "其母亲接听，答应转告",
    })
    # then
    text = response.content.decode()
    assert response.status_code == 200
    assert "电话记录已保存" in text and "其母亲接听，答应转告" in text
    assert 'id="case-timeline" hx-swap-oob="true"' in text
    assert CallRecord.objects.get().contact == contact


def test_first_call_on_a_not_started_case_reloads_the_page_to_show_the_new_status(case, collector_client):
    # when
    response = hx(collector_client, reverse("cases:call-create", args=[case.pk]), {
        "contact": case.contacts.get().pk, "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "result": CallResult.NO_ANSWER,
    })
    # then
    assert response.status_code == 200 and response["HX-Refresh"] == "true"
    page = collector_client.get(reverse("cases:case-detail", args=[case.pk])).content.decode()
    assert "电话记录已保存；委案状态已变为“进行中”" in page


def test_call_form_shows_errors_for_a_promise_without_amount(case, collector_client):
    # when
    response = hx(collector_client, reverse("cases:call-create", args=[case.pk]), {
        "other_number": "13812345678", "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "result": CallResult.PROMISE, "promise_date": timezone.localdate().isoformat(),
    })
    # then
    assert "承诺还款时请填写承诺金额" in response.content.decode()
    assert not CallRecord.objects.exists()


def test_visit_form_on_the_case_page_uploads_several_photos(case, collector, collector_client):
    # when
    response = hx(collector_client, reverse("cases:visit-create", args=[case.pk]), {
        "collector": collector.pk, "visited_on": timezone.localdate().isoformat(), "address": "沈阳市和平区",
        "met_person": "配偶", "result": VisitResult.MET_FAMILY, "note": "配偶称本人外出打工",
        "photos": [s.upload("1.jpg", s.jpeg()), s.upload("2.jpg", s.jpeg())],
        "signed_form": s.upload("签字表.pdf", s.pdf()),
    })
    # then
    assert response.status_code == 200 and response["HX-Refresh"] == "true"  # 未开始 → 进行中
    assert VisitRecord.objects.get().files.count() == 3


def test_collector_of_another_case_gets_404_and_a_clerk_403_when_posting_a_call(case, other_collector,
                                                                                  clerk_client):
    # given
    other = Client()
    other.force_login(other_collector)
    url = reverse("cases:call-create", args=[case.pk])
    # when / then
    assert other.post(url, {}).status_code == 404
    assert clerk_client.post(url, {}).status_code == 403


def test_collector_cannot_delete(case, collector, collector_client):
    # given
    stored = file_upload(case=case, kind=FileKind.ATTACHMENT, upload=s.upload("a.pdf", s.pdf()), by=collector)
    # when
    response = collector_client.post(reverse("cases:work-delete", args=[case.pk, "file", stored.pk]),
                                     {"reason": "不想要了"})
    # then
    assert response.status_code == 403
    assert not StoredFile.objects.get().is_deleted


def test_admin_deletes_through_the_panel_with_the_prompted_reason(case, collector, sysadmin_client,
                                                                  django_capture_on_commit_callbacks):
    # given
    call = call_record_create(case=case, collector=collector, by=collector, number="13912345678",
                              result=CallResult.NO_ANSWER, note="误记")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = sysadmin_client.post(reverse("cases:work-delete", args=[case.pk, "call", call.pk]), {},
                                        HTTP_HX_REQUEST="true", HTTP_HX_PROMPT="记错了案件")
    # then
    assert response.status_code == 200
    call.refresh_from_db()
    assert call.is_deleted and call.delete_reason == "记错了案件"
    assert "误记" not in response.content.decode().split('id="case-timeline"')[0]
