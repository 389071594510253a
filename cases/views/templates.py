"""The templates page (P11): clerks upload per-bank templates; collectors download those of their banks."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import uploads
from cases.actions.templates import bank_template_delete, bank_template_upload
from cases.exceptions import DomainError
from cases.forms_work import BankTemplateForm
from cases.policies import can_delete_bank_template, can_upload_bank_template
from cases.selectors.work import bank_template_get_for, bank_template_list_for, bank_upload_choices_for
from cases.views.cases import AppRequest
from cases.views.streaming import streamed_response


@login_required
@require_http_methods(["GET", "POST"])
def bank_template_list_view(request: AppRequest) -> HttpResponse:
    user = request.user
    banks = bank_upload_choices_for(user)
    form = BankTemplateForm(request.POST or None, request.FILES or None, banks=banks) if banks.exists() else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            bank = form.cleaned_data["bank"]
            if not can_upload_bank_template(user=user, bank=bank):
                raise PermissionDenied
            try:
                template = bank_template_upload(bank=bank, title=form.cleaned_data["title"],
                                                upload=form.cleaned_data["file"], by=user)
            except DomainError as exc:
                form.add_error("file", str(exc))
            else:
                messages.success(request, f"已上传 {template.bank.name} 的模板《{template.title}》")
                return HttpResponseRedirect(reverse("cases:template-list"))
    templates = list(bank_template_list_for(user=user))
    for t in templates:
        t.can_delete = can_delete_bank_template(user=user, bank=t.bank)  # type: ignore[attr-defined]
    context = {"form": form, "templates": templates, "nav_active": "templates"}
    return render(request, "cases/bank_template_list.html", context)


@login_required
@require_GET
def bank_template_download_view(request: AppRequest, template_id: int) -> StreamingHttpResponse:
    template = bank_template_get_for(user=request.user, template_id=template_id)
    if template is None:
        raise Http404("模板不存在或无权下载")
    response = streamed_response(request, uploads.iter_stored(template.file.name),
                                 content_type=template.content_type,
                                 headers={"Content-Disposition": content_disposition_header(
                                     True, template.original_name)})
    response["Content-Length"] = str(template.size)
    return response


@login_required
@require_POST
def bank_template_delete_view(request: AppRequest, template_id: int) -> HttpResponse:
    template = bank_template_get_for(user=request.user, template_id=template_id)
    if template is None:
        raise Http404("模板不存在")
    if not can_delete_bank_template(user=request.user, bank=template.bank):
        raise PermissionDenied
    title = template.title
    bank_template_delete(template=template, by=request.user, request=request)
    messages.success(request, f"已删除模板《{title}》")
    return HttpResponseRedirect(reverse("cases:template-list"))
