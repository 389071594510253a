"""Backups page: the recent runs and their outcome; a system admin can start a backup now."""

from __future__ import annotations

import threading

from django.contrib import messages
from django.db import close_old_connections
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.actions import audit_record
from accounts.models import AuditAction
from ops.backup import backup_list, backup_run
from ops.models import BackupRun, BackupStatus, BackupTrigger
from ops.policies import sysadmin_required
from ops.selectors import backup_run_list


@sysadmin_required
def backup_list_view(request: HttpRequest) -> HttpResponse:
    from django.conf import settings

    return render(request, "ops/backup_list.html", {
        "runs": backup_run_list(), "stored": backup_list(), "settings": {
            "dir": settings.BACKUP_DIR, "time": settings.BACKUP_TIME, "scheduled": settings.BACKUP_SCHEDULED,
            "encrypt": settings.BACKUP_ENCRYPT, "daily": settings.BACKUP_KEEP_DAILY,
            "weekly": settings.BACKUP_KEEP_WEEKLY, "monthly": settings.BACKUP_KEEP_MONTHLY},
        "running": BackupRun.objects.filter(status=BackupStatus.RUNNING).exists(), "nav_active": "ops-backups",
    })


@sysadmin_required
@require_POST
def backup_start_view(request: HttpRequest) -> HttpResponse:
    if BackupRun.objects.filter(status=BackupStatus.RUNNING).exists():
        messages.info(request, "已有备份正在进行，请稍候刷新查看结果。")
        return HttpResponseRedirect(reverse("ops:backup-list"))
    run = BackupRun.objects.create(trigger=BackupTrigger.MANUAL)
    audit_record(actor=request.user, action=AuditAction.EXPORT, summary="手动开始备份",  # type: ignore[arg-type]
                 object_type="backup", object_id=run.pk, request=request)

    def work() -> None:
        try:
            backup_run(trigger=BackupTrigger.MANUAL, run_id=run.pk)
        finally:
            close_old_connections()

    # Minutes of work: not inside the request. The page shows the run as 进行中 until it finishes.
    threading.Thread(target=work, name="manual-backup", daemon=True).start()
    messages.success(request, "备份已开始，完成后此页显示结果（失败时系统管理员会收到提醒）。")
    return HttpResponseRedirect(reverse("ops:backup-list"))
