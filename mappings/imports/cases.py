"""Read a bank's case file through a mapping into the standard import's `CaseRow`s and `RowError`s.

Each data row is laid out as a row of the standard template (value rules applied on the way) and converted by
the standard template's own row parser, so every check and every typed value is the standard import's; the
contacts beyond the template's one (several contacts, phone lists, name/relation pairs, contact lists in one
cell) are added after. Errors name the bank's own columns and the sheet's own row numbers. The stream has the
shape `cases.actions.batches.batch_import_stream` reads. Pure: no ORM.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass

from cases.imports.excel import (
    COLUMNS,
    HEADERS,
    CellValue,
    RowProblem,
    _reading,
    _RowParser,
    _text,
    data_chunks,
)
from cases.imports.rows import CaseRow, ContactRow, ParseResult, RowError
from mappings.imports import rules
from mappings.imports.fields import (
    C_MIXED,
    C_NAME,
    C_PAIR,
    C_PHONE,
    C_RELATION,
    CASES,
    CONTACT_SLOTS,
    DATE,
    EXTRA,
    ID,
    IGNORE,
    MONEY,
    PHONES,
    targets_for,
)
from mappings.imports.headers import HeaderInfo
from mappings.imports.reading import OpenedSheet
from mappings.imports.spec import MappingSpec

_INDEX = {h: i for i, h in enumerate(HEADERS)}
_MOBILE, _OTHERS = _INDEX["手机号码"], _INDEX["其他电话"]
_LIMITS = {"name": 64, "relation": 32}
# Where a constant or an asked value comes from, as the errors name it.
CONSTANT_SUFFIX, ASKED_SUFFIX, UNMAPPED_SUFFIX = "（固定值）", "（导入时填写）", "（未对应任何列）"


@dataclass
class _Slot:
    names: list[int]
    relations: list[int]
    phones: list[int]
    pairs: list[int]


class MappedRowParser:
    """One bank row → the standard template's row → `_RowParser` → CaseRow, plus the extra contacts."""

    def __init__(self, spec: MappingSpec, positions: Mapping[str, int], answers: Mapping[str, str]) -> None:
        targets = targets_for(CASES)
        width = len(COLUMNS)
        self.labels: dict[str, str] = {}  # standard header → the bank's column(s) for errors
        base: list[CellValue] = [""] * width
        self.simple: list[tuple[int, int]] = []  # (standard index, bank position)
        self.ruled: list[tuple[int, int, Callable[[CellValue], CellValue]]] = []
        self.joined: list[tuple[int, list[int], str]] = []  # (standard index, bank positions, separator)
        self.transformed: set[str] = set()
        self.slots = [_Slot([], [], [], []) for _ in range(CONTACT_SLOTS + 1)]
        self.mixed: list[int] = []
        self.contact_labels: dict[int, str] = {}
        extras: list[tuple[str, int]] = []
        for key, target in targets.items():
            columns = [c for c in spec.sources(key) if c.header in positions]
            for column in columns:
                self.contact_labels[positions[column.header]] = column.header
            if target.kind in (C_NAME, C_RELATION, C_PHONE, C_PAIR):
                slot = self.slots[target.slot]
                where = {C_NAME: slot.names, C_RELATION: slot.relations, C_PHONE: slot.phones, C_PAIR: slot.pairs}
                where[target.kind].extend(positions[c.header] for c in columns)
                continue
            if target.kind == C_MIXED:
                self.mixed.extend(positions[c.header] for c in columns)
                continue
            index = _INDEX[key]
            if key in spec.constants:
                base[index] = spec.constants[key]
                self.labels[key] = key + CONSTANT_SUFFIX
            elif key in spec.ask:
                base[index] = answers.get(key, "")
                self.labels[key] = key + ASKED_SUFFIX
            elif not columns:
                self.labels[key] = key + UNMAPPED_SUFFIX
            elif len(columns) > 1:
                self.labels[key] = "、".join(c.header for c in columns)
                separator = "、" if target.kind == PHONES else ""
                self.joined.append((index, [positions[c.header] for c in columns], separator))
            else:
                column = columns[0]
                self.labels[key] = column.header
                rule: Callable[[CellValue], CellValue] | None = None
                if target.kind == MONEY:
                    rule = rules.money(column.unit)
                elif target.kind == DATE:
                    rule = rules.date(column.date_order)
                elif target.kind == ID:
                    rule = rules.id_number
                if rule is None:
                    self.simple.append((index, positions[column.header]))
                else:
                    self.ruled.append((index, positions[column.header], rule))
                    self.transformed.add(key)
        # Columns kept as 其他字段: after the template's columns, under the bank's header.
        mapped = {c.header for c in spec.columns if c.target not in (EXTRA, IGNORE)}
        ignored = {c.header for c in spec.columns if c.target == IGNORE}
        for header, pos in positions.items():
            if header in mapped or header in ignored:
                continue
            extras.append((header if header not in _INDEX else f"{header}（银行）", pos))
        self.base = base
        self.active_slots = [(n, slot) for n, slot in enumerate(self.slots)
                             if n and (slot.names or slot.relations or slot.phones or slot.pairs)]
        self.extra_positions = [pos for _h, pos in extras]
        standard_positions = {h: i for i, h in enumerate(HEADERS)}
        standard_positions.update({h: width + i for i, (h, _p) in enumerate(extras)})
        self.standard = _RowParser(standard_positions, [h for h, _p in extras])

    def layout(self, cells: list[CellValue]) -> list[CellValue]:
        """The bank row as a row of the standard template (then the columns kept as 其他字段)."""
        n = len(cells)
        row = self.base[:]
        for index, pos in self.simple:
            if pos < n:
                row[index] = cells[pos]
        for index, pos, rule in self.ruled:
            if pos < n:
                row[index] = rule(cells[pos])
        for index, positions, separator in self.joined:
            row[index] = separator.join(t for t in (_text(cells[p]) for p in positions if p < n) if t)
        mobile = row[_MOBILE]
        if type(mobile) is str and len(mobile) > 13:
            # Several numbers in the mobile column: the first is the mobile, the others are other phones.
            numbers = rules.numbers_only(mobile)
            if len(numbers) > 1:
                row[_MOBILE] = numbers[0]
                row[_OTHERS] = "、".join(t for t in (_text(row[_OTHERS]), *numbers[1:]) if t)
        row.extend(cells[p] if p < n else "" for p in self.extra_positions)
        return row

    def parse(self, number: int, cells: list[CellValue]) -> tuple[CaseRow | None, list[RowError]]:
        laid = self.layout(cells)
        row, found = self.standard.parse(number, laid)
        errors = [self._named(e, cells) for e in found]
        contacts, extra, contact_errors = self._contacts(number, cells)
        errors.extend(contact_errors)
        if errors or row is None:
            return None, errors
        if contacts:
            row.contacts.extend(contacts)
        if extra:
            row.extra = {**row.extra, **extra}
        return row, errors

    def _named(self, error: RowError, cells: list[CellValue]) -> RowError:
        header = error.column
        label = self.labels.get(header, header)
        message = error.message
        if header in self.transformed:
            pos = next((p for i, p, _r in self.ruled if HEADERS[i] == header), None)
            if pos is not None and pos < len(cells):
                message = f"{message}（文件中为“{_text(cells[pos])}”）"
        return RowError(error.row_number, label, message)

    def _contacts(self, number: int, cells: list[CellValue]
                  ) -> tuple[list[ContactRow], dict[str, str], list[RowError]]:
        contacts: list[ContactRow] = []
        extra: dict[str, str] = {}
        errors: list[RowError] = []
        n = len(cells)
        for slot_no, slot in self.active_slots:
            name, relation = _joined(cells, slot.names, n), _joined(cells, slot.relations, n)
            pair = _joined(cells, slot.pairs, n) if slot.pairs else ""
            if pair:
                pair_name, pair_relation = rules.name_relation(pair)
                name, relation = name or pair_name, relation or pair_relation
            numbers: list[str] = []
            for pos in slot.phones:
                if pos < n and _text(cells[pos]):
                    try:
                        numbers += [p for p in rules.phones(cells[pos], "联系人电话") if p not in numbers]
                    except RowProblem as problem:
                        errors.append(RowError(number, self.contact_labels[pos], str(problem)))
            if len(name) > _LIMITS["name"] or len(relation) > _LIMITS["relation"]:
                for what, value, column in (("name", name, slot.names or slot.pairs),
                                            ("relation", relation, slot.relations or slot.pairs)):
                    if len(value) > _LIMITS[what]:
                        errors.append(RowError(number, self.contact_labels[column[0]],
                                               f"过长：最多 {_LIMITS[what]} 个字，实际 {len(value)} 个"))
            if numbers:
                contacts.extend(ContactRow(name=name, relation=relation, phone=p) for p in numbers)
            else:
                # A contact without a number cannot be called; keep what the bank gave (as the standard import).
                prefix = "联系人" if slot_no == 1 else f"联系人{slot_no}"
                if name:
                    extra[f"{prefix}姓名"] = name
                if relation:
                    extra[f"{prefix}关系"] = relation
        for pos in self.mixed:
            if pos >= n or not _text(cells[pos]):
                continue
            kept: list[str] = []
            for name, relation, numbers in rules.contact_entries(cells[pos]):
                if len(name) > _LIMITS["name"] or len(relation) > _LIMITS["relation"]:
                    errors.append(RowError(number, self.contact_labels[pos], f"联系人“{name[:20]}”的姓名或关系过长"))
                    continue
                if numbers:
                    contacts.extend(ContactRow(name=name, relation=relation, phone=p) for p in numbers)
                else:
                    kept.append(" ".join(t for t in (name, relation) if t))
            if kept:
                extra[self.contact_labels[pos]] = "；".join(kept)
        return contacts, extra, errors

    def batch_no_of(self, cells: list[CellValue]) -> str:
        index = _INDEX["批次号"]
        value = self.base[index]
        for i, pos in self.simple:
            if i == index and pos < len(cells):
                value = cells[pos]
        return _text(value)


def _joined(cells: list[CellValue], positions: list[int], n: int) -> str:
    if len(positions) == 1:
        pos = positions[0]
        return _text(cells[pos]) if pos < n else ""
    return " ".join(t for t in (_text(cells[p]) for p in positions if p < n) if t)


class MappedCaseStream:
    """The shape `batch_import_stream` reads (errors, batch_no, sheet_rows, chunks), for a bank's own file."""

    def __init__(self, sheet: OpenedSheet, header: HeaderInfo, spec: MappingSpec, *,
                 answers: Mapping[str, str] | None = None, max_rows: int) -> None:
        self.result = ParseResult(sheet_name=sheet.name)
        self.sheet = sheet
        self.header = header
        self.max_rows = max_rows
        self.sheet_rows = max(sheet.height - header.row - 1, 1)
        positions = header.positions()
        self.result.headers = [label for label in header.labels if label]
        self.parser = MappedRowParser(spec, positions, answers or {})
        self.result.extra_headers = [h for h, _p in self.parser.standard.extras]
        missing = [c.header for c in spec.columns if c.target not in (EXTRA, IGNORE) and c.header not in positions]
        for header_text in missing:
            self.result.errors.append(RowError(header.row + 1, header_text,
                                               "映射中的这一列在文件中找不到（表头变了？请重新确认映射）"))
        for key in spec.ask:
            if not (answers or {}).get(key, "").strip():
                self.result.errors.append(RowError(0, key + ASKED_SUFFIX, "请在导入时填写"))
        for key, target in targets_for(CASES).items():
            if target.required and self.parser.labels.get(key, "").endswith(UNMAPPED_SUFFIX):
                self.result.errors.append(RowError(0, target.label, "映射中没有对应的列，也没有填写固定值"))

    @property
    def errors(self) -> list[RowError]:
        return self.result.errors

    @property
    def batch_no(self) -> str:
        return self.result.batch_no

    def chunks(self, size: int = 5000) -> Generator[list[CaseRow], None, None]:
        rows = self.sheet.rows()
        # Skip the header (and the title rows above it).
        for _ in range(self.header.row + 1):
            if next(rows, None) is None:
                break
        if self.result.errors:
            # The mapping does not fit the file: nothing can be read reliably.
            return
        collecting = gc.isenabled()
        gc.disable()
        try:
            with _reading(self.result):
                yield from data_chunks(
                    rows, self.result, parser=self.parser, first_row=self.header.first_data_row_number,
                    batch_no_of=self.parser.batch_no_of, max_rows=self.max_rows, size=size,
                    batch_column=self.parser.labels["批次号"], case_column=self.parser.labels["案件编号"])
        finally:
            if collecting:
                gc.enable()


def preview_rows(sheet_head: list[list[CellValue]], header: HeaderInfo, spec: MappingSpec,
                 answers: Mapping[str, str] | None = None, *, limit: int = 8
                 ) -> list[tuple[int, list[CellValue], CaseRow | None, list[RowError]]]:
    """The first data rows as they will be imported: (row number, the bank's cells, the case row or None, its
    problems). Only the rows of `sheet_head` (the first rows of the sheet) are looked at."""
    parser = MappedRowParser(spec, header.positions(), answers or {})
    found = []
    for index in range(header.row + 1, len(sheet_head)):
        cells = sheet_head[index]
        if not any(_text(c) for c in cells):
            continue
        row, errors = parser.parse(index + 1, cells)
        found.append((index + 1, cells, row, errors))
        if len(found) >= limit:
            break
    return found

