"""How the collector's day learns of work recorded in `cases` (which must not import this app): receivers of the
case models' saves, adapters that call worklist actions in the same transaction as the write.

- a call or visit with a 承诺还款 result becomes a promise record (changed or deleted: updated or cancelled);
- a call completes the case's due callbacks; a callback time agreed on it (call outcome form) becomes a callback;
- a repayment (or its reversal) re-matches the case's promises; a bank file's entries, together;
- any of these, and a change of the case itself (retained, returned, settled, re-assigned), tells the
  collector's 今日工作 page to reload.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone

from cases.enums import CallResult, VisitResult
from cases.models import CallRecord, Case, Repayment, VisitRecord
from cases.signals import repayments_recorded
from worklist import actions
from worklist.models import Callback, Promise, PromiseSource, PromiseStatus


@receiver(post_save, sender=CallRecord, dispatch_uid="worklist-call-saved")
def call_saved(sender: type[CallRecord], instance: CallRecord, created: bool, **kwargs: Any) -> None:
    if instance.case_id is None:
        return
    case = Case.objects.only("id", "bank_id", "case_no", "debtor_name", "collector_id").get(pk=instance.case_id)
    promised = (instance.deleted_at is None and instance.result == CallResult.PROMISE
                and instance.promise_date is not None and instance.promise_amount is not None)
    existing = Promise.objects.filter(call_id=instance.pk).exclude(status=PromiseStatus.CANCELLED).first()
    if promised:
        assert instance.promise_date is not None and instance.promise_amount is not None
        if existing is None or (existing.due_date, existing.amount) != (instance.promise_date,
                                                                        instance.promise_amount):
            actions.promise_record(
                case=case, collector_id=instance.collector_id, source=PromiseSource.CALL, call_id=instance.pk,
                made_on=timezone.localtime(instance.started_at).date(), due_date=instance.promise_date,
                amount=instance.promise_amount, contact_label=actions.promise_contact_label(instance))
    elif existing is not None:
        actions.promise_cancel(promise=existing)
    if instance.deleted_at is None:
        actions.callbacks_done_by_call(case_id=case.pk, at=instance.started_at, call_id=instance.pk)
    if (instance.deleted_at is None and instance.callback_at is not None and instance.collector is not None
            and not Callback.objects.filter(call_id=instance.pk).exists()):
        # Agreed on the call outcome form (cases checked the time by the same rule as the case page's form).
        actions.callback_schedule(case=Case.objects.get(pk=case.pk), by=instance.collector,
                                  due_at=instance.callback_at, phone=instance.number, note="通话中约定",
                                  call_id=instance.pk)
    actions.queue_changed(case_id=case.pk, user_ids=[case.collector_id, instance.collector_id])


@receiver(post_save, sender=VisitRecord, dispatch_uid="worklist-visit-saved")
def visit_saved(sender: type[VisitRecord], instance: VisitRecord, created: bool, **kwargs: Any) -> None:
    case = Case.objects.only("id", "bank_id", "case_no", "debtor_name", "collector_id").get(pk=instance.case_id)
    promised = (instance.deleted_at is None and instance.result == VisitResult.PROMISE
                and instance.promise_date is not None and instance.promise_amount is not None)
    existing = Promise.objects.filter(visit_id=instance.pk).exclude(status=PromiseStatus.CANCELLED).first()
    if promised:
        assert instance.promise_date is not None and instance.promise_amount is not None
        if existing is None or (existing.due_date, existing.amount) != (instance.promise_date,
                                                                        instance.promise_amount):
            actions.promise_record(
                case=case, collector_id=instance.entered_by_id, source=PromiseSource.VISIT, visit_id=instance.pk,
                made_on=instance.visited_on, due_date=instance.promise_date, amount=instance.promise_amount,
                contact_label=instance.met_person or "外访")
    elif existing is not None:
        actions.promise_cancel(promise=existing)
    actions.queue_changed(case_id=case.pk, user_ids=[case.collector_id, instance.collector_id])


@receiver(post_save, sender=Repayment, dispatch_uid="worklist-repayment-saved")
def repayment_saved(sender: type[Repayment], instance: Repayment, created: bool, **kwargs: Any) -> None:
    if not created:
        return
    # Most cases have no promise: one indexed look-up keeps a 10,000-row bank file cheap.
    if Promise.objects.filter(case_id=instance.case_id).exists():
        actions.promises_match_case(case_id=instance.case_id)


@receiver(repayments_recorded, sender=Repayment, dispatch_uid="worklist-repayments-recorded")
def repayments_recorded_together(sender: type[Repayment], repayments: list[Repayment], **kwargs: Any) -> None:
    """A bank file's entries: one look-up finds the cases with promises, which are then matched together."""
    ids = sorted({r.case_id for r in repayments})
    promised: set[int] = set()
    for start in range(0, len(ids), actions.BATCH_LIMIT):
        promised.update(Promise.objects.filter(case_id__in=ids[start:start + actions.BATCH_LIMIT])
                        .values_list("case_id", flat=True))
    if promised:
        actions.promises_match_cases(case_ids=sorted(promised))


@receiver(post_save, sender=Case, dispatch_uid="worklist-case-saved")
def case_saved(sender: type[Case], instance: Case, created: bool, **kwargs: Any) -> None:
    if not created and instance.collector_id:
        actions.queue_changed(case_id=instance.pk, user_ids=[instance.collector_id])
