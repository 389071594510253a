"""Pages of the bank-file import: upload, the chosen mapping with a preview and the import, the mapping editor,
the list of mappings. Adapters only: parse, check, call, render."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from cases.enums import ProductType
from cases.exceptions import DomainError, ImportRejectedError
from cases.imports.excel import _text
from cases.imports.rows import CaseRow, RowError
from cases.selectors.banks import bank_list_for_clerk
from cases.views.cases import AppRequest
from mappings.actions import ReadFile, mapping_save, upload_import_cases, upload_open, upload_receive
from mappings.exceptions import BankFileUnreadableError, MappingInvalidError
from mappings.forms import ASK, BankFileUploadForm, EditorColumn, constant_targets, spec_from_post, target_groups
from mappings.imports.cases import preview_rows
from mappings.imports.fields import CASES, EXTRA, IGNORE, KIND_LABELS, REPAYMENTS, targets_for
from mappings.imports.headers import propose
from mappings.imports.spec import DATE_ORDER_LABELS, UNIT_LABELS, ColumnRule, MappingSpec
from mappings.models import BankFileUpload, MappingVersion, UploadStatus
from mappings.policies import access_mapping, access_upload, access_version, can_map_bank, can_use_mappings
from mappings.selectors import (
    STANDARD,
    MappingChoice,
    mapping_choose,
    mapping_header_history,
    mapping_list_for_clerk,
    mapping_versions_of,
    standard_spec,
    upload_batches_of_version,
)
from mappings.views_repayments import repayment_preview, repayment_review

MAX_ERRORS_SHOWN = 1000
PREVIEW_ROWS = 8
NAV = "bank-import"


def _clerk_only(request: AppRequest) -> None:
    if not can_use_mappings(user=request.user):
        raise PermissionDenied("只有内勤可以导入银行文件")


@login_required
@require_http_methods(["GET", "POST"])
def bank_file_upload_view(request: AppRequest) -> HttpResponse:
    _clerk_only(request)
    banks = bank_list_for_clerk(clerk=request.user)
    error = ""
    if request.method == "POST":
        form = BankFileUploadForm(request.POST, request.FILES, banks=banks)
        if form.is_valid():
            bank = form.cleaned_data["bank"]
            if not can_map_bank(user=request.user, bank=bank):
                raise PermissionDenied("您没有负责该银行的权限")
            upload = form.cleaned_data["file"]
            try:
                received = upload_receive(bank=bank, kind=form.cleaned_data["kind"], file=upload,
                                          filename=upload.name or "银行文件", by=request.user)
            except BankFileUnreadableError as exc:
                error = f"《{upload.name}》无法读取：{exc}"
            else:
                return redirect("mappings:review", upload_id=received.pk)
    else:
        initial: dict[str, object] = {"kind": request.GET.get("kind", CASES)}
        if banks.count() == 1:
            initial["bank"] = banks.first()
        form = BankFileUploadForm(initial=initial, banks=banks)
    recent = (BankFileUpload.objects.filter(uploaded_by=request.user).select_related("bank", "version__mapping",
                                                                                     "batch")[:10])
    return render(request, "mappings/upload.html", {
        "form": form, "error": error, "has_banks": banks.exists(), "recent": recent, "nav_active": NAV})


# --- review: which mapping, preview, import ---------------------------------------------------------------


@dataclass
class PreviewRow:
    number: int
    cells: list[str]
    row: CaseRow | None
    errors: list[RowError]

    @property
    def contacts(self) -> str:
        if self.row is None:
            return ""
        return "；".join(f"{c.name}（{c.relation}）{c.phone}" if c.relation else f"{c.name} {c.phone}"
                        for c in self.row.contacts)

    @property
    def extra(self) -> str:
        if self.row is None:
            return ""
        return "；".join(f"{k}：{v}" for k, v in self.row.extra.items())

    @property
    def rate(self) -> str:
        return f"{(self.row.commission_rate * 100).normalize():f}%" if self.row is not None else ""

    @property
    def product(self) -> str:
        return ProductType(self.row.product_type).label if self.row is not None else ""


def _preview(read: ReadFile, spec: MappingSpec, answers: Mapping[str, str]) -> list[PreviewRow]:
    found = preview_rows(read.sheet.head, read.header, spec, answers, limit=PREVIEW_ROWS)
    shown = [i for i, label in enumerate(read.header.labels) if label]
    return [PreviewRow(number, [_text(cells[i]) if i < len(cells) else "" for i in shown], row, errors)
            for number, cells, row, errors in found]


def _spec_of(choice: MappingChoice, read: ReadFile) -> MappingSpec | None:
    if choice.standard:
        return standard_spec(read.header.labels)
    if choice.version is not None:
        return MappingSpec.from_json(choice.version.spec)
    return None


def _answers(request: AppRequest, spec: MappingSpec | None) -> dict[str, str]:
    if spec is None:
        return {}
    data = request.POST if request.method == "POST" else request.GET
    return {key: data.get(f"ask_{key}", "").strip()[:64] for key in spec.ask}


@login_required
@require_http_methods(["GET", "POST"])
def bank_file_review_view(request: AppRequest, upload_id: int) -> HttpResponse:
    _clerk_only(request)
    upload = access_upload(user=request.user, upload_id=upload_id)
    context: dict[str, object] = {"upload": upload, "nav_active": NAV, "kind_label": KIND_LABELS[upload.kind]}
    if upload.status == UploadStatus.IMPORTED:
        return render(request, "mappings/review.html", context)
    if upload.kind == REPAYMENTS:
        return repayment_review(request, upload, context)
    try:
        read = upload_open(upload)
    except BankFileUnreadableError as exc:
        context["unreadable"] = str(exc)
        return render(request, "mappings/review.html", context)
    asked = request.POST.get("version") if request.method == "POST" else request.GET.get("version")
    version_id = int(asked) if asked and asked.isdigit() else None
    choice = mapping_choose(bank=upload.bank, kind=upload.kind, labels=read.header.labels, version_id=version_id,
                            standard=asked == STANDARD)
    if choice.version is None and not choice.standard:
        # A layout never seen for this bank: straight to the editor with the proposed mapping.
        return redirect("mappings:edit", upload_id=upload.pk)
    spec = _spec_of(choice, read)
    answers = _answers(request, spec)
    context.update({"read": read, "choice": choice, "spec": spec, "answers": answers,
                    "asked_fields": [(targets_for(CASES)[k], answers.get(k, "")) for k in (spec.ask if spec else [])]})
    if request.method == "POST" and choice.exact:
        try:
            batch = upload_import_cases(upload=upload, version=choice.version, by=request.user, answers=answers)
        except ImportRejectedError as error:
            context.update(_errors_context(error.errors))
        except DomainError as error:
            context["refusal"] = str(error)
        else:
            context["batch"] = batch
            upload.refresh_from_db()
            return render(request, "mappings/review.html", context)
    if spec is not None and choice.exact:
        shown = {key: value or "（导入时填写）" for key, value in answers.items()}
        context["preview"] = _preview(read, spec, shown)
        context["preview_fields"] = _preview_fields()
    return render(request, "mappings/review.html", context)


def _errors_context(errors: list[RowError]) -> dict[str, object]:
    return {"errors": errors[:MAX_ERRORS_SHOWN], "error_count": len(errors),
            "errors_hidden": max(len(errors) - MAX_ERRORS_SHOWN, 0),
            "file_errors": [e for e in errors if e.row_number == 0]}


def _preview_fields() -> list[tuple[str, str]]:
    return [("batch_no", "批次号"), ("case_no", "案件编号"), ("debtor_name", "客户姓名"), ("id_number", "证件号码"),
            ("entrusted_amount", "委案金额"), ("commission_rate", "佣金比例"), ("entrust_date", "委案日期"),
            ("return_date", "退案日期"), ("product_type", "产品类型"), ("mobile", "手机号码")]


# --- the mapping editor ----------------------------------------------------------------------------------


def _editor_columns(read: ReadFile, spec: MappingSpec) -> list[EditorColumn]:
    samples = [r for r in read.sheet.head[read.header.row + 1:] if any(_text(c) for c in r)][:3]
    columns = []
    for index, label in enumerate(read.header.labels):
        if not label:
            continue
        rule = spec.rule_for(label) or ColumnRule(header=label, target=EXTRA if spec.kind == CASES else IGNORE)
        columns.append(EditorColumn(index=index, header=label, rule=rule,
                                    samples=[_text(r[index]) for r in samples if index < len(r)]))
    return columns


def _proposal(upload: BankFileUpload, read: ReadFile, start: MappingVersion | None) -> MappingSpec:
    history = mapping_header_history(bank=upload.bank, kind=upload.kind)
    proposed = propose(kind=upload.kind, labels=read.header.labels, history=history)
    if start is None:
        return proposed
    # Confirming a changed layout: the mapping's own rules for the columns it knows, proposals for the rest.
    earlier = MappingSpec.from_json(start.spec)
    columns = [earlier.rule_for(c.header) or c for c in proposed.columns]
    columns = [ColumnRule(header=p.header, target=c.target, unit=c.unit, date_order=c.date_order)
               for p, c in zip(proposed.columns, columns, strict=True)]
    return MappingSpec(kind=upload.kind, columns=columns, constants=dict(earlier.constants), ask=list(earlier.ask))


@login_required
@require_http_methods(["GET", "POST"])
def mapping_edit_view(request: AppRequest, upload_id: int) -> HttpResponse:
    _clerk_only(request)
    upload = access_upload(user=request.user, upload_id=upload_id)
    if upload.status == UploadStatus.IMPORTED:
        return redirect("mappings:review", upload_id=upload.pk)
    try:
        read = upload_open(upload)
    except BankFileUnreadableError as exc:
        return render(request, "mappings/review.html", {"upload": upload, "unreadable": str(exc), "nav_active": NAV})
    raw_from = request.POST.get("from") or request.GET.get("from") or ""
    start = access_version(user=request.user, version_id=int(raw_from)) if raw_from.isdigit() else None
    if start is not None and (start.mapping.bank_id != upload.bank_id or start.mapping.kind != upload.kind):
        raise Http404("找不到这个映射")
    problems: list[str] = []
    name = ""
    if request.method == "POST":
        spec, problems = spec_from_post(upload.kind, read.header.labels, request.POST)
        name = request.POST.get("name", "").strip()
        if request.POST.get("action") == "save" and not problems:
            try:
                version = mapping_save(bank=upload.bank, kind=upload.kind, spec=spec, headers=read.header.labels,
                                       header_rows=read.header.row - read.header.top + 1, by=request.user,
                                       mapping=start.mapping if start is not None and
                                       request.POST.get("save_as") != "new" else None,
                                       name=name, note=request.POST.get("note", ""))
            except MappingInvalidError as error:
                problems = error.problems
            else:
                return HttpResponseRedirect(f"{reverse('mappings:review', args=[upload.pk])}?version={version.pk}")
    else:
        spec = _proposal(upload, read, start)
    problems = problems or []
    answers = dict.fromkeys(spec.ask, "（导入时填写）")
    context = {
        "upload": upload, "read": read, "spec": spec, "start": start, "name": name, "problems": problems,
        "incomplete": spec.problems(), "columns": _editor_columns(read, spec),
        "groups": target_groups(upload.kind), "targets": targets_for(upload.kind),
        "constants": [(t, spec.constants.get(t.key, ""), t.key in spec.ask)
                      for t in constant_targets(upload.kind) if not spec.sources(t.key)],
        "units": UNIT_LABELS, "date_orders": DATE_ORDER_LABELS, "ASK": ASK, "EXTRA": EXTRA, "IGNORE": IGNORE,
        "kind_label": KIND_LABELS[upload.kind], "nav_active": NAV,
        "default_name": f"{upload.bank.name}{KIND_LABELS[upload.kind]}",
    }
    if upload.kind == CASES:
        context["preview"] = _preview(read, spec, answers)
        context["preview_fields"] = _preview_fields()
    else:
        context["repayment_preview"] = repayment_preview(read, spec)
    if request.htmx and request.method == "POST":
        return render(request, "mappings/edit.html#preview", context)
    return render(request, "mappings/edit.html", context)


# --- mappings list and detail ------------------------------------------------------------------------------


@login_required
@require_GET
def mapping_list_view(request: AppRequest) -> HttpResponse:
    _clerk_only(request)
    return render(request, "mappings/mapping_list.html", {
        "mappings": mapping_list_for_clerk(clerk=request.user), "nav_active": NAV})


@login_required
@require_GET
def mapping_detail_view(request: AppRequest, mapping_id: int) -> HttpResponse:
    _clerk_only(request)
    mapping = access_mapping(user=request.user, mapping_id=mapping_id)
    versions = list(mapping_versions_of(mapping=mapping))
    raw = request.GET.get("version", "")
    shown = next((v for v in versions if str(v.pk) == raw), versions[0] if versions else None)
    targets = targets_for(mapping.kind)
    rows = []
    spec = None
    if shown is not None:
        spec = MappingSpec.from_json(shown.spec)
        for column in spec.columns:
            target = targets.get(column.target)
            rows.append({"header": column.header, "rule": column.rule_text(target),
                         "target": target.label if target else ("其他字段" if column.target == EXTRA else "不导入")})
    return render(request, "mappings/mapping_detail.html", {
        "mapping": mapping, "versions": versions, "shown": shown, "rows": rows, "spec": spec,
        "constants": [(targets[k].label, v) for k, v in (spec.constants.items() if spec else []) if k in targets],
        "asked": [targets[k].label for k in (spec.ask if spec else []) if k in targets],
        "uploads": upload_batches_of_version(version=shown) if shown is not None else [],
        "kind_label": KIND_LABELS[mapping.kind], "nav_active": NAV})

