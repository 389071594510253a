"""The bank repayment file read through a mapping: the same reconciliation (cases.selectors.repayments) and the
same confirm (cases.actions.repayments.repayment_file_confirm, through mappings.actions) as the standard
repayment file page. Adapters only."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from cases.exceptions import DomainError
from cases.imports.repayments import RepaymentParseResult
from cases.views.cases import AppRequest
from cases.views.repayments import reconciliation_context
from mappings.actions import ReadFile, upload_confirm_repayments, upload_open
from mappings.exceptions import BankFileUnreadableError
from mappings.imports.repayments import parse_mapped_repayments
from mappings.imports.spec import MappingSpec
from mappings.models import BankFileUpload
from mappings.selectors import mapping_choose

PREVIEW_ROWS = 8


def repayment_preview(read: ReadFile, spec: MappingSpec) -> RepaymentParseResult:
    return parse_mapped_repayments(read.sheet, read.header, spec, today=timezone.localdate(), limit=PREVIEW_ROWS)


def repayment_review(request: AppRequest, upload: BankFileUpload, context: dict[str, object]) -> HttpResponse:
    """GET: the chosen mapping and the file's rows matched to cases. POST: record the new ones."""
    page = "mappings/review_repayments.html"
    try:
        read = upload_open(upload)
    except BankFileUnreadableError as exc:
        context["unreadable"] = str(exc)
        return render(request, page, context)
    asked = request.POST.get("version") if request.method == "POST" else request.GET.get("version")
    choice = mapping_choose(bank=upload.bank, kind=upload.kind, labels=read.header.labels,
                            version_id=int(asked) if asked and asked.isdigit() else None)
    if choice.version is None:
        return redirect("mappings:edit", upload_id=upload.pk)
    context.update({"read": read, "choice": choice})
    if not choice.exact:
        return render(request, page, context)
    if request.method == "POST":
        try:
            upload_confirm_repayments(upload=upload, version=choice.version, by=request.user,
                                      conflicts_seen=request.POST.get("conflicts_seen") == "1")
        except DomainError as exc:
            context["refusal"] = str(exc)
        else:
            return redirect("mappings:review", upload_id=upload.pk)
    spec = MappingSpec.from_json(choice.version.spec)
    parsed = parse_mapped_repayments(read.sheet, read.header, spec, today=timezone.localdate())
    context.update({"parsed": parsed, **reconciliation_context(bank=upload.bank, parsed=parsed),
                    "confirm_url": reverse("mappings:review", args=[upload.pk]),
                    "confirm_fields": [("version", choice.version.pk)]})
    return render(request, page, context)
