"""`manage.py bank_create CODE NAME`: add a client bank (the code is what `import_batch --bank` takes)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.actions.banks import bank_create
from cases.exceptions import MasterDataError


class Command(BaseCommand):
    help = "新增合作银行：简码（大写字母或数字，2-16 位）和银行名称。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="银行简码，例如 ZSYH")
        parser.add_argument("name", help="银行名称，例如 招商银行")

    def handle(self, *args: object, **options: str) -> None:
        try:
            bank = bank_create(by=None, code=options["code"], name=options["name"])
        except MasterDataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"已创建银行 {bank.name}（{bank.code}）"))
