"""manage.py backup [--encrypt] [--output DIR]: a consistent backup of the database and uploaded files (S3)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.backup import backup_run
from ops.models import BackupStatus


class Command(BaseCommand):
    help = "备份数据库（PostgreSQL 用 pg_dump，SQLite 用在线备份）和全部上传文件，附 SHA-256 清单"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--encrypt", action="store_true", help="用 BACKUP_ENCRYPTION_KEY 加密备份")
        parser.add_argument("--output", default=None, help="备份目录（默认 BACKUP_DIR）")

    def handle(self, *args: object, **options: object) -> None:
        output = Path(str(options["output"])) if options["output"] else None
        run = backup_run(trigger="manual", encrypt=bool(options["encrypt"]) or None, output_dir=output)
        if run.status != BackupStatus.OK:  # type: ignore[attr-defined]
            raise CommandError(f"备份失败：{run.error}")  # type: ignore[attr-defined]
        if not run.encrypted:  # type: ignore[attr-defined]
            self.stderr.write(self.style.WARNING(
                "警告：本次备份未加密，其中的全部客户数据（身份证号、录音、照片）以明文保存。"
                "请在环境中配置 BACKUP_ENCRYPTION_KEY，配置后备份默认加密。"))
        mb = (run.size_bytes or 0) / 1024 / 1024  # type: ignore[attr-defined]
        self.stdout.write(f"备份完成：{run.path}（{mb:.1f} MB，{run.file_count} 个文件，"  # type: ignore[attr-defined]
                          f"耗时 {run.duration_s:.1f} 秒）")  # type: ignore[attr-defined]
