"""`manage.py import_batch --bank CODE [--user USERNAME] FILE.xlsx`: the import page's work from a shell.

Exit status 0 and one summary line with the exact total on success; non-zero with every problem of the
file (Excel row, column, message) and no traceback otherwise.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from cases.actions.batches import batch_import_file
from cases.exceptions import DomainError, ImportRejectedError
from cases.models import Bank


class Command(BaseCommand):
    help = "导入一个银行委案批次（标准模板 .xlsx）：全部成功或全部不导入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="委案文件（.xlsx）")
        parser.add_argument("--bank", required=True, help="银行简码（见 bank_create）")
        parser.add_argument("--user", default="", help="记为导入人的用户名（可选）")

    def handle(self, *args: object, **options: str) -> None:
        bank = Bank.objects.filter(code=options["bank"].strip().upper()).first()
        if bank is None:
            raise CommandError(f"没有简码为 {options['bank']} 的银行（可先用 bank_create 创建）")
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"没有名为 {options['user']} 的有效用户")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"找不到文件 {path}")
        try:
            with path.open("rb") as file:
                batch = batch_import_file(bank=bank, uploaded_by=user, file=file, filename=path.name)
        except ImportRejectedError as error:
            for problem in error.errors:
                self.stderr.write(str(problem))
            raise CommandError(str(error)) from None
        except DomainError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(
            f"已导入 {bank.name} 批次 {batch.batch_no}：{batch.case_count} 件，其中续案 {batch.continuation_count} 件，"
            f"委案总金额 {batch.total_amount:,.2f} 元"
        ))
