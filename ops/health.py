"""Health checks (S4): each part of the platform → ok / warn / error, a value and when it was last seen.

Reads heartbeats others write to the cache: `dialer:health` (the dialer, every 10 s) and
`scheduler:health` (run_scheduler). Never raises: a broken part is a result, not an exception.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone
from django.utils.dateparse import parse_datetime

OK, WARN, ERROR, UNKNOWN = "ok", "warn", "error", "unknown"
LABELS = {OK: "正常", WARN: "注意", ERROR: "故障", UNKNOWN: "未运行/未知"}


@dataclass
class Check:
    key: str
    label: str
    status: str
    value: str
    detail: str = ""
    last_seen: str | None = None  # ISO-8601 UTC

    @property
    def status_label(self) -> str:
        return LABELS[self.status]

    @property
    def last_seen_at(self) -> dt.datetime | None:
        return parse_datetime(self.last_seen) if self.last_seen else None

    @property
    def age_label(self) -> str:
        return age_label(_age(self.last_seen))


def age_label(seconds: float | None) -> str:
    """“刚刚”, “35 秒前”, “12 分钟前”, “3 小时前”, “2 天前” (whatever language the browser asks for)."""
    if seconds is None:
        return "—"
    if seconds < 5:
        return "刚刚"
    for size, unit in ((86400, "天"), (3600, "小时"), (60, "分钟")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}前"
    return f"{int(seconds)} 秒前"


def _now() -> str:
    return timezone.now().isoformat()


def _age(at: str | None) -> float | None:
    when = parse_datetime(at) if at else None
    return (timezone.now() - when).total_seconds() if when else None


def check_database() -> Check:
    started = time.perf_counter()
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception as exc:  # the check reports, never raises
        return Check("database", "数据库", ERROR, "无法连接", f"{type(exc).__name__}: {exc}"[:300])
    ms = (time.perf_counter() - started) * 1000
    status = OK if ms < 100 else WARN
    return Check("database", "数据库", status, f"{ms:.1f} ms", f"{connection.vendor}", _now())


def check_redis() -> Check:
    if not settings.REDIS_URL:
        return Check("redis", "Redis", OK, "未使用", "单机模式：内存通道，不需要 Redis")
    started = time.perf_counter()
    try:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
        client.close()
    except Exception as exc:  # the check reports, never raises
        return Check("redis", "Redis", ERROR, "无法连接", f"{type(exc).__name__}: {exc}"[:300])
    ms = (time.perf_counter() - started) * 1000
    return Check("redis", "Redis", OK if ms < 50 else WARN, f"{ms:.1f} ms", "", _now())


def _heartbeat(key: str) -> dict[str, object] | None:
    try:
        value = cache.get(key)
    except Exception:  # the cache being down is reported by the Redis check
        return None
    return value if isinstance(value, dict) else None


def check_dialer() -> Check:
    beat = _heartbeat("dialer:health")
    if beat is None:
        return Check("dialer", "外呼服务", UNKNOWN, "未运行/未知", "没有收到外呼服务的心跳（dialer:health）")
    at = str(beat.get("at") or "") or None
    age = _age(at)
    connected = bool(beat.get("ari_connected", beat.get("connected", False)))
    lines_used, lines_total = beat.get("lines_in_use"), beat.get("lines_total")
    lines = f"线路 {lines_used}/{lines_total}" if lines_total is not None else (
        f"占用线路 {lines_used}" if lines_used is not None else "")
    value = ("ARI 已连接" if connected else "ARI 未连接") + (f"，{lines}" if lines else "")
    if age is None or age > 60:
        return Check("dialer", "外呼服务", ERROR, "心跳中断", f"最近心跳 {int(age or 0)} 秒前", at)
    return Check("dialer", "外呼服务", OK if connected else ERROR, value, str(beat.get("error") or ""), at)


def check_scheduler() -> Check:
    beat = _heartbeat("scheduler:health")
    if beat is None:
        return Check("scheduler", "调度服务", UNKNOWN, "未运行/未知", "没有收到调度服务的心跳（scheduler:health）")
    at = str(beat.get("at") or "") or None
    age = _age(at)
    interval = float(beat.get("interval") or settings.SCHEDULER_INTERVAL_SECONDS)  # type: ignore[arg-type]
    if age is None or age > interval * 3:
        return Check("scheduler", "调度服务", ERROR, "心跳中断", f"最近心跳 {int(age or 0)} 秒前", at)
    error = str(beat.get("error") or "")
    return Check("scheduler", "调度服务", WARN if error else OK, f"每 {interval:g} 秒检查一次",
                 error or f"上次用时 {beat.get('took_s', '—')} 秒", at)


def _disk(key: str, label: str, path: Path) -> Check:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        usage = shutil.disk_usage(probe)
    except OSError as exc:
        return Check(key, label, ERROR, "无法读取", str(exc))
    percent = usage.used / usage.total * 100 if usage.total else 0
    status = ERROR if percent >= settings.HEALTH_DISK_ERROR_PERCENT else (
        WARN if percent >= settings.HEALTH_DISK_WARN_PERCENT else OK)
    free_gb = usage.free / 1024 ** 3
    return Check(key, label, status, f"已用 {percent:.0f}%，剩余 {free_gb:.1f} GB", str(path), _now())


def check_backup() -> Check:
    from ops.models import BackupRun, BackupStatus

    last = BackupRun.objects.order_by("-started_at").first()
    good = BackupRun.objects.filter(status=BackupStatus.OK).order_by("-finished_at").first()
    if good is None or good.finished_at is None:
        failed = last is not None and last.status == BackupStatus.FAILED
        detail = f"最近一次失败：{last.error[:200]}" if failed and last else "还没有成功的备份"
        # A new installation has none yet: a warning. An old one gets its first good backup within a day.
        return Check("backup", "最近备份", ERROR if failed else WARN, "没有成功的备份", detail)
    hours = (timezone.now() - good.finished_at).total_seconds() / 3600
    status = OK if hours <= settings.HEALTH_BACKUP_MAX_AGE_HOURS else ERROR
    detail = f"{(good.size_bytes or 0) / 1024 ** 2:.1f} MB，用时 {good.duration_s or 0:.0f} 秒"
    if last is not None and last.pk != good.pk and last.status == BackupStatus.FAILED:
        status = WARN if status == OK else status
        detail = f"之后的一次备份失败：{last.error[:150]}"
    value = age_label(hours * 3600)
    return Check("backup", "最近备份", status, value, detail, good.finished_at.isoformat())


def check_recordings() -> Check:
    """Recordings the dialer has not fetched from Asterisk yet (the dialer's fetch queue provides the count)."""
    try:
        from cases.selectors.recordings import recording_fetch_pending_count  # type: ignore[import-not-found]
    except ImportError:
        return Check("recordings", "待取录音", OK, "—", "录音下载队列尚未启用")
    try:
        pending = int(recording_fetch_pending_count())
    except Exception as exc:  # the check reports, never raises
        return Check("recordings", "待取录音", ERROR, "无法读取", str(exc)[:200])
    return Check("recordings", "待取录音", OK if pending < 50 else WARN, f"{pending} 条", "", _now())


CHECKS: list[Callable[[], Check]] = [
    check_database, check_redis, check_dialer, check_scheduler,
    lambda: _disk("disk_media", "磁盘（文件存储）", Path(settings.MEDIA_ROOT)),
    lambda: _disk("disk_backup", "磁盘（备份目录）", Path(settings.BACKUP_DIR)),
    check_backup, check_recordings,
]


def health_report() -> tuple[str, list[Check]]:
    """(overall status, checks). Overall is error if any check is error, else warn if any warns."""
    results = []
    for fn in CHECKS:
        try:
            results.append(fn())
        except Exception as exc:  # the check reports, never raises
            results.append(Check(getattr(fn, "__name__", "check"), "检查", ERROR, "检查失败", str(exc)[:200]))
    statuses = {c.status for c in results}
    overall = ERROR if ERROR in statuses else (WARN if WARN in statuses or UNKNOWN in statuses else OK)
    return overall, results


def as_json(overall: str, checks: list[Check]) -> dict[str, object]:
    return {"status": overall, "checked_at": _now(), "checks": {c.key: asdict(c) for c in checks}}
