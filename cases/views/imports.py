"""Batch import page (C1, C2) and the standard template download. Adapters only: parse, check, call, render.

The upload goes through `cases.actions.batches.batch_import_file`; the page shows either the imported
batch's figures or every problem of the file. With htmx the form posts in the background and only the
result block is swapped in (the page shows upload progress meanwhile); without JavaScript the same view
renders the whole page.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from cases.actions.batches import batch_import_file
from cases.exceptions import DomainError, ImportRejectedError
from cases.imports.excel import COLUMNS
from cases.imports.rows import RowError
from cases.imports.template import build_case_template
from cases.models import Bank
from cases.policies import can_import_any, can_import_batch
from cases.selectors.banks import bank_list_for_clerk
from cases.views.cases import AppRequest

TEMPLATE_FILENAME = "委案导入模板.xlsx"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A file with thousands of problems is shown in full in the command's output; the page shows this many.
MAX_ERRORS_SHOWN = 1000


class BankChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Bank) -> str:
        return f"{obj.name}（{obj.code}）"


class BatchImportForm(forms.Form):
    bank = BankChoice(queryset=Bank.objects.none(), label="银行", empty_label="请选择银行",
                      error_messages={"required": "请选择银行",
                                      "invalid_choice": "只能选择您负责的银行"})
    file = forms.FileField(label="委案文件（.xlsx）",
                           error_messages={"required": "请选择要上传的 .xlsx 文件",
                                           "empty": "上传的文件是空的"})

    def __init__(self, *args: object, clerk: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["bank"].queryset = bank_list_for_clerk(clerk=clerk)  # type: ignore[attr-defined]

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"文件超过 {limit // (1024 * 1024)} MB 的上传上限，请拆分后导入")
        return upload


@login_required
@require_http_methods(["GET", "POST"])
def batch_import_view(request: AppRequest) -> HttpResponse:
    user = request.user
    if not can_import_any(user=user):
        raise PermissionDenied("只有内勤可以导入委案批次")
    batch = None
    errors: list[RowError] = []
    refusal = ""
    filename = ""
    if request.method == "POST":
        form = BatchImportForm(request.POST, request.FILES, clerk=user)
        if form.is_valid():
            bank = form.cleaned_data["bank"]
            upload = form.cleaned_data["file"]
            filename = upload.name
            if not can_import_batch(user=user, bank=bank):
                raise PermissionDenied("您没有负责该银行的权限")
            try:
                batch = batch_import_file(bank=bank, uploaded_by=user, file=upload, filename=upload.name)
            except ImportRejectedError as error:
                errors = error.errors
            except DomainError as error:
                refusal = str(error)
    else:
        banks = bank_list_for_clerk(clerk=user)
        initial = {"bank": banks.first()} if banks.count() == 1 else {}
        form = BatchImportForm(initial=initial, clerk=user)
    context = {
        "form": form, "batch": batch, "refusal": refusal, "filename": filename,
        "errors": errors[:MAX_ERRORS_SHOWN], "error_count": len(errors),
        "errors_hidden": max(len(errors) - MAX_ERRORS_SHOWN, 0),
        "file_errors": [e for e in errors if e.row_number == 0],
        "has_banks": form.fields["bank"].queryset.exists(),  # type: ignore[attr-defined]
        "columns": COLUMNS, "max_rows": settings.IMPORT_MAX_ROWS,
        "max_upload_mb": settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024),
        "nav_active": "import",
    }
    if request.htmx and request.method == "POST":
        return render(request, "cases/batch_import.html#import-result", context)
    return render(request, "cases/batch_import.html", context)


@login_required
@require_GET
def batch_template_view(request: AppRequest) -> HttpResponse:
    if not can_import_any(user=request.user):
        raise PermissionDenied("只有内勤可以下载导入模板")
    response = HttpResponse(build_case_template(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=TEMPLATE_FILENAME)
    return response
