"""Backups (S3): a consistent copy of the database and of every uploaded file, with a manifest; restore.

A backup is a directory `cm-backup-<UTC time>` under BACKUP_DIR holding
  db.dump        pg_dump custom format (PostgreSQL), or db.sqlite3 (the SQLite online backup API)
  media.tar      every file under MEDIA_ROOT
  manifest.json  SHA-256 and size of each part (plaintext and as stored), SHA-256 of every media file,
                 and the row count of every table, taken in the same snapshot as the dump.
With encryption each part is a stream of Fernet records (`.enc`), written in 4 MiB chunks so memory stays
flat. Restore refuses a database or media store that is not empty, verifies the stored parts against the
manifest before touching anything, and verifies counts and file hashes after.

The file system, pg_dump/pg_restore and sqlite3 are the outside systems here; nothing else touches them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from ops.crypto import DecryptingReader, EncryptingWriter, backup_fernet

logger = logging.getLogger(__name__)

NAME_FORMAT = "cm-backup-%Y%m%dT%H%M%SZ"
MANIFEST = "manifest.json"
READ_CHUNK = 1024 * 1024
# Apps whose tables must be empty for a restore (the product's own data).
PRODUCT_APPS = ("accounts", "cases", "ops", "assessment")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the admin, in Chinese."""


# --- helpers ---------------------------------------------------------------------------------------------

class HashingWriter:
    """Counts and hashes what passes through on the way to `out` (plaintext side)."""

    def __init__(self, out: BinaryIO | EncryptingWriter) -> None:
        self.out = out
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self.out.write(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()


class HashingReader:
    def __init__(self, src: BinaryIO) -> None:
        self.src = src
        self.sha = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.src.read(size)
        self.sha.update(data)
        self.size += len(data)
        return data


def sha256_file(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(READ_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


@dataclass
class PartWriter:
    """Writes one part of a backup, plaintext or encrypted, hashing the plaintext."""

    path: Path
    encrypt: bool
    key: str | None = None

    def __post_init__(self) -> None:
        # 0600 from the first byte: a backup holds every customer's data.
        self.raw = os.fdopen(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        self.enc = EncryptingWriter(self.raw, backup_fernet(self.key)) if self.encrypt else None
        self.plain = HashingWriter(self.enc if self.enc is not None else self.raw)

    def write(self, data: bytes) -> int:
        return self.plain.write(data)

    def flush(self) -> None:
        self.plain.flush()

    def close(self) -> dict[str, object]:
        if self.enc is not None:
            self.enc.close()
        self.raw.close()
        return {"file": self.path.name, "sha256": self.plain.sha.hexdigest(), "size": self.plain.size,
                "stored_sha256": sha256_file(self.path), "stored_size": self.path.stat().st_size}


def _open_part(path: Path, encrypted: bool, key: str | None) -> tuple[BinaryIO, BinaryIO | DecryptingReader]:
    raw = path.open("rb")
    return raw, (DecryptingReader(raw, backup_fernet(key)) if encrypted else raw)


def _tables() -> list[tuple[str, str]]:
    """(label, db_table) of every concrete managed model, once per table."""
    seen: dict[str, str] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and meta.db_table not in seen:
            seen[meta.db_table] = meta.label
    return sorted((label, table) for table, label in seen.items())


def _count_rows(cursor: object, existing: set[str] | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for label, table in _tables():
        if existing is not None and table not in existing:
            continue
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # type: ignore[attr-defined]
        counts[label] = int(cursor.fetchone()[0])  # type: ignore[attr-defined]
    return counts


def engine() -> str:
    return "postgresql" if connection.vendor == "postgresql" else connection.vendor


def _pg_env_args() -> tuple[dict[str, str], list[str]]:
    s = connection.settings_dict
    env = dict(os.environ)
    if s.get("PASSWORD"):
        env["PGPASSWORD"] = str(s["PASSWORD"])
    args = []
    if s.get("HOST"):
        args += ["-h", str(s["HOST"])]
    if s.get("PORT"):
        args += ["-p", str(s["PORT"])]
    if s.get("USER"):
        args += ["-U", str(s["USER"])]
    return env, args


# --- backup ----------------------------------------------------------------------------------------------

@dataclass
class BackupResult:
    path: Path
    size_bytes: int
    duration_s: float
    file_count: int
    manifest: dict[str, object] = field(repr=False)


def _dump_postgresql(out: PartWriter) -> dict[str, int]:
    """pg_dump in the snapshot the row counts are taken in (one exported REPEATABLE READ snapshot)."""
    params = connection.get_connection_params()
    raw = connection.get_new_connection(params)
    try:
        raw.autocommit = False
        with raw.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cur.execute("SELECT pg_export_snapshot()")
            snapshot = cur.fetchone()[0]
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            existing = {r[0] for r in cur.fetchall()}
            counts = _count_rows(cur, existing)
            env, args = _pg_env_args()
            cmd = ["pg_dump", "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}", *args,
                   "-d", str(connection.settings_dict["NAME"])]
            with tempfile.TemporaryFile() as errors, subprocess.Popen(  # noqa: S603
                    cmd, stdout=subprocess.PIPE, stderr=errors, env=env) as proc:
                assert proc.stdout is not None
                while chunk := proc.stdout.read(READ_CHUNK):
                    out.write(chunk)
                if proc.wait() != 0:
                    errors.seek(0)
                    stderr = errors.read().decode("utf-8", "replace")
                    raise BackupError(f"pg_dump 失败（退出码 {proc.returncode}）：{stderr.strip()[:500]}")
        raw.rollback()
    finally:
        raw.close()
    return counts


def _dump_sqlite(out: PartWriter, workdir: Path) -> dict[str, int]:
    """The SQLite online backup API: a consistent copy even while the web process writes."""
    connection.ensure_connection()
    tmp = workdir / "db.sqlite3.tmp"
    dest = sqlite3.connect(tmp)
    try:
        connection.connection.backup(dest)
        cur = dest.cursor()
        existing = {r[0] for r in cur.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        counts = _count_rows(cur, existing)
    finally:
        dest.close()
    with tmp.open("rb") as fh:
        while chunk := fh.read(READ_CHUNK):
            out.write(chunk)
    tmp.unlink()
    return counts


def _media_files(root: Path) -> Iterator[tuple[Path, str]]:
    if not root.exists():
        return
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path, path.relative_to(root).as_posix()


def _archive_media(out: PartWriter, root: Path) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[arg-type]
        for path, rel in _media_files(root):
            info = tar.gettarinfo(str(path), arcname=rel)
            with path.open("rb") as fh:
                reader = HashingReader(fh)
                tar.addfile(info, reader)  # type: ignore[arg-type]
            entries.append({"path": rel, "size": info.size, "sha256": reader.sha.hexdigest()})
    return entries


def backup_create(*, output_dir: Path | None = None, encrypt: bool = False, key: str | None = None,
                  now: dt.datetime | None = None) -> BackupResult:
    """Write a complete backup directory and return where it is.

    Raises: BackupError (and CryptoError when encryption is asked for without a key).
    """
    started = time.monotonic()
    now = now or timezone.now()
    output_dir = Path(output_dir or settings.BACKUP_DIR)
    output_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    output_dir.chmod(0o700)
    final = output_dir / now.astimezone(dt.UTC).strftime(NAME_FORMAT)
    if final.exists():
        raise BackupError(f"备份目录已存在：{final}")
    work = output_dir / (final.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    suffix = ".enc" if encrypt else ""
    if not encrypt:
        logger.warning("备份未加密：%s 将以明文保存全部客户数据。请配置 BACKUP_ENCRYPTION_KEY（配置后备份默认加密）。",
                       final)
    try:
        kind = engine()
        db_name = "db.dump" if kind == "postgresql" else "db.sqlite3"
        db_part = PartWriter(work / (db_name + suffix), encrypt, key)
        try:
            if kind == "postgresql":
                counts = _dump_postgresql(db_part)
            elif kind == "sqlite":
                counts = _dump_sqlite(db_part, work)
            else:
                raise BackupError(f"不支持的数据库：{kind}")
        finally:
            db_info = db_part.close()
        media_part = PartWriter(work / ("media.tar" + suffix), encrypt, key)
        try:
            media = _archive_media(media_part, Path(settings.MEDIA_ROOT))
        finally:
            media_info = media_part.close()
        manifest: dict[str, object] = {
            "format": 1,
            "created_at": now.isoformat(),
            "engine": kind,
            "encrypted": encrypt,
            "parts": {"database": db_info, "media": media_info},
            "row_counts": counts,
            "media_files": media,
            "media_bytes": sum(int(e["size"]) for e in media),  # type: ignore[call-overload]
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        (work / MANIFEST).chmod(0o600)
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in final.iterdir())
    return BackupResult(path=final, size_bytes=size, duration_s=time.monotonic() - started,
                        file_count=len(media), manifest=manifest)


# --- restore ---------------------------------------------------------------------------------------------

@dataclass
class RestoreResult:
    duration_s: float
    row_counts: dict[str, int]
    file_count: int


def manifest_read(path: Path) -> dict[str, object]:
    try:
        return json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BackupError(f"{path} 不是完整的备份（缺少 {MANIFEST}）。") from exc
    except json.JSONDecodeError as exc:
        raise BackupError(f"{MANIFEST} 已损坏：{exc}") from exc


def backup_verify_stored(path: Path, manifest: dict[str, object]) -> None:
    """Check each stored part against the manifest before anything is restored."""
    for name, part in manifest["parts"].items():  # type: ignore[attr-defined]
        file = path / part["file"]
        if not file.exists():
            raise BackupError(f"备份缺少文件 {part['file']}。")
        if sha256_file(file) != part["stored_sha256"]:
            raise BackupError(f"备份文件 {part['file']} 的校验和与清单不符（{name}），文件已损坏或被改动。")


def _existing_tables() -> set[str]:
    with connection.cursor() as cur:
        return set(connection.introspection.table_names(cur))


def database_is_empty() -> bool:
    existing = _existing_tables()
    for model in apps.get_models():
        meta = model._meta
        if meta.app_label in PRODUCT_APPS and meta.managed and not meta.proxy and meta.db_table in existing \
                and model._base_manager.using("default").exists():
            return False
    return True


def media_is_empty(root: Path) -> bool:
    return next(_media_files(root), None) is None


def _safe_member(member: tarfile.TarInfo) -> str:
    name = PurePosixPath(member.name)
    if not member.isfile() or name.is_absolute() or ".." in name.parts:
        raise BackupError(f"备份中的文件名不安全，已拒绝恢复：{member.name}")
    return name.as_posix()


def _restore_postgresql(stream: BinaryIO | DecryptingReader) -> None:
    connection.close()
    env, args = _pg_env_args()
    cmd = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
           "--exit-on-error", *args, "-d", str(connection.settings_dict["NAME"])]
    with tempfile.TemporaryFile() as errors:
        with subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=errors, stdout=subprocess.DEVNULL,  # noqa: S603
                              env=env) as proc:
            assert proc.stdin is not None
            try:
                while chunk := stream.read(READ_CHUNK):
                    proc.stdin.write(chunk)
            except BrokenPipeError:
                pass  # pg_restore stopped early; its exit code and stderr say why
            finally:
                proc.stdin.close()
            proc.wait()
        if proc.returncode != 0:
            errors.seek(0)
            raise BackupError(f"pg_restore 失败（退出码 {proc.returncode}）："
                              f"{errors.read().decode('utf-8', 'replace').strip()[:800]}")


def _restore_sqlite(stream: BinaryIO | DecryptingReader, workdir: Path) -> None:
    tmp = workdir / "restore.sqlite3"
    with tmp.open("wb") as fh:
        while chunk := stream.read(READ_CHUNK):
            fh.write(chunk)
    src = sqlite3.connect(tmp)
    try:
        connection.ensure_connection()
        src.backup(connection.connection)
    finally:
        src.close()
        tmp.unlink()


def _restore_media(stream: BinaryIO | DecryptingReader, root: Path, expected: dict[str, dict[str, object]]) -> int:
    root.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    count = 0
    with tarfile.open(fileobj=stream, mode="r|") as tar:  # type: ignore[arg-type]
        for member in tar:
            rel = _safe_member(member)
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tar.extractfile(member)
            assert src is not None
            sha = hashlib.sha256()
            with target.open("wb") as out:
                while chunk := src.read(READ_CHUNK):
                    sha.update(chunk)
                    out.write(chunk)
            os.utime(target, (member.mtime, member.mtime))
            want = expected.get(rel)
            if want is None:
                problems.append(f"清单中没有的文件：{rel}")
            elif want["sha256"] != sha.hexdigest():
                problems.append(f"文件校验和不符：{rel}")
            count += 1
    missing = set(expected) - {str(p) for _, p in _media_files(root)}
    problems += [f"缺少文件：{rel}" for rel in sorted(missing)]
    if problems:
        raise BackupError("恢复后的文件与备份清单不符：" + "；".join(problems[:20]))
    return count


def backup_restore(*, path: Path, force: bool = False, key: str | None = None) -> RestoreResult:
    """Restore a backup directory into this (empty) database and media store, then verify it.

    Raises: BackupError (not empty, damaged backup, mismatch after restore), CryptoError.
    """
    started = time.monotonic()
    path = Path(path)
    manifest = manifest_read(path)
    kind = engine()
    if manifest["engine"] != kind:
        raise BackupError(f"备份来自 {manifest['engine']} 数据库，不能恢复到当前的 {kind} 数据库。")
    backup_verify_stored(path, manifest)
    root = Path(settings.MEDIA_ROOT)
    if not force:
        if not database_is_empty():
            raise BackupError("目标数据库不是空的（已有账号或案件数据）。恢复只能写入空库；确需覆盖请加 --force。")
        if not media_is_empty(root):
            raise BackupError(f"文件存储目录 {root} 不是空的。恢复只能写入空目录；确需覆盖请加 --force。")
    encrypted = bool(manifest["encrypted"])
    parts: dict[str, dict[str, object]] = manifest["parts"]  # type: ignore[assignment]
    with tempfile.TemporaryDirectory(dir=path.parent) as work:
        raw, stream = _open_part(path / str(parts["database"]["file"]), encrypted, key)
        try:
            hashed = HashingReader(stream)  # type: ignore[arg-type]
            if kind == "postgresql":
                _restore_postgresql(hashed)  # type: ignore[arg-type]
            else:
                _restore_sqlite(hashed, Path(work))  # type: ignore[arg-type]
        finally:
            raw.close()
        if hashed.sha.hexdigest() != parts["database"]["sha256"]:
            raise BackupError("数据库备份解出的内容与清单的校验和不符。")
    expected = {str(e["path"]): e for e in manifest["media_files"]}  # type: ignore[attr-defined]
    raw, stream = _open_part(path / str(parts["media"]["file"]), encrypted, key)
    try:
        files = _restore_media(stream, root, expected)  # type: ignore[arg-type]
    finally:
        raw.close()
    connection.close()
    with connection.cursor() as cur:
        counts = _count_rows(cur, _existing_tables())
    want: dict[str, int] = manifest["row_counts"]  # type: ignore[assignment]
    diff = {label: (n, counts.get(label)) for label, n in want.items() if counts.get(label) != n}
    if diff:
        raise BackupError("恢复后的行数与备份清单不符：" + "；".join(f"{k} 应为 {a} 实为 {b}" for k, (a, b)
                                                          in list(diff.items())[:20]))
    return RestoreResult(duration_s=time.monotonic() - started, row_counts=counts, file_count=files)


# --- retention -------------------------------------------------------------------------------------------

def backup_list(directory: Path | None = None) -> list[tuple[dt.datetime, Path]]:
    directory = Path(directory or settings.BACKUP_DIR)
    found = []
    if directory.exists():
        for p in directory.iterdir():
            try:
                when = dt.datetime.strptime(p.name, NAME_FORMAT).replace(tzinfo=dt.UTC)
            except ValueError:
                continue
            if p.is_dir() and (p / MANIFEST).exists():
                found.append((when, p))
    return sorted(found, reverse=True)


def retention_keep(stamps: list[dt.datetime], *, daily: int, weekly: int, monthly: int) -> set[dt.datetime]:
    """Grandfather-father-son: the newest backup of each of the last `daily` days, `weekly` ISO weeks and
    `monthly` months that have one (in Asia/Shanghai dates)."""
    keep: set[dt.datetime] = set()
    for limit, key in ((daily, lambda d: d.isoformat()), (weekly, lambda d: d.isocalendar()[:2]),
                       (monthly, lambda d: (d.year, d.month))):
        seen: list[object] = []
        for stamp in sorted(stamps, reverse=True):
            k = key(timezone.localtime(stamp).date())
            if k in seen:
                continue
            if len(seen) >= limit:
                break
            seen.append(k)
            keep.add(stamp)
    return keep


def backup_prune(*, directory: Path | None = None) -> list[Path]:
    """Delete backups outside the retention policy; returns what was deleted (audited)."""
    from accounts.actions import audit_record
    from accounts.models import AuditAction

    found = backup_list(directory)
    keep = retention_keep([w for w, _ in found], daily=settings.BACKUP_KEEP_DAILY,
                          weekly=settings.BACKUP_KEEP_WEEKLY, monthly=settings.BACKUP_KEEP_MONTHLY)
    removed = []
    for when, path in found:
        if when not in keep:
            shutil.rmtree(path)
            removed.append(path)
            audit_record(actor=None, actor_name="备份保留策略", action=AuditAction.DELETE,
                         summary=f"按保留策略删除旧备份 {path.name}", object_type="backup", object_id=path.name)
    return removed


# --- runs (recorded, alerted) ----------------------------------------------------------------------------

def backup_run(*, trigger: str = "manual", encrypt: bool | None = None, output_dir: Path | None = None,
               run_id: int | None = None) -> object:
    """Make a backup with a BackupRun record; prune by retention; alert system admins on failure."""
    from ops.actions import sysadmin_alert
    from ops.models import BackupRun, BackupStatus

    encrypt = settings.BACKUP_ENCRYPT if encrypt is None else encrypt
    run = BackupRun.objects.get(pk=run_id) if run_id else BackupRun.objects.create(trigger=trigger)
    run.encrypted = encrypt
    run.database_engine = engine()
    try:
        result = backup_create(output_dir=output_dir, encrypt=encrypt)
    except Exception as exc:  # a process edge: record and report every failure, whatever it is
        logger.exception("backup failed")
        run.status = BackupStatus.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:4000]
        run.finished_at = timezone.now()
        run.duration_s = (run.finished_at - run.started_at).total_seconds()
        run.save()
        try:
            from django.urls import reverse

            sysadmin_alert(level="error", title="备份失败", text=f"{timezone.localtime(run.started_at):%m-%d %H:%M} "
                           f"开始的备份失败：{run.error[:200]}", url=reverse("ops:backup-list"))
        except Exception:
            logger.exception("could not alert system admins of the failed backup")
        return run
    run.status = BackupStatus.OK
    run.path = str(result.path)
    run.size_bytes = result.size_bytes
    run.duration_s = result.duration_s
    run.file_count = result.file_count
    run.finished_at = timezone.now()
    run.save()
    try:
        backup_prune(directory=output_dir)
    except OSError:
        logger.exception("backup retention failed")
    return run


def _due_today(now: dt.datetime) -> dt.date | None:
    hh, mm = (int(x) for x in settings.BACKUP_TIME.split(":"))
    local = timezone.localtime(now)
    if (local.hour, local.minute) < (hh, mm):
        return None
    return local.date()


_running = threading.Lock()


def backup_run_if_due(*, now: dt.datetime | None = None, background: bool = True) -> int | None:
    """Start today's scheduled backup once it is BACKUP_TIME (Asia/Shanghai), exactly once per day across
    schedulers (a unique row per day). Called every scheduler tick; returns the BackupRun id it started."""
    from ops.models import BackupRun, BackupStatus, BackupTrigger

    if not settings.BACKUP_SCHEDULED:
        return None
    now = now or timezone.now()
    day = _due_today(now)
    if day is None or BackupRun.objects.filter(trigger=BackupTrigger.SCHEDULED, scheduled_for=day).exists():
        return None
    # A run left "running" by a process that died is marked failed, so the health page tells the truth.
    BackupRun.objects.filter(status=BackupStatus.RUNNING, started_at__lt=now - dt.timedelta(hours=12)).update(
        status=BackupStatus.FAILED, error="备份进程中断（未正常结束）", finished_at=now)
    try:
        with transaction.atomic():
            run = BackupRun.objects.create(trigger=BackupTrigger.SCHEDULED, scheduled_for=day)
    except (IntegrityError, DatabaseError):
        return None  # another scheduler took today's run
    if not background:
        backup_run(trigger=BackupTrigger.SCHEDULED, run_id=run.pk)
        return run.pk

    def work() -> None:
        from django.db import close_old_connections

        with _running:
            try:
                backup_run(trigger=BackupTrigger.SCHEDULED, run_id=run.pk)
            finally:
                close_old_connections()

    # A thread: a backup takes minutes and must not hold up the reminders of the same scheduler tick.
    threading.Thread(target=work, name="scheduled-backup", daemon=True).start()
    return run.pk


def ops_tick(*, now: dt.datetime | None = None) -> None:
    """The system-administration part of one scheduler tick: VPN expiry reminders, the daily backup."""
    from ops.actions import vpn_expiry_check

    vpn_expiry_check()
    backup_run_if_due(now=now)
