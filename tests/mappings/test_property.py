"""Property: a valid standard-template file, re-laid out with its columns in a random order and each header in a
random wording of the dictionary, is read through the proposed mapping into exactly the standard import's rows."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from cases.imports.excel import HEADERS, parse_case_workbook
from mappings.imports.cases import MappedCaseStream
from mappings.imports.fields import CASES, targets_for
from mappings.imports.headers import detect_header, propose
from mappings.imports.reading import open_sheet
from tests.cases.test_import_excel import make_id, valid_row

LIMITS = {"max_rows": 1000, "max_uncompressed_bytes": 50 * 1024 * 1024}
# The standard template's contact columns are contact 1 of a mapping.
_FIELD = {"联系人姓名": "联系人1姓名", "联系人关系": "联系人1关系", "联系人电话": "联系人1电话"}


def _wordings(header: str) -> list[str]:
    """The header and every dictionary wording that names the same field and nothing else."""
    target = targets_for(CASES)[_FIELD.get(header, header)]
    words = [header, *target.synonyms]
    if header in _FIELD:
        words = [header, *(w for w in target.synonyms if w.startswith(("联系人", "紧急联系人")))]
    return list(dict.fromkeys(words))


def _id_ending_in_x() -> str:
    """A valid ID number whose check character is X, written in lower case as some banks do."""
    seq = next(n for n in range(1000) if make_id(n).endswith("X"))
    return make_id(seq).lower()


ROWS = [valid_row(1), valid_row(2, 其他电话="", 联系人电话="", 委案金额="1,000"),
        valid_row(3, 手机号码="", 产品类型="贷款", 证件号码=_id_ending_in_x(), 备注="")]


def _standard_file() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(HEADERS))
    for row in ROWS:
        sheet.append([row[h] for h in HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@st.composite
def layouts(draw):
    order = draw(st.permutations(list(HEADERS)))
    words = [draw(st.sampled_from(_wordings(h))) for h in order]
    return order, words


def _relaid(order: list[str], words: list[str]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(words)
    for row in ROWS:
        sheet.append([row[h] for h in order])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


STANDARD = parse_case_workbook(io.BytesIO(_standard_file()), **LIMITS)


@settings(max_examples=60, deadline=None)
@given(layouts())
def test_relaid_standard_file_imports_the_same_rows_through_the_proposed_mapping(layout):
    # given: the standard file's columns shuffled and renamed
    order, words = layout
    sheet = open_sheet(_relaid(order, words), **LIMITS)
    header = detect_header(sheet.head, sheet.merges)
    spec = propose(kind=CASES, labels=header.labels)
    # when
    stream = MappedCaseStream(sheet, header, spec, max_rows=1000)
    rows = [row for chunk in stream.chunks() for row in chunk]
    # then
    assert STANDARD.errors == [] and stream.errors == []
    assert rows == STANDARD.rows
    assert stream.batch_no == STANDARD.batch_no
