"""A saved mapping's content: for each column of the bank's file, the field it feeds and its value rules; the
constants typed once; the fields asked for at each import. Stored as JSON on the mapping version.

Pure: no ORM.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mappings.imports.fields import CASES, DATE, EXTRA, IGNORE, MONEY, Target, normalize, targets_for

YUAN, WAN = "yuan", "wan"
YMD, MDY, DMY = "ymd", "mdy", "dmy"
UNIT_LABELS = {YUAN: "元", WAN: "万元"}
DATE_ORDER_LABELS = {YMD: "年月日（2026/9/1、20260901、2026年9月1日、Excel 日期）", MDY: "月/日/年（9/1/2026）",
                     DMY: "日/月/年（1/9/2026）"}


@dataclass(frozen=True)
class ColumnRule:
    header: str  # the column's header as the bank writes it (two-level headers joined with ·)
    target: str  # a Target key, EXTRA (kept as 其他字段) or IGNORE
    unit: str = YUAN  # money: 元 or 万元
    date_order: str = YMD

    def to_json(self) -> dict[str, str]:
        data = {"header": self.header, "target": self.target}
        if self.unit != YUAN:
            data["unit"] = self.unit
        if self.date_order != YMD:
            data["date_order"] = self.date_order
        return data

    @classmethod
    def from_json(cls, data: dict[str, str]) -> ColumnRule:
        return cls(header=str(data["header"]), target=str(data["target"]), unit=str(data.get("unit", YUAN)),
                   date_order=str(data.get("date_order", YMD)))

    def rule_text(self, target: Target | None) -> str:
        if target is None:
            return ""
        if target.kind == MONEY:
            return f"单位：{UNIT_LABELS.get(self.unit, self.unit)}"
        if target.kind == DATE and self.date_order != YMD:
            return f"日期顺序：{DATE_ORDER_LABELS[self.date_order].split('（')[0]}"
        return ""


@dataclass
class MappingSpec:
    kind: str = CASES
    columns: list[ColumnRule] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)  # field → the value typed once
    ask: list[str] = field(default_factory=list)  # fields typed at each import (批次号 of a file that lacks it)

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "columns": [c.to_json() for c in self.columns], "constants": dict(self.constants),
                "ask": list(self.ask)}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> MappingSpec:
        columns = data.get("columns") or []
        constants = data.get("constants") or {}
        ask = data.get("ask") or []
        assert isinstance(columns, list) and isinstance(constants, dict) and isinstance(ask, list)
        return cls(kind=str(data.get("kind", CASES)), columns=[ColumnRule.from_json(c) for c in columns],
                   constants={str(k): str(v) for k, v in constants.items()}, ask=[str(a) for a in ask])

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def rule_for(self, header: str) -> ColumnRule | None:
        key = normalize(header)
        return next((c for c in self.columns if normalize(c.header) == key), None)

    def sources(self, target: str) -> list[ColumnRule]:
        return [c for c in self.columns if c.target == target]

    def problems(self) -> list[str]:
        """What keeps this mapping from importing anything: a required field with no column and no value, a
        field with several columns where only one makes sense, an unknown field. Chinese, one line each."""
        targets = targets_for(self.kind)
        found: list[str] = []
        for column in self.columns:
            if column.target not in targets and column.target not in (EXTRA, IGNORE):
                found.append(f"列“{column.header}”对应的字段“{column.target}”不存在")
        for key, target in targets.items():
            sources = self.sources(key)
            given = key in self.constants or key in self.ask
            if len(sources) > 1 and not target.joins:
                names = "”“".join(c.header for c in sources)
                found.append(f"“{target.label}”只能对应一列，现在对应了“{names}”")
            if sources and given:
                found.append(f"“{target.label}”已对应文件中的列，不需要再填写固定值")
            if target.required and not sources and not given:
                what = "，也可以填写固定值" if target.constant else ""
                found.append(f"必填字段“{target.label}”还没有对应文件中的列{what}")
        if self.kind == "repayments" and not self.sources("案件编号") and not self.sources("卡号"):
            found.append("“案件编号”和“卡号”至少要对应一列，回款才能匹配到委案")
        return found
