"""Health (S4): each part with a status and when it was last seen; JSON for monitoring with 200/503."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ops import health
from ops.models import BackupRun, BackupStatus

pytestmark = pytest.mark.django_db
TOKEN = "monitor-" + "t" * 32


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.delete_many(["dialer:health", "scheduler:health"])
    yield
    cache.delete_many(["dialer:health", "scheduler:health"])


@pytest.fixture
def token(settings):
    settings.HEALTH_TOKEN = TOKEN
    return TOKEN


def _good_backup(hours_ago: float = 2) -> BackupRun:
    finished = timezone.now() - dt.timedelta(hours=hours_ago)
    return BackupRun.objects.create(status=BackupStatus.OK, started_at=finished - dt.timedelta(minutes=3),
                                    finished_at=finished, size_bytes=50 * 1024 ** 2, duration_s=180)


def _beats(*, dialer_connected: bool = True) -> None:
    now = timezone.now().isoformat()
    cache.set("dialer:health", {"at": now, "ari_connected": dialer_connected, "lines_in_use": 3, "lines_total": 30})
    cache.set("scheduler:health", {"at": now, "interval": 30, "took_s": 0.02, "error": ""})


def test_json_needs_a_token_or_an_admin_session(token, collector_client):
    # when
    anonymous = Client().get(reverse("ops:health-json"))
    wrong = Client().get(reverse("ops:health-json"), HTTP_AUTHORIZATION="Bearer nope")
    collector = collector_client.get(reverse("ops:health-json"))
    good = Client().get(reverse("ops:health-json"), HTTP_AUTHORIZATION=f"Bearer {token}")
    # then
    assert anonymous.status_code == wrong.status_code == collector.status_code == 401
    assert good.status_code in (200, 503)
    assert set(good.json()["checks"]) >= {"database", "redis", "dialer", "scheduler", "disk_media", "disk_backup",
                                          "backup", "recordings"}


def test_all_good_is_200(token):
    # given
    _good_backup()
    _beats()
    # when
    response = Client().get(reverse("ops:health-json"), HTTP_AUTHORIZATION=f"Bearer {token}")
    # then
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] in ("ok", "warn")
    assert body["checks"]["dialer"]["status"] == "ok" and "线路 3/30" in body["checks"]["dialer"]["value"]
    assert body["checks"]["scheduler"]["last_seen"]


def test_dialer_not_running_is_unknown_not_an_error():
    # when
    check = health.check_dialer()
    # then
    assert check.status == "unknown" and check.value == "未运行/未知"


def test_dialer_disconnected_from_asterisk_is_503(token):
    # given
    _good_backup()
    _beats(dialer_connected=False)
    # when
    response = Client().get(reverse("ops:health-json"), HTTP_AUTHORIZATION=f"Bearer {token}")
    # then
    assert response.status_code == 503
    assert response.json()["checks"]["dialer"]["value"].startswith("ARI 未连接")


def test_stale_scheduler_heartbeat_is_an_error():
    # given
    old = (timezone.now() - dt.timedelta(minutes=10)).isoformat()
    cache.set("scheduler:health", {"at": old, "interval": 30})
    # when
    check = health.check_scheduler()
    # then
    assert check.status == "error" and check.value == "心跳中断"


def test_old_backup_is_an_error_and_failure_is_reported():
    # given
    _good_backup(hours_ago=50)
    BackupRun.objects.create(status=BackupStatus.FAILED, error="pg_dump 失败")
    # when
    check = health.check_backup()
    # then
    assert check.status == "error" and "天前" in check.value


def test_disk_thresholds(settings, tmp_path, monkeypatch):
    # given
    settings.HEALTH_DISK_WARN_PERCENT, settings.HEALTH_DISK_ERROR_PERCENT = 1, 2
    # when
    check = health._disk("disk_media", "磁盘", tmp_path / "not-yet-created")
    # then
    assert check.status == "error" and "剩余" in check.value


def test_page_for_admins_shows_every_check(sysadmin_client):
    # when
    text = sysadmin_client.get(reverse("ops:health")).content.decode()
    # then
    for label in ("数据库", "Redis", "外呼服务", "调度服务", "磁盘（文件存储）", "最近备份", "待取录音"):
        assert label in text
    assert "未运行/未知" in text
