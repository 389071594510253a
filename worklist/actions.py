"""Writes of the collector's day (issue 16): promises to pay and their matching to repayments, callbacks,
and the per-bank settings. The one door for worklist tables.

Sits above `cases`: uses its models, reminder actions and history; `cases` never imports this module (it
learns of calls, visits and repayments through worklist.signals). Must not import views or consumers.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from cases import history
from cases.actions.notifications import user_events_deliver
from cases.actions.reminders import reminder_create, reminder_resolve
from cases.enums import OPEN_STATUSES, CallResult, ReminderKind, ReminderTopic, VisitResult
from cases.models import CallRecord, Case, Reminder, Repayment, RepaymentKind, VisitRecord
from cases.models.cases import mask_phone
from realtime import groups
from realtime.events_worklist import CallbackDue, PromiseChanged, WorkQueueChanged
from realtime.publish import publish_on_commit
from worklist.exceptions import CallbackError, SettingsError
from worklist.models import (
    BankWorkSettings,
    Callback,
    CallbackStatus,
    Promise,
    PromiseSource,
    PromiseStatus,
)

logger = logging.getLogger(__name__)

ZERO = Decimal("0.00")
BATCH_LIMIT = 2000


def settings_for_bank(bank_id: int) -> BankWorkSettings:
    """The bank's settings, or the defaults (an unsaved row) for a bank a manager never set."""
    found = BankWorkSettings.objects.filter(bank_id=bank_id).first()
    return found if found is not None else BankWorkSettings(bank_id=bank_id)


def queue_changed(*, case_id: int, user_ids: list[int | None]) -> None:
    """Tell these users' 今日工作 pages to reload (after commit).

    Emits: WorkQueueChanged → user.<id>.
    """
    targets = [groups.user(uid) for uid in dict.fromkeys(u for u in user_ids if u)]
    if targets:
        publish_on_commit(WorkQueueChanged(case_id=case_id), to=targets)


def _publish_promise(promise: Promise, *, text: str, case: Case) -> None:
    publish_on_commit(
        PromiseChanged(promise_id=promise.pk, case_id=promise.case_id, status=promise.status,
                       status_label=promise.get_status_display(), text=text),
        to=[groups.case(promise.case_id), *([groups.user(case.collector_id)] if case.collector_id else [])],
    )
    queue_changed(case_id=promise.case_id, user_ids=[case.collector_id])


@transaction.atomic
def promise_record(*, case: Case, collector_id: int | None, source: str, made_on: dt.date, due_date: dt.date,
                   amount: Decimal, contact_label: str = "", call_id: int | None = None,
                   visit_id: int | None = None) -> Promise:
    """Record (or, for the same call or visit, update) a promise to pay, with the bank's tolerance and grace of
    today, and match it against the case's repayments at once.

    Emits: PromiseChanged → case.<id>, user.<collector>; WorkQueueChanged.
    Raises: nothing (the call and visit actions checked the date and amount).
    """
    terms = settings_for_bank(case.bank_id)
    values: dict[str, object] = {"case": case, "collector_id": collector_id, "source": source, "made_on": made_on,
              "due_date": due_date, "amount": amount, "contact_label": contact_label[:100],
              "tolerance": terms.tolerance_amount, "window_end": due_date + dt.timedelta(days=terms.grace_days),
              "status": PromiseStatus.OPEN, "paid_amount": ZERO, "decided_on": None}
    if source == PromiseSource.CALL:
        promise, created = Promise.objects.update_or_create(call_id=call_id, defaults=values)
    else:
        promise, created = Promise.objects.update_or_create(visit_id=visit_id, defaults=values)
    text = f"{case.case_no} 承诺 {due_date:%m-%d} 还款 ¥{amount:,.2f}" + ("" if created else "（已更新）")
    _publish_promise(promise, case=case, text=text)
    promises_match_case(case_id=case.pk)
    return promise


@transaction.atomic
def promise_cancel(*, promise: Promise) -> None:
    """Cancel a promise whose call or visit was deleted or no longer records one.

    Emits: PromiseChanged, WorkQueueChanged. Raises: nothing.
    """
    promise = Promise.objects.select_for_update().get(pk=promise.pk)
    if promise.status == PromiseStatus.CANCELLED:
        return
    promise.status = PromiseStatus.CANCELLED
    promise.save(update_fields=["status", "updated_at"])
    case = Case.objects.only("id", "case_no", "collector_id").get(pk=promise.case_id)
    _publish_promise(promise, case=case, text=f"{case.case_no} 的承诺还款已撤销")
    promises_match_case(case_id=case.pk)


@dataclass(frozen=True)
class Outcome:
    paid: Decimal
    status: str
    decided_on: dt.date | None


def match_promises(*, promises: list[tuple[int, dt.date, dt.date, Decimal, Decimal]],
                   repayments: list[tuple[dt.date, Decimal]], today: dt.date) -> dict[int, Outcome]:
    """The matching rule, pure: promises (id, made_on, window_end, amount, tolerance) in due order, live repayments
    (date, amount) in date order.

    Each repayment goes to the earliest promise whose window (made_on … due date + grace) holds its date and
    which still lacks money; what is left of it goes to the next such promise. A promise is kept as soon as its
    money reaches its amount less the tolerance (decided on the day of that repayment); once its window has
    passed it is partly kept with some money, broken with none; until then it is open.
    """
    need = {pid: amount for pid, _, _, amount, _ in promises}
    paid = {pid: ZERO for pid, *_ in promises}
    kept_on: dict[int, dt.date] = {}
    for day, amount in repayments:
        left = amount
        for pid, made_on, window_end, total, tolerance in promises:
            if left <= 0:
                break
            if not (made_on <= day <= window_end) or pid in kept_on:
                continue
            take = min(left, need[pid] - paid[pid])
            if take <= 0:
                continue
            paid[pid] += take
            left -= take
            if paid[pid] >= total - tolerance:
                kept_on[pid] = day
    out: dict[int, Outcome] = {}
    for pid, _, window_end, _, _ in promises:
        if pid in kept_on:
            out[pid] = Outcome(paid[pid], PromiseStatus.KEPT, kept_on[pid])
        elif today > window_end:
            status = PromiseStatus.PARTLY_KEPT if paid[pid] > 0 else PromiseStatus.BROKEN
            out[pid] = Outcome(paid[pid], status, window_end + dt.timedelta(days=1))
        else:
            out[pid] = Outcome(paid[pid], PromiseStatus.OPEN, None)
    return out


def promises_match_case(*, case_id: int, today: dt.date | None = None) -> list[Promise]:
    """Match the case's promises to its live repayments (see match_promises); save, notify and publish what
    changed. Returns the promises whose status changed.

    A broken or partly kept promise puts the case in the queue and reminds the collector and the owner clerk
    (承诺违约); a kept one resolves the case's promise reminders.
    Emits: PromiseChanged, WorkQueueChanged; ReminderDue / ReminderResolved through the reminder actions.
    Raises: nothing.
    """
    return promises_match_cases(case_ids=[case_id], today=today)


def promises_match_cases(*, case_ids: list[int], today: dt.date | None = None) -> list[Promise]:
    """promises_match_case for many cases (a bank file's), reading their promises, repayments and cases in a
    few statements per BATCH_LIMIT cases. Returns the promises whose status changed.

    Emits, raises: as promises_match_case.
    """
    today = today or timezone.localdate()
    changed: list[Promise] = []
    with transaction.atomic():
        for start in range(0, len(case_ids), BATCH_LIMIT):
            chunk = case_ids[start:start + BATCH_LIMIT]
            promises: dict[int, list[Promise]] = {}
            for p in (Promise.objects.select_for_update().filter(case_id__in=chunk)
                      .exclude(status=PromiseStatus.CANCELLED).order_by("case_id", "due_date", "id")):
                promises.setdefault(p.case_id, []).append(p)
            if not promises:
                continue
            live: dict[int, list[tuple[dt.date, Decimal]]] = {}
            for case_id, repaid_on, amount in (
                    Repayment.objects.filter(case_id__in=list(promises), kind=RepaymentKind.NORMAL,
                                             reversed_by__isnull=True)
                    .order_by("case_id", "repaid_on", "id").values_list("case_id", "repaid_on", "amount")):
                live.setdefault(case_id, []).append((repaid_on, amount))
            cases = Case.objects.only("id", "case_no", "debtor_name", "collector_id", "owner_clerk_id",
                                      "status").in_bulk(list(promises))
            for case_id, rows in promises.items():
                outcome = match_promises(
                    promises=[(p.pk, p.made_on, p.window_end, p.amount, p.tolerance) for p in rows],
                    repayments=live.get(case_id, []), today=today)
                case = cases[case_id]
                for p in rows:
                    o = outcome[p.pk]
                    if (p.status, p.paid_amount, p.decided_on) == (o.status, o.paid, o.decided_on):
                        continue
                    moved = p.status != o.status
                    p.status, p.paid_amount, p.decided_on = o.status, o.paid, o.decided_on
                    p.save(update_fields=["status", "paid_amount", "decided_on", "updated_at"])
                    _publish_promise(p, case=case, text=_promise_text(case, p))
                    if moved:
                        changed.append(p)
                        _notify(case=case, promise=p)
    return changed


def promise_contact_label(call: CallRecord) -> str:
    """Who promised on a call, as every role may read it: the contact's relation and name, or the number dialled
    masked (the promise history is shown to collectors, who see numbers masked)."""
    if call.contact_id and call.contact is not None:
        c = call.contact
        return f"{c.relation} {c.name}".strip() or mask_phone(c.phone)
    return mask_phone(call.number)


@transaction.atomic
def promises_backfill(*, today: dt.date | None = None) -> dict[str, int]:
    """Promise records for the live promise calls and visits that have none: rows written in bulk, not through
    the call and visit actions (the demo's three months of work), matched at once against their cases' live
    repayments by the same rule (match_promises). Returns how many were written, per status.

    Quiet on purpose: past promises are history, not news (no reminders, no events).
    Emits: nothing. Raises: nothing.
    """
    today = today or timezone.localdate()
    terms: dict[int, BankWorkSettings] = {}

    def row(*, case: Case, source: str, made_on: dt.date, due: dt.date, amount: Decimal, **link: object) -> Promise:
        t = terms.get(case.bank_id) or terms.setdefault(case.bank_id, settings_for_bank(case.bank_id))
        return Promise(case=case, source=source, made_on=made_on, due_date=due, amount=amount,
                       tolerance=t.tolerance_amount, window_end=due + dt.timedelta(days=t.grace_days), **link)

    promised = {"deleted_at__isnull": True, "promise_date__isnull": False, "promise_amount__isnull": False}
    new: list[Promise] = []
    for call in (CallRecord.objects.filter(result=CallResult.PROMISE, case__isnull=False, promise__isnull=True,
                                           **promised).select_related("case", "contact")):
        assert call.case is not None and call.promise_date is not None and call.promise_amount is not None
        new.append(row(case=call.case, source=PromiseSource.CALL, made_on=timezone.localtime(call.started_at).date(),
                       due=call.promise_date, amount=call.promise_amount, call=call, collector_id=call.collector_id,
                       contact_label=promise_contact_label(call)[:100]))
    for visit in (VisitRecord.objects.filter(result=VisitResult.PROMISE, promise__isnull=True, **promised)
                  .select_related("case")):
        assert visit.promise_date is not None and visit.promise_amount is not None
        new.append(row(case=visit.case, source=PromiseSource.VISIT, made_on=visit.visited_on, due=visit.promise_date,
                       amount=visit.promise_amount, visit=visit, collector_id=visit.entered_by_id,
                       contact_label=(visit.met_person or "外访")[:100]))
    Promise.objects.bulk_create(new)
    case_ids = {p.case_id for p in new}
    paid: dict[int, list[tuple[dt.date, Decimal]]] = {}
    for case_id, day, amount in (Repayment.objects.filter(case_id__in=case_ids, kind=RepaymentKind.NORMAL,
                                                          reversed_by__isnull=True)
                                 .order_by("repaid_on", "id").values_list("case_id", "repaid_on", "amount")):
        paid.setdefault(case_id, []).append((day, amount))
    changed: list[Promise] = []
    for case_id in case_ids:
        rows = list(Promise.objects.filter(case_id=case_id).exclude(status=PromiseStatus.CANCELLED)
                    .order_by("due_date", "id"))
        outcome = match_promises(promises=[(p.pk, p.made_on, p.window_end, p.amount, p.tolerance) for p in rows],
                                 repayments=paid.get(case_id, []), today=today)
        for p in rows:
            o = outcome[p.pk]
            if (p.status, p.paid_amount, p.decided_on) != (o.status, o.paid, o.decided_on):
                p.status, p.paid_amount, p.decided_on = o.status, o.paid, o.decided_on
                changed.append(p)
    Promise.objects.bulk_update(changed, ["status", "paid_amount", "decided_on"])
    counts = dict.fromkeys(PromiseStatus.values, 0)
    for status in Promise.objects.filter(pk__in=[p.pk for p in new]).values_list("status", flat=True):
        counts[status] += 1
    return counts


def _promise_text(case: Case, p: Promise) -> str:
    base = f"{case.case_no} {case.debtor_name} 承诺 {p.due_date:%m-%d} 还款 ¥{p.amount:,.2f}"
    if p.status == PromiseStatus.KEPT:
        return f"{base}：已兑现（已还 ¥{p.paid_amount:,.2f}）"
    if p.status == PromiseStatus.PARTLY_KEPT:
        return f"{base}：部分兑现（已还 ¥{p.paid_amount:,.2f}），已过宽限期"
    if p.status == PromiseStatus.BROKEN:
        return f"{base}：已违约，宽限期内未见回款"
    return f"{base}：待兑现" + (f"（已还 ¥{p.paid_amount:,.2f}）" if p.paid_amount else "")


def _notify(*, case: Case, promise: Promise) -> None:
    if promise.status in (PromiseStatus.BROKEN, PromiseStatus.PARTLY_KEPT) and case.status in OPEN_STATUSES:
        for user_id in dict.fromkeys(u for u in (case.collector_id, case.owner_clerk_id) if u):
            reminder_create(user_id=user_id, case_id=case.pk, case_no=case.case_no, debtor_name=case.debtor_name,
                            kind=ReminderKind.PROMISE_BROKEN, cycle=f"promise-{promise.pk}",
                            due_at=timezone.now(), text=_promise_text(case, promise))
    elif promise.status == PromiseStatus.KEPT:
        open_ids = list(Reminder.objects.filter(case_id=case.pk, topic=ReminderTopic.PROMISE, resolved_at=None)
                        .values_list("pk", flat=True))
        if open_ids:
            reminder_resolve(reminder_ids=open_ids)


def promises_check_due(*, now: dt.datetime | None = None) -> int:
    """Scheduler tick: decide the open promises whose window has passed (broken / partly kept), and remind the
    collector of promises due today. Returns how many promises changed.

    Emits: as promises_match_case; ReminderDue (今日承诺还款).
    Raises: nothing.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    changed = 0
    case_ids = list(Promise.objects.filter(status=PromiseStatus.OPEN, window_end__lt=today)
                    .values_list("case_id", flat=True).distinct()[:BATCH_LIMIT])
    for case_id in case_ids:
        changed += len(promises_match_case(case_id=case_id, today=today))
    due = (Promise.objects.filter(status=PromiseStatus.OPEN, due_date=today, case__status__in=OPEN_STATUSES,
                                  case__collector__isnull=False)
           .select_related("case").order_by("id")[:BATCH_LIMIT])
    for p in due:
        if p.case.collector_id is None:  # excluded above; tells the type checker so
            continue
        reminder_create(user_id=p.case.collector_id, case_id=p.case_id, case_no=p.case.case_no,
                        debtor_name=p.case.debtor_name, kind=ReminderKind.PROMISE_DUE, cycle=f"promise-{p.pk}",
                        due_at=now, text=_promise_text(p.case, p))
    return changed


# --- callbacks (约定回电) ---------------------------------------------------------------------------------------

@transaction.atomic
def callback_schedule(*, case: Case, by: User, due_at: dt.datetime, phone: str = "", note: str = "",
                      call_id: int | None = None) -> Callback:
    """Agree a callback time with the debtor: within the bank's calling window, on a working day, in the future
    (up to 30 days). Replaces the case's pending callback of the same collector. `call_id`: agreed on that call
    (its outcome form).

    Emits: WorkQueueChanged → user.<collector>.
    Raises: CallbackError.
    """
    from worklist.rules import callback_refusal

    if case.status not in OPEN_STATUSES:
        raise CallbackError(f"{case.case_no} 状态为“{case.get_status_display()}”，不能约定回电")
    collector_id = case.collector_id or by.pk
    refusal = callback_refusal(bank_id=case.bank_id, due_at=due_at, now=timezone.now())
    if refusal:
        raise CallbackError(refusal)
    Callback.objects.filter(case=case, collector_id=collector_id, status=CallbackStatus.PENDING).update(
        status=CallbackStatus.CANCELLED)
    callback = Callback.objects.create(case=case, collector_id=collector_id, due_at=due_at, phone=phone.strip()[:32],
                                       note=note.strip()[:200], created_by=by, call_id=call_id)
    history.callback_scheduled(case=case, actor=by, due_at=timezone.localtime(due_at), note=note.strip())
    queue_changed(case_id=case.pk, user_ids=[collector_id])
    return callback


@transaction.atomic
def callback_cancel(*, callback: Callback, by: User) -> Callback:
    """Cancel a pending callback. Emits: WorkQueueChanged. Raises: CallbackError (not pending)."""
    locked = Callback.objects.select_for_update().get(pk=callback.pk)
    if locked.status != CallbackStatus.PENDING:
        raise CallbackError("这个约定回电已经处理过")
    locked.status = CallbackStatus.CANCELLED
    locked.done_at = timezone.now()
    locked.save(update_fields=["status", "done_at"])
    queue_changed(case_id=locked.case_id, user_ids=[locked.collector_id])
    return locked


# A call this long before the agreed time already counts as the callback (the collector rang a little early).
CALLBACK_EARLY = dt.timedelta(minutes=30)


def callbacks_done_by_call(*, case_id: int, at: dt.datetime, call_id: int | None = None) -> int:
    """A call on the case at `at` completes its pending callbacks due before `at` + CALLBACK_EARLY, except the one
    agreed on that very call (`call_id`).

    Emits: WorkQueueChanged. Raises: nothing.
    """
    with transaction.atomic():
        due = Callback.objects.select_for_update().filter(case_id=case_id, status=CallbackStatus.PENDING,
                                                          due_at__lte=at + CALLBACK_EARLY)
        rows = list(due if call_id is None else due.exclude(call_id=call_id))
        for cb in rows:
            cb.status, cb.done_at = CallbackStatus.DONE, at
            cb.save(update_fields=["status", "done_at"])
            queue_changed(case_id=case_id, user_ids=[cb.collector_id])
        if rows:
            open_ids = list(Reminder.objects.filter(case_id=case_id, topic=ReminderTopic.CALLBACK, resolved_at=None)
                            .values_list("pk", flat=True))
            if open_ids:
                reminder_resolve(reminder_ids=open_ids)
    return len(rows)


def callbacks_fire_due(*, now: dt.datetime | None = None) -> int:
    """Scheduler tick: announce each pending callback whose time came, once (a live reminder that opens the case).

    Emits: CallbackDue → user.<collector> (stored); ReminderDue (约定回电); WorkQueueChanged.
    Raises: nothing.
    """
    now = now or timezone.now()
    fired = 0
    ids = list(Callback.objects.filter(status=CallbackStatus.PENDING, fired_at=None, due_at__lte=now)
               .values_list("pk", flat=True)[:BATCH_LIMIT])
    for pk in ids:
        with transaction.atomic():
            cb = Callback.objects.select_for_update().select_related("case").filter(
                pk=pk, status=CallbackStatus.PENDING, fired_at=None).first()
            if cb is None:
                continue
            cb.fired_at = now
            cb.save(update_fields=["fired_at"])
            case = cb.case
            url = reverse("cases:case-detail", args=[case.pk])
            local = timezone.localtime(cb.due_at)
            text = f"约定 {local:%H:%M} 回电" + (f"：{cb.note}" if cb.note else "")
            user_events_deliver(event=CallbackDue(callback_id=cb.pk, case_id=case.pk, case_no=case.case_no,
                                                  debtor_name=case.debtor_name,
                                                  due_at=cb.due_at.astimezone(dt.UTC).isoformat(),
                                                  phone=cb.phone, note=cb.note, url=url),
                                user_ids=[cb.collector_id])
            reminder_create(user_id=cb.collector_id, case_id=case.pk, case_no=case.case_no,
                            debtor_name=case.debtor_name, kind=ReminderKind.CALLBACK_DUE, cycle=f"callback-{cb.pk}",
                            due_at=cb.due_at, text=text)
            queue_changed(case_id=case.pk, user_ids=[cb.collector_id])
            fired += 1
    return fired


def worklist_tick() -> None:
    """The scheduler's job for this app (settings.SCHEDULER_EXTRA_JOBS): callbacks, then promises."""
    now = timezone.now()
    callbacks_fire_due(now=now)
    promises_check_due(now=now)


# --- per-bank settings ------------------------------------------------------------------------------------------

WEIGHT_FIELDS: tuple[str, ...] = ("weight_callback", "weight_promise_broken", "weight_promise_due",
                                  "weight_first_call", "weight_expiry_3", "weight_first_visit", "weight_expiry_7",
                                  "weight_new", "weight_retry")


@transaction.atomic
def bank_work_settings_update(*, bank_id: int, by: User, tolerance_amount: Decimal, grace_days: int,
                              weights: dict[str, int]) -> BankWorkSettings:
    """A manager sets a bank's promise tolerance and grace and its work-queue weights (0–100); the row keeps who
    and when.

    Emits: nothing. Raises: SettingsError.
    """
    if tolerance_amount < 0:
        raise SettingsError("金额容差不能为负数")
    if not 0 <= grace_days <= 30:
        raise SettingsError("宽限天数须在 0 到 30 之间")
    for name, value in weights.items():
        if name not in WEIGHT_FIELDS:
            raise SettingsError(f"未知的权重 {name}")
        if not 0 <= value <= 100:
            raise SettingsError("权重须在 0 到 100 之间")
    row, _ = BankWorkSettings.objects.select_for_update().get_or_create(bank_id=bank_id)
    row.tolerance_amount, row.grace_days, row.updated_by = tolerance_amount, grace_days, by
    for name, value in weights.items():
        setattr(row, name, value)
    row.save()
    return row
