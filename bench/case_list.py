"""Benchmark: the case list's queries on a million cases in PostgreSQL.

    .venv/bin/python bench/case_list.py [--cases 1000000] [--runs 25] [--keep] [--explain] [--db cm_bench_list]

Creates its own database `cm_bench_list` or --db (dropped at the end unless --keep; reused with --reuse),
migrates it, fills it with generate_series SQL (banks, staff, batches, cases, one contact per case),
then times exactly the queries the case list view runs (page of page_size+1 rows; the capped count
with the totals under the cap; the three status-group tab counts for managers, in one query) for a collector, a clerk
and a manager, with and without filters. Prints p50/p95 in milliseconds per scenario.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

PG = "postgres://postgres@127.0.0.1:5432"

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("SECRET_KEY", "bench-only-secret")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def admin_sql(sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(sql)


FILL_SQL = """
CREATE TEMP TABLE bench_batches AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, bank_id, entrust_date,
  return_date FROM cases_batch;
CREATE TEMP TABLE bench_collectors AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id
  FROM accounts_user WHERE is_phone_collector OR is_field_collector;
CREATE TEMP TABLE bench_clerks AS SELECT DISTINCT ON (bank_id) bank_id, clerk_id FROM cases_clerkbankscope;

INSERT INTO cases_case (bank_id, batch_id, case_no, debtor_name, id_number, product_type, card_no, mobile,
  home_address, employer, work_address, region, note, entrusted_amount, principal, interest, fees, overdue_days,
  commission_rate, repaid_amount, balance, entrust_date, return_date, original_return_date, status,
  status_changed_at, owner_clerk_id, collector_id, assigned_at, previous_case_id, extra, created_at, updated_at
  %(case_extra_cols)s)
SELECT b.bank_id, b.id, 'AJ' || lpad(g::text, 8, '0'),
  substr('王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗', 1 + (hashint4(g) & 2147483647) % 20, 1)
    || substr('伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平', 1 + (hashint4(g + 7) & 2147483647) % 20, 1)
    || substr('伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平', 1 + (hashint4(g + 13) & 2147483647) % 20, 1),
  '2101' || lpad(((hashint4(g + 1) & 2147483647) % 100000000000000)::text, 14, '0'),
  CASE WHEN b.n % 3 = 2 THEN 'loan' ELSE 'credit_card' END,
  '622588' || lpad(g::text, 10, '0'), '139' || lpad(g::text, 8, '0'),
  '沈阳市和平区南京北街' || (g % 400) || '号', '沈阳某某有限公司', '',
  (ARRAY['沈阳市和平区','沈阳市沈河区','沈阳市大东区','沈阳市皇姑区','沈阳市铁西区','沈阳市浑南区','沈阳市于洪区',
         '大连市中山区','大连市西岗区','大连市沙河口区'])[1 + g % 10], '',
  amt, NULL, NULL, NULL, 90 + g % 800, 0.15 + (g % 3) * 0.05,
  CASE WHEN st = 'settled' THEN amt ELSE 0 END, CASE WHEN st = 'settled' THEN 0 ELSE amt END,
  b.entrust_date, b.return_date, b.return_date, st, now(),
  CASE WHEN st = 'unassigned' THEN NULL ELSE k.clerk_id END,
  CASE WHEN st = 'unassigned' THEN NULL ELSE c.id END,
  CASE WHEN st = 'unassigned' THEN NULL ELSE now() END, NULL, '{}'::jsonb, now(), now()
  %(case_extra_vals)s
FROM (
  SELECT g, round((1000 + (hashint4(g + 3) & 2147483647) % 200000)::numeric + 0.55, 2) AS amt,
    (ARRAY['unassigned','not_started','in_progress','in_progress','in_progress','settled','returned','retained'])
      [1 + (hashint4(g + 5) & 2147483647) % 8] AS st
  FROM generate_series(1, %(cases)s) g
) s
JOIN bench_batches b ON b.n = (s.g - 1) / 5000 % 200
JOIN bench_clerks k ON k.bank_id = b.bank_id
JOIN bench_collectors c ON c.n = (hashint4(s.g + 11) & 2147483647) % 300;

INSERT INTO cases_casecontact (case_id, name, relation, phone, source, created_at %(contact_extra_cols)s)
SELECT id, '联系人', '配偶', '138' || lpad(id::text, 8, '0'), 'import', now() %(contact_extra_vals)s FROM cases_case;
"""


def _literal(field: object) -> str:
    """An SQL literal of a field's default (enough for the booleans, numbers, texts and JSON models use)."""
    import json
    from decimal import Decimal

    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return "now()"
    value = field.get_default() if field.has_default() else None  # type: ignore[attr-defined]
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
    return "'" + text.replace("'", "''") + "'"


def _extra_columns(model: type, mapped: set[str]) -> tuple[str, str]:
    """Columns other work added to a table after this script was written, filled with their defaults.

    Keeps the raw INSERTs below working when a model gains a NOT NULL column with a Python-side default.
    """
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if f.column not in mapped and not f.primary_key]
    cols = "".join(f", {connection.ops.quote_name(f.column)}" for f in fields)
    vals = "".join(f", {_literal(f)}" for f in fields)
    return cols, vals


def _fill_small_tables() -> None:
    """Banks, staff, scopes and batches through the ORM: a few hundred rows, and new fields get defaults."""
    import datetime as dt

    from django.utils import timezone

    from accounts.models import BranchCompany, Department, User
    from cases.models import Bank, Batch, ClerkBankScope

    banks = Bank.objects.bulk_create([Bank(code=f"BK{b}", name=f"银行{b}") for b in range(1, 5)])
    branches = BranchCompany.objects.bulk_create([BranchCompany(name=n) for n in ("沈阳分公司", "大连分公司")])
    departments = Department.objects.bulk_create(
        [Department(branch=b, name=n) for b in branches for n in ("电催一部", "电催二部", "外访部")])
    users = [User(username=f"c{g}", password="!", full_name=f"业务员{g}", branch=branches[g % 2],
                  department=departments[g % 6], is_phone_collector=g % 5 != 0, is_field_collector=g % 5 == 0)
             for g in range(1, 301)]
    users += [User(username=f"k{g}", password="!", full_name=f"内勤{g}", is_clerk=True) for g in range(1, 9)]
    users += [User(username=f"m{g}", password="!", full_name=f"经理{g}", is_manager=True) for g in range(1, 3)]
    User.objects.bulk_create(users)
    ClerkBankScope.objects.bulk_create([
        ClerkBankScope(clerk=u, bank=banks[int(u.username[1:]) % 4]) for u in User.objects.filter(is_clerk=True)])
    today = timezone.localdate()
    Batch.objects.bulk_create([
        Batch(bank=banks[g % 4], batch_no=f"PC{g:05d}", product_type="loan" if g % 3 == 0 else "credit_card",
              entrust_date=today - dt.timedelta(days=g % 120), return_date=today - dt.timedelta(days=g % 120 - 90),
              case_count=5000)
        for g in range(1, 201)])


def fill(cases: int) -> None:
    from django.db import connection

    from cases.models import Case, CaseContact

    started = time.perf_counter()
    _fill_small_tables()
    case_cols = {"id", "bank_id", "batch_id", "case_no", "debtor_name", "id_number", "product_type", "card_no",
                 "mobile", "home_address", "employer", "work_address", "region", "note", "entrusted_amount",
                 "principal", "interest", "fees", "overdue_days", "commission_rate", "repaid_amount", "balance",
                 "entrust_date", "return_date", "original_return_date", "status", "status_changed_at",
                 "owner_clerk_id", "collector_id", "assigned_at", "previous_case_id", "extra", "created_at",
                 "updated_at"}
    case_extra_cols, case_extra_vals = _extra_columns(Case, case_cols)
    contact_extra_cols, contact_extra_vals = _extra_columns(
        CaseContact, {"id", "case_id", "name", "relation", "phone", "source", "created_at"})
    sql = (FILL_SQL.replace("%(cases)s", str(cases))
           .replace("%(case_extra_cols)s", case_extra_cols).replace("%(case_extra_vals)s", case_extra_vals)
           .replace("%(contact_extra_cols)s", contact_extra_cols)
           .replace("%(contact_extra_vals)s", contact_extra_vals))
    with connection.cursor() as cur:
        for statement in sql.split(";\n"):
            if statement.strip():
                cur.execute(statement)
        cur.execute("VACUUM ANALYZE")
    print(f"filled {cases:,} cases (+ contacts) in {time.perf_counter() - started:.1f} s")


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(2):
        fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use an existing filled database")
    parser.add_argument("--explain", action="store_true",
                        help="print EXPLAIN (ANALYZE, BUFFERS) of every query each scenario runs")
    parser.add_argument("--only", default="", help="run the scenarios whose label contains this text")
    parser.add_argument("--db", default="cm_bench_list", help="name of the bench database")
    args = parser.parse_args()
    db_name = args.db
    # This script is a process entry point like manage.py: it chooses the database before Django starts.
    os.environ["DATABASE_URL"] = f"{PG}/{db_name}"

    if not args.reuse:
        admin_sql(f"DROP DATABASE IF EXISTS {db_name}")
        admin_sql(f"CREATE DATABASE {db_name}")
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)  # with --reuse: applies indexes added since the fill
        if not args.reuse:
            fill(args.cases)
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            admin_sql(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)")  # the pool may still hold connections


def run(args: argparse.Namespace) -> None:
    import datetime as dt
    from decimal import Decimal

    from django.conf import settings

    from accounts.models import User
    from cases.models import Batch, Case, CaseContact
    from cases.selectors.cases import (
        CaseFilters,
        SearchMode,
        case_list_page,
        case_list_summary,
        case_status_group_counts,
    )

    size = settings.CASE_LIST_PAGE_SIZE
    collector = User.objects.filter(is_phone_collector=True).order_by("id").first()
    clerk = User.objects.filter(is_clerk=True).order_by("id").first()
    manager = User.objects.filter(is_manager=True).order_by("id").first()
    assert collector and clerk and manager
    batch = Batch.objects.order_by("id")[7]
    clerk_cases = Case.objects.filter(bank__clerk_scopes__clerk=clerk).order_by("id")
    sample = clerk_cases[min(12345, clerk_cases.count() // 2)]
    phone = CaseContact.objects.filter(case=sample).values_list("phone", flat=True).first() or ""
    print(f"cases: {Case.objects.count():,}; collector {collector.username} has "
          f"{Case.objects.filter(collector=collector).count():,}; clerk {clerk.username} sees "
          f"{Case.objects.filter(bank__clerk_scopes__clerk=clerk).count():,}")

    scenarios: list[tuple[str, User, CaseFilters, int]] = [
        ("collector · no filter", collector, CaseFilters(), 1),
        ("collector · 进行中 + sort -balance", collector, CaseFilters(status="in_progress", sort="-balance"), 1),
        ("collector · name prefix 王", collector, CaseFilters(q="王"), 1),
        ("clerk · no filter", clerk, CaseFilters(), 1),
        ("clerk · region + amount 5万–10万", clerk,
         CaseFilters(region="沈阳市皇姑区", amount_min=Decimal("50000"), amount_max=Decimal("100000")), 1),
        ("clerk · sort return_date", clerk, CaseFilters(sort="return_date"), 1),
        ("clerk · return date next 30 days", clerk,
         CaseFilters(return_from=dt.date.today(), return_to=dt.date.today() + dt.timedelta(days=30)), 1),
        ("clerk · ID number exact", clerk, CaseFilters(q=sample.id_number), 1),
        ("clerk · contact phone exact", clerk, CaseFilters(q=phone, search_mode=SearchMode.PHONE), 1),
        ("manager · no filter", manager, CaseFilters(), 1),
        ("manager · no filter, page 200", manager, CaseFilters(), 200),
        ("manager · group 进行中", manager, CaseFilters(status_group="in_progress"), 1),
        ("manager · batch", manager, CaseFilters(batch_id=batch.pk), 1),
        ("manager · name prefix 王 (1 char, 5% of rows)", manager, CaseFilters(q="王"), 1),
        ("manager · name prefix 王伟", manager, CaseFilters(q="王伟"), 1),
        ("manager · case number exact", manager, CaseFilters(q=sample.case_no), 1),
        ("manager · mobile exact", manager, CaseFilters(q=sample.mobile), 1),
        ("manager · sort -entrusted_amount", manager, CaseFilters(sort="-entrusted_amount"), 1),
        ("manager · sort collector", manager, CaseFilters(sort="collector"), 1),
        ("manager · entrust date range + 未开始", manager,
         CaseFilters(entrust_from=batch.entrust_date, entrust_to=batch.entrust_date, status_group="not_started"), 1),
        ("manager · entrust date, 30 days before", manager,
         CaseFilters(entrust_from=batch.entrust_date - dt.timedelta(days=30), entrust_to=batch.entrust_date), 1),
    ]
    scenarios = [s for s in scenarios if args.only in s[0]]
    header = f"{'scenario':<44} {'page p50/p95':>15} {'count+sums p50/p95':>19} {'count':>7} {'tabs p50/p95':>14}"
    print(header)
    print("-" * len(header))
    for label, user, filters, page_no in scenarios:
        # The view counts first (the capped count and, under the cap, the sums) and hands the count to the page.
        count_value = case_list_summary(user=user, filters=filters).count
        page = timed(lambda user=user, filters=filters, page_no=page_no, counted=count_value: case_list_page(
            user=user, filters=filters, number=page_no, page_size=size, matches=counted), args.runs)
        summary = timed(lambda user=user, filters=filters: case_list_summary(user=user, filters=filters), args.runs)
        tabs = "—"
        if user.is_manager:  # the M1 tabs are shown to managers and admins only
            p50, p95 = timed(lambda user=user, filters=filters: case_status_group_counts(user=user, filters=filters),
                             max(5, args.runs // 3))
            tabs = f"{p50:.1f}/{p95:.1f}"
        print(f"{label:<44} {page[0]:>7.1f}/{page[1]:<7.1f} {summary[0]:>9.1f}/{summary[1]:<9.1f} "
              f"{count_value!s:>7} {tabs:>14}", flush=True)
        if args.explain:
            explain(lambda user=user, filters=filters, page_no=page_no, counted=count_value: case_list_page(
                user=user, filters=filters, number=page_no, page_size=size, matches=counted))
            explain(lambda user=user, filters=filters: case_list_summary(user=user, filters=filters))
            if user.is_manager:
                explain(lambda user=user, filters=filters: case_status_group_counts(user=user, filters=filters))


def explain(fn: Callable[[], object]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every query `fn` runs (the SQL as sent, parameters bound)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    for query in captured.captured_queries:
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            print("    " + query["sql"][:300])
            print("\n".join("      " + row[0] for row in cur.fetchall()))

if __name__ == "__main__":
    main()
