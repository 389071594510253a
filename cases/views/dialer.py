"""Dialer pages and endpoints (issue 5): click-to-call, hang-up, suggested numbers, unmatched recordings,
the managers' lines board and listen-in. Adapters only: policy → action/selector → render.

Collectors never receive a full number: they dial by contact id and the server resolves it.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.inputs import id_param
from accounts.models import User
from accounts.selectors import sees_full_id_numbers
from cases import uploads
from cases.actions.dialer import (
    DialRefusedError,
    LiveStateUnavailableError,
    call_hangup_request,
    dial_request,
    dialer_health_checked,
    lines_snapshot,
    listen_in_request,
    number_suggestion_decide,
    recording_match,
)
from cases.actions.numbers import number_block, number_unblock
from cases.exceptions import CallRulesError
from cases.models import BlockedNumber, CallRecord, Case, CaseContact, NumberSuggestion
from cases.models.cases import mask_phone
from cases.models.compliance import BlockedNumberReason
from cases.policies import (
    access_case,
    can_block_number,
    can_record_work,
    can_unblock_number,
    closed_case_refusal,
)
from cases.selectors.cases import case_visible_to
from cases.selectors.dashboards import can_view_dashboard
from cases.selectors.dialer import (
    blocked_list_for_case,
    calls_today_by_collector,
    dial_number_list,
    missed_calls,
    pending_number_suggestions,
    recent_refusals,
    refusals_today_by_collector,
    unmatched_recordings,
)
from cases.validators import phone_key
from cases.views.cases import AppRequest
from cases.views.streaming import streamed_response

_CALL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

PHASE_LABELS = {
    "collector_ringing": "振铃（业务员）", "collector_answered": "外呼中", "customer_dialling": "外呼中",
    "customer_ringing": "振铃（客户）", "inbound_ringing": "来电振铃", "routed": "来电振铃", "connected": "通话中",
}


def _number_for(user: User, number: str) -> str:
    return number if sees_full_id_numbers(user) else mask_phone(number)


@login_required
@require_GET
def dial_numbers_view(request: AppRequest, case_id: int) -> HttpResponse:
    """The case's numbers with dial buttons (loaded into the call panel on the case page)."""
    case = access_case(user=request.user, case_id=case_id)
    if not can_record_work(user=request.user, case=case):
        return HttpResponse("")
    rows = [{"id": row.contact_id or "", "label": row.label, "also": "、".join(row.also),
             "number": _number_for(request.user, row.number),
             "blocked": BlockedNumberReason(row.blocked).label if row.blocked else ""}
            for row in dial_number_list(case=case)]
    return render(request, "dialer/_dial_numbers.html", {"case": case, "rows": rows,
                                                          "has_extension": bool(request.user.sip_endpoint),
                                                          "block_reasons": BlockedNumberReason.choices})


@login_required
@require_POST
def number_block_view(request: AppRequest, case_id: int) -> HttpResponse:
    """Mark one of the case's numbers 空号 / 停机 / 勿扰 / 非本人 (from the dial list: by contact, never by a typed
    number, so a collector never needs the full number); back to the case with the result."""
    case = access_case(user=request.user, case_id=case_id)
    if not can_block_number(user=request.user, case=case):
        raise PermissionDenied("只有该委案的业务员、负责内勤或管理人员可以标记号码")
    raw = request.POST.get("contact", "")
    if raw:
        contact = CaseContact.objects.filter(pk=id_param(raw) or 0, case=case).first()
        number = contact.phone if contact is not None else ""
    else:
        number = case.mobile
    if not number:
        messages.error(request, "该联系人不属于这个委案")
        return redirect("cases:case-detail", case_id=case.pk)
    try:
        row = number_block(case=case, by=request.user, number=number, reason=request.POST.get("reason", ""),
                           note=request.POST.get("note", ""), request=request)
    except CallRulesError as exc:
        messages.error(request, f"没有标记：{exc}")
    else:
        messages.success(request, f"已将 {_number_for(request.user, row.number)} 标记为{row.get_reason_display()}，"
                                  "即时生效，不能再拨打；如有误，负责内勤或管理人员可以撤销。")
    return redirect("cases:case-detail", case_id=case.pk)


@login_required
@require_POST
def number_unblock_view(request: AppRequest, case_id: int, blocked_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    blocked = get_object_or_404(BlockedNumber, pk=blocked_id)
    numbers = {row.number for row in blocked_list_for_case(case=case)} if blocked.case_id != case.pk else set()
    if blocked.case_id != case.pk and blocked.number not in numbers:
        raise Http404
    if not can_unblock_number(user=request.user, case=blocked.case):
        raise PermissionDenied("只有负责该委案的内勤或管理人员可以撤销标记")
    try:
        number_unblock(blocked=blocked, by=request.user, reason=request.POST.get("reason", ""), request=request)
    except CallRulesError as exc:
        messages.error(request, f"没有撤销：{exc}")
    else:
        messages.success(request, f"已撤销 {_number_for(request.user, blocked.number)} 的禁拨标记，可以再次拨打。")
    return redirect("cases:case-detail", case_id=case.pk)


@login_required
@require_POST
def dial_view(request: AppRequest, case_id: int) -> JsonResponse:
    """Click-to-call: {contact: id or "" for the debtor's mobile, number: optional typed number}."""
    case = access_case(user=request.user, case_id=case_id)
    if refused := closed_case_refusal(user=request.user, case=case):
        return JsonResponse({"error": refused}, status=409)
    contact = None
    raw = request.POST.get("contact", "")
    if raw:
        if not raw.isdigit():
            return JsonResponse({"error": "联系人不正确"}, status=400)
        contact = CaseContact.objects.filter(pk=int(raw), case=case).first()
        if contact is None:
            return JsonResponse({"error": "该联系人不属于这个委案"}, status=400)
    try:
        call_uuid = dial_request(case=case, by=request.user, contact=contact, number=request.POST.get("number", ""))
    except DialRefusedError as exc:
        return JsonResponse({"error": str(exc)}, status=409)
    return JsonResponse({"call_uuid": call_uuid, "message": "正在呼叫您的话机，请摘机"})


@login_required
@require_POST
def hangup_view(request: AppRequest) -> JsonResponse:
    call_uuid = request.POST.get("call_uuid", "")
    # An outbound call's id is our uuid hex; an inbound call's is Asterisk's channel id (1796524263.50).
    if not _CALL_ID.fullmatch(call_uuid):
        return JsonResponse({"error": "呼叫标识不正确"}, status=400)
    call_hangup_request(call_uuid=call_uuid, by=request.user)
    return JsonResponse({"ok": True})


@login_required
@require_GET
def number_suggestions_view(request: AppRequest, case_id: int) -> HttpResponse:
    """Numbers collectors typed for this case, for the owner clerk to add (loaded on the case page)."""
    case = access_case(user=request.user, case_id=case_id)
    if not (request.user.is_clerk and case.owner_clerk_id == request.user.pk):
        return HttpResponse("")
    return render(request, "dialer/_number_suggestions.html",
                  {"case": case, "suggestions": pending_number_suggestions(case)})


@login_required
@require_POST
def number_suggestion_decide_view(request: AppRequest, case_id: int, suggestion_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not (request.user.is_clerk and case.owner_clerk_id == request.user.pk):
        raise PermissionDenied
    suggestion = get_object_or_404(NumberSuggestion, pk=suggestion_id, case=case)
    accept = request.POST.get("decision") == "accept"
    try:
        number_suggestion_decide(suggestion=suggestion, accept=accept, by=request.user)
    except DialRefusedError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已将 {suggestion.number} 添加到委案" if accept else f"已忽略 {suggestion.number}")
    return redirect("cases:case-detail", case_id=case.pk)


def _can_see_unmatched(user: User) -> bool:
    return bool(user.is_active and (user.is_collector or user.is_manager or user.is_sysadmin))


@login_required
def recording_unmatched_view(request: AppRequest) -> HttpResponse:
    """Inbound recordings that match no case; matching one to a case (by case number) attaches it."""
    if not _can_see_unmatched(request.user):
        raise PermissionDenied
    if request.method == "POST":
        call = get_object_or_404(CallRecord, pk=id_param(request.POST.get("call")) or 0, case__isnull=True,
                                 recording__isnull=False)
        case_no = request.POST.get("case_no", "").strip()
        case = case_visible_to(request.user).filter(case_no=case_no).order_by("-id").first() if case_no else None
        if case is None:
            messages.error(request, f"找不到您可查看的委案编号“{case_no}”" if case_no else "请输入委案编号")
        else:
            try:
                recording_match(call=call, case=case, by=request.user)
            except DialRefusedError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"录音已匹配到委案 {case.case_no}")
        return redirect("cases:recording-unmatched")
    rows = [{"call": c, "number": _number_for(request.user, c.number)} for c in unmatched_recordings()[:200]]
    return render(request, "dialer/recording_unmatched.html", {"rows": rows, "nav_active": "recordings"})


@login_required
@require_GET
def recording_unmatched_file_view(request: AppRequest, call_id: int) -> HttpResponse:
    """Play an unmatched recording (it has no case yet, so the case file URL does not serve it); audited once
    per user, recording and session like every customer file."""
    from cases.actions.files import case_file_access
    from cases.views.files import file_headers

    if not _can_see_unmatched(request.user):
        raise PermissionDenied
    call = get_object_or_404(CallRecord, pk=call_id, case__isnull=True, recording__isnull=False)
    stored = call.recording
    if stored is None or stored.is_deleted or not stored.file.name:
        raise Http404
    download = request.GET.get("download") == "1"
    case_file_access(stored=stored, by=request.user, download=download, session_key=request.session.session_key,
                     how="unmatched_recording", request=request)
    response = streamed_response(request, uploads.iter_stored(stored.file.name), content_type=stored.content_type,
                                 headers=file_headers(stored, download=download))
    response["Content-Length"] = str(stored.size)
    return response


def _can_see_missed(user: User) -> bool:
    return bool(user.is_active and (user.is_collector or user.is_clerk or user.is_manager or user.is_sysadmin))


@login_required
@require_GET
def missed_calls_view(request: AppRequest) -> HttpResponse:
    """未接来电: inbound calls nobody took (last 7 days), on the caller's case when matched; the case's collector
    calls back from the case page, where the number is on the dial list."""
    if not _can_see_missed(request.user):
        raise PermissionDenied
    rows = []
    for call in missed_calls(user=request.user)[:300]:
        case = call.case
        rows.append({
            "call": call, "number": _number_for(request.user, phone_key(call.number) or call.number), "case": case,
            "party": call.party_label if case is not None else "",
            "can_call_back": case is not None and can_record_work(user=request.user, case=case),
        })
    return render(request, "dialer/missed_calls.html", {"rows": rows, "nav_active": "missed-calls"})


def _lines_context(user: User) -> dict[str, object]:
    now = timezone.now()
    try:
        snapshot, health, unreachable = lines_snapshot(), dialer_health_checked(), False
    except LiveStateUnavailableError:
        # The live lines live in Redis; today's figures and refusals below come from the database.
        snapshot, health, unreachable = {}, None, True
    collectors = {u.pk: u for u in User.objects.filter(is_active=True).filter(
        pk__in=[c.get("collector_id") for c in snapshot.get("calls", []) if c.get("collector_id")])}
    cases = {c.pk: c for c in Case.objects.filter(
        pk__in=[c.get("case_id") for c in snapshot.get("calls", []) if c.get("case_id")])}
    calls = []
    for c in snapshot.get("calls", []):
        started = c.get("connected_at") or c.get("since") or now.timestamp()
        calls.append({
            "uuid": c["call_uuid"], "phase": c["phase"], "label": PHASE_LABELS.get(c["phase"], c["phase"]),
            "direction": "呼入" if c["direction"] == "inbound" else "呼出", "extension": c.get("extension", ""),
            "collector": collectors.get(c.get("collector_id")), "case": cases.get(c.get("case_id")),
            "number": _number_for(user, c.get("number", "")),
            "seconds": max(0, int(now.timestamp() - started)), "talking": c["phase"] == "connected",
            "progressive": bool(c.get("session_id")),
        })
    total = int(snapshot.get("lines") or (health or {}).get("lines") or 0)
    lines = [{"no": i + 1, "call": calls[i] if i < len(calls) else None} for i in range(max(total, len(calls)))]
    today = calls_today_by_collector(now)
    refusals = refusals_today_by_collector(now)
    people = User.objects.filter(pk__in=set(today) | set(refusals)).order_by("username")
    per_collector = [{"user": u, "calls": today.get(u.pk, (0, 0, 0))[0], "answered": today.get(u.pk, (0, 0, 0))[1],
                      "inbound": today.get(u.pk, (0, 0, 0))[2], "refusals": refusals.get(u.pk, 0)} for u in people]
    return {"lines": lines, "health": health, "connected": bool(health and health.get("ari_connected")),
            "live_unavailable": unreachable,
            "per_collector": per_collector, "refusals": recent_refusals(30), "now": now,
            "can_listen": bool(user.sip_endpoint)}


@login_required
@require_GET
def lines_board_view(request: AppRequest) -> HttpResponse:
    """M7: every line live, calls and refusals per collector today, listen-in."""
    if not can_view_dashboard(user=request.user):
        raise PermissionDenied
    context = _lines_context(request.user)
    if request.GET.get("fragment"):
        return render(request, "dialer/_lines_live.html", context)
    context["nav_active"] = "lines"
    return render(request, "dialer/lines_board.html", context)


@login_required
@require_POST
def listen_in_view(request: AppRequest) -> HttpResponse:
    if not can_view_dashboard(user=request.user):
        raise PermissionDenied
    call_uuid = request.POST.get("call_uuid", "")
    try:
        listen_in_request(call_uuid=call_uuid, by=request.user)
    except DialRefusedError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"正在呼叫您的分机 {request.user.sip_endpoint}，摘机即可监听（只听不说）")
    return redirect("cases:lines-board")



