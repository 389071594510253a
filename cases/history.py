"""Append-only writers of the case timeline, one per CaseEventType. Called only from actions."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import User
from cases.enums import CaseEventType
from cases.models import Batch, Case, CaseEvent


def cases_imported(*, case_ids: Iterable[int], batch: Batch, actor: User | None) -> None:
    """One 导入 entry on each case of a new batch (bulk, for imports of 100k rows)."""
    summary = f"随批次 {batch.batch_no} 导入"
    data = {"batch_id": batch.pk}
    CaseEvent.objects.bulk_create(
        [CaseEvent(case_id=cid, type=CaseEventType.IMPORTED, actor=actor, summary=summary, data=data)
         for cid in case_ids],
        batch_size=2000,
    )


def case_continued(*, case: Case, previous: Case, actor: User | None) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.CONTINUED, actor=actor,
        summary=f"银行更换批次号留案：续接批次 {previous.batch.batch_no} 的原委案，有效期一个月",
        data={"previous_case_id": previous.pk},
    )


def case_superseded(*, case: Case, successor_batch: Batch, actor: User | None) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, type=CaseEventType.SUPERSEDED, actor=actor,
        summary=f"银行以新批次 {successor_batch.batch_no} 留案，本案转为已退案，工作在新委案上继续",
        data={"batch_id": successor_batch.pk},
    )
