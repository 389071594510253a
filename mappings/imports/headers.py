"""Find the header of a bank's sheet and propose what each column maps to.

The header is the row (with the rows of a two-level heading above it, told by merged cells) whose labels look
most like headers: labels the bank used before, then labels of the dictionary of common bank headers. A column
under a merged group heading is named "group·label" ("联系人1·电话"). Pure: no ORM.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cases.imports.excel import CellValue, _text
from mappings.imports.fields import (
    CASES,
    EXTRA,
    IGNORE,
    MOBILE,
    MONEY,
    dictionary_target,
    normalize,
    targets_for,
    without_units,
)
from mappings.imports.reading import Merge, column_letter
from mappings.imports.spec import WAN, YUAN, ColumnRule, MappingSpec

SEP = "·"
_NUMBERISH = re.compile(r"^[\d\s,.\-/:年月日%¥￥元]+$")


@dataclass
class HeaderInfo:
    """Where the header is and what its columns are called. Rows are 0-based indexes of the sheet."""

    top: int  # first row of the heading (a two-level heading spans several rows)
    row: int  # last row of the heading: data starts below it
    labels: list[str]  # one per column, unique; "" for a column with neither header nor data
    parts: list[list[str]] = field(default_factory=list)  # each column's heading parts, top to bottom

    @property
    def first_data_row_number(self) -> int:
        """The sheet row number (1-based) of the first row below the header."""
        return self.row + 2

    @property
    def row_numbers_text(self) -> str:
        return f"第 {self.top + 1} 行" if self.top == self.row else f"第 {self.top + 1}–{self.row + 1} 行"

    def positions(self) -> dict[str, int]:
        return {label: index for index, label in enumerate(self.labels) if label}


def _merged_value(head: Sequence[Sequence[CellValue]], merges: Sequence[Merge], row: int, col: int) -> str:
    for top, left, bottom, right in merges:
        if top <= row <= bottom and left <= col <= right:
            row, col = top, left
            break
    cells = head[row] if row < len(head) else []
    return _text(cells[col]) if col < len(cells) else ""


def _block_top(head: Sequence[Sequence[CellValue]], merges: Sequence[Merge], row: int) -> int:
    """The first row of the heading ending at `row`: rows above belong to it while they hold a group heading
    (a merge across columns, or one reaching down into the rows below) and more than one label (a title
    merged across the sheet has one)."""
    top = row
    while top > 0:
        above = top - 1
        labels = [c for c in head[above] if _text(c)]
        if len(labels) < 2:
            break
        if not any(t == above and (r > left or b >= top) for t, left, b, r in merges):
            break
        top = above
    return top


def labels_at(head: Sequence[Sequence[CellValue]], merges: Sequence[Merge], row: int, *, width: int | None = None
              ) -> HeaderInfo:
    """The header if it ended at `row`: each column's label put together from the heading rows above."""
    top = _block_top(head, merges, row)
    width = width if width is not None else max((len(r) for r in head), default=0)
    parts: list[list[str]] = []
    for col in range(width):
        column: list[str] = []
        for r in range(top, row + 1):
            text = _merged_value(head, merges, r, col).strip()
            if text and (not column or column[-1] != text):
                column.append(text)
        parts.append(column)
    labels = [SEP.join(p) for p in parts]
    return HeaderInfo(top=top, row=row, labels=_unique(labels, head, row), parts=parts)


def _unique(labels: list[str], head: Sequence[Sequence[CellValue]], row: int) -> list[str]:
    """Labels made unique ("电话", "电话（2）"); a column with data but no header is named by its letter."""
    seen: dict[str, int] = {}
    out: list[str] = []
    for col, label in enumerate(labels):
        if not label:
            has_data = any(col < len(r) and _text(r[col]) for r in head[row + 1:])
            out.append(f"（{column_letter(col)} 列）" if has_data else "")
            continue
        key = normalize(label)
        seen[key] = seen.get(key, 0) + 1
        out.append(label if seen[key] == 1 else f"{label}（{seen[key]}）")
    return out


def detect_header(head: Sequence[Sequence[CellValue]], merges: Sequence[Merge], *, kind: str = CASES,
                  known: Mapping[str, object] | None = None) -> HeaderInfo | None:
    """The most header-like row of the first rows (None when no row has two labels). `known`: normalised labels
    the bank's earlier mappings used, which count like dictionary words."""
    known = known or {}
    width = max((len(r) for r in head), default=0)
    best: tuple[int, int] | None = None
    best_info: HeaderInfo | None = None
    for row in range(len(head)):
        cells = [c for c in head[row] if _text(c)]
        if len(cells) < 2:
            continue
        info = labels_at(head, merges, row, width=width)
        score = 0
        for col, label in enumerate(info.labels):
            if not label or label.startswith("（"):
                continue
            last = info.parts[col][-1] if info.parts[col] else label
            if normalize(label) in known or normalize(last) in known:
                score += 12
            elif dictionary_target(kind, label) or dictionary_target(kind, last):
                score += 10
            elif _looks_like_value(head[row][col] if col < len(head[row]) else ""):
                score -= 6
            else:
                score += 1
        if best is None or score > best[0]:
            best, best_info = (score, row), info
    if best is None or best[0] < 2:
        return None
    return best_info


def _looks_like_value(cell: CellValue) -> bool:
    if isinstance(cell, int | float | dt.date | dt.datetime) and not isinstance(cell, bool):
        return True
    text = _text(cell)
    return bool(_NUMBERISH.match(text)) or len(text) > 30


def propose(*, kind: str, labels: Sequence[str], history: Mapping[str, ColumnRule] | None = None) -> MappingSpec:
    """A mapping for the file's columns: the field the bank's earlier mappings gave a header of the same
    wording, else the dictionary's field, else 其他字段 (cases; repayment files keep nothing else)."""
    history = history or {}
    targets = targets_for(kind)
    taken: set[str] = set()
    columns: list[ColumnRule] = []
    for label in labels:
        if not label:
            continue
        earlier = history.get(normalize(label))
        if earlier is not None:
            rule = ColumnRule(header=label, target=earlier.target, unit=earlier.unit, date_order=earlier.date_order)
        else:
            key = dictionary_target(kind, label)
            if key is None and SEP in label:
                key = dictionary_target(kind, label.split(SEP)[-1]) or dictionary_target(kind, label.replace(SEP, ""))
            rule = ColumnRule(header=label, target=key or (EXTRA if kind == CASES else IGNORE))
        target = targets.get(rule.target)
        if target is not None and rule.target in taken and not target.joins:
            # A second column of a one-column field: a second mobile is another phone, the rest is kept.
            fallback = "其他电话" if target.kind == MOBILE and kind == CASES else (EXTRA if kind == CASES else IGNORE)
            rule = ColumnRule(header=label, target=fallback)
            target = targets.get(fallback)
        if target is not None and target.kind == MONEY and earlier is None:
            rule = ColumnRule(header=label, target=rule.target, unit=_money_unit(label))
        taken.add(rule.target)
        columns.append(rule)
    return MappingSpec(kind=kind, columns=columns,
                       ask=["批次号"] if kind == CASES and "批次号" not in taken else [])


def _money_unit(label: str) -> str:
    """万元 when the header says so ("欠款（万元）"); a cell written "1.2万" is read as 万元 whatever the unit."""
    _bare, units = without_units(label)
    if "万" in units or label.endswith("万元"):
        return WAN
    return YUAN


def history_of(specs: Sequence[MappingSpec]) -> dict[str, ColumnRule]:
    """Each header wording the bank's mappings used, with its latest rule (`specs` oldest first)."""
    found: dict[str, ColumnRule] = {}
    for spec in specs:
        for column in spec.columns:
            found[normalize(column.header)] = column
    return found


@dataclass(frozen=True)
class LayoutDiff:
    missing: list[str]  # columns the mapping reads that the file lacks
    added: list[str]  # columns of the file the mapping does not know

    @property
    def same(self) -> bool:
        return not self.missing and not self.added


def compare_layout(mapping_headers: Sequence[str], labels: Sequence[str]) -> LayoutDiff:
    """The same layout means the same column headers, in any order (the mapping goes by header, not position)."""
    file_keys = {normalize(label): label for label in labels if label}
    mapped = {normalize(h): h for h in mapping_headers}
    return LayoutDiff(missing=[h for k, h in mapped.items() if k not in file_keys],
                      added=[label for k, label in file_keys.items() if k not in mapped])


def similarity(mapping_headers: Sequence[str], labels: Sequence[str]) -> float:
    """Shared headers over all headers of either (1.0: the same layout)."""
    a = {normalize(h) for h in mapping_headers}
    b = {normalize(label) for label in labels if label}
    return len(a & b) / len(a | b) if a | b else 0.0
