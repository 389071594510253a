"""Upkeep of the report roll-ups that are recomputed per group (CollectorProgress, BatchProgress).

Why marks and a refresh rather than F() deltas: a collector's figures depend on every write path that moves a
case (assignment, call, visit, deleting a record, repayment, and a batch import that carries a continued case's
collector over). The actions mark the groups they touch (`mark`, inside their own transaction, so a mark
becomes visible exactly when the change does); batches are found by having no BatchProgress row yet, so an
import needs no hook. `refresh` recomputes the marked groups from the cases, calls and visits — exact by
construction, never a drifting sum — and the report selectors call it before they read.

Why this is race-free: refreshes run one at a time (an advisory lock on PostgreSQL; SQLite writes serially);
a refresh reads the marks first and recomputes afterwards, so any change it did not see keeps its mark for
the next refresh, and it deletes only the marks it read.

Called from actions (`mark`), report selectors (`refresh`) and the rebuild_report_rollups command
(`rebuild`). Must not import views, selectors or actions.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, DecimalField, Exists, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth

from cases.enums import CallResult, CaseStatus, ProductType, VisitResult
from cases.models import (
    Batch,
    BatchProgress,
    CallRecord,
    Case,
    CollectorProgress,
    Repayment,
    RepaymentDaily,
    RepaymentKind,
    RepaymentMonthly,
    RollupDirty,
    RollupKind,
    VisitRecord,
)

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=18, decimal_places=2)
CHUNK = 500
_LOCK_KEY = 0x636D5255  # pg_advisory_xact_lock key of the refresh ("cmRU")


def _chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    items = sorted(ids)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def mark(*, collector_ids: Iterable[int | None] = (), batch_ids: Iterable[int | None] = (),
         case_ids: Iterable[int | None] = (), worked_case_ids: Iterable[int | None] = ()) -> None:
    """Note that these groups' progress figures changed (call inside the changing transaction).

    `case_ids`: the cases' amounts changed (a repayment) — their collectors' amounts are recomputed, a cheap
    sum over the cases they hold. `worked_case_ids`: a call, visit or deleted record on the cases — their
    collectors' every figure is recomputed, contact and visit included. A case mark stands for the case's
    collector as it is when the refresh runs: an action that does not lock the case (a call, a visit) cannot
    know whether an assignment is moving it right now. A case's batch never changes, so a repayment marks its
    batch directly (only repayments move a batch's figures).
    """
    rows = [RollupDirty(kind=RollupKind.COLLECTOR, key=pk) for pk in {c for c in collector_ids if c}]
    rows += [RollupDirty(kind=RollupKind.BATCH, key=pk) for pk in {b for b in batch_ids if b}]
    rows += [RollupDirty(kind=RollupKind.CASE, key=pk) for pk in {c for c in case_ids if c}]
    rows += [RollupDirty(kind=RollupKind.CASE_WORK, key=pk) for pk in {c for c in worked_case_ids if c}]
    if rows:
        RollupDirty.objects.bulk_create(rows)


def _collectors_of(case_ids: set[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(case_ids):
        found |= set(Case.objects.filter(pk__in=chunk, collector__isnull=False).values_list("collector_id", flat=True))
    return found


def _new_batches() -> Iterable[int]:
    return (Batch.objects.filter(~Exists(BatchProgress.objects.filter(batch=OuterRef("pk"))))
            .values_list("pk", flat=True))


def pending() -> bool:
    """True when some group is marked or a batch was imported since the last refresh."""
    return RollupDirty.objects.exists() or Batch.objects.filter(pk__in=_new_batches()).exists()


def refresh() -> int:
    """Recompute every marked group and every batch imported since; returns how many groups were recomputed."""
    if not pending():
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        marks = list(RollupDirty.objects.values_list("pk", "kind", "key"))
        new_batches = set(_new_batches())
        collectors = {key for _, kind, key in marks if kind == RollupKind.COLLECTOR}
        # A call, visit, deletion, return or retention moves its batch's every figure (full recompute); a
        # repayment (a BATCH mark) only its money and statuses, which need no call or visit look-up.
        batches = new_batches | _batches_of({key for _, kind, key in marks if kind == RollupKind.CASE_WORK})
        batch_amounts = {key for _, kind, key in marks if kind == RollupKind.BATCH} - batches
        collectors |= _collectors_of({key for _, kind, key in marks if kind == RollupKind.CASE_WORK})
        for chunk in _chunks(new_batches):
            # A continued case arrives with its earlier collector: that collector holds one case more.
            collectors |= set(Case.objects.filter(batch_id__in=chunk, collector__isnull=False)
                              .order_by().values_list("collector_id", flat=True).distinct())
        _recompute_collectors(collectors)
        amounts_only = _collectors_of({key for _, kind, key in marks if kind == RollupKind.CASE}) - collectors
        incomplete = _recompute_amounts(amounts_only)
        _recompute_collectors(incomplete)
        collectors |= amounts_only
        _recompute_batches(batches | _recompute_batch_amounts(batch_amounts))
        batches |= batch_amounts
        for chunk in _chunks(pk for pk, _, _ in marks):
            RollupDirty.objects.filter(pk__in=chunk).delete()
    return len(collectors) + len(batches)


def _collector_rows(ids: list[int] | None) -> list[CollectorProgress]:
    """Rows for these collectors (every collector for None): the cases they hold, with a live call / visit."""
    if ids is None or len(ids) > _JOIN_SHAPE_FROM:
        return _collector_rows_joined(ids)
    live_calls = CallRecord.objects.filter(case=OuterRef("pk"), deleted_at__isnull=True)
    live_visits = VisitRecord.objects.filter(case=OuterRef("pk"), deleted_at__isnull=True)
    rows = (Case.objects.filter(collector_id__in=ids)
            .annotate(called=Exists(live_calls), visited=Exists(live_visits))
            .values("collector_id", "bank_id").order_by()
            .annotate(held=Count("id"), contacted=Count("id", filter=Q(called=True)),
                      visits=Count("id", filter=Q(visited=True)),
                      repaid_n=Count("id", filter=Q(repaid_amount__gt=0)),
                      repaid=Coalesce(Sum("repaid_amount"), Value(ZERO), output_field=MONEY),
                      entrusted=Coalesce(Sum("entrusted_amount"), Value(ZERO), output_field=MONEY)))
    return [CollectorProgress(collector_id=r["collector_id"], bank_id=r["bank_id"], held=r["held"],
                              contacted=r["contacted"], visited=r["visits"], repaid_cases=r["repaid_n"],
                              repaid_amount=r["repaid"], entrusted_amount=r["entrusted"]) for r in rows]


# From this many collectors on, one pass joining the distinct called / visited case ids beats an index probe
# per case (200,000 cases, 500,000 calls: 0.16 s against 2 s on PostgreSQL).
_JOIN_SHAPE_FROM = 30


def _money(value: object) -> Decimal:
    # SQLite sums decimals as floats; the fen is exact after rounding (PostgreSQL's numeric is exact anyway).
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _collector_rows_joined(ids: list[int] | None) -> list[CollectorProgress]:
    case, call, visit = Case._meta.db_table, CallRecord._meta.db_table, VisitRecord._meta.db_table
    where, params = "", []
    if ids is not None:
        where, params = f"AND c.collector_id IN ({', '.join(['%s'] * len(ids))})", list(ids)
    sql = f"""
        SELECT c.collector_id, c.bank_id, COUNT(*), COUNT(k.case_id), COUNT(v.case_id),
               SUM(CASE WHEN c.repaid_amount > 0 THEN 1 ELSE 0 END), SUM(c.repaid_amount), SUM(c.entrusted_amount)
        FROM {case} c
        LEFT JOIN (SELECT DISTINCT case_id FROM {call} WHERE deleted_at IS NULL AND case_id IS NOT NULL) k
          ON k.case_id = c.id
        LEFT JOIN (SELECT DISTINCT case_id FROM {visit} WHERE deleted_at IS NULL) v ON v.case_id = c.id
        WHERE c.collector_id IS NOT NULL {where}
        GROUP BY c.collector_id, c.bank_id"""  # table names from the models; the ids go as parameters
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return [CollectorProgress(collector_id=cid, bank_id=bid, held=held, contacted=called, visited=visited,
                                  repaid_cases=repaid_n, repaid_amount=_money(repaid), entrusted_amount=_money(ent))
                for cid, bid, held, called, visited, repaid_n, repaid, ent in cur.fetchall()]


def _recompute_amounts(ids: set[int]) -> set[int]:
    """Held, repaid and entrusted figures of these collectors, from the cases they hold (no call or visit look-up:
    a repayment moves neither). Returns the collectors whose rows do not match their banks any more, for a
    full recompute."""
    incomplete: set[int] = set()
    for chunk in _chunks(ids):
        rows = {(r["collector_id"], r["bank_id"]): r for r in (
            Case.objects.filter(collector_id__in=chunk).values("collector_id", "bank_id").order_by()
            .annotate(held=Count("id"), repaid_n=Count("id", filter=Q(repaid_amount__gt=0)),
                      repaid=Coalesce(Sum("repaid_amount"), Value(ZERO), output_field=MONEY),
                      entrusted=Coalesce(Sum("entrusted_amount"), Value(ZERO), output_field=MONEY)))}
        kept = {(p.collector_id, p.bank_id): p for p in CollectorProgress.objects.filter(collector_id__in=chunk)}
        incomplete |= {collector for collector, _ in set(rows) ^ set(kept)}
        changed = []
        for key, progress in kept.items():
            r = rows.get(key)
            if r is not None:
                progress.held, progress.repaid_cases = r["held"], r["repaid_n"]
                progress.repaid_amount, progress.entrusted_amount = r["repaid"], r["entrusted"]
                changed.append(progress)
        CollectorProgress.objects.bulk_update(changed, ["held", "repaid_cases", "repaid_amount", "entrusted_amount"])
    return incomplete


def _recompute_collectors(ids: set[int]) -> None:
    for chunk in _chunks(ids):
        rows = _collector_rows(chunk)
        CollectorProgress.objects.filter(collector_id__in=chunk).delete()
        CollectorProgress.objects.bulk_create(rows, batch_size=1000)


def with_live_work(cases: QuerySet[Case]) -> QuerySet[Case]:
    """`cases` annotated with whether each has a live (not deleted) call, visit, promise call, promise visit.

    One probe per case into call_live_case_idx / visit_live_case_idx, answered from those small partial indexes:
    a batch of 5,000 cases costs ~10 ms, where a join to the calls scans every call of the agency.
    """
    calls = CallRecord.objects.filter(case=OuterRef("pk"), deleted_at__isnull=True)
    visits = VisitRecord.objects.filter(case=OuterRef("pk"), deleted_at__isnull=True)
    return cases.annotate(called=Exists(calls), visited=Exists(visits),
                          promise_call=Exists(calls.filter(result=CallResult.PROMISE)),
                          promise_visit=Exists(visits.filter(result=VisitResult.PROMISE)))


def work_counts() -> dict[str, Count]:
    """Aggregates over `with_live_work` cases: how many were called, visited, promised (by call or visit)."""
    return {"contacted": Count("id", filter=Q(called=True)), "visits": Count("id", filter=Q(visited=True)),
            "promised": Count("id", filter=Q(promise_call=True) | Q(promise_visit=True))}


# Up to this many batches, their contact, visit and promise counts come from index probes per case
# (with_live_work); beyond, one pass over the distinct called / visited case ids of the agency is cheaper
# (every batch of 200,000 cases, 500,000 calls: 1.7 s of probes against 0.8 s).
_PROBE_BATCHES_UP_TO = 20


def _batch_rows(ids: list[int] | None) -> list[BatchProgress]:
    """Rows for these batches (all batches for None): progress of every case, and of the credit-card cases."""
    cases = Case.objects.all()
    batches = Batch.objects.all()
    if ids is not None:
        cases, batches = cases.filter(batch_id__in=ids), batches.filter(pk__in=ids)
    if ids is not None and len(ids) <= _PROBE_BATCHES_UP_TO:
        figures = {r["batch_id"]: r for r in _batch_sums(with_live_work(cases), **work_counts())}
        contacted = {pk: r["contacted"] for pk, r in figures.items()}
        visited = {pk: r["visits"] for pk, r in figures.items()}
        promised = {pk: r["promised"] for pk, r in figures.items()}
    else:
        figures = {r["batch_id"]: r for r in _batch_sums(cases)}
        contacted, visited, promised = _batch_work_joined(ids)
    rows = []
    for pk, bank_id in batches.values_list("pk", "bank_id"):
        r = figures.get(pk)
        if r is None:
            rows.append(BatchProgress(batch_id=pk, bank_id=bank_id))
            continue
        rows.append(BatchProgress(
            batch_id=pk, bank_id=bank_id, cases=r["n"], entrusted=_money(r["e"]), contacted=contacted.get(pk, 0),
            visited=visited.get(pk, 0), promised=promised.get(pk, 0), repaid_cases=r["repaid_n"],
            repaid=_money(r["r"]), settled=r["settled"], returned=r["returned"], retained=r["retained"],
            card_cases=r["card_n"], card_entrusted=_money(r["card_e"]), card_repaid=_money(r["card_r"])))
    return rows


def _batch_work_joined(ids: list[int] | None) -> tuple[dict[int, int], dict[int, int], dict[int, int]]:
    """Per batch: cases with a live call, a live visit, a promise — distinct case ids over the calls and visits."""
    calls = CallRecord.objects.filter(deleted_at__isnull=True, case__isnull=False)
    visits = VisitRecord.objects.filter(deleted_at__isnull=True)
    if ids is not None:
        calls, visits = calls.filter(case__batch_id__in=ids), visits.filter(case__batch_id__in=ids)

    def distinct_cases(qs: QuerySet) -> dict[int, int]:  # type: ignore[type-arg]
        return dict(qs.values("case__batch_id").order_by().annotate(n=Count("case_id", distinct=True))
                    .values_list("case__batch_id", "n"))

    promised_pairs = set(calls.filter(result=CallResult.PROMISE).values_list("case__batch_id", "case_id"))
    promised_pairs |= set(visits.filter(result=VisitResult.PROMISE).values_list("case__batch_id", "case_id"))
    promised: dict[int, int] = {}
    for batch_id, _ in promised_pairs:
        promised[batch_id] = promised.get(batch_id, 0) + 1
    return distinct_cases(calls), distinct_cases(visits), promised


def _batches_of(case_ids: set[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(case_ids):
        found |= set(Case.objects.filter(pk__in=chunk).order_by().values_list("batch_id", flat=True).distinct())
    return found


def _batch_sums(cases: QuerySet[Case], **extra: Count) -> QuerySet[Case]:
    card = Q(product_type=ProductType.CREDIT_CARD)

    def money(field: str, condition: Q | None = None) -> Coalesce:
        return Coalesce(Sum(field, filter=condition), Value(ZERO), output_field=MONEY)

    return (cases.values("batch_id").order_by()
            .annotate(n=Count("id"), e=money("entrusted_amount"), r=money("repaid_amount"),
                      repaid_n=Count("id", filter=Q(repaid_amount__gt=0)),
                      settled=Count("id", filter=Q(status=CaseStatus.SETTLED)),
                      returned=Count("id", filter=Q(status=CaseStatus.RETURNED)),
                      retained=Count("id", filter=Q(status=CaseStatus.RETAINED)),
                      card_n=Count("id", filter=card), card_e=money("entrusted_amount", card),
                      card_r=money("repaid_amount", card), **extra))


def _recompute_batch_amounts(ids: set[int]) -> set[int]:
    """Money and status figures of these batches after repayments; returns the batches without a row yet (for a
    full recompute)."""
    missing: set[int] = set()
    for chunk in _chunks(ids):
        rows = {p.batch_id: p for p in BatchProgress.objects.filter(batch_id__in=chunk)}
        missing |= set(chunk) - set(rows)
        for r in _batch_sums(Case.objects.filter(batch_id__in=list(rows))):
            p = rows[r["batch_id"]]
            p.cases, p.entrusted, p.repaid, p.repaid_cases = r["n"], _money(r["e"]), _money(r["r"]), r["repaid_n"]
            p.settled, p.returned, p.retained = r["settled"], r["returned"], r["retained"]
            p.card_cases, p.card_entrusted, p.card_repaid = r["card_n"], _money(r["card_e"]), _money(r["card_r"])
        BatchProgress.objects.bulk_update(list(rows.values()), [
            "cases", "entrusted", "repaid", "repaid_cases", "settled", "returned", "retained", "card_cases",
            "card_entrusted", "card_repaid"])
    return missing


def _recompute_batches(ids: set[int]) -> None:
    for chunk in _chunks(ids):
        rows = _batch_rows(chunk)
        BatchProgress.objects.filter(batch_id__in=chunk).delete()
        BatchProgress.objects.bulk_create(rows, batch_size=1000)


@transaction.atomic
def rebuild() -> dict[str, int]:
    """Recompute every roll-up from the raw repayments, cases, calls and visits (after a restore, or to check)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    RollupDirty.objects.all().delete()
    CollectorProgress.objects.all().delete()
    BatchProgress.objects.all().delete()
    CollectorProgress.objects.bulk_create(_collector_rows(None), batch_size=1000)
    BatchProgress.objects.bulk_create(_batch_rows(None), batch_size=1000)

    # Entries and reversals land in their own day's bucket at the entry's rate; a reversal counts −1.
    RepaymentMonthly.objects.all().delete()
    RepaymentDaily.objects.all().delete()
    signed = Count("id", filter=~Q(kind=RepaymentKind.REVERSAL)) - Count("id", filter=Q(kind=RepaymentKind.REVERSAL))
    daily = (Repayment.objects.values("repaid_on", "case__bank_id", "case__batch_id", "commission_rate").order_by()
             .annotate(a=Coalesce(Sum("amount"), Value(ZERO), output_field=MONEY),
                       c=Coalesce(Sum("commission"), Value(ZERO), output_field=MONEY), n=signed))
    RepaymentDaily.objects.bulk_create(
        (RepaymentDaily(day=r["repaid_on"], bank_id=r["case__bank_id"], batch_id=r["case__batch_id"],
                        commission_rate=r["commission_rate"], amount=r["a"], commission=r["c"], count=r["n"])
         for r in daily.iterator()), batch_size=2000)
    monthly = (RepaymentDaily.objects.annotate(m=TruncMonth("day"))
               .values("m", "bank_id", "batch_id", "commission_rate").order_by()
               .annotate(a=Sum("amount"), c=Sum("commission"), n=Sum("count")))
    RepaymentMonthly.objects.bulk_create(
        (RepaymentMonthly(month=r["m"], bank_id=r["bank_id"], batch_id=r["batch_id"],
                          commission_rate=r["commission_rate"], amount=r["a"], commission=r["c"], count=r["n"])
         for r in monthly.iterator()), batch_size=2000)
    return {"collector_progress": CollectorProgress.objects.count(), "batch_progress": BatchProgress.objects.count(),
            "repayment_daily": RepaymentDaily.objects.count(), "repayment_monthly": RepaymentMonthly.objects.count()}
