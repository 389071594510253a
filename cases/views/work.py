"""The case page's work panel (P4, P5, C13, C15): records, forms and deletions, swapped in by htmx.

The case page loads the panel once (`case_work_view`); every form posts back here and gets the panel
again (with the form's errors, or emptied after a save) plus the case timeline out of band, so the page
never reloads. Adapters only: parse, check the policy, call an action, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from accounts.models import User
from cases.actions.calls import call_outcome_record, call_record_create
from cases.actions.complaints import complaint_record
from cases.actions.files import file_delete, file_upload, work_record_delete
from cases.actions.visits import visit_record_create
from cases.exceptions import CallbackTimeError, DomainError
from cases.forms_work import CallOutcomeForm, CallRecordForm, CaseFileForm, ComplaintForm, VisitRecordForm
from cases.masking import masker_for
from cases.models import Case
from cases.policies import (
    access_case,
    call_outcome_open,
    call_outcome_refusal,
    can_delete_work,
    can_record_complaint,
    can_record_work,
    can_upload_case_file,
    closed_case_refusal,
)
from cases.selectors.cases import case_event_list
from cases.selectors.work import (
    call_get,
    call_list,
    case_file_hash_list,
    case_file_list,
    complaint_collector_choices,
    complaint_list_for_case,
    stored_file_get,
    visit_get,
    visit_list,
    visitor_choices,
)
from cases.views.cases import AppRequest

PANEL = "cases/_work_panel.html"


def _forms(case: Case, user: User, data: object = None, files: object = None,
           bound: str = "") -> dict[str, object]:
    """Fresh forms for the panel; the one named `bound` is built from the request instead."""
    full = masker_for(user).full

    def make(name: str, cls: type, **kwargs: object) -> object:
        if name == bound:
            return cls(data, files, **kwargs)
        return cls(**kwargs)

    return {
        "call_form": make("call", CallRecordForm, case=case, full_numbers=full),
        "visit_form": make("visit", VisitRecordForm, visitors=visitor_choices(case=case, user=user), me=user),
        "file_form": make("file", CaseFileForm),
        "complaint_form": make("complaint", ComplaintForm, case=case, collectors=complaint_collector_choices()),
    }


def _panel(request: AppRequest, case: Case, *, forms: dict[str, object] | None = None, open_form: str = "",
           saved: str = "", error: str = "", timeline: bool = False,
           outcome_form: CallOutcomeForm | None = None) -> HttpResponse:
    user = request.user
    mask = masker_for(user)
    show_complaints = bool(user.is_clerk or user.is_manager or user.is_sysadmin)
    calls = list(call_list(case=case))
    may_record = can_record_work(user=user, case=case)
    for call in calls:
        call.shown_number = mask.phone(call.number)  # type: ignore[attr-defined]
        # P4: the collector enters the outcome of their own system-dialled call on the record the dialer wrote.
        if may_record and call_outcome_open(call=call, user=user):
            bound = outcome_form is not None and outcome_form.prefix == f"outcome-{call.pk}"
            call.outcome_form = outcome_form if bound else CallOutcomeForm(call_id=call.pk)  # type: ignore[attr-defined]
    context = {
        "case": case,
        "calls": calls,
        "visits": list(visit_list(case=case)),
        "files": list(case_file_list(case=case)),
        "hashed_files": list(case_file_hash_list(case=case)),
        "complaints": list(complaint_list_for_case(case=case)) if show_complaints else [],
        "addresses": [a for a in (case.home_address, case.work_address) if a],
        "can_record": may_record,
        "can_upload": can_upload_case_file(user=user, case=case),
        "can_complain": can_record_complaint(user=user, case=case),
        "can_delete": can_delete_work(user=user),
        "show_complaints": show_complaints,
        "open_form": open_form,
        "saved": saved,
        "error": error,
        **(forms or _forms(case, user)),
    }
    response = render(request, PANEL, context)
    if timeline:
        # The case page's timeline, refreshed out of band so the new entry shows at once.
        html = render_to_string("cases/case_detail.html#timeline", {"events": case_event_list(case=case)},
                                request=request)
        if 'id="case-timeline"' in html:
            html = html.replace('id="case-timeline"', 'id="case-timeline" hx-swap-oob="true"', 1)
            response.content += html.encode()
    return response


def _saved(request: AppRequest, case: Case, *, status_before: str, message: str) -> HttpResponse:
    """After a save: the panel and timeline again, or (when the save moved the case to 进行中) a reload,
    so the status shown in the page head and the 处理人 card is not left saying 未开始."""
    if case.status != status_before:
        messages.success(request, f"{message}；委案状态已变为“{case.get_status_display()}”")
        return HttpResponseClientRefresh()
    return _panel(request, case, saved=message, timeline=True)


def _refuse_closed(request: AppRequest, case: Case) -> HttpResponse | None:
    """C9: the collector who held a returned (or settled) case is told why their write was refused.

    A page left open before the return posts an htmx form: it gets the read-only panel with the reason (htmx
    swaps no 403); a plain POST gets the 403 page with the reason.
    """
    reason = closed_case_refusal(user=request.user, case=case)
    if not reason:
        return None
    if request.htmx:
        return _panel(request, case, error=reason)
    raise PermissionDenied(reason)


@login_required
@require_GET
def case_work_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    return _panel(request, case)


@login_required
@require_POST
def call_record_create_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_record_work(user=request.user, case=case):
        if (refused := _refuse_closed(request, case)) is not None:
            return refused
        raise PermissionDenied
    forms = _forms(case, request.user, request.POST, request.FILES, bound="call")
    form = forms["call_form"]
    assert isinstance(form, CallRecordForm)
    if form.is_valid():
        data = form.cleaned_data
        status_before = case.status
        try:
            call_record_create(
                case=case, collector=request.user, by=request.user, number=form.number,
                contact=None if data["other_number"] else data["contact"], result=data["result"], note=data["note"],
                started_at=data["started_at"], promise_date=data["promise_date"],
                promise_amount=data["promise_amount"], recording_upload=data["recording"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            return _saved(request, case, status_before=status_before, message="电话记录已保存")
    return _panel(request, case, forms=forms, open_form="call")


@login_required
@require_POST
def call_outcome_view(request: AppRequest, case_id: int, call_id: int) -> HttpResponse:
    """P4: the outcome of a system-dialled call, entered by the collector who made it."""
    case = access_case(user=request.user, case_id=case_id)
    call = call_list(case=case).filter(pk=call_id).first()
    if call is None:
        raise Http404("通话记录不存在或已删除")
    if not can_record_work(user=request.user, case=case):
        if (refused := _refuse_closed(request, case)) is not None:
            return refused
        raise PermissionDenied
    if refusal := call_outcome_refusal(call=call, user=request.user):
        return _panel(request, case, error=refusal)
    form = CallOutcomeForm(request.POST, call_id=call.pk)
    if form.is_valid():
        data = form.cleaned_data
        try:
            call_outcome_record(call=call, by=request.user, result=data["result"], note=data["note"],
                                promise_date=data["promise_date"], promise_amount=data["promise_amount"],
                                callback_at=data["callback_at"])
        except CallbackTimeError as exc:
            form.add_error("callback_at", str(exc))
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            return _panel(request, case, saved="通话结果已登记", timeline=True)
    return _panel(request, case, outcome_form=form)


@login_required
@require_POST
def visit_record_create_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_record_work(user=request.user, case=case):
        if (refused := _refuse_closed(request, case)) is not None:
            return refused
        raise PermissionDenied
    forms = _forms(case, request.user, request.POST, request.FILES, bound="visit")
    form = forms["visit_form"]
    assert isinstance(form, VisitRecordForm)
    if form.is_valid():
        data = form.cleaned_data
        status_before = case.status
        try:
            visit_record_create(
                case=case, collector=data["collector"], by=request.user, visited_on=data["visited_on"],
                address=data["address"], met_person=data["met_person"], result=data["result"], note=data["note"],
                promise_date=data["promise_date"], promise_amount=data["promise_amount"], photos=data["photos"],
                signed_form=data["signed_form"], recording=data["recording"],
            )
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            return _saved(request, case, status_before=status_before, message="外访记录已保存")
    return _panel(request, case, forms=forms, open_form="visit")


@login_required
@require_POST
def case_file_upload_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_upload_case_file(user=request.user, case=case):
        if (refused := _refuse_closed(request, case)) is not None:
            return refused
        raise PermissionDenied
    forms = _forms(case, request.user, request.POST, request.FILES, bound="file")
    form = forms["file_form"]
    assert isinstance(form, CaseFileForm)
    if form.is_valid():
        try:
            stored = file_upload(case=case, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"],
                                 by=request.user)
        except DomainError as exc:
            form.add_error("file", str(exc))
        else:
            return _panel(request, case, saved=f"文件《{stored.original_name}》已上传", timeline=True)
    return _panel(request, case, forms=forms, open_form="file")


@login_required
@require_POST
def complaint_create_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_record_complaint(user=request.user, case=case):
        raise PermissionDenied
    forms = _forms(case, request.user, request.POST, None, bound="complaint")
    form = forms["complaint_form"]
    assert isinstance(form, ComplaintForm)
    if form.is_valid():
        data = form.cleaned_data
        complaint_record(case=case, content=data["content"], reason=data["reason"], collector=data["collector"],
                         by=request.user)
        return _panel(request, case, saved="投诉已记录", timeline=True)
    return _panel(request, case, forms=forms, open_form="complaint")


@login_required
@require_POST
def work_delete_view(request: AppRequest, case_id: int, what: str, object_id: int) -> HttpResponse:
    """C15: a system admin deletes a file, a call or a visit. The reason comes from htmx's prompt."""
    case = access_case(user=request.user, case_id=case_id)
    if not can_delete_work(user=request.user):
        raise PermissionDenied
    reason = (request.htmx.prompt if request.htmx else None) or request.POST.get("reason", "")
    try:
        if what == "file":
            stored = stored_file_get(case=case, file_id=object_id)
            if stored is None:
                raise Http404("文件不存在或已删除")
            file_delete(stored=stored, by=request.user, reason=reason, request=request)
        elif what in ("call", "visit"):
            record = call_get(case=case, call_id=object_id) if what == "call" else visit_get(case=case,
                                                                                             visit_id=object_id)
            if record is None:
                raise Http404("记录不存在")
            work_record_delete(record=record, by=request.user, reason=reason, request=request)
        else:
            raise Http404
    except DomainError as exc:
        return _panel(request, case, error=str(exc))
    return _panel(request, case, saved="已删除", timeline=True)
