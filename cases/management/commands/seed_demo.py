"""`manage.py seed_demo [--if-empty]`: demo banks, staff of every role, and three imported batches.

The batches are built as real .xlsx workbooks in the standard template and go through the same import
action as a clerk's upload, so the demo shows exactly what an import produces. Only the demo assignment
at the end writes directly (see `_assign_demo_cases`).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import time
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook

from accounts.models import BranchCompany, Department, User
from cases import rollups
from cases.actions.batches import batch_import_file
from cases.enums import CaseStatus, ProductType
from cases.exceptions import DomainError, ImportRejectedError
from cases.management.demo_activity import seed_demo_activity
from cases.models import Bank, Batch, Case, ClerkBankScope
from cases.validators import id_check_digit

# The standard template's headers, in its column order.
TEMPLATE_HEADERS: tuple[str, ...] = (
    "批次号", "案件编号", "客户姓名", "证件号码", "委案金额", "佣金比例", "委案日期", "退案日期", "产品类型", "卡号",
    "手机号码", "其他电话", "家庭地址", "单位名称", "单位地址", "本金", "利息", "费用", "逾期天数", "地区",
    "联系人姓名", "联系人关系", "联系人电话", "备注",
)

BANKS: tuple[tuple[str, str], ...] = (("ZSYH", "招商银行"), ("JSYH", "建设银行"))
BRANCHES: dict[str, tuple[str, ...]] = {"沈阳分公司": ("电催一部", "外访部"), "大连分公司": ("电催一部", "外访部")}


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    full_name: str
    roles: tuple[str, ...]  # User boolean role fields
    branch: str = ""
    department: str = ""
    phone: str = ""
    banks: tuple[str, ...] = ()  # bank codes, for clerks (C7)
    extension: str = ""  # PJSIP endpoint of the phone collector's desk phone (the embedded simulator has it)


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Demo-Admin-2026", "钱系统", ("is_sysadmin",), "沈阳分公司"),
    DemoUser("manager", "Demo-Manager-2026", "孙经理", ("is_manager",), "沈阳分公司", phone="13940001001"),
    DemoUser("clerk", "Demo-Clerk-2026", "李静", ("is_clerk",), "沈阳分公司", phone="024-23801234",
             banks=("ZSYH",)),
    DemoUser("clerk2", "Demo-Clerk2-2026", "赵敏", ("is_clerk",), "大连分公司", phone="0411-82605678",
             banks=("JSYH",)),
    DemoUser("collector", "Demo-Collector-2026", "王海涛", ("is_phone_collector",), "沈阳分公司", "电催一部",
             extension="8001"),
    DemoUser("field", "Demo-Field-2026", "刘建军", ("is_field_collector",), "沈阳分公司", "外访部"),
    DemoUser("collector2", "Demo-Collector2-2026", "陈晓燕", ("is_phone_collector",), "沈阳分公司", "电催一部",
             extension="8002"),
    DemoUser("collector3", "Demo-Collector3-2026", "周鹏", ("is_phone_collector",), "大连分公司", "电催一部",
             extension="8003"),
    DemoUser("field2", "Demo-Field2-2026", "吴刚", ("is_field_collector",), "大连分公司", "外访部"),
)


@dataclass(frozen=True)
class DemoBatch:
    bank_code: str
    batch_no: str
    product: str  # ProductType value
    size: int
    entrust_days_ago: int
    months: int
    case_prefix: str


# Fixed batch numbers: running the command again (even months later) finds them and imports nothing twice.
DEMO_BATCHES: tuple[DemoBatch, ...] = (
    DemoBatch("ZSYH", "ZSYH-XYK-001", ProductType.CREDIT_CARD, 150, 20, 3, "ZS"),
    DemoBatch("ZSYH", "ZSYH-DK-001", ProductType.LOAN, 60, 80, 3, "ZD"),  # returns in about ten days
    DemoBatch("JSYH", "JSYH-XYK-001", ProductType.CREDIT_CARD, 110, 45, 3, "JS"),
)


# --- realistic people -----------------------------------------------------------------------------------

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建红春雪梅海波宇飞浩凯晶晓东亮斌"
# Districts of Shenyang and Dalian with their ID-number area codes and a few real streets.
DISTRICTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("沈阳市和平区", "210102", ("南京北街", "中华路", "太原街", "三好街", "南五马路")),
    ("沈阳市沈河区", "210103", ("青年大街", "北京街", "小西路", "大西路", "市府大路")),
    ("沈阳市大东区", "210104", ("东北大马路", "小北关街", "善邻路", "东望街")),
    ("沈阳市皇姑区", "210105", ("黄河南大街", "北陵大街", "昆山中路", "华山路")),
    ("沈阳市铁西区", "210106", ("兴华北街", "北二路", "建设大路", "云峰北街")),
    ("沈阳市浑南区", "210112", ("浑南中路", "创新路", "全运路", "营盘西街")),
    ("沈阳市于洪区", "210114", ("黄海路", "沈大路", "细河路")),
    ("大连市中山区", "210202", ("人民路", "解放路", "友好路", "天津街")),
    ("大连市西岗区", "210203", ("长江路", "黄河路", "新开路")),
    ("大连市沙河口区", "210204", ("西安路", "五一路", "中山路")),
)
EMPLOYERS = (
    "沈阳鑫达商贸有限公司", "辽宁恒通物流有限公司", "沈阳北方建材市场", "个体经营（餐饮）", "沈阳市和平区某小学",
    "辽宁宏远装饰工程有限公司", "沈阳华信汽车配件厂", "大连港湾物流有限公司", "沈阳金地物业服务有限公司",
    "无固定单位", "沈阳市铁西区某机械厂", "大连远洋渔业公司", "辽宁百汇超市连锁有限公司", "沈阳安平出租车公司",
)
MOBILE_PREFIXES = ("139", "138", "137", "136", "135", "158", "159", "186", "188", "152", "150", "131", "132",
                   "155", "156", "177", "180", "189", "183", "199")
RELATIONS = ("配偶", "父亲", "母亲", "兄弟", "姐妹", "同事", "朋友", "子女")
NOTES = ("", "", "", "客户称近期失业，有还款意愿", "曾承诺月底前还款", "家庭地址已搬迁", "电话长期无人接听",
         "需核实单位信息", "")
# Commission rates by how long the account has been overdue (the usual bank tiers).
CARD_TIERS: tuple[tuple[int, Decimal], ...] = (
    (180, Decimal("0.15")), (360, Decimal("0.20")), (10_000, Decimal("0.28")),
)
LOAN_TIERS: tuple[tuple[int, Decimal], ...] = ((180, Decimal("0.08")), (10_000, Decimal("0.12")))


def make_id_number(rng: random.Random, area: str) -> str:
    birth = dt.date(1962, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 38))
    first17 = f"{area}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + id_check_digit(first17)


def make_mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(0, 10**8):08d}"


def make_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def build_batch_workbook(batch: DemoBatch, *, today: dt.date, rng: random.Random) -> bytes:
    """One bank's batch as an .xlsx in the standard template (plus one bank-specific extra column)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "委案"
    extra_header = "账单日" if batch.product == ProductType.CREDIT_CARD else "贷款合同号"
    ws.append([*TEMPLATE_HEADERS, extra_header])
    entrust = today - dt.timedelta(days=batch.entrust_days_ago)
    back = _add_months(entrust, batch.months)
    card_bin = {"ZSYH": "622588", "JSYH": "436742"}[batch.bank_code]
    for n in range(1, batch.size + 1):
        region, area, streets = rng.choice(DISTRICTS)
        city = region[:3]
        overdue = rng.randrange(95, 900)
        if batch.product == ProductType.CREDIT_CARD:
            amount = _money(rng.uniform(2_000, 80_000))
            tiers, card_no = CARD_TIERS, card_bin + f"{rng.randrange(0, 10**10):010d}"
            extra = f"{rng.choice((5, 8, 12, 18, 25))}日"
        else:
            amount = _money(rng.uniform(20_000, 300_000))
            tiers, card_no = LOAN_TIERS, ""
            extra = f"DK{entrust:%Y}{rng.randrange(0, 10**6):06d}"
        principal = _money(float(amount) * rng.uniform(0.72, 0.88))
        fees = _money(float(amount) * rng.uniform(0.0, 0.04))
        interest = amount - principal - fees
        rate = next(r for limit, r in tiers if overdue <= limit)
        contact_name = make_name(rng)
        home = f"{region}{rng.choice(streets)}{rng.randrange(1, 400)}号{rng.randrange(1, 12)}-{rng.randrange(1, 7)}-" \
               f"{rng.randrange(1, 33)}0{rng.randrange(1, 4)}"
        work_region = rng.choice([d for d in DISTRICTS if d[0].startswith(city)])
        work = f"{work_region[0]}{rng.choice(work_region[2])}{rng.randrange(1, 300)}号"
        ws.append([
            batch.batch_no, f"{batch.case_prefix}{entrust:%Y%m}{n:05d}", make_name(rng), make_id_number(rng, area),
            amount, rate, entrust, back, ProductType(batch.product).label, card_no,
            make_mobile(rng), rng.choice(("", "", f"024-{rng.randrange(2000, 9000)}{rng.randrange(0, 10**4):04d}")),
            home, rng.choice(EMPLOYERS), work, principal, interest, fees, overdue, region,
            contact_name, rng.choice(RELATIONS), make_mobile(rng), rng.choice(NOTES), extra,
        ])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


class Command(BaseCommand):
    help = "写入演示数据：两家银行、各角色账号（已知密码）、三个通过导入功能导入的委案批次，并分配部分案件。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true",
                            help="数据库中已有任何银行时什么也不做（首次启动时使用）")

    def handle(self, *args: object, **options: object) -> None:
        started = time.monotonic()
        if options["if_empty"] and Bank.objects.exists():
            self.stdout.write("已有银行数据，跳过演示数据。")
            return
        today = timezone.localdate()
        rng = random.Random(2026)
        banks = self._banks()
        users, created = self._users(banks)
        imported: list[Batch] = []
        for spec in DEMO_BATCHES:
            batch = self._import(spec, bank=banks[spec.bank_code], users=users, today=today, rng=rng)
            if batch is not None:
                imported.append(batch)
        assigned = _assign_demo_cases(imported, users=users, rng=rng)
        activity: dict[str, int] = {}
        promise_out = io.StringIO()
        if imported:
            # Issue 18: three months of calls, visits, promises and repayments, so the charts mean something.
            clerk_of = {b.bank_id: b.imported_by for b in imported if b.imported_by is not None}
            activity = seed_demo_activity(batches=imported, rng=rng, clerk_of=clerk_of)
            # Issue 16: the promise records (承诺还款) of those promise calls and visits, matched to the repayments.
            call_command("backfill_promises", stdout=promise_out)
            # The demo assignment writes the cases directly, not through the actions that keep the report
            # roll-ups: recompute them, so the reports match the demo cases from the first page view.
            rollups.rebuild()
        self._report(users, created, imported, assigned, time.monotonic() - started)
        if activity:
            self.stdout.write(f"  演示作业记录：电话 {activity['calls']} 条、外访 {activity['visits']} 条、"
                              f"回款 {activity['repayments']} 笔")
            self.stdout.write(promise_out.getvalue().rstrip("\n"))
        # Issue 18: demo targets and commission schemes (and last month's statements approved).
        call_command("seed_performance", stdout=self.stdout)
        # Issue 8: the pre-loan assessment's scorecards and applicants (one matches a demo case).
        call_command("seed_assessment", stdout=self.stdout)

    def _banks(self) -> dict[str, Bank]:
        return {code: Bank.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in BANKS}

    @transaction.atomic
    def _users(self, banks: dict[str, Bank]) -> tuple[dict[str, User], set[str]]:
        branches = {name: BranchCompany.objects.get_or_create(name=name)[0] for name in BRANCHES}
        departments = {
            (b, d): Department.objects.get_or_create(branch=branches[b], name=d)[0]
            for b, names in BRANCHES.items() for d in names
        }
        users: dict[str, User] = {}
        created: set[str] = set()
        for spec in DEMO_USERS:
            user = User.objects.filter(username=spec.username).first()
            if user is None:
                user = User(username=spec.username, full_name=spec.full_name, phone=spec.phone,
                            branch=branches.get(spec.branch),
                            department=departments.get((spec.branch, spec.department)),
                            sip_endpoint=spec.extension)
                for role in spec.roles:
                    setattr(user, role, True)
                # The demo passwords must pass the same validators as any other password.
                validate_password(spec.password, user)
                user.set_password(spec.password)
                user.save()
                created.add(spec.username)
            for code in spec.banks:
                ClerkBankScope.objects.get_or_create(clerk=user, bank=banks[code])
            users[spec.username] = user
        return users, created

    def _import(self, spec: DemoBatch, *, bank: Bank, users: dict[str, User], today: dt.date,
                rng: random.Random) -> Batch | None:
        content = build_batch_workbook(spec, today=today, rng=rng)
        if Batch.objects.filter(bank=bank, batch_no=spec.batch_no).exists():
            self.stdout.write(f"批次 {spec.batch_no} 已存在，跳过。")
            return None
        clerk = next(u for u in users.values() if u.is_clerk and bank.clerk_scopes.filter(clerk=u).exists())
        try:
            return batch_import_file(bank=bank, uploaded_by=clerk, file=io.BytesIO(content),
                                     filename=f"{spec.batch_no}.xlsx")
        except ImportRejectedError as error:
            details = "；".join(str(e) for e in error.errors[:5])
            raise SystemExit(f"演示批次 {spec.batch_no} 导入失败：{details}") from error
        except DomainError as error:
            self.stdout.write(f"批次 {spec.batch_no} 未导入：{error}")
            return None

    def _report(self, users: dict[str, User], created: set[str], batches: list[Batch], assigned: int,
                seconds: float) -> None:
        out = self.stdout
        out.write(self.style.SUCCESS(f"演示数据已就绪（{seconds:.1f} 秒）。"))
        for batch in batches:
            out.write(f"  导入批次 {batch.batch_no}（{batch.bank.name}）：{batch.case_count} 件，"
                      f"委案总金额 {batch.total_amount:,.2f} 元")
        out.write(f"  分配给演示业务员的案件：{assigned} 件")
        out.write("演示账号（用户名 / 密码 / 姓名 / 角色）：")
        for spec in DEMO_USERS:
            user = users[spec.username]
            note = "" if spec.username in created else "（账号已存在，密码未改动）"
            where = " ".join(x for x in (spec.branch, spec.department) if x)
            banks = f" 负责 {'、'.join(spec.banks)}" if spec.banks else ""
            out.write(f"  {spec.username:<11} {spec.password:<20} {user.display_name} · {user.role_labels}"
                      f" {where}{banks}{note}")


def _assign_demo_cases(batches: list[Batch], *, users: dict[str, User], rng: random.Random) -> int:
    """Demo data setup only: date each new batch's import at its entrust day, then give about three
    quarters of its cases to the demo collectors, assigned on some day between the import and today.

    Real assignment (C3, C4) is an action with history and realtime events; this writes the fields
    directly with queryset.update so the demo has worked-looking cases without depending on that feature.
    Cases stay with the clerk who imported them as owner (C6).
    """
    now = timezone.now()
    by_branch = {
        "ZSYH": [users["collector"], users["collector2"], users["field"]],
        "JSYH": [users["collector3"], users["field2"], users["collector"]],
    }
    total = 0
    for batch in batches:
        # As if the clerk had imported the file at 09:30 on its entrust day.
        imported_at = timezone.make_aware(dt.datetime.combine(batch.entrust_date, dt.time(9, 30)))
        Batch.objects.filter(pk=batch.pk).update(imported_at=imported_at)
        Case.objects.filter(batch=batch).update(created_at=imported_at, status_changed_at=imported_at)
        batch.refresh_from_db()
        span_days = max(0, min(15, (now - imported_at).days))
        collectors = by_branch[batch.bank.code]
        owner = batch.imported_by
        ids = list(Case.objects.filter(batch=batch, collector=None).order_by("id").values_list("id", flat=True))
        rng.shuffle(ids)
        chosen = ids[: len(ids) * 3 // 4]
        groups: dict[tuple[int, str, int], list[int]] = {}
        for case_id in chosen:
            collector = rng.choice(collectors)
            status = CaseStatus.IN_PROGRESS if rng.random() < 0.6 else CaseStatus.NOT_STARTED
            groups.setdefault((collector.pk, status, rng.randint(0, span_days)), []).append(case_id)
        for (collector_id, status, day), case_ids in groups.items():
            at = min(now, imported_at + dt.timedelta(days=day, hours=rng.randrange(1, 8)))
            total += Case.objects.filter(pk__in=case_ids, collector=None).update(
                collector_id=collector_id, owner_clerk=owner, assigned_at=at, status=status, status_changed_at=at)
    return total
