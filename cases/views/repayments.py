"""Repayments on the case page (C5): the panel, recording and reversing. Adapters only."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from cases.actions.repayments import repayment_file_confirm, repayment_record, repayment_reverse
from cases.enums import FileKind
from cases.exceptions import RepaymentError, UploadRejectedError
from cases.imports.repayments import RepaymentParseResult, parse_repayment_workbook
from cases.models import Bank, Case
from cases.policies import access_case, can_record_repayment, can_upload_repayment_file
from cases.selectors.banks import bank_list_for_clerk
from cases.selectors.repayments import (
    CONFLICT,
    INVALID,
    repayment_file_reconcile,
    repayment_file_seen,
    repayment_get,
    repayment_list,
)
from cases.uploads import XLSX, check_upload, storage
from cases.views.cases import AppRequest

PANEL = "money/_repayment_panel.html"
# The htmx event the case page's money tiles, status badges and return panel reload on (see money.js).
FIGURES_CHANGED = "case-figures-changed"


class RepaymentForm(forms.Form):
    amount = forms.DecimalField(label="回款金额（元）", max_digits=14, decimal_places=2, min_value=Decimal("0.01"),
                                error_messages={"required": "请填写回款金额", "invalid": "回款金额不是有效的数字",
                                                "min_value": "回款金额必须大于 0",
                                                "max_decimal_places": "回款金额最多两位小数（精确到分）"})
    repaid_on = forms.DateField(label="还款日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                error_messages={"required": "请填写还款日期", "invalid": "还款日期格式应为 年-月-日"})
    bank_ref = forms.CharField(label="银行通知编号/流水号", max_length=64, required=False)
    note = forms.CharField(label="备注", max_length=500, required=False)
    overpayment = forms.BooleanField(label="超额还款（金额可超过余额）", required=False)

    def clean_repaid_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["repaid_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("还款日期不能晚于今天")
        return day


def _context(case: Case, user: object, form: RepaymentForm | None = None, error: str = "") -> dict[str, object]:
    can = can_record_repayment(user=user, case=case)  # type: ignore[arg-type]
    return {
        "case": case, "can_record": can, "error": error,
        "form": form or RepaymentForm(initial={"repaid_on": timezone.localdate()}),
        "repayments": repayment_list(case=case),
    }


@login_required
@require_GET
def repayment_panel_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    return render(request, PANEL, _context(case, request.user))


@login_required
@require_POST
def repayment_create_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_record_repayment(user=request.user, case=case):
        raise PermissionDenied
    form = RepaymentForm(request.POST)
    if form.is_valid():
        try:
            repayment_record(case=case, by=request.user, **form.cleaned_data)
        except RepaymentError as exc:
            return render(request, PANEL, _context(case, request.user, form, error=str(exc)))
        return _changed(render(request, PANEL, _context(case, request.user)))
    return render(request, PANEL, _context(case, request.user, form))


def _changed(response: HttpResponse) -> HttpResponse:
    """The page that made the change refreshes its money tiles and status at once, not only when the case's
    live event arrives (a page whose websocket is reconnecting still shows the new figures)."""
    return trigger_client_event(response, FIGURES_CHANGED)


@login_required
@require_POST
def repayment_reverse_view(request: AppRequest, case_id: int, repayment_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_record_repayment(user=request.user, case=case):
        raise PermissionDenied
    repayment = repayment_get(case=case, repayment_id=repayment_id)
    if repayment is None:
        raise Http404("回款记录不存在")
    try:
        repayment_reverse(repayment=repayment, by=request.user, reason=request.POST.get("reason", ""))
    except RepaymentError as exc:
        return render(request, PANEL, _context(case, request.user, error=str(exc)))
    return _changed(render(request, PANEL, _context(case, request.user)))


# --- Bank repayment file: upload → preview → confirm --------------------------------------------------
# The upload is kept in private storage under its sha256; the preview form carries only that hash and the
# bank, and the confirm re-reads and re-matches the stored file, so the browser never supplies rows.

FILE_PAGE = "money/repayment_file.html"
_SHA = re.compile(r"^[0-9a-f]{64}$")


def _stored_name(sha256: str) -> str:
    return f"repayment-files/{sha256}.xlsx"


def _clerk_bank(request: AppRequest, raw: str | None) -> Bank | None:
    if not raw or not str(raw).isdigit():
        return None
    return bank_list_for_clerk(clerk=request.user).filter(pk=int(raw)).first()


def _parse_stored(sha256: str) -> RepaymentParseResult:
    with storage().open(_stored_name(sha256), "rb") as fh:
        return parse_repayment_workbook(fh, today=timezone.localdate())


@login_required
def repayment_file_view(request: AppRequest) -> HttpResponse:
    """GET: the upload form. POST: store the file and show the preview (nothing is recorded yet)."""
    if not can_upload_repayment_file(user=request.user):
        raise PermissionDenied
    banks = bank_list_for_clerk(clerk=request.user)
    context: dict[str, object] = {"banks": banks, "bank_id": request.POST.get("bank", "")}
    if request.method != "POST":
        return render(request, FILE_PAGE, context)
    bank = _clerk_bank(request, request.POST.get("bank"))
    upload = request.FILES.get("file")
    if bank is None:
        context["error"] = "请选择银行"
    elif upload is None:
        context["error"] = "请选择银行的回款文件（.xlsx）"
    else:
        try:
            if check_upload(upload, kind=FileKind.DOCUMENT) != XLSX:
                raise UploadRejectedError(f"文件《{upload.name}》不是 Excel 工作簿（.xlsx）")
        except UploadRejectedError as exc:
            context["error"] = str(exc)
            return render(request, FILE_PAGE, context, status=400)
        upload.seek(0)
        data = upload.read()
        sha256 = hashlib.sha256(data).hexdigest()
        if not storage().exists(_stored_name(sha256)):
            storage().save(_stored_name(sha256), ContentFile(data))
        parsed = parse_repayment_workbook(io.BytesIO(data), today=timezone.localdate())
        context.update(_preview(bank, sha256, upload.name or "回款文件.xlsx", parsed))
        return render(request, FILE_PAGE, context)
    return render(request, FILE_PAGE, context, status=400)


def _preview(bank: Bank, sha256: str, filename: str, parsed: RepaymentParseResult) -> dict[str, object]:
    return {"bank": bank, "sha256": sha256, "filename": filename, "seen": repayment_file_seen(sha256=sha256),
            **reconciliation_context(bank=bank, parsed=parsed),
            "confirm_url": reverse("cases:repayment-file-confirm"),
            "confirm_fields": [("bank", bank.pk), ("sha256", sha256), ("filename", filename)],
            "reupload_url": reverse("cases:repayment-file")}


def reconciliation_context(*, bank: Bank, parsed: RepaymentParseResult) -> dict[str, object]:
    """What money/_reconciliation.html shows of a parsed repayment file (also the mapped bank-file review's)."""
    match = repayment_file_reconcile(bank=bank, rows=parsed.rows)
    return {"match": match, "conflicts": match.of(CONFLICT), "errors": parsed.errors,
            "file_errors": [e for e in parsed.errors if e.row_number == 0],
            "problem_count": match.counts[INVALID] + sum(1 for e in parsed.errors if e.row_number)}


@login_required
@require_POST
def repayment_file_confirm_view(request: AppRequest) -> HttpResponse:
    if not can_upload_repayment_file(user=request.user):
        raise PermissionDenied
    bank = _clerk_bank(request, request.POST.get("bank"))
    sha256 = request.POST.get("sha256", "")
    filename = request.POST.get("filename", "")[:200] or "回款文件.xlsx"
    if bank is None or not _SHA.match(sha256) or not storage().exists(_stored_name(sha256)):
        return render(request, FILE_PAGE, {"banks": bank_list_for_clerk(clerk=request.user),
                                           "error": "找不到要确认的回款文件，请重新上传"}, status=400)
    parsed = _parse_stored(sha256)
    try:
        result = repayment_file_confirm(bank=bank, sha256=sha256, filename=filename, rows=parsed.rows,
                                        by=request.user, conflicts_seen=request.POST.get("conflicts_seen") == "1")
    except RepaymentError as exc:
        context = {"banks": bank_list_for_clerk(clerk=request.user), "error": str(exc)}
        context.update(_preview(bank, sha256, filename, parsed))
        return render(request, FILE_PAGE, context)
    skipped = f"；{result.skipped} 行未登记（已登记、冲突、未匹配或有问题）" if result.skipped else ""
    messages.success(request, f"已登记 {result.recorded} 笔回款，合计 ¥{result.total:,.2f}{skipped}")
    if result.conflicts:
        messages.warning(request, f"{result.conflicts} 行与已登记的回款冲突，未登记：请在委案页面核实，"
                                  "系统登记有误时先冲正，再重新上传银行文件")
    if result.missing:
        messages.warning(request, f"{result.missing} 笔系统已登记的回款不在这份银行文件中，请与银行核对")
    return redirect("cases:repayment-file")
