"""Benchmark: 今日工作 and promise matching (issue 16) on a large PostgreSQL database.

    .venv/bin/python bench/work_queue.py [--cases 1000000] [--collectors 200] [--runs 25] [--file-rows 10000]
                                         [--keep] [--reuse]

Creates its own database `cm_bench_queue` (dropped at the end unless --keep; reused with --reuse), fills it
with bench/case_list.py's generate_series SQL (cases spread over `--collectors` collectors), then adds what the
queue reads, per collector's share of cases: a first-call reminder on ~4 %, an open promise on ~2 % (half due
today or earlier), a broken-promise reminder on ~1 %, a call history on ~10 % (some unanswered today), and a
pending callback on ~0.5 %.

It prints:
1. the queue page: p50/p95 ms of the whole view (work_queue_view rendered through the URL's view function with
   a request, templates included) for several collectors, and of the selector alone;
2. promise matching: a 10,000-row bank repayment file recorded with repayment_file_confirm (reconciliation,
   one entry per row, roll-ups, events) on cases of which ~20 % hold an open promise, with the worklist's
   matching receiver connected and disconnected (each run rolled back, alternated), and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

DB_NAME = "cm_bench_queue"
PG = "postgres://postgres@127.0.0.1:5432"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import case_list  # noqa: E402  (sets its own DATABASE_URL on import: ours below wins)

# A process entry point like manage.py: it chooses the database before Django starts.
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

WORK_SQL = """
CREATE TEMP TABLE q_open AS SELECT id, collector_id, owner_clerk_id, bank_id, return_date, assigned_at,
  row_number() OVER (ORDER BY id) AS n FROM cases_case
  WHERE collector_id IS NOT NULL AND status IN ('not_started', 'in_progress', 'retained');
-- first-call reminders (~4 %)
INSERT INTO cases_reminder (user_id, case_id, kind, topic, cycle, due_at, text, created_at, read_at, resolved_at)
SELECT collector_id, id, 'first_call_overdue', 'first_call', to_char(assigned_at, 'YYYY-MM-DD"T"HH24:MI:SS'),
  now() - interval '1 day', '案件分配已超过3个工作日仍未首次电话联系，请尽快致电', now() - interval '1 day', NULL, NULL
FROM q_open WHERE n % 25 = 0;
-- call history (~10 %): a week ago, answered; and ~1 % unanswered twice today
INSERT INTO cases_callrecord (case_id, collector_id, direction, number, source, started_at, answered_at, result,
  note, created_at, duration_s, hangup_cause, delete_reason %(call_extra_cols)s)
SELECT id, collector_id, 'outbound', '13800000000', 'dialer', now() - interval '7 days' - (n % 50) * interval '1 hour',
  now() - interval '7 days', 'self_answered', '', now(), 60, '', '' %(call_extra_vals)s
FROM q_open WHERE n % 10 = 1;
INSERT INTO cases_callrecord (case_id, collector_id, direction, number, source, started_at, answered_at, result,
  note, created_at, duration_s, hangup_cause, delete_reason %(call_extra_cols)s)
SELECT id, collector_id, 'outbound', '13800000000', 'dialer', now() - k * interval '90 minutes', NULL, 'no_answer',
  '', now(), NULL, '', '' %(call_extra_vals)s
FROM q_open, generate_series(1, 2) k WHERE n % 100 = 7;
-- open promises (~2 %): half due today or before, half later; broken reminders (~1 %)
INSERT INTO worklist_promise (case_id, collector_id, source, contact_label, made_on, due_date, amount, tolerance,
  window_end, paid_amount, status, created_at, updated_at)
SELECT id, collector_id, 'call', '本人', current_date - 3, current_date + ((n / 50) % 5)::int - 2, 500.00, 10.00,
  current_date + ((n / 50) % 5)::int, 0, 'open', now(), now()
FROM q_open WHERE n % 50 = 3;
INSERT INTO worklist_promise (case_id, collector_id, source, contact_label, made_on, due_date, amount, tolerance,
  window_end, paid_amount, status, decided_on, created_at, updated_at)
SELECT id, collector_id, 'call', '本人', current_date - 10, current_date - 6, 800.00, 10.00, current_date - 4, 0,
  'broken', current_date - 3, now(), now()
FROM q_open WHERE n % 100 = 11;
INSERT INTO cases_reminder (user_id, case_id, kind, topic, cycle, due_at, text, created_at, read_at, resolved_at)
SELECT collector_id, id, 'promise_broken', 'promise', 'promise-' || id, now() - interval '3 days',
  'X 某 承诺 还款 ¥800.00：已违约，宽限期内未见回款', now() - interval '3 days', NULL, NULL
FROM q_open WHERE n % 100 = 11;
-- pending callbacks (~0.5 %), half already due
INSERT INTO worklist_callback (case_id, collector_id, due_at, phone, note, status, created_by_id, created_at)
SELECT id, collector_id, now() + ((n % 2) * 2 - 1) * interval '30 minutes', '', '约好再联系', 'pending', collector_id,
  now() FROM q_open WHERE n % 200 = 13;
"""


def fill_work() -> None:
    from django.db import connection

    from cases.models import CallRecord

    started = time.perf_counter()
    mapped = {"id", "case_id", "collector_id", "direction", "number", "source", "started_at", "answered_at",
              "result", "note", "created_at", "duration_s", "hangup_cause", "delete_reason"}
    cols, vals = case_list._extra_columns(CallRecord, mapped)
    sql = WORK_SQL.replace("%(call_extra_cols)s", cols).replace("%(call_extra_vals)s", vals)
    with connection.cursor() as cur:
        for statement in sql.split(";\n"):
            if statement.strip():
                cur.execute(statement)
        cur.execute("VACUUM ANALYZE")
    print(f"filled the queue's sources in {time.perf_counter() - started:.1f} s")


def load() -> str:
    """The machine's load beside every figure (it is shared and noisy): 1, 5 and 15 minute averages."""
    one, five, fifteen = os.getloadavg()
    return f"[load {one:.2f} {five:.2f} {fifteen:.2f}]"


def pct(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def bench_queue(args: argparse.Namespace) -> None:
    from django.test import RequestFactory
    from django_htmx.middleware import HtmxDetails

    from accounts.models import User
    from cases.models import Case
    from worklist.queue import work_queue_for_collector
    from worklist.views import work_queue_view

    people = list(User.objects.filter(is_phone_collector=True, username__in=[f"c{i}" for i in range(1, 21)])
                  .order_by("id")[:5])
    rf = RequestFactory()
    page_ms: list[float] = []
    sel_ms: list[float] = []
    sizes = []
    for user in people:
        n = Case.objects.filter(collector=user).count()
        queue = work_queue_for_collector(collector=user)
        sizes.append((user.username, n, queue.total))
        for _ in range(2):
            work_queue_for_collector(collector=user)
        for _ in range(args.runs):
            t = time.perf_counter()
            work_queue_for_collector(collector=user)
            sel_ms.append((time.perf_counter() - t) * 1000)
            request = rf.get("/work/")
            request.user = user
            request.htmx = HtmxDetails(request)
            t = time.perf_counter()
            response = work_queue_view(request)
            page_ms.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
    for name, n, total in sizes:
        print(f"  {name}: {n:,} cases, {total:,} in the queue")
    p50, p95 = pct(sel_ms)
    print(f"queue selector   p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({len(sel_ms)} runs)  {load()}")
    p50, p95 = pct(page_ms)
    print(f"queue page view  p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   ({len(page_ms)} runs, templates included)  "
          f"{load()}")


class _Rollback(Exception):
    pass


def bench_matching(args: argparse.Namespace) -> None:
    import datetime as dt
    from decimal import Decimal

    from django.db import transaction
    from django.db.models.signals import post_save
    from django.utils import timezone

    from accounts.models import User
    from cases.actions.repayments import repayment_file_confirm
    from cases.imports.repayments import RepaymentRow
    from cases.models import Bank, Case, Repayment
    from cases.signals import repayments_recorded
    from worklist import signals
    from worklist.models import Promise

    bank = Bank.objects.order_by("id").first()
    assert bank is not None
    clerk = User.objects.filter(is_clerk=True, bank_scopes__bank=bank).first()
    promised = set(Promise.objects.filter(case__bank=bank, status="open").values_list("case_id", flat=True))
    rows_cases = list(Case.objects.filter(bank=bank, status__in=("in_progress", "not_started"),
                                          balance__gt=1000).exclude(pk__in=promised)
                      .order_by("id").values_list("pk", "case_no")[: int(args.file_rows * 0.8)])
    rows_cases += list(Case.objects.filter(pk__in=promised, balance__gt=1000).values_list("pk", "case_no")
                       [: args.file_rows - len(rows_cases)])
    today = timezone.localdate()
    rows = [RepaymentRow(row_number=i + 2, case_no=case_no, card_no="", amount=Decimal("500.00"),
                         repaid_on=today - dt.timedelta(days=1)) for i, (_, case_no) in enumerate(rows_cases)]
    with_promise = sum(1 for pk, _ in rows_cases if pk in promised)
    print(f"bank file: {len(rows):,} rows, {with_promise:,} on cases with an open promise")

    def once(matching: bool) -> tuple[float, int]:
        if not matching:
            post_save.disconnect(sender=Repayment, dispatch_uid="worklist-repayment-saved")
            repayments_recorded.disconnect(sender=Repayment, dispatch_uid="worklist-repayments-recorded")
        try:
            t = time.perf_counter()
            kept = 0
            try:
                with transaction.atomic():
                    repayment_file_confirm(bank=bank, sha256="b" * 64, filename="bench.xlsx", rows=rows, by=clerk)
                    kept = Promise.objects.filter(status="kept", case__bank=bank).count()
                    elapsed = time.perf_counter() - t
                    raise _Rollback
            except _Rollback:
                pass
            return elapsed, kept
        finally:
            if not matching:
                post_save.connect(signals.repayment_saved, sender=Repayment, dispatch_uid="worklist-repayment-saved")
                repayments_recorded.connect(signals.repayments_recorded_together, sender=Repayment,
                                            dispatch_uid="worklist-repayments-recorded")

    plain: list[float] = []
    matched: list[float] = []
    kept = 0
    for _ in range(args.file_runs):
        plain.append(once(False)[0])
        seconds, kept = once(True)
        matched.append(seconds)
    p, m = statistics.median(plain), statistics.median(matched)
    print(f"import without matching  median {p:6.2f} s   ({', '.join(f'{x:.2f}' for x in plain)})  {load()}")
    print(f"import with matching     median {m:6.2f} s   ({', '.join(f'{x:.2f}' for x in matched)}); "
          f"{kept:,} promises kept")
    print(f"ratio {m / p:.2f}× (target ≤ 2×) on a {len(rows):,}-row file  {load()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--collectors", type=int, default=200)
    parser.add_argument("--runs", type=int, default=25, help="queue timings per collector")
    parser.add_argument("--file-rows", type=int, default=10_000)
    parser.add_argument("--file-runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    case_list.DB_NAME = DB_NAME
    if not args.reuse:
        case_list.admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        case_list.admin_sql(f"CREATE DATABASE {DB_NAME}")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        if not args.reuse:
            # Spread the cases over `--collectors` collectors (case_list's SQL spreads them over 300).
            case_list.FILL_SQL = case_list.FILL_SQL.replace("% 300;", f"% {args.collectors};")
            assert f"% {args.collectors};" in case_list.FILL_SQL
            case_list.fill(args.cases)
            fill_work()
        bench_queue(args)
        bench_matching(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            case_list.admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
