"""Reminders page (C11, P2, P3): list, mark one read, mark all read. Adapters only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from accounts.models import User
from cases.actions.reminders import reminder_mark_read
from cases.models import Reminder
from cases.selectors.reminders import reminder_count_unread, reminder_digest_for_user, reminder_list_for_user
from cases.workdays import unknown_years

PAGE_SIZE = 50


class AppRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


@login_required
@require_GET
def reminder_list_view(request: AppRequest) -> HttpResponse:
    unread_only = request.GET.get("show") != "all"
    page = Paginator(reminder_list_for_user(user=request.user, unread_only=unread_only), PAGE_SIZE).get_page(
        request.GET.get("page"))
    context = {
        "page": page,
        "unread_only": unread_only,
        "unread_count": reminder_count_unread(user=request.user),
        "digest": reminder_digest_for_user(user=request.user),
        "nav_active": "reminders",
        # Admins are told when working days fall back to Monday–Friday (P3).
        "calendar_unknown_years": unknown_years(around=timezone.localdate())
        if (request.user.is_sysadmin or request.user.is_manager) else [],
    }
    return render(request, "cases/reminder_list.html", context)


@login_required
@require_POST
def reminder_mark_read_view(request: AppRequest, reminder_id: int) -> HttpResponse:
    reminder = get_object_or_404(Reminder.objects.select_related("case"), pk=reminder_id, user=request.user)
    reminder_mark_read(user=request.user, reminder_ids=[reminder.pk])
    if request.htmx:
        reminder.refresh_from_db()
        return render(request, "cases/reminder_list.html#reminder-row", {"r": reminder})
    return redirect(request.POST.get("next") or "cases:reminder-list")


@login_required
@require_POST
def reminder_mark_all_read_view(request: AppRequest) -> HttpResponse:
    n = reminder_mark_read(user=request.user)
    messages.success(request, f"已将 {n} 条提醒标为已读" if n else "没有未读提醒")
    return redirect("cases:reminder-list")
