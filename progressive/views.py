"""Pages of progressive dialling (连续外呼, issue 17): start a session from 今日工作 or a filtered case list, the
collector's session bar (in the call panel on every page) and its controls. Adapters only: parse, check policy,
call an action or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from accounts.models import User
from cases.forms import CaseFilterForm
from cases.models.cases import mask_phone
from cases.selectors.cases import case_list
from cases.selectors.dashboards import can_view_dashboard
from progressive.actions import (
    session_extend,
    session_pause,
    session_resume,
    session_skip,
    session_start,
    session_stop,
)
from progressive.exceptions import SessionError
from progressive.models import DEFAULT_WRAP_UP_S, DialSession, SessionSource
from progressive.policies import can_control_session, can_start_session
from progressive.selectors import session_entries, session_last_for, session_live_list
from worklist.queue import work_queue_for_collector

# A session from a case list takes at most this many cases (the list's order).
MAX_CASES = 500


class AppRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


def _wrap_up(raw: str) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return DEFAULT_WRAP_UP_S


@login_required
@require_POST
def session_start_view(request: AppRequest) -> HttpResponse:
    """Start from 今日工作 (its order now) or from the case list's current filters (their order)."""
    if not can_start_session(user=request.user):
        raise PermissionDenied("只有电话催收业务员可以连续外呼")
    source = request.POST.get("source", SessionSource.QUEUE)
    if source == SessionSource.CASES:
        form = CaseFilterForm(request.POST, user=request.user)
        form.is_valid()
        ids = list(case_list(user=request.user, filters=form.to_filters()).values_list("pk", flat=True)[:MAX_CASES])
        back = "cases:case-list"
    else:
        ids = [item.case_id for item in work_queue_for_collector(collector=request.user).items]
        back = "worklist:queue"
    try:
        session = session_start(collector=request.user, case_ids=ids, source=source,
                                wrap_up_s=_wrap_up(request.POST.get("wrap_up_s", "")))
    except SessionError as exc:
        messages.error(request, f"没有开始连续外呼：{exc}")
        return redirect(back)
    messages.success(request, f"连续外呼已开始：共 {session.total} 个案件。空闲时系统先呼叫您的话机，"
                              "摘机后再拨打客户；每通接通的电话结束后请登记结果。")
    return redirect(back)


def _bar(request: AppRequest, *, error: str = "") -> HttpResponse:
    session = session_last_for(collector=request.user)
    now = timezone.now()
    context: dict[str, object] = {"session": session, "error": error}
    if session is not None:
        wrap_left = 0
        if session.is_open and not session.current_call_uuid and session.ready_at and session.ready_at > now:
            wrap_left = int((session.ready_at - now).total_seconds() + 0.999)
        context.update({
            "wrap_left": wrap_left,
            "next_case": _next_case(session),
            "entries": [{"entry": e, "number": mask_phone(e.number)} for e in session_entries(session=session,
                                                                                              limit=5)],
        })
    return render(request, "progressive/_session_bar.html", context)


def _next_case(session: DialSession) -> object:
    if not session.is_open or session.position >= len(session.case_ids):
        return None
    from cases.models import Case

    return Case.objects.filter(pk=session.case_ids[session.position]).only("pk", "case_no", "debtor_name").first()


@login_required
@require_GET
def session_bar_view(request: AppRequest) -> HttpResponse:
    """The collector's session bar: the open session (or the last one), its next case, wrap-up and last steps."""
    if not can_start_session(user=request.user):
        return HttpResponse("")
    return _bar(request)


@login_required
@require_GET
def session_board_view(request: AppRequest) -> HttpResponse:
    """The lines board's 连续外呼 part (M7): every open session live, for managers."""
    if not can_view_dashboard(user=request.user):
        raise PermissionDenied
    now = timezone.now()
    rows = []
    for session in session_live_list():
        wrap_left = 0
        if not session.current_call_uuid and session.ready_at and session.ready_at > now:
            wrap_left = int((session.ready_at - now).total_seconds() + 0.999)
        rows.append({"session": session, "wrap_left": wrap_left,
                     "minutes": int((now - session.started_at).total_seconds() // 60)})
    return render(request, "progressive/_session_board.html", {"rows": rows})


_CONTROLS = {
    "pause": session_pause,
    "resume": session_resume,
    "skip": session_skip,
    "extend": session_extend,
    "stop": session_stop,
}


@login_required
@require_POST
def session_control_view(request: AppRequest, session_id: int, action: str) -> HttpResponse:
    """暂停 / 继续 / 跳过 / 延长整理 / 结束: answers with the bar again."""
    session = get_object_or_404(DialSession, pk=session_id)
    if not can_control_session(user=request.user, session=session) or action not in _CONTROLS:
        raise PermissionDenied
    try:
        _CONTROLS[action](session=session, by=request.user)
    except SessionError as exc:
        return _bar(request, error=str(exc))
    return _bar(request)
