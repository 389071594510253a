"""The mapping editor's form: one target and its rules per column of the bank's file, the constants, the name.

Hand-rolled over the POST data because the columns are the file's; every value is checked against the known
fields and rules, so the browser can only choose, never invent.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.http import QueryDict

from cases.imports.excel import _CONVERTERS, RowProblem, _date
from cases.models import Bank
from mappings.imports.fields import CASES, DATE, EXTRA, IGNORE, MONEY, REPAYMENTS, Target, targets_for
from mappings.imports.spec import DATE_ORDER_LABELS, UNIT_LABELS, YMD, YUAN, ColumnRule, MappingSpec
from mappings.models import MappingKind

ASK = "ask"
FIXED = "fixed"


class BankChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Bank) -> str:
        return f"{obj.name}（{obj.code}）"


class BankFileUploadForm(forms.Form):
    bank = BankChoice(queryset=Bank.objects.none(), label="银行", empty_label="请选择银行",
                      error_messages={"required": "请选择银行", "invalid_choice": "只能选择您负责的银行"})
    kind = forms.ChoiceField(label="文件类型", choices=MappingKind.choices, initial=CASES,
                             widget=forms.RadioSelect)
    file = forms.FileField(label="银行文件（.xlsx、.xls 或 .csv）",
                           error_messages={"required": "请选择要上传的文件", "empty": "上传的文件是空的"})

    def __init__(self, *args: object, banks: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["bank"].queryset = banks  # type: ignore[attr-defined]


def target_groups(kind: str) -> list[tuple[str, list[Target]]]:
    groups: dict[str, list[Target]] = {}
    for target in targets_for(kind).values():
        groups.setdefault(target.group, []).append(target)
    return list(groups.items())


def constant_targets(kind: str) -> list[Target]:
    return [t for t in targets_for(kind).values() if t.constant]


@dataclass
class EditorColumn:
    index: int
    header: str
    samples: list[str]
    rule: ColumnRule


def spec_from_post(kind: str, labels: list[str], data: QueryDict) -> tuple[MappingSpec, list[str]]:
    """The mapping the editor's POST describes, and the problems of its typed values (constants)."""
    targets = targets_for(kind)
    problems: list[str] = []
    columns: list[ColumnRule] = []
    for index, label in enumerate(labels):
        if not label:
            continue
        target = data.get(f"target_{index}", EXTRA if kind == CASES else IGNORE)
        if target not in targets and target not in (EXTRA, IGNORE):
            target = IGNORE
        if kind == REPAYMENTS and target == EXTRA:
            target = IGNORE
        unit = data.get(f"unit_{index}", YUAN)
        order = data.get(f"date_order_{index}", YMD)
        kind_of = targets[target].kind if target in targets else ""
        columns.append(ColumnRule(header=label, target=target,
                                  unit=unit if kind_of == MONEY and unit in UNIT_LABELS else YUAN,
                                  date_order=order if kind_of == DATE and order in DATE_ORDER_LABELS else YMD))
    spec = MappingSpec(kind=kind, columns=columns)
    mapped = {c.target for c in columns}
    for target in targets.values():
        if not target.constant or target.key in mapped:
            continue
        mode = data.get(f"mode_{target.key}", FIXED)
        value = data.get(f"const_{target.key}", "").strip()
        if mode == ASK:
            spec.ask.append(target.key)
        elif value:
            converter = _CONVERTERS.get(target.key) or (_date if target.kind == DATE else None)
            if converter is not None:
                try:
                    converter(value)
                except RowProblem as problem:
                    problems.append(f"“{target.label}”的固定值：{problem}")
            spec.constants[target.key] = value
    return spec, problems
