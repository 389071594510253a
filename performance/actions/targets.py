"""Setting monthly targets (issue 18 item 2): one at a time from the page, or a whole month from an .xlsx.

Must not import views.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.http import HttpRequest

from accounts.actions import audit_record
from accounts.models import AuditAction, BranchCompany, Department, User
from accounts.selectors import collector_list
from performance.exceptions import TargetError
from performance.imports import TargetRow
from performance.models import Target, TargetScope


def _subject(scope: str, subject_id: int) -> dict[str, object]:
    if scope == TargetScope.COLLECTOR:
        found = collector_list(active_only=False).filter(pk=subject_id).first()
        if found is None:
            raise TargetError("找不到该业务员")
        return {"collector": found}
    if scope == TargetScope.DEPARTMENT:
        dept = Department.objects.filter(pk=subject_id).first()
        if dept is None:
            raise TargetError("找不到该部门")
        return {"department": dept}
    if scope == TargetScope.BRANCH:
        branch = BranchCompany.objects.filter(pk=subject_id).first()
        if branch is None:
            raise TargetError("找不到该分公司")
        return {"branch": branch}
    raise TargetError("对象类型应为 业务员、部门 或 分公司")


def _save(*, month: dt.date, scope: str, subject: dict[str, object], repayment_target: Decimal | None,
          contact_target: int | None, by: User) -> Target | None:
    existing = Target.objects.filter(month=month, scope=scope, **subject).first()
    if repayment_target is None:
        if existing is not None:
            existing.delete()
        return None
    if repayment_target < 0:
        raise TargetError("回款目标不能为负数")
    if existing is None:
        return Target.objects.create(month=month, scope=scope, repayment_target=repayment_target,
                                     contact_target=contact_target, set_by=by, **subject)
    existing.repayment_target, existing.contact_target, existing.set_by = repayment_target, contact_target, by
    existing.save(update_fields=["repayment_target", "contact_target", "set_by", "updated_at"])
    return existing


@transaction.atomic
def targets_set(*, month: dt.date, entries: list[tuple[str, int, Decimal | None, int | None]], by: User,
                request: HttpRequest | None = None) -> int:
    """Set (or, with no amount, clear) the month's targets: entries of (scope, subject id, repayment target,
    contact target). Returns how many targets the month now has. Audited.

    Emits: nothing. Raises: TargetError.
    """
    month = month.replace(day=1)
    for scope, subject_id, amount, contacts in entries:
        _save(month=month, scope=scope, subject=_subject(scope, subject_id), repayment_target=amount,
              contact_target=contacts, by=by)
    count = Target.objects.filter(month=month).count()
    audit_record(actor=by, action=AuditAction.TARGET_SET, object_type="Target", object_id=f"{month:%Y-%m}",
                 summary=f"设置 {month:%Y年%m月} 目标（{len(entries)} 项，当月共 {count} 项）", request=request,
                 detail={"month": f"{month:%Y-%m}", "entries": [[s, i, str(a) if a is not None else None, c]
                                                                for s, i, a, c in entries]})
    return count


def _match(row: TargetRow) -> tuple[int | None, str]:
    """The subject id a row names, or why it names none (ambiguous or unknown)."""
    if row.scope == TargetScope.COLLECTOR:
        people = list(collector_list().filter(username=row.name).values_list("pk", flat=True)) or \
            list(collector_list().filter(full_name=row.name).values_list("pk", flat=True))
        what = "业务员"
        found = people
    elif row.scope == TargetScope.DEPARTMENT:
        branch, _, dept = row.name.rpartition("/")
        qs = Department.objects.filter(name=dept.strip())
        if branch.strip():
            qs = qs.filter(branch__name=branch.strip())
        found, what = list(qs.values_list("pk", flat=True)), "部门"
    else:
        found, what = list(BranchCompany.objects.filter(name=row.name).values_list("pk", flat=True)), "分公司"
    if not found:
        return None, f"第 {row.row_number} 行：找不到{what}“{row.name}”"
    if len(found) > 1:
        hint = "（请写 分公司/部门）" if row.scope == TargetScope.DEPARTMENT else "（请写账号）"
        return None, f"第 {row.row_number} 行：有 {len(found)} 个{what}叫“{row.name}”{hint}"
    return found[0], ""


def targets_import(*, month: dt.date, rows: list[TargetRow], by: User,
                   request: HttpRequest | None = None) -> tuple[int, list[str]]:
    """Set the month's targets from parsed .xlsx rows: all or nothing. Returns (targets set, errors).

    Emits: nothing. Raises: TargetError.
    """
    entries: list[tuple[str, int, Decimal | None, int | None]] = []
    errors: list[str] = []
    seen: dict[tuple[str, int], int] = {}
    for row in rows:
        subject_id, problem = _match(row)
        if subject_id is None:
            errors.append(problem)
            continue
        if (row.scope, subject_id) in seen:
            errors.append(f"第 {row.row_number} 行：与第 {seen[(row.scope, subject_id)]} 行是同一对象")
            continue
        seen[(row.scope, subject_id)] = row.row_number
        entries.append((row.scope, subject_id, row.repayment_target, row.contact_target))
    if errors:
        return 0, errors
    targets_set(month=month, entries=entries, by=by, request=request)
    return len(entries), []
