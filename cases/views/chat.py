"""Document requests with chat (C8, P9, R3): the request form on a case, the request page with its chat,
the clerk's inbox, the collector's list, attachments. Adapters only: parse, check the policy, call an
action or selector, render. Live messages travel over /ws/chat/<id>/ (realtime/consumers/chat.py);
attachments come here as a normal (htmx) POST and are broadcast by the same action.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from accounts.models import User
from cases import uploads
from cases.actions.chat import (
    ITEMS_OTHER_MAX_CHARS,
    MESSAGE_MAX_CHARS,
    REASON_MAX_CHARS,
    chat_message_send,
    document_request_open,
    document_request_set_status,
)
from cases.exceptions import DomainError
from cases.models import DocumentRequest, DocumentRequestStatus, RequestedInfo
from cases.policies import (
    SIDE_CLERK,
    SIDE_COLLECTOR,
    access_case,
    access_document_request,
    can_open_document_request,
    can_post_document_request_message,
    can_view_document_request_inbox,
    closed_case_refusal,
    document_request_side,
)
from cases.selectors.chat import (
    HISTORY_LIMIT,
    chat_message_get,
    chat_message_list,
    chat_other_side_read_mark,
    chat_read_mark,
    document_request_list_for_case,
    document_request_list_for_collector,
    document_request_list_for_inbox,
    waiting_text,
)
from cases.views.streaming import streamed_response


class AppRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


class DocumentRequestForm(forms.Form):
    items = forms.MultipleChoiceField(
        label="需要哪些资料", choices=RequestedInfo.choices, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少勾选一项需要的资料"})
    items_other = forms.CharField(label="“其他”资料说明", required=False, max_length=ITEMS_OTHER_MAX_CHARS,
                                  help_text="勾选“其他”时必填，例如：近六个月工资流水")
    reason = forms.CharField(
        label="用途说明（为什么需要）", max_length=REASON_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "例如：客户称已搬家，需要单位地址安排外访"}),
        error_messages={"required": "请说明为什么需要这些资料"})

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if RequestedInfo.OTHER in (data.get("items") or []) and not (data.get("items_other") or "").strip():
            self.add_error("items_other", "勾选了“其他”，请写明需要什么资料")
        return data


# --- Opening a request (P9) --------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def docreq_create_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_open_document_request(user=request.user, case=case):
        raise PermissionDenied(closed_case_refusal(user=request.user, case=case)
                               or "只有负责该委案的业务员可以索要资料")
    form = DocumentRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            docreq = document_request_open(case=case, by=request.user, items=form.cleaned_data["items"],
                                           items_other=form.cleaned_data["items_other"],
                                           reason=form.cleaned_data["reason"])
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已向内勤 {docreq.assigned_clerk.display_name} 索要资料，对方会在此回复")
            return redirect("cases:docreq-detail", request_id=docreq.pk)
    return render(request, "chat/docreq_create.html", {"case": case, "form": form, "nav_active": "docreq-mine"})


# --- The request page and its chat (R3) --------------------------------------------------------------------

def _chat_context(request: AppRequest, docreq: DocumentRequest) -> dict[str, object]:
    side = document_request_side(user=request.user, docreq=docreq)
    return {
        "docreq": docreq,
        "case": docreq.case,
        "side": side or "",
        "can_post": can_post_document_request_message(user=request.user, docreq=docreq),
        "can_answer": side == SIDE_CLERK and docreq.status == DocumentRequestStatus.OPEN,
        "can_close": side is not None and docreq.status != DocumentRequestStatus.CLOSED,
        "can_reopen": side == SIDE_COLLECTOR and docreq.status != DocumentRequestStatus.OPEN,
        "is_closed": docreq.status == DocumentRequestStatus.CLOSED,
        "waiting": waiting_text(docreq.created_at, timezone.now())
        if docreq.status == DocumentRequestStatus.OPEN else "",
        "message_max": MESSAGE_MAX_CHARS,
    }


@login_required
@require_GET
def docreq_detail_view(request: AppRequest, request_id: int) -> HttpResponse:
    docreq = access_document_request(user=request.user, request_id=request_id)
    context = _chat_context(request, docreq)
    chat = chat_message_list(docreq=docreq)
    context.update({
        "chat_messages": chat,
        "history_truncated": len(chat) >= HISTORY_LIMIT,
        "last_message_id": chat[-1].pk if chat else 0,
        "other_last_read": chat_other_side_read_mark(docreq=docreq, side=context["side"] or None),
        "my_last_read": chat_read_mark(docreq=docreq, user=request.user),
        "nav_active": "docreq" if request.user.is_clerk or request.user.is_manager else "docreq-mine",
    })
    return render(request, "chat/docreq_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def docreq_status_view(request: AppRequest, request_id: int) -> HttpResponse:
    """GET: the status bar (the page refreshes it when the status changes elsewhere). POST: change it."""
    docreq = access_document_request(user=request.user, request_id=request_id)
    error = ""
    if request.method == "POST":
        if document_request_side(user=request.user, docreq=docreq) is None:
            raise PermissionDenied("只有请求双方可以变更状态")
        try:
            docreq = document_request_set_status(docreq=docreq, by=request.user, status=request.POST.get("status", ""))
        except DomainError as exc:
            error = str(exc)
        if not request.htmx:
            if error:
                messages.error(request, error)
            return redirect("cases:docreq-detail", request_id=docreq.pk)
    context = _chat_context(request, docreq)
    context["status_error"] = error
    return render(request, "chat/docreq_detail.html#status-bar", context)


@login_required
@require_POST
def docreq_message_create_view(request: AppRequest, request_id: int) -> HttpResponse:
    """A message with an attachment (or any message when the websocket is down): stored, then broadcast."""
    docreq = access_document_request(user=request.user, request_id=request_id)
    if not can_post_document_request_message(user=request.user, docreq=docreq):
        raise PermissionDenied("您只能查看此对话，不能发言")
    error = ""
    message = None
    try:
        message = chat_message_send(docreq=docreq, by=request.user, text=request.POST.get("text", ""),
                                    client_msg_id=request.POST.get("client_msg_id", ""),
                                    upload=request.FILES.get("attachment"))
    except DomainError as exc:
        error = str(exc)
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("cases:docreq-detail", request_id=docreq.pk)
    response = render(request, "chat/docreq_detail.html#composer-error", {"composer_error": error})
    if message is not None:
        trigger_client_event(response, "chat:posted", {"message_id": message.pk,
                                                       "client_msg_id": message.client_msg_id})
    return response


@login_required
@require_GET
def docreq_attachment_view(request: AppRequest, request_id: int, message_id: int) -> StreamingHttpResponse:
    """Stream a chat attachment to someone who may see the request. Pictures open inline; anything else is a
    download, which is audited (PIPL)."""
    docreq = access_document_request(user=request.user, request_id=request_id)
    message = chat_message_get(docreq=docreq, message_id=message_id)
    stored = message.attachment if message is not None else None
    if stored is None or stored.is_deleted or not stored.file.name:
        raise Http404("附件不存在或已被删除")
    inline = stored.is_browser_image and request.GET.get("download") != "1"
    from cases.actions.files import case_file_access
    from cases.views.files import file_headers

    # Pictures shown in the chat are an access like a download (PIPL): once per user, file and session each.
    case_file_access(stored=stored, by=request.user, download=not inline, session_key=request.session.session_key,
                     how="chat", request=request)
    # A generator that opens the file when the first chunk is asked for (and closes it at the end).
    response = streamed_response(request, uploads.iter_stored(stored.file.name), content_type=stored.content_type,
                                 headers=file_headers(stored, download=not inline))
    response["Content-Length"] = str(stored.size)
    return response


# --- Lists -------------------------------------------------------------------------------------------------

SHOW_CHOICES = (("active", "待处理"), ("closed", "已关闭"), ("all", "全部"))


def _show(request: AppRequest) -> str:
    show = request.GET.get("show", "active")
    return show if show in dict(SHOW_CHOICES) else "active"


def _rows(requests: list[DocumentRequest]) -> list[DocumentRequest]:
    now = timezone.now()
    for r in requests:
        r.waiting = waiting_text(r.created_at, now) if r.status == DocumentRequestStatus.OPEN else ""  # type: ignore[attr-defined]
    return requests


@login_required
@require_GET
def docreq_inbox_view(request: AppRequest) -> HttpResponse:
    """C8: a clerk's open requests, oldest first, with how long each has waited and unread messages."""
    if not can_view_document_request_inbox(user=request.user):
        raise PermissionDenied("资料请求收件箱仅供内勤和管理人员使用")
    show = _show(request)
    rows = _rows(list(document_request_list_for_inbox(user=request.user, show=show)[:500]))
    context = {"rows": rows, "show": show, "show_choices": SHOW_CHOICES, "nav_active": "docreq",
               "waiting_count": sum(1 for r in rows if r.status == DocumentRequestStatus.OPEN),
               "unread_total": sum(r.unread for r in rows)}  # type: ignore[attr-defined]
    template = "chat/docreq_inbox.html#inbox-body" if request.htmx else "chat/docreq_inbox.html"
    return render(request, template, context)


@login_required
@require_GET
def docreq_mine_view(request: AppRequest) -> HttpResponse:
    """P9: the requests a collector opened (and those of the cases they now work)."""
    if not (request.user.is_collector and request.user.is_active):
        raise PermissionDenied("此页面仅供催收业务员使用")
    show = _show(request)
    rows = _rows(list(document_request_list_for_collector(user=request.user, show=show)[:500]))
    context = {"rows": rows, "show": show, "show_choices": SHOW_CHOICES, "nav_active": "docreq-mine",
               "unread_total": sum(r.unread for r in rows)}  # type: ignore[attr-defined]
    template = "chat/docreq_mine.html#mine-body" if request.htmx else "chat/docreq_mine.html"
    return render(request, template, context)


@login_required
@require_GET
def docreq_case_panel_view(request: AppRequest, case_id: int) -> HttpResponse:
    """The document requests of one case, loaded into the case page (fragment)."""
    case = access_case(user=request.user, case_id=case_id)
    rows = _rows(list(document_request_list_for_case(case=case, user=request.user)[:50]))
    return render(request, "chat/_case_panel.html#case-requests",
                  {"case": case, "rows": rows,
                   "can_open": can_open_document_request(user=request.user, case=case)})
