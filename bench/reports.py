"""Benchmark: the report pages and the all-cases export on 200,000 cases and 1,000,000 repayments (PostgreSQL).

    .venv/bin/python bench/reports.py [--cases 200000] [--repayments 1000000] [--runs 20] [--keep]

Creates its own database `cm_bench_reports` (dropped at the end unless --keep), migrates it, fills cases with
bench/case_list.py's generate_series SQL, then 1,000,000 repayments over two years with generate_series, and
builds the daily roll-up (RepaymentDaily) from them with one INSERT … SELECT … GROUP BY — the same figures the
repayment actions keep incrementally. Then, in the same run, for each report: p50/p95 of the report page
(the view, rendered, for a manager) next to the plain SQL aggregate over the raw repayments table giving the
same table; and the all-cases export (time, peak RSS of this process).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

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
  reverses_id, overpayment, source_sha256, recorded_by_id, created_at)
SELECT c.id, a.amount, round(a.amount * c.commission_rate, 2), c.commission_rate,
  current_date - ((hashint4(g + 3) & 2147483647) % 730), 'B' || g, '', 'normal', NULL, false, '', %(clerk)s, now()
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
PAGES = {"month×batch": ("month", "batch"), "month×rate": ("month", "rate"), "day×batch": ("day", "batch"),
         "year×rate": ("year", "rate")}


def fill(cases: int, repayments: int) -> None:
    from django.db import connection

    from accounts.models import User

    case_list_bench.fill(cases)
    started = time.perf_counter()
    clerk = User.objects.filter(is_clerk=True).values_list("id", flat=True).first()
    with connection.cursor() as cur:
        cur.execute(REPAYMENT_SQL.replace("%(clerk)s", str(clerk)).replace("%(n)s", str(repayments))
                    .replace("%(cases)s", str(cases)).replace("%%", "%"))
        cur.execute(ROLLUP_SQL)
        cur.execute("""UPDATE cases_case c SET repaid_amount = s.a, balance = c.entrusted_amount - s.a
                       FROM (SELECT case_id, sum(amount) a FROM cases_repayment GROUP BY case_id) s
                       WHERE s.case_id = c.id""")
        cur.execute("VACUUM ANALYZE")
        cur.execute("SELECT count(*) FROM cases_repayment")
        n = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM cases_repaymentdaily")
        daily = cur.fetchone()[0]
    print(f"filled {n:,} repayments, roll-up {daily:,} rows, in {time.perf_counter() - started:.1f} s")


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

    def plain(sql: str, start: dt.date):
        def go() -> None:
            with connection.cursor() as cur:
                cur.execute(sql, [start, today])
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
        p50, p95 = case_list_bench.timed(page({"kind": kind}), max(3, runs // 4))
        print(f"{kind:<28}{p50:>10.1f}{p95:>10.1f}{'(reads cases)':>15}")

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        rows = cases_export(user=manager, filters=CaseFilters(), out=out)
        size = out.tell()
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"export all cases: {rows:,} rows, {size / 1e6:.1f} MB xlsx in {took:.1f} s; "
          f"peak RSS of the process {peak:.0f} MB (before the export {before:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--repayments", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    case_list_bench.admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME}")
    case_list_bench.admin_sql(f"CREATE DATABASE {DB_NAME}")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        fill(args.cases, args.repayments)
        run(args.runs)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            case_list_bench.admin_sql(f"DROP DATABASE IF EXISTS {DB_NAME}")


if __name__ == "__main__":
    main()
