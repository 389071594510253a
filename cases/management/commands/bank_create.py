"""`manage.py bank_create CODE NAME`: add a client bank (the code is what `import_batch --bank` takes)."""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cases.models import Bank

CODE_RE = re.compile(r"^[A-Z0-9]{2,16}$")


class Command(BaseCommand):
    help = "新增合作银行：简码（大写字母或数字，2-16 位）和银行名称。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("code", help="银行简码，例如 ZSYH")
        parser.add_argument("name", help="银行名称，例如 招商银行")

    def handle(self, *args: object, **options: str) -> None:
        code = options["code"].strip().upper()
        name = options["name"].strip()
        if not CODE_RE.match(code):
            raise CommandError(f"银行简码“{options['code']}”无效：只能是 2-16 位大写字母或数字")
        if not name:
            raise CommandError("银行名称不能为空")
        if len(name) > Bank._meta.get_field("name").max_length:  # type: ignore[operator]
            raise CommandError("银行名称过长")
        if Bank.objects.filter(code=code).exists():
            raise CommandError(f"简码为 {code} 的银行已经存在")
        if Bank.objects.filter(name=name).exists():
            raise CommandError(f"名为“{name}”的银行已经存在")
        bank = Bank.objects.create(code=code, name=name)
        self.stdout.write(self.style.SUCCESS(f"已创建银行 {bank.name}（{bank.code}）"))
