"""Branch companies (分公司) and departments (部门), kept by a 系统管理员 on 基础资料 (issue 15): create, rename,
merge one into another (its staff and departments move, the empty one is retired), retire an empty one, and move
staff between departments. Every change is audited with what moved.

The write side of the ops pages, like ops/actions.py; may import accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction

from accounts.actions import audit_record
from accounts.models import AuditAction, BranchCompany, Department, User

if TYPE_CHECKING:
    from django.http import HttpRequest

NAME_MAX = 64


class OrgError(Exception):
    """A branch or department change was refused; `str()` is the Chinese reason."""


def _name(raw: str, what: str) -> str:
    name = raw.strip()
    if not name:
        raise OrgError(f"请填写{what}名称")
    if len(name) > NAME_MAX:
        raise OrgError(f"{what}名称最多 {NAME_MAX} 个字")
    return name


def _audit(by: User, summary: str, obj: BranchCompany | Department, detail: dict[str, object],
           request: HttpRequest | None) -> None:
    audit_record(actor=by, action=AuditAction.MASTER_DATA, summary=summary[:480],
                 object_type="branch" if isinstance(obj, BranchCompany) else "department", object_id=obj.pk,
                 detail=detail, request=request)  # type: ignore[arg-type]


@transaction.atomic
def branch_create(*, by: User, name: str, request: HttpRequest | None = None) -> BranchCompany:
    """Emits: nothing. Raises: OrgError."""
    name = _name(name, "分公司")
    if BranchCompany.objects.filter(name=name).exists():
        raise OrgError(f"分公司“{name}”已经存在")
    branch = BranchCompany.objects.create(name=name)
    _audit(by, f"新建分公司 {name}", branch, {"name": name}, request)
    return branch


@transaction.atomic
def branch_rename(*, by: User, branch: BranchCompany, name: str, request: HttpRequest | None = None) -> BranchCompany:
    """Emits: nothing. Raises: OrgError."""
    name = _name(name, "分公司")
    if name == branch.name:
        return branch
    if BranchCompany.objects.exclude(pk=branch.pk).filter(name=name).exists():
        raise OrgError(f"分公司“{name}”已经存在")
    before, branch.name = branch.name, name
    branch.save(update_fields=["name"])
    _audit(by, f"分公司 {before} 改名为 {name}", branch, {"before": before, "after": name}, request)
    return branch


@transaction.atomic
def branch_merge(*, by: User, source: BranchCompany, target: BranchCompany,
                 request: HttpRequest | None = None) -> int:
    """Move every department and person of `source` into `target` (a department whose name `target` already has is
    merged into that one), then retire `source`. Returns how many people moved.

    Emits: nothing. Raises: OrgError.
    """
    if source.pk == target.pk:
        raise OrgError("不能把分公司合并到它自己")
    moved_people = list(User.objects.filter(branch=source).values_list("username", flat=True))
    for department in list(Department.objects.filter(branch=source)):
        twin = Department.objects.filter(branch=target, name=department.name).first()
        if twin is not None:
            User.objects.filter(department=department).update(department=twin, branch=target)
            department.delete()
        else:
            department.branch = target
            department.save(update_fields=["branch"])
    User.objects.filter(branch=source).update(branch=target)
    name = source.name
    _audit(by, f"分公司 {name} 并入 {target.name}：{len(moved_people)} 人随之调入", target,
           {"source": name, "target": target.name, "people": moved_people}, request)
    source.delete()
    return len(moved_people)


@transaction.atomic
def branch_retire(*, by: User, branch: BranchCompany, request: HttpRequest | None = None) -> None:
    """Retire an empty branch company (no staff, no departments).

    Emits: nothing. Raises: OrgError.
    """
    if User.objects.filter(branch=branch).exists() or Department.objects.filter(branch=branch).exists():
        raise OrgError(f"分公司“{branch.name}”还有部门或人员：请先把它们合并或调到别处")
    _audit(by, f"撤销分公司 {branch.name}", branch, {"name": branch.name}, request)
    branch.delete()


@transaction.atomic
def department_create(*, by: User, branch: BranchCompany, name: str,
                      request: HttpRequest | None = None) -> Department:
    """Emits: nothing. Raises: OrgError."""
    name = _name(name, "部门")
    if Department.objects.filter(branch=branch, name=name).exists():
        raise OrgError(f"{branch.name} 已有部门“{name}”")
    department = Department.objects.create(branch=branch, name=name)
    _audit(by, f"新建部门 {branch.name} / {name}", department, {"branch": branch.name, "name": name}, request)
    return department


@transaction.atomic
def department_rename(*, by: User, department: Department, name: str,
                      request: HttpRequest | None = None) -> Department:
    """Emits: nothing. Raises: OrgError."""
    name = _name(name, "部门")
    if name == department.name:
        return department
    if Department.objects.exclude(pk=department.pk).filter(branch=department.branch, name=name).exists():
        raise OrgError(f"{department.branch.name} 已有部门“{name}”")
    before, department.name = department.name, name
    department.save(update_fields=["name"])
    _audit(by, f"部门 {department.branch.name} / {before} 改名为 {name}", department,
           {"before": before, "after": name}, request)
    return department


@transaction.atomic
def department_merge(*, by: User, source: Department, target: Department,
                     request: HttpRequest | None = None) -> int:
    """Move everyone of `source` into `target` (and its branch company), then retire `source`.

    Emits: nothing. Raises: OrgError.
    """
    if source.pk == target.pk:
        raise OrgError("不能把部门合并到它自己")
    people = list(User.objects.filter(department=source).values_list("username", flat=True))
    User.objects.filter(department=source).update(department=target, branch=target.branch)
    label = str(source)
    _audit(by, f"部门 {label} 并入 {target}：{len(people)} 人随之调入", target,
           {"source": label, "target": str(target), "people": people}, request)
    source.delete()
    return len(people)


@transaction.atomic
def department_retire(*, by: User, department: Department, request: HttpRequest | None = None) -> None:
    """Retire an empty department. Emits: nothing. Raises: OrgError."""
    if User.objects.filter(department=department).exists():
        raise OrgError(f"部门“{department}”还有人员：请先把他们调到别的部门，或把本部门并入别的部门")
    _audit(by, f"撤销部门 {department}", department, {"name": str(department)}, request)
    department.delete()


@transaction.atomic
def staff_move(*, by: User, people: Sequence[User], department: Department,
               request: HttpRequest | None = None) -> int:
    """Move `people` into `department` (and its branch company); returns how many changed.

    Emits: nothing. Raises: OrgError when nobody is chosen.
    """
    if not people:
        raise OrgError("请勾选要调动的人员")
    moving = [p for p in people if p.department_id != department.pk]
    if not moving:
        return 0
    before = {p.username: str(p.department) if p.department_id else "" for p in moving}
    User.objects.filter(pk__in=[p.pk for p in moving]).update(department=department, branch=department.branch)
    _audit(by, f"调动 {len(moving)} 人到 {department}：{'、'.join(p.display_name for p in moving)}", department,
           {"target": str(department), "before": before}, request)
    return len(moving)
