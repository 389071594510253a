"""Benchmark: the report pages and the all-cases export on 200,000 cases and 1,000,000 repayments (PostgreSQL).

    .venv/bin/python bench/reports.py [--cases 200000] [--repayments 1000000] [--calls 600000] [--visits 60000]
                                      [--runs 20] [--keep] [--reuse] [--db NAME] [--only-insight]

Creates its own database `cm_bench_reports` (or --db NAME; dropped at the end unless --keep; --reuse runs on the
database a --keep run left, after migrating it), migrates it, fills cases with bench/case_list.py's generate_series SQL,
then 1,000,000 repayments over two years, 600,000 calls and 60,000 visits on assigned cases with
generate_series, and builds the daily and monthly roll-ups (RepaymentDaily, RepaymentMonthly) from the
repayments with INSERT … SELECT … GROUP BY — the same figures the repayment actions keep incrementally. The
progress and credit-card roll-ups are filled by the product's own refresh (every batch is new to it, as after
an import); its time is printed. Then, in the same run, for each report: p50/p95 of the report page (the view,
rendered, for a manager) next to the plain SQL aggregate over the raw tables (repayments; for progress and the
credit-card rate the cases with their repayments, calls and visits) giving the same table; and the all-cases
export (time, peak RSS of this process). Issue 18: the dashboard page, its chart data and target progress, the
ranking, the per-batch progress page and its largest drill-down (p50/p95), the two again right after a call (the
page first refreshes the call's batch and collector, as it does all day while the dialer works), and a month's
commission statements of every collector (seconds).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_case_list", ROOT / "bench" / "case_list.py")
assert _spec and _spec.loader
case_list_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(case_list_bench)  # sets DATABASE_URL for its own db: chosen again below

DB_NAME = "cm_bench_reports"
PG = case_list_bench.PG
os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"

REPAYMENT_SQL = """
INSERT INTO cases_repayment (case_id, amount, commission, commission_rate, repaid_on, bank_ref, note, kind,
  reverses_id, overpayment, source_sha256, recorded_by_id, created_at, collector_id)
SELECT c.id, a.amount, round(a.amount * c.commission_rate, 2), c.commission_rate,
  current_date - ((hashint4(g + 3) & 2147483647) % 730), 'B' || g, '', 'normal', NULL, false, '', %(clerk)s,
  (current_date - ((hashint4(g + 3) & 2147483647) % 730)) + interval '15 hours', c.collector_id
FROM generate_series(1, %(n)s) g
JOIN cases_case c ON c.id = (SELECT min(id) FROM cases_case) + (hashint4(g) & 2147483647) %% %(cases)s
CROSS JOIN LATERAL (SELECT (1 + (hashint4(g + 1) & 2147483647) %% 50000) / 100.0 AS amount) a
"""
ROLLUP_SQL = """
INSERT INTO cases_repaymentdaily (day, bank_id, batch_id, commission_rate, amount, commission, count)
SELECT r.repaid_on, c.bank_id, c.batch_id, r.commission_rate, sum(r.amount), sum(r.commission), count(*)
FROM cases_repayment r JOIN cases_case c ON c.id = r.case_id
GROUP BY r.repaid_on, c.bank_id, c.batch_id, r.commission_rate
"""
MONTHLY_SQL = """
INSERT INTO cases_repaymentmonthly (month, bank_id, batch_id, commission_rate, amount, commission, count)
SELECT date_trunc('month', day)::date, bank_id, batch_id, commission_rate, sum(amount), sum(commission), sum(count)
FROM cases_repaymentdaily GROUP BY 1, 2, 3, 4
"""
# Calls and visits on assigned cases, a tenth of the calls soft-deleted (they must not count as contact).
CALL_SQL = """
INSERT INTO cases_callrecord (case_id, collector_id, direction, number, source, started_at, answered_at, ended_at,
  duration_s, hangup_cause, result, note, created_at, deleted_at, delete_reason, caller_id)
SELECT c.id, c.collector_id, 'outbound', c.mobile, 'manual', now() - (g % 700) * interval '1 day', NULL, NULL, NULL,
  '', 'no_answer', '', now(), CASE WHEN g % 10 = 0 THEN now() END, CASE WHEN g % 10 = 0 THEN '误录' ELSE '' END, ''
FROM generate_series(1, %(n)s) g
JOIN cases_case c ON c.id = (SELECT min(id) FROM cases_case) + (hashint4(g + 21) & 2147483647) % %(cases)s
WHERE c.collector_id IS NOT NULL
"""
VISIT_SQL = """
INSERT INTO cases_visitrecord (case_id, collector_id, entered_by_id, visited_on, address, met_person, result, note,
  created_at, delete_reason)
SELECT c.id, c.collector_id, c.collector_id, current_date - g % 700, c.home_address, '', 'nobody_home', '', now(), ''
FROM generate_series(1, %(n)s) g
JOIN cases_case c ON c.id = (SELECT min(id) FROM cases_case) + (hashint4(g + 37) & 2147483647) % %(cases)s
WHERE c.collector_id IS NOT NULL
"""
# The dashboard's daily counters (issue 18: dashboard tiles, ranking), as the actions would have bumped them.
DAILY_STATS_SQL = """
INSERT INTO cases_dailycollectorstats (day, collector_id, cases_worked, calls_made, calls_connected, calls_inbound,
  visits, new_assignments, repaid_amount, updated_at)
SELECT d, collector_id, 0, sum(calls), 0, 0, 0, 0, sum(repaid), now() FROM (
  SELECT (started_at AT TIME ZONE 'Asia/Shanghai')::date d, collector_id, count(*) calls, 0::numeric repaid
    FROM cases_callrecord WHERE deleted_at IS NULL AND collector_id IS NOT NULL GROUP BY 1, 2
  UNION ALL
  SELECT repaid_on, collector_id, 0, sum(amount) FROM cases_repayment WHERE collector_id IS NOT NULL GROUP BY 1, 2
) x GROUP BY 1, 2
"""
# The plain aggregates over the raw table that give the same tables as the report pages.
PLAIN = {
    "month×batch": """SELECT date_trunc('month', r.repaid_on), c.batch_id, count(*), sum(r.amount), sum(r.commission)
        FROM cases_repayment r JOIN cases_case c ON c.id = r.case_id
        WHERE r.repaid_on BETWEEN %s AND %s GROUP BY 1, 2 ORDER BY 1, 2""",
    "month×rate": """SELECT date_trunc('month', r.repaid_on), r.commission_rate, count(*), sum(r.amount),
        sum(r.commission) FROM cases_repayment r WHERE r.repaid_on BETWEEN %s AND %s GROUP BY 1, 2 ORDER BY 1, 2""",
    "day×batch": """SELECT r.repaid_on, c.batch_id, count(*), sum(r.amount), sum(r.commission)
        FROM cases_repayment r JOIN cases_case c ON c.id = r.case_id
        WHERE r.repaid_on BETWEEN %s AND %s GROUP BY 1, 2 ORDER BY 1, 2""",
    "year×rate": """SELECT date_trunc('year', r.repaid_on), r.commission_rate, count(*), sum(r.amount),
        sum(r.commission) FROM cases_repayment r WHERE r.repaid_on BETWEEN %s AND %s GROUP BY 1, 2 ORDER BY 1, 2""",
}
PLAIN_CASES = {
    "credit_card": """SELECT c.batch_id, count(*), sum(c.entrusted_amount), coalesce(sum(r.a), 0)
        FROM cases_case c LEFT JOIN (SELECT case_id, sum(amount) a FROM cases_repayment GROUP BY case_id) r
          ON r.case_id = c.id
        WHERE c.product_type = 'credit_card' GROUP BY c.batch_id ORDER BY c.batch_id""",
    "progress": """SELECT u.full_name, count(*),
          count(*) FILTER (WHERE EXISTS (SELECT 1 FROM cases_callrecord k WHERE k.case_id = c.id
                                         AND k.deleted_at IS NULL)),
          count(*) FILTER (WHERE EXISTS (SELECT 1 FROM cases_visitrecord v WHERE v.case_id = c.id
                                         AND v.deleted_at IS NULL)),
          count(r.a) FILTER (WHERE r.a > 0), coalesce(sum(r.a), 0), sum(c.entrusted_amount)
        FROM cases_case c JOIN accounts_user u ON u.id = c.collector_id
        LEFT JOIN (SELECT case_id, sum(amount) a FROM cases_repayment GROUP BY case_id) r ON r.case_id = c.id
        GROUP BY u.full_name ORDER BY u.full_name""",
}
PAGES = {"month×batch": ("month", "batch"), "month×rate": ("month", "rate"), "day×batch": ("day", "batch"),
         "year×rate": ("year", "rate")}


def fill(cases: int, repayments: int, calls: int, visits: int) -> None:
    from django.db import connection

    from accounts.models import User

    case_list_bench.fill(cases)
    started = time.perf_counter()
    clerk = User.objects.filter(is_clerk=True).values_list("id", flat=True).first()
    with connection.cursor() as cur:
        cur.execute(REPAYMENT_SQL.replace("%(clerk)s", str(clerk)).replace("%(n)s", str(repayments))
                    .replace("%(cases)s", str(cases)).replace("%%", "%"))
        cur.execute(ROLLUP_SQL)
        cur.execute(MONTHLY_SQL)
        cur.execute(CALL_SQL.replace("%(n)s", str(calls)).replace("%(cases)s", str(cases)))
        cur.execute(VISIT_SQL.replace("%(n)s", str(visits)).replace("%(cases)s", str(cases)))
        cur.execute("""UPDATE cases_case c SET repaid_amount = s.a, balance = c.entrusted_amount - s.a
                       FROM (SELECT case_id, sum(amount) a FROM cases_repayment GROUP BY case_id) s
                       WHERE s.case_id = c.id""")
        cur.execute(DAILY_STATS_SQL)
        cur.execute("VACUUM ANALYZE")
        cur.execute("SELECT count(*) FROM cases_repayment")
        n = cur.fetchone()[0]
        cur.execute("SELECT (SELECT count(*) FROM cases_repaymentdaily), (SELECT count(*) FROM cases_repaymentmonthly),"
                    " (SELECT count(*) FROM cases_callrecord), (SELECT count(*) FROM cases_visitrecord)")
        daily, monthly, n_calls, n_visits = cur.fetchone()
    print(f"filled {n:,} repayments (roll-ups: {daily:,} daily, {monthly:,} monthly rows), {n_calls:,} calls, "
          f"{n_visits:,} visits, in {time.perf_counter() - started:.1f} s")


def timed_after(cases: list[Any], write: Callable[[Any], object],
                view: Callable[[Any], Callable[[], None]]) -> tuple[float, float]:
    """p50 / p95 in ms of `view(case)` right after `write(case)` (not timed), one sample a case."""
    samples = []
    for case in cases:
        write(case)
        go = view(case)
        started_at = time.perf_counter()
        go()
        samples.append((time.perf_counter() - started_at) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def refresh_rollups() -> None:
    from cases import rollups
    from cases.models import BatchProgress, CollectorProgress

    started = time.perf_counter()
    groups = rollups.refresh()
    print(f"progress roll-ups refreshed for {groups:,} groups (every collector and batch) in "
          f"{time.perf_counter() - started:.1f} s: {CollectorProgress.objects.count():,} collector × bank rows, "
          f"{BatchProgress.objects.count():,} batch rows")


def run(runs: int) -> None:
    import datetime as dt

    from django.db import connection
    from django.test import RequestFactory
    from django.utils import timezone

    from accounts.models import User
    from cases.actions.exports import cases_export
    from cases.selectors.cases import CaseFilters
    from cases.views.reports import report_view

    manager = User.objects.filter(is_manager=True).first()
    today = timezone.localdate()
    factory = RequestFactory()

    def page(params: dict[str, str]):
        def go() -> None:
            request = factory.get("/cases/reports/", params)
            request.user = manager
            response = report_view(request)
            assert response.status_code == 200, response.status_code
        return go

    def plain(sql: str, start: dt.date | None):
        def go() -> None:
            with connection.cursor() as cur:
                cur.execute(sql, [start, today] if start else None)
                cur.fetchall()
        return go

    print(f"{'report':<28}{'page p50':>10}{'page p95':>10}{'plain SQL p50':>15}{'plain p95':>11}")
    starts = {"month": today.replace(month=1, day=1) - dt.timedelta(days=366), "day": today - dt.timedelta(days=30),
              "year": dt.date(today.year - 4, 1, 1)}
    for name, (period, by) in PAGES.items():
        start = starts[period]
        p50, p95 = case_list_bench.timed(page({"kind": "repayments", "period": period, "by": by,
                                               "from": start.isoformat(), "to": today.isoformat()}), runs)
        q50, q95 = case_list_bench.timed(plain(PLAIN[name], start), max(3, runs // 4))
        print(f"{'回款 ' + name:<28}{p50:>10.1f}{p95:>10.1f}{q50:>15.1f}{q95:>11.1f}")
    for kind in ("credit_card", "progress", "complaints"):
        p50, p95 = case_list_bench.timed(page({"kind": kind}), runs)
        if kind in PLAIN_CASES:
            q50, q95 = case_list_bench.timed(plain(PLAIN_CASES[kind], None), max(3, runs // 4))
            print(f"{kind:<28}{p50:>10.1f}{p95:>10.1f}{q50:>15.1f}{q95:>11.1f}")
        else:
            print(f"{kind:<28}{p50:>10.1f}{p95:>10.1f}{'(no plain)':>15}")

    # The progress page right after a repayment: the refresh recomputes that collector and batch first.
    from decimal import Decimal

    from cases.actions.repayments import repayment_record
    from cases.models import Case

    picked = list(Case.objects.filter(collector__isnull=False, balance__gt=10).order_by("?")[:runs])
    p50, p95 = timed_after(picked, lambda case: repayment_record(case=case, amount=Decimal("1.00"), repaid_on=today,
                                                                   by=manager),
                           lambda case: page({"kind": "progress"}))
    print(f"{'progress after a repayment':<28}{p50:>10.1f}{p95:>10.1f}{'(refreshes 1+1)':>15}")

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        rows = cases_export(user=manager, filters=CaseFilters(), out=out)
        size = out.tell()
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"export all cases: {rows:,} rows, {size / 1e6:.1f} MB xlsx in {took:.1f} s; "
          f"peak RSS of the process {peak:.0f} MB (before the export {before:.0f} MB)")


def run_insight(runs: int) -> None:
    """Issue 18: the dashboard (page, chart data, target ranking), the per-batch progress page and a drill-down,
    and a month's commission statements of every collector (computed, then the summary page's figures)."""
    import datetime as dt
    from decimal import Decimal

    from django.db.models import Count
    from django.test import RequestFactory
    from django.utils import timezone

    from accounts.models import User
    from cases.models import Case
    from cases.views.dashboards import dashboard_view
    from cases.views.reports import batch_progress_detail_view, batch_progress_view
    from performance.actions.commission import scheme_create
    from performance.actions.targets import targets_set
    from performance.models import CommissionScheme, SchemeKind, Target, TargetScope
    from performance.selectors.commission import draft_statements, statement_summaries
    from performance.views.charts import dashboard_charts_view
    from performance.views.targets import ranking_view

    manager = User.objects.filter(is_manager=True).first()
    factory = RequestFactory()
    today = timezone.localdate()
    month = today.replace(day=1)
    collectors = list(User.objects.filter(is_phone_collector=True) | User.objects.filter(is_field_collector=True))
    if not Target.objects.filter(month=month).exists():
        targets_set(month=month, entries=[(TargetScope.COLLECTOR, c.pk, Decimal("50000"), 100) for c in collectors],
                    by=manager)
    if not CommissionScheme.objects.exists():
        from cases.models import Bank

        for i, bank in enumerate(Bank.objects.all()):
            kind = SchemeKind.FLAT if i % 2 == 0 else SchemeKind.AMOUNT_TIERS
            scheme_create(name=f"bench {bank.pk}", bank=bank, batch=None, kind=kind,
                          rate=Decimal("0.015") if kind == SchemeKind.FLAT else None,
                          tiers=[] if kind == SchemeKind.FLAT else [(Decimal("0"), Decimal("0.01")),
                                                                    (Decimal("100000"), Decimal("0.02"))],
                          effective_from=dt.date(2000, 1, 1), effective_to=None, by=manager)

    def view(fn, path: str, params: dict[str, str] | None = None, **kwargs: object):
        def go() -> None:
            request = factory.get(path, params or {})
            request.user = manager
            response = fn(request, **kwargs)
            assert response.status_code == 200, response.status_code
        return go

    biggest = (Case.objects.values("batch_id").order_by().annotate(n=Count("id")).order_by("-n").first() or {})
    print(f"\n{'issue 18':<34}{'p50 ms':>10}{'p95 ms':>10}")
    for label, go in (
        ("dashboard page", view(dashboard_view, "/cases/dashboard/")),
        ("dashboard chart data", view(dashboard_charts_view, "/performance/dashboard/charts.json")),
        ("dashboard target progress", view(ranking_view, "/performance/ranking/", {"fragment": "compact"})),
        ("ranking page", view(ranking_view, "/performance/ranking/")),
        ("batch progress (open batches)", view(batch_progress_view, "/cases/reports/batches/")),
        ("batch progress (all batches)", view(batch_progress_view, "/cases/reports/batches/", {"state": "all"})),
        (f"batch drill-down ({biggest.get('n', 0):,} cases)",
         view(batch_progress_detail_view, "/cases/reports/batches/x/", batch_id=biggest.get("batch_id"))),
    ):
        p50, p95 = case_list_bench.timed(go, runs)
        print(f"{label:<34}{p50:>10.1f}{p95:>10.1f}")
    # A call marks its case's batch and collector: the next batch progress view refreshes them first (with a
    # dialer at work, that is every view), then the batch's drill-down.
    from cases.actions.calls import call_record_create

    picked = list(Case.objects.filter(collector__isnull=False, status__in=["in_progress", "not_started"])
                  .select_related("collector").order_by("?")[:runs])
    for label, page in (("batch progress after a call", lambda case: view(batch_progress_view, "/x/")),
                        ("its drill-down after a call", lambda case: view(
                            batch_progress_detail_view, "/x/", batch_id=case.batch_id))):
        p50, p95 = timed_after(picked, lambda case: call_record_create(
            case=case, collector=case.collector, number=case.mobile, by=case.collector, result="no_answer"), page)
        print(f"{label:<34}{p50:>10.1f}{p95:>10.1f}")
    for m in (month, (month - dt.timedelta(days=1)).replace(day=1)):
        started = time.perf_counter()
        drafts = draft_statements(month=m)
        took = time.perf_counter() - started
        lines = sum(len(d.lines) for d in drafts.values())
        started = time.perf_counter()
        statement_summaries(month=m)
        page = time.perf_counter() - started
        print(f"commission statements {m:%Y-%m}: {len(drafts)} collectors, {lines:,} entries computed in {took:.2f} s;"
              f" the month's summary (every collector) {page:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--repayments", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--calls", type=int, default=600_000)
    parser.add_argument("--visits", type=int, default=60_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="reuse the database a --keep run left")
    parser.add_argument("--db", default=DB_NAME, help=f"the bench database's name (default {DB_NAME})")
    parser.add_argument("--only-insight", action="store_true", help="only the issue 18 figures (dashboard, batch "
                        "progress, commission statements)")
    args = parser.parse_args()
    db = args.db
    os.environ["DATABASE_URL"] = f"{PG}/{db}"  # before Django starts
    if not args.reuse:
        case_list_bench.admin_sql(f"DROP DATABASE IF EXISTS {db}")
        case_list_bench.admin_sql(f"CREATE DATABASE {db}")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        if not args.reuse:
            fill(args.cases, args.repayments, args.calls, args.visits)
        refresh_rollups()
        if not args.only_insight:
            run(args.runs)
        run_insight(args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        for conn in connections.all(initialized_only=True):
            if hasattr(conn, "close_pool"):
                conn.close_pool()  # the pool keeps its connections open, and a database in use cannot be dropped
        if not args.keep:
            case_list_bench.admin_sql(f"DROP DATABASE IF EXISTS {db}")


if __name__ == "__main__":
    main()
