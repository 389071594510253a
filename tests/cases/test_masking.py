"""One masking rule per role (cases.masking) for the card, ID and phone numbers on the case page, in the Word and
PDF visit form, in the full download's workbook and in the exports."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from cases.actions.exports import cases_export_stream
from cases.enums import CaseStatus
from cases.masking import masker_for
from cases.models.cases import mask_card_no, mask_id_number, mask_phone
from cases.selectors.cases import CaseFilters
from tests.cases.samples import media_root  # noqa: F401  (fixture)
from tests.cases.test_documents import docx_text, pdf_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]

CARD, ID, MOBILE = "6222021234567890123", "110101199001011234", "13912345678"


@pytest.fixture
def case(make_case, collector, clerk):
    return make_case(card_no=CARD, id_number=ID, mobile=MOBILE, collector=collector, owner_clerk=clerk,
                     status=CaseStatus.IN_PROGRESS, case_no="MK-1", debtor_name="冯卡号")


def _xlsx_text(data: bytes) -> str:
    wb = load_workbook(io.BytesIO(data))
    return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)


def _outputs(user, case) -> dict[str, str]:
    client = Client()
    client.force_login(user)
    bundle = client.get(reverse("cases:case-bundle", args=[case.pk]))
    workbook = zipfile.ZipFile(io.BytesIO(b"".join(bundle.streaming_content))).read("工作记录.xlsx")
    return {
        "case page": client.get(reverse("cases:case-detail", args=[case.pk])).content.decode(),
        "case list": client.get(reverse("cases:case-list")).content.decode(),
        "Word visit form": docx_text(client.get(reverse("cases:visit-form", args=[case.pk, "docx"])).content),
        "PDF visit form": pdf_text(client.get(reverse("cases:visit-form", args=[case.pk, "pdf"])).content),
        "zip workbook": _xlsx_text(workbook),
        "export": _xlsx_text(b"".join(cases_export_stream(user=user, filters=CaseFilters()))),
    }


@pytest.mark.parametrize(("role", "whole"), [("collector", False), ("clerk", True), ("manager", True)])
def test_one_masking_rule_for_screen_word_pdf_zip_and_exports(request, case, role, whole):
    # given
    user = request.getfixturevalue(role)
    assert masker_for(user).full is whole
    # when
    outputs = _outputs(user, case)
    # then: every output shows the numbers the same way for the role
    for name, text in outputs.items():
        numbers = {"card": (CARD, mask_card_no(CARD)), "ID": (ID, mask_id_number(ID)),
                   "mobile": (MOBILE, mask_phone(MOBILE))}
        if name == "case list":
            numbers = {"ID": numbers["ID"]}  # the list shows the ID number only
        for what, (plain, masked) in numbers.items():
            if whole:
                assert plain in text, f"{what} not whole in the {name} of a {role}"
            else:
                assert plain not in text, f"full {what} in the {name} of a {role}"
                assert masked in text, f"masked {what} missing from the {name} of a {role}"


def test_card_number_masks_as_banks_print_it():
    assert mask_card_no("6222021234567890123") == "622202*********0123"
    assert mask_card_no("6225880012345678") == "622588******5678"
