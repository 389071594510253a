"""M5: all business data as one streamed zip; M4: the case list's export button exports exactly the list."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import AuditAction, AuditEntry
from cases.actions.calls import call_record_create
from cases.actions.complaints import complaint_record
from cases.actions.files import file_delete, file_upload
from cases.actions.repayments import repayment_record, repayment_reverse
from cases.actions.visits import visit_record_create
from cases.enums import CallResult, CaseStatus, ComplaintReason, FileKind, VisitResult
from cases.selectors.cases import CaseFilters, case_list
from tests import factories as f
from tests.cases import samples as s
from tests.cases.samples import media_root  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def worked(make_case, collector, clerk, other_bank):
    """Two cases of one bank with calls, a visit with photos and a signed form, files, repayments and a
    complaint; a third case of another bank with nothing on it."""
    a = make_case(case_no="ZS-1", debtor_name="=1+1", collector=collector, owner_clerk=clerk,
                  status=CaseStatus.IN_PROGRESS, entrusted_amount=Decimal("1000.00"), balance=Decimal("1000.00"))
    b = make_case(case_no="ZS-2", debtor_name="钱二", collector=collector, owner_clerk=clerk,
                  status=CaseStatus.IN_PROGRESS, entrusted_amount=Decimal("500.00"), balance=Decimal("500.00"))
    c = make_case(bank=other_bank, case_no="JS-1", debtor_name="孙三")
    f.CaseContactFactory(case=a, name="张一", relation="本人", phone="13812345678")
    f.CaseContactFactory(case=a, name="李一", relation="配偶", phone="13698765432")
    call_record_create(case=a, collector=collector, by=collector, number="13812345678", contact=a.contacts.first(),
                       result=CallResult.SELF_ANSWERED, note="@SUM(A1)", recording_upload=s.upload("rec.wav", s.wav()))
    call_record_create(case=b, collector=collector, by=collector, number="13900001111", contact=None,
                       result=CallResult.SELF_ANSWERED, note="第二通")
    visit_record_create(case=a, collector=collector, by=collector, visited_on=timezone.localdate(),
                        address="沈阳市和平区/南京街", result=VisitResult.MET_DEBTOR,
                        photos=[s.upload("a.jpg", s.jpeg()), s.upload("b.png", s.png())],
                        signed_form=s.upload("signed.pdf", s.pdf()))
    file_upload(case=b, kind=FileKind.ATTACHMENT, upload=s.upload("身份证复印件.pdf", s.pdf()), by=collector)
    gone = file_upload(case=b, kind=FileKind.ATTACHMENT, upload=s.upload("作废.pdf", s.pdf()), by=collector)
    file_delete(stored=gone, by=f.SysadminFactory(), reason="传错了")
    day = timezone.localdate() - dt.timedelta(days=1)
    first = repayment_record(case=a, amount=Decimal("100.00"), repaid_on=day, by=clerk, bank_ref="R1")
    repayment_record(case=a, amount=Decimal("50.00"), repaid_on=day, by=clerk, bank_ref="R2")
    repayment_reverse(repayment=first, by=clerk, reason="银行撤销")
    complaint_record(case=b, content="-2+3 频繁来电", reason=ComplaintReason.FREQUENT_CALLS, collector=collector,
                     by=clerk)
    return a, b, c


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200 and response.streaming
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def _rows(zf: zipfile.ZipFile, name: str) -> list[list[object]]:
    wb = load_workbook(io.BytesIO(zf.read(name)))
    return [[c.value for c in row] for row in wb.active.iter_rows()]


def test_business_export_holds_every_sheet_with_its_rows(client, manager, worked):
    # given
    client.force_login(manager)
    # when
    zf = _zip(client.get(reverse("cases:business-export")))
    # then: the zip is sound and holds one workbook per kind of record, each with its rows
    assert zf.testzip() is None
    counts = {name: len(_rows(zf, name)) - 1 for name in
              ("委案.xlsx", "联系人.xlsx", "电话记录.xlsx", "外访记录.xlsx", "回款.xlsx", "投诉.xlsx")}
    assert counts == {"委案.xlsx": 3, "联系人.xlsx": 2, "电话记录.xlsx": 2, "外访记录.xlsx": 1, "回款.xlsx": 3,
                      "投诉.xlsx": 1}
    timeline = _rows(zf, "时间线.xlsx")
    kind = timeline[0].index("类型")
    by_case: dict[str, list[str]] = {}
    for row in timeline[1:]:
        by_case.setdefault(row[0], []).append(row[kind])
    a, b, c = worked
    # every exported case opens with its batch's 导入 entry (stored nowhere per case), then its own entries
    assert set(by_case) == {"ZS-1", "ZS-2", "JS-1"}
    assert by_case["JS-1"] == ["导入"]
    for case in (a, b):
        stored = [e.get_type_display() for e in case.events.order_by("created_at", "id")]
        assert stored and by_case[case.case_no] == ["导入", *stored]
    repayments = _rows(zf, "回款.xlsx")
    assert sum(Decimal(str(r[repayments[0].index("金额")])) for r in repayments[1:]) == Decimal("50.00")


def test_business_export_puts_files_in_per_case_folders(client, manager, worked):
    # given
    a, b, _ = worked
    client.force_login(manager)
    # when
    zf = _zip(client.get(reverse("cases:business-export")))
    # then
    folder_a = f"案件/招商银行/{a.batch.batch_no}/ZS-1/"
    folder_b = f"案件/招商银行/{b.batch.batch_no}/ZS-2/"
    names = zf.namelist()
    files_a = sorted(n.removeprefix(folder_a) for n in names if n.startswith(folder_a))
    assert [n.split("/")[0] for n in files_a] == ["外访照片", "外访照片", "外访记录表", "录音"]
    assert all("沈阳市和平区_南京街" in n for n in files_a if not n.startswith("录音/"))
    recording = next(n for n in names if n.startswith(folder_a + "录音/"))
    assert zf.read(recording) == s.wav()
    files_b = [n.removeprefix(folder_b) for n in names if n.startswith(folder_b)]
    assert len(files_b) == 1 and files_b[0].startswith("附件/") and "身份证复印件" in files_b[0]  # deleted left out
    assert not any(n.startswith("案件/建设银行/") for n in names)  # a case without files has no folder
    # and the call sheet points at the recording inside the zip
    calls = _rows(zf, "电话记录.xlsx")
    assert recording in [r[calls[0].index("录音文件")] for r in calls[1:]]
    assert {info.compress_type for info in zf.infolist()} == {zipfile.ZIP_STORED}


def test_business_export_neutralises_formulas(client, manager, worked):
    # given: a debtor name, a call note and a complaint typed to run as formulas
    client.force_login(manager)
    # when
    zf = _zip(client.get(reverse("cases:business-export")))
    # then
    assert "'=1+1" in [r[1] for r in _rows(zf, "委案.xlsx")]
    calls = _rows(zf, "电话记录.xlsx")
    assert "'@SUM(A1)" in [r[calls[0].index("备注")] for r in calls]
    assert "'=1+1" in [r[2] for r in calls]
    complaints = _rows(zf, "投诉.xlsx")
    assert complaints[1][complaints[0].index("投诉内容")] == "'-2+3 频繁来电"


def test_business_export_is_audited_and_notes_counts(client, manager, worked):
    # given
    client.force_login(manager)
    # when
    zf = _zip(client.get(reverse("cases:business-export")))
    # then
    entry = AuditEntry.objects.get(object_type="business_data")
    assert entry.action == AuditAction.EXPORT and entry.actor == manager
    note = zf.read("导出说明.txt").decode("utf-8-sig")
    assert "委案.xlsx：3 行" in note and "文件：5 个" in note


def test_business_export_follows_case_list_filters(client, manager, worked):
    # given
    a, _, _ = worked
    client.force_login(manager)
    # when
    zf = _zip(client.get(reverse("cases:business-export"), {"q": "ZS-1", "mode": "case_no"}))
    # then
    assert [r[0] for r in _rows(zf, "委案.xlsx")[1:]] == ["ZS-1"]
    assert len(_rows(zf, "电话记录.xlsx")) == 2
    assert _rows(zf, "投诉.xlsx")[1:] == []
    assert all(n.startswith(f"案件/招商银行/{a.batch.batch_no}/ZS-1/") for n in zf.namelist() if "/" in n)


def test_business_export_lists_files_missing_from_storage(client, manager, worked):
    # given: a photo's bytes were lost from storage
    from cases.models import StoredFile
    from cases.uploads import storage

    lost = StoredFile.objects.filter(kind=FileKind.PHOTO).order_by("id").first()
    storage().delete(lost.file.name)
    client.force_login(manager)
    # when
    zf = _zip(client.get(reverse("cases:business-export")))
    # then
    note = zf.read("导出说明.txt").decode("utf-8-sig")
    assert "文件：4 个" in note and "缺失" in note and f"_{lost.pk}." in note


@pytest.mark.parametrize("role", ["clerk", "collector", "sysadmin"])
def test_business_export_refused_to_everyone_but_managers(client, role, request, worked):
    # given
    client.force_login(request.getfixturevalue(role))
    # when / then
    assert client.get(reverse("cases:business-export")).status_code == 403
    assert client.get(reverse("cases:exports")).status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.django_db(transaction=True)
async def test_business_export_streams_chunk_by_chunk_under_asgi(manager, worked):
    # given: the ASGI path (daphne) gets an async iterator, so Django never collects the body into a list
    client = AsyncClient()
    await client.aforce_login(manager)
    # when
    response = await client.get(reverse("cases:business-export"))
    chunks = [chunk async for chunk in response.streaming_content]
    # the test client keeps connections across requests; close the one the export used (daphne closes it at
    # the end of the request)
    await sync_to_async(connections.close_all, thread_sensitive=True)()
    # then
    assert response.is_async and len(chunks) > 1
    assert zipfile.ZipFile(io.BytesIO(b"".join(chunks))).testzip() is None


# --- M4: the case list's export button ----------------------------------------------------------------------

def test_case_list_export_button_carries_the_list_filters(client, manager, worked):
    # given
    client.force_login(manager)
    # when
    html = client.get(reverse("cases:case-list"), {"bank": worked[0].batch.bank_id, "page": "1"}).content.decode()
    # then
    assert f'{reverse("cases:cases-export")}?bank={worked[0].batch.bank_id}"' in html
    assert "导出筛选结果（Excel）" in html


def test_case_list_has_no_export_button_for_clerks(clerk_client, worked):
    # when
    html = clerk_client.get(reverse("cases:case-list")).content.decode()
    # then
    assert reverse("cases:cases-export") not in html


@pytest.mark.parametrize("query", [
    {"bank": "BANK"}, {"status": CaseStatus.IN_PROGRESS, "sort": "debtor_name"}, {"q": "钱二", "mode": "name"},
    {"amount_min": "600"}, {"group": "not_started"}, {},
])
def test_filtered_export_holds_exactly_the_rows_of_the_list(client, manager, worked, query, make_case):
    # given: more cases than one page of the list would show
    for i in range(5):
        make_case(case_no=f"EXTRA-{i}", status=CaseStatus.NOT_STARTED)
    query = {k: (str(worked[0].batch.bank_id) if v == "BANK" else v) for k, v in query.items()}
    client.force_login(manager)
    # when
    response = client.get(reverse("cases:cases-export"), query)
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    exported = [row[0].value for row in wb.active.iter_rows(min_row=2)]
    # then: the same case numbers in the same order as the list the manager was looking at
    from cases.forms import CaseFilterForm
    form = CaseFilterForm(query, user=manager)
    form.is_valid()
    listed = list(case_list(user=manager, filters=form.to_filters()).values_list("case_no", flat=True))
    assert exported == listed and listed
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT, object_type="cases").count() == 1


def test_filter_of_export_equals_case_list_filters(manager):
    # the export view reads the same form the list does: no second parser that could drift
    from cases.forms import CaseFilterForm
    form = CaseFilterForm({"status": CaseStatus.SETTLED}, user=manager)
    form.is_valid()
    assert form.to_filters() == CaseFilters(status=CaseStatus.SETTLED)
