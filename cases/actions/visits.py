"""Visit records (P4, P5): the visit's result with its photos, signed form and recording, in one write.

Must not import views or `realtime.consumers`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cases import history, rollups, uploads
from cases.actions.files import store_checked
from cases.actions.reminders import reminder_resolve_stale
from cases.actions.work import checked_promise, count_work, ensure_open_for_work, mark_work_started
from cases.enums import FileKind, VisitResult
from cases.exceptions import WorkDateInFutureError
from cases.models import Case, VisitRecord
from cases.uploads import StoredNames, Upload


@transaction.atomic
def visit_record_create(
    *,
    case: Case,
    collector: User,
    by: User,
    visited_on: dt.date,
    address: str,
    result: str,
    met_person: str = "",
    note: str = "",
    promise_date: dt.date | None = None,
    promise_amount: Decimal | None = None,
    photos: Sequence[Upload] = (),
    signed_form: Upload | None = None,
    recording: Upload | None = None,
) -> VisitRecord:
    """Record a field visit made by `collector`, entered by `by` (P5: often the phone collector).

    Every file is checked by content before anything is written; a refused file refuses the whole visit.
    Emits: DashboardCounterChanged (visits +1 for the visiting collector).
    Raises: CaseClosedForWorkError, UploadRejectedError, WorkDateInFutureError, PromiseDetailsRequiredError,
    PromiseDateTooEarlyError.
    """
    ensure_open_for_work(case)
    if visited_on > timezone.localdate():
        raise WorkDateInFutureError("外访日期")
    promise_date, promise_amount = checked_promise(promised=result == VisitResult.PROMISE, promise_date=promise_date,
                                                   promise_amount=promise_amount, work_day=visited_on)
    planned: list[tuple[str, Upload]] = [(FileKind.PHOTO, p) for p in photos]
    if signed_form is not None:
        planned.append((FileKind.VISIT_FORM_PDF, signed_form))
    if recording is not None:
        planned.append((FileKind.RECORDING, recording))
    checked = [(kind, upload, uploads.check_upload(upload, kind=kind)) for kind, upload in planned]

    with StoredNames() as guard:
        visit = VisitRecord.objects.create(
            case=case, collector=collector, entered_by=by, visited_on=visited_on, address=address.strip(),
            met_person=met_person.strip(), result=result, note=note.strip(), promise_date=promise_date,
            promise_amount=promise_amount,
        )
        for kind, upload, found in checked:
            store_checked(case=case, visit=visit, kind=kind, upload=upload, found=found, by=by, guard=guard)
        history.visit_recorded(visit=visit, actor=by, file_count=len(checked))
        rollups.mark(worked_case_ids=[case.pk])
        mark_work_started(case=case, actor=by, reason="首次外访")
        count_work(case=case, collector=collector, day=visited_on, visits=1)
        reminder_resolve_stale(case_ids=[case.pk])  # the first-visit reminder is done
    return visit
