"""Five bank layouts, each mapped once and imported through the saved mapping to the exact cases and total; the
next file of a layout picks its mapping by itself; a changed layout is caught and must be confirmed."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from cases.exceptions import ImportRejectedError
from cases.models import Case
from mappings.actions import mapping_save, upload_import_cases, upload_open, upload_receive
from mappings.exceptions import LayoutChangedError
from mappings.imports.headers import propose
from mappings.imports.spec import DMY, ColumnRule, MappingSpec
from mappings.models import BankFileUpload, UploadStatus
from mappings.selectors import mapping_choose, mapping_header_history
from tests.mappings import banks

pytestmark = pytest.mark.django_db


def receive(bank, clerk, content: bytes, filename: str, kind: str = "cases") -> BankFileUpload:
    return upload_receive(bank=bank, kind=kind, file=io.BytesIO(content), filename=filename, by=clerk)


def proposed(upload) -> tuple[MappingSpec, object]:
    read = upload_open(upload)
    history = mapping_header_history(bank=upload.bank, kind=upload.kind)
    return propose(kind=upload.kind, labels=read.header.labels, history=history), read


def retarget(spec: MappingSpec, **changes: dict[str, object]) -> MappingSpec:
    """The clerk's corrections in the editor: header → {target, unit, date_order}."""
    columns = []
    for column in spec.columns:
        change = changes.get(column.header, {})
        columns.append(ColumnRule(header=column.header, target=str(change.get("target", column.target)),
                                  unit=str(change.get("unit", column.unit)),
                                  date_order=str(change.get("date_order", column.date_order))))
    return MappingSpec(kind=spec.kind, columns=columns, constants=dict(spec.constants), ask=list(spec.ask))


def save(upload, spec, read, clerk, name="映射"):
    return mapping_save(bank=upload.bank, kind=upload.kind, spec=spec, headers=read.header.labels,
                        header_rows=read.header.row - read.header.top + 1, by=clerk, name=name)


def assert_imported(batch, cases: list[banks.BankCase], *, contacts: dict[str, set[tuple[str, str, str]]],
                    rate: Decimal, batch_no: str) -> None:
    assert batch.batch_no == batch_no
    assert batch.case_count == len(cases)
    assert batch.total_amount == sum((c.amount for c in cases), Decimal("0.00"))
    stored = {c.case_no: c for c in Case.objects.filter(batch=batch).prefetch_related("contacts")}
    assert set(stored) == {c.case_no for c in cases}
    for c in cases:
        case = stored[c.case_no]
        assert (case.debtor_name, case.id_number, case.entrusted_amount, case.entrust_date, case.return_date,
                case.mobile, case.commission_rate) == (c.name, c.id_number, c.amount, c.entrust, c.back, c.mobile,
                                                       rate), c.case_no
        got = {(x.name, x.relation, x.phone) for x in case.contacts.all()}
        assert got == contacts[c.case_no], c.case_no


def own_phones(c: banks.BankCase) -> set[tuple[str, str, str]]:
    return {(c.name, "本人", p) for p in [c.mobile, *c.others]}


def test_icbc_merged_two_level_header_wan_amounts_and_phone_lists_import_through_a_saved_mapping(bank, clerk):
    # given: the bank's xlsx with a title row and a merged two-level header; no batch number, no commission rate
    cases = banks.month_cases(9)
    upload = receive(bank, clerk, banks.icbc(cases), "工行9月.xlsx")
    spec, read = proposed(upload)
    assert (read.header.top, read.header.row) == (1, 2)
    assert read.header.labels[1:4] == ["客户信息·姓名", "客户信息·身份证", "客户信息·手机"]
    assert spec.rule_for("欠款金额（万元）").unit == "wan"
    assert spec.ask == ["批次号"]
    spec.constants["佣金比例"] = "3.5%"
    version = save(upload, spec, read, clerk, name="工行信用卡")
    # when
    batch = upload_import_cases(upload=upload, version=version, by=clerk, answers={"批次号": "GH202609"})
    # then
    expected = {c.case_no: own_phones(c) | {(c.contacts[0][0], c.contacts[0][1], c.contacts[0][2])} for c in cases}
    assert_imported(batch, cases, contacts=expected, rate=Decimal("0.035000"), batch_no="GH202609")
    upload.refresh_from_db()
    assert (upload.status, upload.batch, upload.version) == (UploadStatus.IMPORTED, batch, version)


def test_abc_gbk_csv_with_chinese_dates_yuan_amounts_and_a_contact_list_cell(bank, clerk):
    # given
    cases = banks.month_cases(9, prefix="NH")
    upload = receive(bank, clerk, banks.abc(cases, "NH2026-09"), "农行.csv")
    spec, read = proposed(upload)
    assert read.sheet.encoding == "GBK/GB18030"
    assert spec.rule_for("联系人信息").target == "联系人信息"
    assert spec.rule_for("账单日").target == "__extra__"
    spec.constants["佣金比例"] = "0.04"
    version = save(upload, spec, read, clerk)
    # when
    batch = upload_import_cases(upload=upload, version=version, by=clerk)
    # then
    expected = {c.case_no: own_phones(c) | set(c.contacts) for c in cases}
    assert_imported(batch, cases, contacts=expected, rate=Decimal("0.040000"), batch_no="NH2026-09")
    assert Case.objects.filter(batch=batch).first().extra == {"账单日": "5日"}


def test_boc_xls_with_header_on_row_three_excel_serial_dates_and_contacts_in_columns(bank, clerk):
    # given
    cases = banks.month_cases(10, prefix="ZH")
    upload = receive(bank, clerk, banks.boc(cases, "ZH202610"), "中行.xls")
    spec, read = proposed(upload)
    assert read.sheet.fmt == "xls" and read.header.row == 2
    version = save(upload, spec, read, clerk)
    # when
    batch = upload_import_cases(upload=upload, version=version, by=clerk)
    # then
    expected = {c.case_no: own_phones(c) | set(c.contacts) for c in cases}
    assert_imported(batch, cases, contacts=expected, rate=Decimal("0.045000"), batch_no="ZH202610")


def test_ccb_bank_wording_dates_with_time_and_name_relation_pairs(bank, clerk):
    # given: the proposal reads 紧急联系人 as a name; the clerk makes it a name-and-relation pair
    cases = banks.month_cases(9, prefix="JH")
    upload = receive(bank, clerk, banks.ccb(cases, "JH-09"), "建行.xlsx")
    spec, read = proposed(upload)
    assert spec.rule_for("紧急联系人").target == "联系人1姓名"
    spec = retarget(spec, 紧急联系人={"target": "联系人1姓名及关系"})
    spec.constants["佣金比例"] = "5%"
    version = save(upload, spec, read, clerk)
    # when
    batch = upload_import_cases(upload=upload, version=version, by=clerk)
    # then
    expected = {c.case_no: own_phones(c) | {c.contacts[0]} for c in cases}
    assert_imported(batch, cases, contacts=expected, rate=Decimal("0.050000"), batch_no="JH-09")
    first = Case.objects.filter(batch=batch).order_by("case_no").first()
    assert first.product_type == "loan" and first.extra == {"分行": "沈阳分行", "五级分类": "次级"}


def test_bocom_utf8_csv_with_day_first_dates_and_wan_in_the_cell(bank, clerk):
    # given: the clerk sets the two date columns to day/month/year
    cases = banks.month_cases(11, prefix="JT")
    upload = receive(bank, clerk, banks.bocom(cases, "JT2611"), "交行.csv")
    spec, read = proposed(upload)
    assert read.header.row == 1 and read.sheet.encoding == "UTF-8"
    spec = retarget(spec, 分案日期={"date_order": DMY}, 退案日期={"date_order": DMY})
    spec.constants["佣金比例"] = "3%"
    version = save(upload, spec, read, clerk)
    # when
    batch = upload_import_cases(upload=upload, version=version, by=clerk)
    # then
    expected = {c.case_no: own_phones(c) | {c.contacts[0]} for c in cases}
    assert_imported(batch, cases, contacts=expected, rate=Decimal("0.030000"), batch_no="JT2611")
    assert Case.objects.get(case_no=cases[0].case_no).card_no == f"6222{cases[0].case_no[-4:]}00001111"


def test_next_months_file_of_the_same_layout_picks_the_saved_mapping_by_itself(bank, clerk):
    # given: September mapped and imported
    upload = receive(bank, clerk, banks.ccb(banks.month_cases(9), "JH-09"), "建行9月.xlsx")
    spec, read = proposed(upload)
    spec.constants["佣金比例"] = "5%"
    version = save(upload, spec, read, clerk, name="建行")
    upload_import_cases(upload=upload, version=version, by=clerk)
    # when: October's file arrives
    october = receive(bank, clerk, banks.ccb(banks.month_cases(10), "JH-10"), "建行10月.xlsx")
    read = upload_open(october)
    choice = mapping_choose(bank=bank, kind="cases", labels=read.header.labels)
    # then
    assert choice.version == version and choice.exact
    batch = upload_import_cases(upload=october, version=choice.version, by=clerk)
    assert batch.batch_no == "JH-10" and batch.case_count == 3


def test_a_changed_layout_is_detected_and_must_be_confirmed(bank, clerk):
    # given: a mapping saved for September's layout
    upload = receive(bank, clerk, banks.ccb(banks.month_cases(9), "JH-09"), "建行9月.xlsx")
    spec, read = proposed(upload)
    spec.constants["佣金比例"] = "5%"
    version = save(upload, spec, read, clerk, name="建行")
    # when: October's file renames a column and adds one
    content = banks.ccb(banks.month_cases(10), "JH-10")
    renamed = _rename_header(content, {"户名": "客户姓名", "五级分类": "风险等级"})
    changed = receive(bank, clerk, renamed, "建行10月.xlsx")
    read = upload_open(changed)
    choice = mapping_choose(bank=bank, kind="cases", labels=read.header.labels)
    # then: the old mapping is offered as a changed layout, and importing through it is refused
    assert choice.version == version and not choice.exact
    assert set(choice.diff.missing) == {"户名", "五级分类"} and set(choice.diff.added) == {"客户姓名", "风险等级"}
    with pytest.raises(LayoutChangedError, match="请重新确认映射"):
        upload_import_cases(upload=changed, version=version, by=clerk)
    # and once confirmed (a new version), it imports, while the old version stays as it was
    spec2, read2 = proposed(changed)
    spec2.constants["佣金比例"] = "5%"
    version2 = mapping_save(bank=bank, kind="cases", spec=spec2, headers=read2.header.labels, header_rows=1,
                            by=clerk, mapping=version.mapping)
    assert version2.number == 2 and version.spec == spec.to_json()
    assert spec2.rule_for("客户姓名").target == "客户姓名"
    assert upload_import_cases(upload=changed, version=version2, by=clerk).case_count == 3


def test_errors_name_the_bank_files_rows_and_columns_and_nothing_is_imported(bank, clerk):
    # given: row 5 (the second case) has a bad ID number and a negative amount in brackets
    cases = banks.month_cases(9, prefix="JH")
    content = banks.ccb(cases, "JH-09")
    upload = receive(bank, clerk, _set_cell(_set_cell(content, 3, 4, "21010219850615XXXX"), 3, 5, "(1,000.00)"),
                     "建行.xlsx")
    spec, read = proposed(upload)
    spec.constants["佣金比例"] = "5%"
    version = save(upload, spec, read, clerk)
    # when
    with pytest.raises(ImportRejectedError) as rejected:
        upload_import_cases(upload=upload, version=version, by=clerk)
    # then
    found = {(e.row_number, e.column) for e in rejected.value.errors}
    assert found == {(3, "证件号"), (3, "欠款总额")}
    amount_error = next(e for e in rejected.value.errors if e.column == "欠款总额")
    assert "不能为负数" in amount_error.message and "(1,000.00)" in amount_error.message
    assert Case.objects.count() == 0


def _rename_header(content: bytes, renames: dict[str, str]) -> bytes:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content))
    for cell in workbook.active[1]:
        if cell.value in renames:
            cell.value = renames[cell.value]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _set_cell(content: bytes, row: int, col: int, value: object) -> bytes:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content))
    workbook.active.cell(row=row, column=col, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
