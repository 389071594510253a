"""Assignment writes (C3, C4, C6): distribute cases to collectors, move, swap and hand them over.

Every change goes through `_apply`, which works on thousands of cases at once with a constant number of
statements per chunk (bulk inserts, set-based updates): the row lock, the checks, the end of the open
`Assignment`, the new one, the case fields (collector, owner clerk, assigned_at, 未分配 → 未开始), one
timeline entry per case, one audit entry per operation and the dashboard counters.

`assignment_plan` is pure: the preview shows its result and the confirm step recomputes it from the same
selection, refusing when the digest differs from the one the clerk saw.

Must not import views, forms or `realtime.consumers`.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import models, transaction
from django.db.models import Case as DbCase
from django.db.models import F, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases import history, rollups
from cases.actions.notifications import user_events_deliver
from cases.actions.stats import daily_stats_bump
from cases.enums import OPEN_STATUSES, CaseEventType, CaseStatus
from cases.exceptions import (
    AssignerNotAllowedError,
    AssignmentPlanError,
    CaseClosedForAssignmentError,
    CaseNotAssignableError,
    CaseOutOfScopeError,
    CollectorUnavailableError,
    NothingToAssignError,
    SelectionChangedError,
)
from cases.models import Assignment, AssignmentKind, Case, ClerkBankScope
from cases.policies import can_assign_cases, cases_assignable_by
from cases.selectors.assignments import UNFINISHED_STATUSES
from realtime import groups
from realtime.events import CASE_IDS_CAP, CaseAssigned
from realtime.events_access import CaseAccessRevoked
from realtime.publish import publish_on_commit

ZERO = Decimal("0.00")
# Rows per statement: SQLite allows 32766 bound parameters, PostgreSQL many more; 2000 keeps both fast.
CHUNK = 2000

_EVENT_TYPES: dict[str, CaseEventType] = {
    AssignmentKind.ASSIGN: CaseEventType.ASSIGNED,
    AssignmentKind.MOVE: CaseEventType.REASSIGNED,
    AssignmentKind.SWAP: CaseEventType.SWAPPED,
    AssignmentKind.HANDOVER: CaseEventType.HANDED_OVER,
}


class AssignmentMode(models.TextChoices):
    ONE = "one", "全部分给一人"
    COUNT = "count", "按件数平均"
    AMOUNT = "amount", "按金额平均"


# --- the plan (pure) -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanCase:
    """One selected case as the plan sees it: its money and who held it when it was selected."""

    id: int
    amount: Decimal
    collector_id: int | None = None


@dataclass(frozen=True)
class PlanShare:
    collector_id: int
    case_ids: tuple[int, ...]
    amount: Decimal

    @property
    def count(self) -> int:
        return len(self.case_ids)


@dataclass(frozen=True)
class AssignmentPlan:
    mode: str
    shares: tuple[PlanShare, ...]
    digest: str
    # case id → collector when selected; `_apply` refuses if a case changed hands since.
    held_by: dict[int, int | None]

    @property
    def total_count(self) -> int:
        return sum(s.count for s in self.shares)

    @property
    def total_amount(self) -> Decimal:
        return sum((s.amount for s in self.shares), ZERO)

    @property
    def count_spread(self) -> int:
        counts = [s.count for s in self.shares]
        return max(counts) - min(counts) if counts else 0

    @property
    def amount_spread(self) -> Decimal:
        amounts = [s.amount for s in self.shares]
        return max(amounts) - min(amounts) if amounts else ZERO


def selection_digest(*, cases: Iterable[PlanCase], collector_ids: Sequence[int], mode: str) -> str:
    """A short fingerprint of exactly what the clerk previewed: the cases (with their holder), whom to and how."""
    h = hashlib.sha256(f"{mode}|{','.join(map(str, collector_ids))}|".encode())
    for case in sorted(cases, key=lambda c: c.id):
        h.update(f"{case.id}:{case.collector_id or 0};".encode())
    return h.hexdigest()[:32]


def assignment_plan(*, cases: Sequence[PlanCase], collectors: Sequence[int], mode: str) -> AssignmentPlan:
    """Who gets which case: one collector, or spread evenly by count (round-robin in amount order, so
    counts differ by at most one and money roughly evens out too) or by amount (largest case first to
    whoever has the least money so far: the sums come out as even as the case sizes allow).

    Emits: nothing (pure).
    Raises: NothingToAssignError, AssignmentPlanError.
    """
    collector_ids = list(dict.fromkeys(collectors))
    if not cases:
        raise NothingToAssignError()
    if not collector_ids:
        raise AssignmentPlanError("请至少选择一位业务员")
    if mode == AssignmentMode.ONE and len(collector_ids) != 1:
        raise AssignmentPlanError("“全部分给一人”只能选择一位业务员；要分给多人请选择按件数或按金额平均")
    if mode not in AssignmentMode.values:
        raise AssignmentPlanError("请选择分配方式")
    if len({c.id for c in cases}) != len(cases):
        raise AssignmentPlanError("所选委案有重复")

    ordered = sorted(cases, key=lambda c: (-c.amount, c.id))
    buckets: list[list[PlanCase]] = [[] for _ in collector_ids]
    if mode == AssignmentMode.AMOUNT:
        # (money so far, cases so far, position): ties go to fewer cases, then to the earlier collector.
        heap = [(ZERO, 0, i) for i in range(len(collector_ids))]
        for case in ordered:
            total, count, i = heapq.heappop(heap)
            buckets[i].append(case)
            heapq.heappush(heap, (total + case.amount, count + 1, i))
    else:
        for n, case in enumerate(ordered):
            buckets[n % len(collector_ids)].append(case)

    shares = tuple(
        PlanShare(collector_id=cid, case_ids=tuple(sorted(c.id for c in bucket)),
                  amount=sum((c.amount for c in bucket), ZERO))
        for cid, bucket in zip(collector_ids, buckets, strict=True)
    )
    return AssignmentPlan(mode=mode, shares=shares,
                          digest=selection_digest(cases=cases, collector_ids=collector_ids, mode=mode),
                          held_by={c.id: c.collector_id for c in cases})


# --- writes ---------------------------------------------------------------------------------------------

def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def _case_ids(cases: Iterable[Case] | QuerySet[Case]) -> list[int]:
    if isinstance(cases, QuerySet):
        return list(cases.order_by().values_list("pk", flat=True))
    return [case.pk for case in cases]


def _check_collectors(collector_ids: Iterable[int]) -> dict[int, User]:
    wanted = list(dict.fromkeys(collector_ids))
    found = User.objects.in_bulk(wanted)
    for cid in wanted:
        user = found.get(cid)
        if user is None:
            raise CollectorUnavailableError(f"编号 {cid} 的用户", "用户不存在")
        if not user.is_active:
            raise CollectorUnavailableError(user.display_name, "该账号已停用（离职）")
        if not user.is_collector:
            raise CollectorUnavailableError(user.display_name, "该用户不是催收业务员")
    return found


def _names(user_ids: Iterable[int]) -> dict[int, str]:
    rows = User.objects.filter(pk__in=list(set(user_ids))).values_list("pk", "full_name", "username")
    return {pk: full_name or username for pk, full_name, username in rows}


def _apply(*, shares: dict[int, list[int]], by: User, kind: str, reason: str,
           held_by: Mapping[int, int | None] | None = None) -> list[Assignment]:
    """Give each collector in `shares` their case ids. Runs inside the caller's transaction.

    `held_by` (case id → collector when the clerk looked) makes the write refuse if any case changed hands
    in between: the clerk confirms exactly what the preview showed, or nothing.
    """
    if not can_assign_cases(user=by):
        raise AssignerNotAllowedError()
    target_of = {case_id: cid for cid, ids in shares.items() for case_id in ids}
    if not target_of:
        raise NothingToAssignError()
    collectors = _check_collectors(cid for cid, ids in shares.items() if ids)
    all_ids = sorted(target_of)

    # Lock the rows in id order (two clerks assigning overlapping selections wait, never deadlock) and read
    # what the checks need from the locked rows, not from what the page showed.
    rows: list[tuple[int, str, str, int | None, int]] = []
    for chunk in _chunks(all_ids):
        rows += list(Case.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
                     .values_list("pk", "case_no", "status", "collector_id", "bank_id"))
    if len(rows) != len(all_ids):
        raise SelectionChangedError() if held_by is not None else NothingToAssignError("部分委案已不存在")
    closed = [case_no for _, case_no, status, _, _ in rows if status not in OPEN_STATUSES]
    if closed:
        raise CaseClosedForAssignmentError(closed)
    if not by.is_manager:
        scope = set(ClerkBankScope.objects.filter(clerk=by).values_list("bank_id", flat=True))
        outside = [case_no for _, case_no, _, _, bank_id in rows if bank_id not in scope]
        if outside:
            raise CaseOutOfScopeError(outside)
    if held_by is not None and any(held_by.get(pk, -1) != collector_id for pk, _, _, collector_id, _ in rows):
        raise SelectionChangedError()

    # A case already with its target stays as it is: no new period, no timeline entry.
    moves = [(pk, collector_id, target_of[pk]) for pk, _, _, collector_id, _ in rows
             if collector_id != target_of[pk]]
    if not moves:
        return []
    now = timezone.now()
    moved_ids = [pk for pk, _, _ in moves]
    for chunk in _chunks(moved_ids):
        Assignment.objects.filter(case_id__in=chunk, ended_at=None).update(ended_at=now)
    created = Assignment.objects.bulk_create(
        [Assignment(case_id=pk, collector_id=to, assigned_by_id=by.pk, started_at=now, kind=kind, reason=reason)
         for pk, _, to in moves],
        batch_size=CHUNK,
    )
    by_target: dict[int, list[int]] = {}
    for pk, _, to in moves:
        by_target.setdefault(to, []).append(pk)
    # C6: the clerk who hands a case to a collector owns it from then on. A manager who is not a clerk
    # leaves the owner clerk as it was: the collector's contact stays the clerk who knows the bank.
    owner = {"owner_clerk": by} if by.is_clerk else {}
    # One UPDATE per chunk: every index of the case table is touched once per row, not twice.
    unassigned = Q(status=CaseStatus.UNASSIGNED)
    status = {"status": DbCase(When(unassigned, then=Value(CaseStatus.NOT_STARTED.value)), default=F("status")),
              "status_changed_at": DbCase(When(unassigned, then=Value(now)), default=F("status_changed_at"))}
    for to, ids in by_target.items():
        for chunk in _chunks(ids):
            Case.objects.filter(pk__in=chunk).update(collector_id=to, assigned_at=now, updated_at=now, **owner,
                                                     **status)

    # Progress per collector: the giver and the receiver both change (C12 work-progress report).
    rollups.mark(collector_ids=[*by_target, *(before for _, before, _ in moves)])
    names = _names([*collectors, *(before for _, before, _ in moves if before)])
    history.cases_assigned(moves=moves, actor=by, event_type=_EVENT_TYPES[kind], reason=reason, names=names,
                           kind=kind)
    label = AssignmentKind(kind).label
    audit_record(
        actor=by, action=AuditAction.PERMISSION_CHANGE, object_type="assignment", object_id=created[0].pk,
        summary=f"{label} {len(moves)} 件委案：" + "、".join(
            f"{names[to]} {len(ids)} 件" for to, ids in by_target.items()) + (f"；原因：{reason}" if reason else ""),
        detail={"kind": kind, "count": len(moves), "reason": reason,
                "to": {str(to): len(ids) for to, ids in by_target.items()},
                "from": sorted({before for _, before, _ in moves if before})},
    )
    for to, ids in by_target.items():
        daily_stats_bump(collector_id=to, new_assignments=len(ids))
    _notify_collectors(moves=moves, by_target=by_target, by=by, kind=kind, reason=reason, names=names)
    return created


def _notify_collectors(*, moves: list[tuple[int, int | None, int]], by_target: dict[int, list[int]], by: User,
                       kind: str, reason: str, names: dict[int, str]) -> None:
    """Tell each receiving collector (您有 N 件新分配的委案) and each collector who lost cases, after commit.

    Stored per user (R1): a collector whose browser is closed or reconnecting still sees it on return. One
    stored row per person and direction, not per case: a morning's distribution is a handful of rows.
    """
    label = AssignmentKind(kind).label
    by_name = by.display_name
    for to, ids in by_target.items():
        sources = {before for pk, before, target in moves if target == to and before}
        from_id = next(iter(sources)) if len(sources) == 1 else None
        text = f"您有 {len(ids)} 件新分配的委案"
        if from_id is not None:
            text += f"（{label}，原由 {names[from_id]} 负责）"
        user_events_deliver(event=CaseAssigned(
            direction="in", case_ids=tuple(ids[:CASE_IDS_CAP]), count=len(ids), collector_id=to,
            from_collector_id=from_id, by_name=by_name, kind=kind, kind_label=label, text=text, reason=reason,
        ), user_ids=[to])
    taken: dict[tuple[int, int], list[int]] = {}
    for pk, before, to in moves:
        if before:
            taken.setdefault((before, to), []).append(pk)
    for (before, to), ids in taken.items():
        user_events_deliver(event=CaseAssigned(
            direction="out", case_ids=tuple(ids[:CASE_IDS_CAP]), count=len(ids), collector_id=to,
            from_collector_id=before, by_name=by_name, kind=kind, kind_label=label,
            text=f"您名下 {len(ids)} 件委案已{label}给 {names[to]}", reason=reason,
        ), user_ids=[before])
    lost: dict[int, list[int]] = {}
    for pk, before, to in moves:
        if before and before != to:
            lost.setdefault(before, []).append(pk)
    for before, ids in lost.items():
        # Access ends with the case: the previous collector's open sockets leave its case and chat topics now.
        publish_on_commit(CaseAccessRevoked(user_id=before, case_ids=tuple(ids[:CASE_IDS_CAP])),
                          to=[groups.account(before)])


@transaction.atomic
def assignment_create(*, cases: Iterable[Case] | QuerySet[Case], collector: User, by: User,
                      kind: str = AssignmentKind.ASSIGN, reason: str = "") -> list[Assignment]:
    """Give `cases` (one or thousands) to `collector`; `by` becomes their owner clerk (C6).

    Emits: DashboardCounterChanged (new_assignments) → the collector's dashboard groups.
           CaseAssigned (stored) → user.<id> of each receiving ("in") and previous ("out") collector.
           CaseAccessRevoked → account.<id> of each previous collector.
    Raises: CaseClosedForAssignmentError, CaseOutOfScopeError, CollectorUnavailableError,
            AssignerNotAllowedError, NothingToAssignError.
    """
    return _apply(shares={collector.pk: _case_ids(cases)}, by=by, kind=kind, reason=reason.strip())


@transaction.atomic
def assignment_plan_apply(*, plan: AssignmentPlan, by: User, kind: str = AssignmentKind.ASSIGN, reason: str = "",
                          expected_digest: str | None = None) -> list[Assignment]:
    """Carry out a plan the clerk previewed; refuse if the selection changed since the preview.

    Emits: DashboardCounterChanged (new_assignments) → each collector's dashboard groups.
           CaseAssigned (stored) → user.<id> of each receiving ("in") and previous ("out") collector.
    Raises: SelectionChangedError, and what `assignment_create` raises.
    """
    if expected_digest is not None and expected_digest != plan.digest:
        raise SelectionChangedError()
    shares = {s.collector_id: list(s.case_ids) for s in plan.shares if s.case_ids}
    return _apply(shares=shares, by=by, kind=kind, reason=reason.strip(), held_by=plan.held_by)


def _unfinished_of(*, collector: User, by: User) -> QuerySet[Case]:
    """The collector's unfinished cases that `by` may move (a clerk: those of their banks)."""
    return cases_assignable_by(by).filter(collector=collector, status__in=UNFINISHED_STATUSES)


def _require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise CaseNotAssignableError("请填写调整原因")
    return reason


@transaction.atomic
def assignment_move(*, from_collector: User, to_collector: User, cases: Iterable[Case] | QuerySet[Case] | None = None,
                    by: User, reason: str, kind: str = AssignmentKind.MOVE) -> list[Assignment]:
    """Move some (`cases`) or all unfinished cases of one collector to another (C4).

    Emits: DashboardCounterChanged (new_assignments) → the receiving collector's dashboard groups.
           CaseAssigned (stored) → user.<id> of each receiving ("in") and previous ("out") collector.
    Raises: CaseNotAssignableError (no reason, same person, a case not theirs), NothingToAssignError,
            and what `assignment_create` raises.
    """
    reason = _require_reason(reason)
    if from_collector.pk == to_collector.pk:
        raise AssignmentPlanError("原业务员和目标业务员不能是同一人")
    available = _unfinished_of(collector=from_collector, by=by)
    if cases is None:
        ids = list(available.order_by().values_list("pk", flat=True))
    else:
        ids = _case_ids(cases)
        allowed = set(available.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
        stray = [pk for pk in ids if pk not in allowed]
        if stray:
            case_nos = list(Case.objects.filter(pk__in=stray[:5]).values_list("case_no", flat=True))
            raise CaseNotAssignableError(
                f"委案 {'、'.join(case_nos)} 不是 {from_collector.display_name} 名下您可调整的未完成委案")
    if not ids:
        raise NothingToAssignError(f"{from_collector.display_name} 名下没有您可调整的未完成委案")
    return _apply(shares={to_collector.pk: ids}, by=by, kind=kind, reason=reason,
                  held_by=dict.fromkeys(ids, from_collector.pk))


@transaction.atomic
def assignment_swap(*, a: User, b: User, by: User, reason: str) -> list[Assignment]:
    """Swap two collectors' unfinished cases (those `by` may assign): A's go to B and B's to A (C4).

    Emits: DashboardCounterChanged (new_assignments) → both collectors' dashboard groups.
           CaseAssigned (stored) → user.<id> of each receiving ("in") and previous ("out") collector.
    Raises: CaseNotAssignableError, NothingToAssignError, CollectorUnavailableError.
    """
    reason = _require_reason(reason)
    if a.pk == b.pk:
        raise AssignmentPlanError("请选择两位不同的业务员")
    a_ids = list(_unfinished_of(collector=a, by=by).order_by().values_list("pk", flat=True))
    b_ids = list(_unfinished_of(collector=b, by=by).order_by().values_list("pk", flat=True))
    if not a_ids and not b_ids:
        raise NothingToAssignError(f"{a.display_name} 和 {b.display_name} 名下都没有您可调整的未完成委案")
    held = {**dict.fromkeys(a_ids, a.pk), **dict.fromkeys(b_ids, b.pk)}
    # Both must be able to receive cases, even the one whose list happens to be empty.
    _check_collectors([a.pk, b.pk])
    return _apply(shares={b.pk: a_ids, a.pk: b_ids}, by=by, kind=AssignmentKind.SWAP, reason=reason,
                  held_by=held)


def handover_plan(*, departed: User, collectors: Sequence[int], mode: str, by: User) -> AssignmentPlan:
    """The plan for handing a departed user's unfinished cases (those `by` may assign) to others."""
    rows = _unfinished_of(collector=departed, by=by).order_by().values_list("pk", "entrusted_amount")
    cases = [PlanCase(id=pk, amount=amount, collector_id=departed.pk) for pk, amount in rows]
    if not cases:
        raise NothingToAssignError(f"{departed.display_name} 名下没有您可交接的未完成委案")
    return assignment_plan(cases=cases, collectors=collectors, mode=mode)


@transaction.atomic
def assignment_handover(*, departed: User, collectors: Sequence[User], mode: str, by: User,
                        reason: str = "", expected_digest: str | None = None) -> list[Assignment]:
    """Hand a deactivated user's unfinished cases to one collector or spread them evenly (C4, 离职交接).

    Emits: DashboardCounterChanged (new_assignments) → each receiving collector's dashboard groups.
           CaseAssigned (stored) → user.<id> of each receiving ("in") and previous ("out") collector.
    Raises: CaseNotAssignableError (the user is still active), SelectionChangedError (differs from the
            previewed `expected_digest`), NothingToAssignError, and what `assignment_create` raises.
    """
    if departed.is_active:
        raise CaseNotAssignableError(f"{departed.display_name} 的账号仍在使用，请用“调整分配”转移其委案")
    plan = handover_plan(departed=departed, collectors=[c.pk for c in collectors], mode=mode, by=by)
    reason = reason.strip() or f"{departed.display_name} 离职"
    return assignment_plan_apply(plan=plan, by=by, kind=AssignmentKind.HANDOVER, reason=reason,
                                 expected_digest=expected_digest)


# --- owner clerk (C6) ------------------------------------------------------------------------------------

@transaction.atomic
def case_owner_transfer(*, cases: Iterable[Case] | QuerySet[Case], to_clerk: User, by: User,
                        reason: str, audit_action: AuditAction = AuditAction.PERMISSION_CHANGE) -> list[int]:
    """Make `to_clerk` the owner clerk of open `cases` (e.g. those of a clerk who left). Returns the ids changed.

    A clerk may take over cases of their own banks; a manager may give any cases to a clerk, who must be
    responsible for every case's bank, since the collector reaches that clerk about the case (C6, C7).
    Emits: nothing (the collectors' case pages show the owner clerk as it is).
    Raises: AssignerNotAllowedError, CaseNotAssignableError (no reason, not an active clerk, a clerk taking
            over for someone else), CaseClosedForAssignmentError, CaseOutOfScopeError, NothingToAssignError.
    """
    if not can_assign_cases(user=by):
        raise AssignerNotAllowedError()
    reason = _require_reason(reason)
    if not to_clerk.is_active or not to_clerk.is_clerk:
        raise CaseNotAssignableError(f"{to_clerk.display_name} 不是在职内勤，不能负责委案")
    if not by.is_manager and to_clerk.pk != by.pk:
        raise CaseNotAssignableError("内勤只能由自己接手负责；要指定其他内勤请由管理人员操作")
    ids = sorted(set(_case_ids(cases)))
    if not ids:
        raise NothingToAssignError()
    rows: list[tuple[int, str, str, int, int | None]] = []
    for chunk in _chunks(ids):
        rows += list(Case.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
                     .values_list("pk", "case_no", "status", "bank_id", "owner_clerk_id"))
    if len(rows) != len(ids):
        raise NothingToAssignError("部分委案已不存在")
    closed = [case_no for _, case_no, status, _, _ in rows if status not in OPEN_STATUSES]
    if closed:
        raise CaseClosedForAssignmentError(closed)
    if not by.is_manager:
        mine = set(ClerkBankScope.objects.filter(clerk=by).values_list("bank_id", flat=True))
        outside = [case_no for _, case_no, _, bank_id, _ in rows if bank_id not in mine]
        if outside:
            raise CaseOutOfScopeError(outside)
    theirs = set(ClerkBankScope.objects.filter(clerk=to_clerk).values_list("bank_id", flat=True))
    outside = [case_no for _, case_no, _, bank_id, _ in rows if bank_id not in theirs]
    if outside:
        raise CaseNotAssignableError(f"{to_clerk.display_name} 未负责委案 {'、'.join(outside[:5])}"
                                     f"{f' 等 {len(outside)} 件' if len(outside) > 5 else ''} 的银行，不能接手")
    changes = [(pk, before) for pk, _, _, _, before in rows if before != to_clerk.pk]
    if not changes:
        raise NothingToAssignError(f"所选委案的负责内勤已经是 {to_clerk.display_name}")
    now = timezone.now()
    changed_ids = [pk for pk, _ in changes]
    for chunk in _chunks(changed_ids):
        Case.objects.filter(pk__in=chunk).update(owner_clerk=to_clerk, updated_at=now)
    names = _names(before for _, before in changes if before)
    history.case_owners_changed(changes=changes, to_clerk=to_clerk, actor=by, reason=reason, names=names)
    before_counts: dict[int | None, int] = {}
    for _, before in changes:
        before_counts[before] = before_counts.get(before, 0) + 1
    audit_record(
        actor=by, action=audit_action, object_type="case_owner", object_id=to_clerk.pk,
        summary=f"更换负责内勤 {len(changes)} 件委案：" + "、".join(
            f"{names.get(b, '无') if b else '无'} {n} 件" for b, n in before_counts.items())
            + f" 改由 {to_clerk.display_name} 负责；原因：{reason}",
        detail={"count": len(changes), "to": to_clerk.pk, "reason": reason,
                "from": {str(b or 0): n for b, n in before_counts.items()}, "case_ids": changed_ids[:200]},
    )
    return changed_ids


@transaction.atomic
def clerk_cases_reallocate(*, from_clerk: User, to_clerk: User, by: User, reason: str,
                           cases: QuerySet[Case]) -> list[int]:
    """内勤调配: a manager moves open cases owned by an active clerk (all, of a bank, of a batch, or a selection
    already narrowed in `cases`) to another clerk responsible for their banks; history and audit as
    `case_owner_transfer`, audited as 内勤调配. Returns the ids moved.

    Emits: CaseAssigned (direction "owner", stored) to both clerks and each affected collector.
    Raises: CaseNotAssignableError (not a manager, same clerk), NothingToAssignError, and what
            `case_owner_transfer` raises.
    """
    if not (by.is_active and by.is_manager):
        raise CaseNotAssignableError("只有管理人员可以调配内勤负责的委案")
    if from_clerk.pk == to_clerk.pk:
        raise CaseNotAssignableError("调出和调入的内勤不能是同一人")
    ids = list(cases.filter(owner_clerk=from_clerk, status__in=OPEN_STATUSES).values_list("pk", flat=True))
    if not ids:
        raise NothingToAssignError(f"{from_clerk.display_name} 没有符合条件的未结委案")
    changed = case_owner_transfer(cases=Case.objects.filter(pk__in=ids), to_clerk=to_clerk, by=by, reason=reason,
                                  audit_action=AuditAction.CLERK_ALLOCATION)
    # Everyone concerned hears it at once (stored, replayed on reconnect): both clerks and each affected collector,
    # whose case pages name the owner clerk they ask about the case (C6).
    per_collector: dict[int, list[int]] = {}
    for pk, collector_id in Case.objects.filter(pk__in=changed, collector__isnull=False).values_list("pk",
                                                                                                  "collector_id"):
        per_collector.setdefault(collector_id, []).append(pk)

    def tell(user_id: int, ids: list[int], text: str) -> None:
        user_events_deliver(event=CaseAssigned(
            direction="owner", case_ids=tuple(ids[:CASE_IDS_CAP]), count=len(ids), collector_id=user_id,
            by_name=by.display_name, kind="clerk_allocation", kind_label="内勤调配", text=text, reason=reason,
        ), user_ids=[user_id])

    tell(from_clerk.pk, changed, f"您负责的 {len(changed)} 件委案已调配给 {to_clerk.display_name} 负责")
    tell(to_clerk.pk, changed, f"{len(changed)} 件委案调配给您负责（原负责内勤 {from_clerk.display_name}）")
    for collector_id, ids in per_collector.items():
        tell(collector_id, ids, f"您的 {len(ids)} 件委案负责内勤改为 {to_clerk.display_name}，有问题请联系新的负责内勤")
    return changed
