"""Five bank layouts of our own making, each built from the same kind of cases, and the cases they must import to.

Each builder returns the file's bytes; `expected(cases)` is what the import must store. Values are realistic
(valid ID numbers, mobiles, dates, amounts) and written the way each bank writes them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal

import xlwt
from openpyxl import Workbook

from cases.validators import id_check_digit


def id18(seq: int, birth: str = "19850615") -> str:
    first17 = f"210102{birth}{seq % 1000:03d}"
    return first17 + id_check_digit(first17)


@dataclass
class BankCase:
    case_no: str
    name: str
    id_number: str  # 18 digits, upper-case X
    amount: Decimal
    entrust: dt.date
    back: dt.date
    mobile: str
    others: list[str] = field(default_factory=list)
    contacts: list[tuple[str, str, str]] = field(default_factory=list)  # (name, relation, phone)


def month_cases(month: int, count: int = 3, prefix: str = "HT") -> list[BankCase]:
    cases = []
    for n in range(1, count + 1):
        seq = month * 100 + n
        cases.append(BankCase(
            case_no=f"{prefix}{month:02d}{n:04d}", name=f"客户{chr(0x4E00 + seq % 200)}{n}", id_number=id18(seq),
            amount=Decimal(f"{10000 + seq * 137}.50"), entrust=dt.date(2026, month, 1),
            back=dt.date(2026, month, 1) + dt.timedelta(days=91), mobile=f"138{seq:08d}",
            others=[f"139{seq:08d}"] if n % 2 else [],
            contacts=[(f"联系人{n}", "配偶", f"137{seq:08d}")]
            + ([("王五", "朋友", f"136{seq:08d}")] if n == 1 else []),
        ))
    return cases


def _xlsx(rows: list[list[object]], merges: tuple[str, ...] = ()) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    for merge in merges:
        sheet.merge_cells(merge)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _csv(rows: list[list[object]], encoding: str) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return text.getvalue().encode(encoding)


def _wan(amount: Decimal) -> str:
    return format((amount / 10000).normalize(), "f")


# 1. 工商银行: .xlsx, a merged title row, a two-level merged header, amounts in 万元, dates 2026/9/1 and 20260901,
#    15-digit ID numbers, both phones in one cell, contact "name（relation）" + a phone list; no batch number.
def icbc(cases: list[BankCase]) -> bytes:
    rows: list[list[object]] = [
        ["中国工商银行沈阳分行 信用卡逾期委外清单", None, None, None, None, None, None, None, None],
        ["合同号", "客户信息", None, None, "欠款金额（万元）", "委托日期", "委托到期日", "联系人1", None],
        [None, "姓名", "身份证", "手机", None, None, None, "姓名及关系", "电话"],
    ]
    for c in cases:
        first = c.contacts[0]
        rows.append([c.case_no, c.name, c.id_number[:6] + c.id_number[8:17], "，".join([c.mobile, *c.others]),
                     _wan(c.amount),
                     f"{c.entrust.year}/{c.entrust.month}/{c.entrust.day}",
                     f"{c.back:%Y%m%d}", f"{first[0]}（{first[1]}）",
                     "/".join(p for n, r, p in c.contacts if n == first[0])])
    return _xlsx(rows, merges=("A1:I1", "A2:A3", "B2:D2", "E2:E3", "F2:F3", "G2:G3", "H2:I2"))


# 2. 农业银行: CSV in GBK, 2026年9月1日 dates, amounts "12,345.50元", lower-case x, a contact list in one cell,
#    a batch number column and a column kept as 其他字段.
def abc(cases: list[BankCase], batch_no: str) -> bytes:
    rows: list[list[object]] = [["批次", "借据号", "借款人", "身份证号码", "逾期金额", "委托日期", "委托到期日", "手机",
                                 "联系人信息", "账单日"]]
    for c in cases:
        rows.append([batch_no, c.case_no, c.name, c.id_number.lower(), f"{c.amount:,.2f}元",
                     f"{c.entrust.year}年{c.entrust.month}月{c.entrust.day}日",
                     f"{c.back.year}年{c.back.month}月{c.back.day}日", " ".join([c.mobile, *c.others]),
                     "；".join(f"{n} {r} {p}" for n, r, p in c.contacts), "5日"])
    return _csv(rows, "gbk")


# 3. 中国银行: .xls, the header on row 3 under two lines of notes, Excel serial dates, float amounts, contacts in
#    six columns (联系人1姓名/关系/电话, 联系人2...), the commission rate in the file.
def boc(cases: list[BankCase], batch_no: str) -> bytes:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("委外清单")
    sheet.write(0, 0, f"批次：{batch_no}")
    sheet.write(1, 0, "制表：中国银行辽宁省分行")
    headers = ["委案批次", "个案编号", "持卡人姓名", "证件号码", "委托金额", "佣金率", "委案日期", "委案到期日",
               "本人手机", "其他号码", "联系人1姓名", "联系人1关系", "联系人1电话", "联系人2姓名", "联系人2关系",
               "联系人2电话"]
    for col, header in enumerate(headers):
        sheet.write(2, col, header)
    epoch = dt.date(1899, 12, 30)
    for r, c in enumerate(cases, start=3):
        values: list[object] = [batch_no, c.case_no, c.name, c.id_number, float(c.amount), "4.5%",
                                (c.entrust - epoch).days, (c.back - epoch).days, c.mobile, "、".join(c.others)]
        for slot in range(2):
            values += list(c.contacts[slot]) if slot < len(c.contacts) else ["", "", ""]
        for col, value in enumerate(values):
            sheet.write(r, col, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# 4. 建设银行: .xlsx, header on row 1 in the bank's own words, "¥12,345.50" amounts, dates with a time of day,
#    a product column, the contact's name and relation in one cell "配偶：李四", two columns kept as 其他字段.
def ccb(cases: list[BankCase], batch_no: str) -> bytes:
    rows: list[list[object]] = [["批次编号", "账号", "户名", "证件号", "欠款总额", "委案开始日期", "委托截止日期",
                                 "业务类型", "客户手机", "备用电话", "紧急联系人", "紧急联系人电话", "分行",
                                 "五级分类"]]
    for c in cases:
        first = c.contacts[0]
        rows.append([batch_no, c.case_no, c.name, c.id_number, f"¥{c.amount:,.2f}", f"{c.entrust:%Y-%m-%d} 00:00:00",
                     f"{c.back:%Y-%m-%d} 00:00:00", "贷款", c.mobile, ";".join(c.others), f"{first[1]}：{first[0]}",
                     first[2], "沈阳分行", "次级"])
    return _xlsx(rows)


# 5. 交通银行: CSV in UTF-8 with BOM, a title line above the header, day-first dates 01/09/2026, amounts "1.2345万",
#    mobile and other phones in one column split by spaces, one contact in columns.
def bocom(cases: list[BankCase], batch_no: str) -> bytes:
    rows: list[list[object]] = [["交通银行太平洋信用卡中心 委外案件"],
                                ["批次号", "卡号", "案件号", "客户姓名", "身份证号", "欠款余额", "分案日期", "退案日期",
                                 "联系电话", "联系人姓名", "与本人关系", "联系人电话"]]
    for c in cases:
        first = c.contacts[0]
        rows.append([batch_no, f"6222{c.case_no[-4:]}00001111", c.case_no, c.name, c.id_number, _wan(c.amount) + "万",
                     f"{c.entrust:%d/%m/%Y}", f"{c.back:%d/%m/%Y}", " ".join([c.mobile, *c.others]), first[0],
                     first[1], first[2]])
    return b"\xef\xbb\xbf" + _csv(rows, "utf-8")
