"""What a bank's column can be mapped to: the fields of the standard case template and of the repayment file,
each with the header wordings banks commonly use for it (the dictionary behind the proposed mapping).

Pure data and a few lookups; no ORM.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from cases.imports.excel import COLUMNS

CASES, REPAYMENTS = "cases", "repayments"
EXTRA, IGNORE = "__extra__", "__ignore__"
CONTACT_SLOTS = 5
CONTACTS_MIXED = "联系人信息"

# Value kinds: they decide the value rules a column offers and how several columns of one field combine.
TEXT, MONEY, DATE, RATE, ID, MOBILE, PHONES, INT, PRODUCT = (
    "text", "money", "date", "rate", "id", "mobile", "phones", "int", "product")
C_NAME, C_RELATION, C_PHONE, C_PAIR, C_MIXED = "c_name", "c_relation", "c_phone", "c_pair", "c_mixed"


@dataclass(frozen=True)
class Target:
    key: str  # stored in the mapping
    label: str
    group: str  # the option group of the drop-down
    kind: str
    required: bool = False
    constant: bool = False  # may be typed once for the whole file instead of read from a column
    synonyms: tuple[str, ...] = ()
    slot: int = 0  # contact fields: which contact (1-5)

    @property
    def joins(self) -> bool:
        """Several columns may feed this field: text is joined (省 + 市 + 详细地址), phones are listed."""
        return self.kind in (TEXT, PHONES, C_PHONE, C_MIXED)


_CASE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "批次号": ("批次", "委案批次", "委托批次", "批次编号", "委外批次号", "委案批次号", "批号"),
    "案件编号": ("案件号", "案件id", "委案编号", "委案号", "合同号", "合同编号", "借据号", "借款合同号", "委托编号",
             "案件序号", "个案编号", "个案序号", "账户号", "账号", "客户号", "客户编号"),
    "客户姓名": ("姓名", "客户名称", "借款人", "借款人姓名", "持卡人", "持卡人姓名", "主卡人姓名", "债务人",
             "债务人姓名", "户名", "客户名", "欠款人"),
    "证件号码": ("身份证号", "身份证号码", "证件号", "身份证", "客户证件号码", "借款人身份证号", "持卡人证件号码",
             "证件号码身份证", "身份证件号码"),
    "委案金额": ("委托金额", "委外金额", "欠款金额", "欠款总额", "逾期金额", "逾期总金额", "应还金额", "委案总金额",
             "催收金额", "总欠款", "欠款余额", "委托总金额", "人民币欠款", "欠款", "案件金额", "委案余额", "委托余额",
             "金额"),
    "佣金比例": ("佣金率", "手续费率", "委托费率", "服务费率", "佣金费率", "代理费率", "佣金点位", "费率"),
    "委案日期": ("委托日期", "委外日期", "委托开始日期", "委案开始日期", "分案日期", "委托起始日", "委托起始日期",
             "委案起始日", "委托日"),
    "退案日期": ("委托到期日", "委托到期日期", "委托截止日期", "委托结束日期", "退案日", "委案到期日", "委外到期日",
             "委案结束日期", "委托截止日", "到期退案日"),
    "产品类型": ("业务类型", "产品", "贷款类型", "业务品种", "产品名称", "产品种类"),
    "卡号": ("信用卡号", "银行卡号", "卡号账号", "主卡卡号"),
    "手机号码": ("手机", "手机号", "本人手机", "本人手机号", "客户手机", "客户手机号", "移动电话", "联系电话",
             "本人电话", "客户电话", "客户联系电话", "借款人手机", "持卡人手机"),
    "其他电话": ("其他号码", "备用电话", "住宅电话", "家庭电话", "宅电", "单位电话", "本人其他电话", "其他联系方式",
             "其他联系电话", "本人其他号码"),
    "家庭地址": ("住址", "家庭住址", "居住地址", "现住址", "户籍地址", "通讯地址", "账单地址", "客户地址", "住宅地址"),
    "单位名称": ("工作单位", "公司名称", "单位", "工作单位名称", "任职单位"),
    "单位地址": ("工作单位地址", "公司地址", "工作地址"),
    "本金": ("欠款本金", "逾期本金", "剩余本金", "本金余额", "未还本金"),
    "利息": ("欠息", "逾期利息", "利息余额", "未还利息"),
    "费用": ("滞纳金", "手续费", "其他费用", "违约金", "费用合计"),
    "逾期天数": ("逾期天", "账龄天数", "逾期时长"),
    "地区": ("所属地区", "区域", "城市", "归属地", "所在城市", "所在地区", "客户所在地"),
    "备注": ("银行备注", "说明", "备注信息", "催收备注", "其他说明"),
}
_KINDS = {"委案金额": MONEY, "本金": MONEY, "利息": MONEY, "费用": MONEY, "佣金比例": RATE,
          "委案日期": DATE, "退案日期": DATE, "证件号码": ID, "手机号码": MOBILE, "其他电话": PHONES,
          "逾期天数": INT, "产品类型": PRODUCT}
_CONSTANTS = {"批次号", "佣金比例", "委案日期", "退案日期", "产品类型", "地区", "备注"}
_STANDARD_CONTACT = ("联系人姓名", "联系人关系", "联系人电话")
_GROUPS = {"批次号": "批次与案件", "案件编号": "批次与案件", "委案金额": "金额与日期", "佣金比例": "金额与日期",
           "委案日期": "金额与日期", "退案日期": "金额与日期", "产品类型": "批次与案件", "本金": "金额与日期",
           "利息": "金额与日期", "费用": "金额与日期", "逾期天数": "金额与日期", "备注": "批次与案件"}


def _case_targets() -> tuple[Target, ...]:
    targets = [
        Target(key=c.header, label=c.header, group=_GROUPS.get(c.header, "客户本人"), kind=_KINDS.get(c.header, TEXT),
               required=c.required, constant=c.header in _CONSTANTS, synonyms=_CASE_SYNONYMS.get(c.header, ()))
        for c in COLUMNS if c.header not in _STANDARD_CONTACT
    ]
    for n in range(1, CONTACT_SLOTS + 1):
        cn = "一二三四五"[n - 1]
        # The standard template's 联系人姓名/关系/电话 are contact 1.
        plain = ("联系人", "紧急联系人") if n == 1 else ()
        targets += [
            Target(key=f"联系人{n}姓名", label=f"联系人{n}姓名", group="联系人", kind=C_NAME, slot=n,
                   synonyms=(*(p + "姓名" for p in plain), *plain, f"联系人{n}", f"联系人{cn}", f"联系人{cn}姓名")),
            Target(key=f"联系人{n}关系", label=f"联系人{n}关系", group="联系人", kind=C_RELATION, slot=n,
                   synonyms=(*(p + "关系" for p in plain), *(("与本人关系", "关系", "与客户关系") if n == 1 else ()),
                             f"联系人{cn}关系")),
            Target(key=f"联系人{n}电话", label=f"联系人{n}电话（可多个）", group="联系人", kind=C_PHONE, slot=n,
                   synonyms=(*(p + s for p in plain for s in ("电话", "手机", "号码", "联系电话")),
                             f"联系人{n}手机", f"联系人{n}号码", f"联系人{cn}电话", f"联系人{cn}手机")),
            Target(key=f"联系人{n}姓名及关系", label=f"联系人{n}姓名及关系（如 李四（配偶））", group="联系人",
                   kind=C_PAIR, slot=n,
                   synonyms=(f"联系人{n}姓名及关系", f"联系人{n}姓名关系", f"联系人{cn}姓名及关系")),
        ]
    targets.append(Target(key=CONTACTS_MIXED, label="联系人信息（姓名、关系、电话写在一格，可多人）",
                          group="联系人", kind=C_MIXED,
                          synonyms=("联系人信息", "联系人资料", "其他联系人", "联系人列表", "紧急联系人信息")))
    return tuple(targets)


CASE_TARGETS: tuple[Target, ...] = _case_targets()

REPAYMENT_TARGETS: tuple[Target, ...] = (
    Target(key="案件编号", label="案件编号", group="回款", kind=TEXT,
           synonyms=("案件号", "合同号", "合同编号", "借据号", "委案编号", "委托编号", "账号", "账户号", "个案编号")),
    Target(key="卡号", label="卡号", group="回款", kind=TEXT, synonyms=("信用卡号", "银行卡号", "主卡卡号")),
    Target(key="还款金额", label="还款金额", group="回款", kind=MONEY, required=True,
           synonyms=("回款金额", "金额", "还款额", "入账金额", "实还金额", "交易金额", "实收金额", "还款本息")),
    Target(key="还款日期", label="还款日期", group="回款", kind=DATE, required=True, constant=True,
           synonyms=("回款日期", "日期", "入账日期", "交易日期", "还款时间", "入账时间", "到账日期")),
    Target(key="流水号", label="流水号", group="回款", kind=TEXT,
           synonyms=("交易流水号", "银行流水号", "通知编号", "参考号", "交易参考号", "凭证号")),
    Target(key="备注", label="备注", group="回款", kind=TEXT, synonyms=("摘要", "说明", "附言")),
)

TARGETS = {CASES: CASE_TARGETS, REPAYMENTS: REPAYMENT_TARGETS}
KIND_LABELS = {CASES: "委案文件", REPAYMENTS: "回款文件"}


def targets_for(kind: str) -> dict[str, Target]:
    return {t.key: t for t in TARGETS[kind]}


_BLANKS = re.compile(r"[\s*＊:：_\-—/／、.·]+")
_UNIT = re.compile(r"[(（\[【]([^()（）\[\]【】]*)[)）\]】]")


def normalize(label: str) -> str:
    """A header as compared: full-width folded, no blanks, stars, colons or separators, lower case."""
    return _BLANKS.sub("", unicodedata.normalize("NFKC", label)).lower()


def without_units(label: str) -> tuple[str, str]:
    """The header without its bracketed part ("逾期金额（万元）" → "逾期金额"), and that part ("万元")."""
    text = unicodedata.normalize("NFKC", label)
    units = " ".join(m.group(1) for m in _UNIT.finditer(text))
    return _UNIT.sub("", text), units


def _dictionary(kind: str) -> dict[str, str]:
    words: dict[str, str] = {}
    for target in TARGETS[kind]:
        for word in (target.key, target.label.split("（")[0], *target.synonyms):
            words.setdefault(normalize(word), target.key)
    return words


DICTIONARY = {kind: _dictionary(kind) for kind in TARGETS}


def dictionary_target(kind: str, label: str) -> str | None:
    """The field a header names in the dictionary, trying it as written and then without its unit."""
    words = DICTIONARY[kind]
    hit = words.get(normalize(label))
    if hit is None:
        bare, _units = without_units(label)
        hit = words.get(normalize(bare))
    return hit
