"""Backups (S3): full round trips (data and files → backup → wipe → restore → identical), encryption,
refusal to restore over data, damaged backups, retention, the daily schedule and failure alerts."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from cases.models import StoredFile, UserEvent
from ops import backup as b
from ops.models import BackupRun, BackupStatus, BackupTrigger

pytestmark = pytest.mark.django_db(transaction=True)


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _counts() -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in apps.get_models()
            if m._meta.app_label in ("accounts", "cases", "ops")}


def _sums() -> dict[str, str]:
    from django.db.models import Sum

    from cases.models import Case

    return {k: str(v) for k, v in Case.objects.aggregate(Sum("entrusted_amount"), Sum("repaid_amount")).items()}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BACKUP_DIR = tmp_path / "backups"
    return settings.MEDIA_ROOT


@pytest.fixture
def data(media, make_case, collector, clerk):
    """Cases with money, users, audit rows and files (one recording-sized, nested folders, a Chinese name)."""
    cases = [make_case(collector=collector, owner_clerk=clerk) for _ in range(5)]
    rng = b"".join(os.urandom(1024) for _ in range(2048))  # 2 MiB: several tar blocks
    files = {"recordings/2026/11/call-1.wav": rng, "photos/门牌.jpg": os.urandom(5000), "x/empty.bin": b""}
    for rel, content in files.items():
        path = media / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        StoredFile.objects.create(case=cases[0], kind="recording", original_name=Path(rel).name,
                                  content_type="audio/wav", size=len(content),
                                  sha256=hashlib.sha256(content).hexdigest(), file=rel)
    return cases


def _wipe(media: Path) -> None:
    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(media)


@pytest.mark.parametrize("encrypt", [False, True], ids=["plain", "encrypted"])
def test_backup_restore_round_trip_is_identical(data, media, settings, encrypt):
    # given
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    counts, sums, hashes = _counts(), _sums(), _hashes(media)
    assert counts["cases.Case"] == 5 and len(hashes) == 3
    # when
    result = b.backup_create(encrypt=encrypt)
    _wipe(media)
    assert _counts()["cases.Case"] == 0 and not media.exists()
    restored = b.backup_restore(path=result.path)
    # then
    assert _counts() == counts
    assert _sums() == sums
    assert _hashes(media) == hashes
    assert restored.file_count == 3
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert manifest["engine"] == connection.vendor
    assert manifest["encrypted"] is encrypt
    assert manifest["row_counts"]["cases.Case"] == 5


def test_backup_is_really_encrypted(data, media, settings):
    # given
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    # when
    result = b.backup_create(encrypt=True)
    # then
    stored = (result.path / "media.tar.enc").read_bytes()
    assert (media / "photos/门牌.jpg").read_bytes()[:64] not in stored
    assert sorted(p.name for p in result.path.iterdir())[0].endswith(".enc")


def test_restore_refuses_a_database_that_is_not_empty(data, media):
    # given
    result = b.backup_create()
    # when / then
    with pytest.raises(b.BackupError, match="不是空的"):
        b.backup_restore(path=result.path)


def test_restore_refuses_a_media_store_that_is_not_empty(data, media):
    # given
    result = b.backup_create()
    call_command("flush", interactive=False, verbosity=0)
    # when / then
    with pytest.raises(b.BackupError, match="文件存储目录"):
        b.backup_restore(path=result.path)


def test_restore_detects_a_damaged_backup_before_touching_anything(data, media):
    # given
    result = b.backup_create()
    part = result.path / "media.tar"
    raw = bytearray(part.read_bytes())
    raw[2000] ^= 0xFF
    part.write_bytes(bytes(raw))
    _wipe(media)
    # when / then
    with pytest.raises(b.BackupError, match="校验和与清单不符"):
        b.backup_restore(path=result.path)
    assert _counts()["cases.Case"] == 0


def test_restore_with_the_wrong_key_fails_cleanly(data, media, settings):
    # given
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    result = b.backup_create(encrypt=True)
    _wipe(media)
    settings.BACKUP_ENCRYPTION_KEY = Fernet.generate_key().decode()
    # when / then
    from ops.crypto import CryptoError

    with pytest.raises(CryptoError, match="密钥不对"):
        b.backup_restore(path=result.path)


def test_backup_and_restore_commands(data, media, capsys):
    # when
    call_command("backup")
    out = capsys.readouterr().out
    # then
    assert "备份完成" in out
    run = BackupRun.objects.get()
    assert run.status == BackupStatus.OK and run.size_bytes > 2 * 1024 * 1024 and run.file_count == 3
    path = Path(run.path)
    counts = _counts()
    _wipe(media)
    call_command("restore", str(path))
    assert "恢复完成并已核对" in capsys.readouterr().out
    assert _counts()["cases.Case"] == counts["cases.Case"]


def test_retention_keeps_7_daily_4_weekly_12_monthly():
    # given: one backup a day for 400 days
    start = dt.datetime(2025, 1, 1, 18, 30, tzinfo=dt.UTC)
    stamps = [start + dt.timedelta(days=i) for i in range(400)]
    # when
    keep = b.retention_keep(stamps, daily=7, weekly=4, monthly=12)
    # then
    newest = sorted(stamps, reverse=True)
    assert set(newest[:7]) <= keep
    assert len(keep) <= 7 + 4 + 12
    months = {(timezone.localtime(s).year, timezone.localtime(s).month) for s in keep}
    assert len(months) == 12
    assert min(keep) > newest[0] - dt.timedelta(days=366)


def test_prune_deletes_old_backups_and_audits(media, settings):
    # given
    settings.BACKUP_KEEP_DAILY, settings.BACKUP_KEEP_WEEKLY, settings.BACKUP_KEEP_MONTHLY = 2, 0, 0
    for day in (1, 2, 3):
        path = settings.BACKUP_DIR / dt.datetime(2026, 11, day, 1, tzinfo=dt.UTC).strftime(b.NAME_FORMAT)
        path.mkdir(parents=True)
        (path / "manifest.json").write_text("{}")
    # when
    removed = b.backup_prune()
    # then
    assert [p.name for p in removed] == ["cm-backup-20261101T010000Z"]
    from accounts.models import AuditEntry

    assert AuditEntry.objects.filter(object_type="backup", action="delete").count() == 1


def test_scheduled_backup_runs_once_a_day_after_backup_time(media, settings, data):
    # given
    settings.BACKUP_SCHEDULED, settings.BACKUP_TIME = True, "02:30"
    before = dt.datetime(2026, 11, 28, 18, 0, tzinfo=dt.UTC)  # 02:00 Beijing time
    after = dt.datetime(2026, 11, 28, 18, 45, tzinfo=dt.UTC)  # 02:45
    # when
    first = b.backup_run_if_due(now=before, background=False)
    second = b.backup_run_if_due(now=after, background=False)
    third = b.backup_run_if_due(now=after + dt.timedelta(hours=3), background=False)
    # then
    assert first is None and second is not None and third is None
    run = BackupRun.objects.get(pk=second)
    assert run.trigger == BackupTrigger.SCHEDULED and run.status == BackupStatus.OK
    assert run.scheduled_for == dt.date(2026, 11, 29)


def test_failed_backup_is_recorded_and_alerts_system_admins(media, settings, sysadmin, monkeypatch):
    # given
    def broken(**kwargs):
        raise OSError("磁盘已满")

    monkeypatch.setattr(b, "backup_create", broken)
    # when
    run = b.backup_run()
    # then
    assert run.status == BackupStatus.FAILED and "磁盘已满" in run.error
    event = UserEvent.objects.get(user=sysadmin)
    assert event.type == "ops.alert_raised" and event.payload["title"] == "备份失败"


def test_stale_running_backup_does_not_block_and_is_marked_failed(media, settings):
    # given
    settings.BACKUP_SCHEDULED = True
    now = dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.UTC)
    stale = BackupRun.objects.create(started_at=now - dt.timedelta(days=1))
    # when
    b.backup_run_if_due(now=now, background=False)
    # then
    stale.refresh_from_db()
    assert stale.status == BackupStatus.FAILED

