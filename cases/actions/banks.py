"""Partner banks (合作银行, issue 15): created, renamed and deactivated by a 系统管理员 on the product's page (or
`manage.py bank_create`), every change audited. A bank is never deleted: its cases, batches and repayments keep
pointing at it; a bank the agency no longer works for is deactivated (no new imports, its cases stay readable).

Must not import views, consumers or the dialer.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases.exceptions import MasterDataError
from cases.models import Bank

CODE_RE = re.compile(r"^[A-Z0-9]{2,16}$")
NAME_MAX = 64


def _clean_code(code: str, *, others: QuerySet[Bank]) -> str:
    code = code.strip().upper()
    if not CODE_RE.match(code):
        raise MasterDataError(f"银行简码“{code}”无效：只能是 2–16 位大写字母或数字，例如 ZSYH")
    if others.filter(code=code).exists():
        raise MasterDataError(f"简码为 {code} 的银行已经存在")
    return code


def _clean_name(name: str, *, others: QuerySet[Bank]) -> str:
    name = name.strip()
    if not name:
        raise MasterDataError("请填写银行名称")
    if len(name) > NAME_MAX:
        raise MasterDataError(f"银行名称最多 {NAME_MAX} 个字")
    if others.filter(name=name).exists():
        raise MasterDataError(f"名为“{name}”的银行已经存在")
    return name


@transaction.atomic
def bank_create(*, by: User | None, code: str, name: str, request: HttpRequest | None = None) -> Bank:
    """Add a partner bank (the code is what imports and `import_batch --bank` use).

    Emits: nothing. Raises: MasterDataError.
    """
    bank = Bank.objects.create(code=_clean_code(code, others=Bank.objects.all()),
                               name=_clean_name(name, others=Bank.objects.all()))
    audit_record(actor=by, action=AuditAction.MASTER_DATA, summary=f"新建合作银行 {bank.name}（{bank.code}）",
                 object_type="bank", object_id=bank.pk, detail={"code": bank.code, "name": bank.name},
                 request=request)
    return bank


@transaction.atomic
def bank_update(*, by: User, bank: Bank, name: str | None = None, is_active: bool | None = None,
                request: HttpRequest | None = None) -> Bank:
    """Rename a bank or (de)activate it; the code never changes (batches and mappings refer to it).

    Emits: nothing. Raises: MasterDataError.
    """
    bank = Bank.objects.select_for_update().get(pk=bank.pk)
    changes: dict[str, dict[str, object]] = {}
    if name is not None:
        clean = _clean_name(name, others=Bank.objects.exclude(pk=bank.pk))
        if clean != bank.name:
            changes["name"] = {"before": bank.name, "after": clean}
            bank.name = clean
    if is_active is not None and is_active != bank.is_active:
        changes["is_active"] = {"before": bank.is_active, "after": is_active}
        bank.is_active = is_active
    if not changes:
        return bank
    bank.save(update_fields=["name", "is_active"])
    words = []
    if "name" in changes:
        words.append(f"改名为 {bank.name}（原 {changes['name']['before']}）")
    if "is_active" in changes:
        words.append("恢复合作" if bank.is_active else "停止合作")
    audit_record(actor=by, action=AuditAction.MASTER_DATA, summary=f"合作银行 {bank.code}：{'，'.join(words)}",
                 object_type="bank", object_id=bank.pk, detail={"changes": changes},  # type: ignore[dict-item]
                 request=request)
    return bank
