"""manage.py restore BACKUP [--force]: restore a backup into an empty database and media store, verified."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops.backup import BackupError, backup_restore
from ops.crypto import CryptoError


class Command(BaseCommand):
    help = "把备份恢复到空数据库和空文件目录，并按清单核对行数与文件校验和"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup", help="备份目录（cm-backup-…）")
        parser.add_argument("--force", action="store_true", help="目标不是空的也覆盖（危险）")

    def handle(self, *args: object, **options: object) -> None:
        try:
            result = backup_restore(path=Path(str(options["backup"])), force=bool(options["force"]))
        except (BackupError, CryptoError) as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(result.row_counts.values())
        self.stdout.write(f"恢复完成并已核对：{rows} 行数据，{result.file_count} 个文件，"
                          f"耗时 {result.duration_s:.1f} 秒")
