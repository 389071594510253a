"""Reads of import mappings: the bank's mappings and their latest versions, the header history behind the
proposed mapping, and which mapping a new file's headers call for."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, QuerySet

from accounts.models import User
from cases.imports.excel import REQUIRED_HEADERS
from cases.models import Bank
from mappings.imports.fields import CASES, EXTRA, normalize, targets_for
from mappings.imports.headers import LayoutDiff, compare_layout, history_of, similarity
from mappings.imports.spec import ColumnRule, MappingSpec
from mappings.models import BankFileUpload, ImportMapping, MappingVersion

# A file sharing at least this share of its headers with a mapping is that mapping's layout, changed.
CHANGED_LAYOUT_SIMILARITY = 0.5


def mapping_list_for_clerk(*, clerk: User, kind: str | None = None) -> QuerySet[ImportMapping]:
    """The mappings of the clerk's banks, each with its versions newest first and how many files each read."""
    qs = ImportMapping.objects.filter(bank__clerk_scopes__clerk=clerk)
    if kind:
        qs = qs.filter(kind=kind)
    versions = MappingVersion.objects.select_related("created_by").annotate(
        upload_count=Count("uploads")).order_by("-number")
    return (qs.select_related("bank", "created_by").prefetch_related(Prefetch("versions", queryset=versions))
            .order_by("bank__code", "kind", "name"))


def mapping_latest_versions(*, bank: Bank, kind: str) -> list[MappingVersion]:
    """The newest version of each of the bank's mappings of `kind`, most recently saved first."""
    latest: dict[int, MappingVersion] = {}
    for version in (MappingVersion.objects.select_related("mapping")
                    .filter(mapping__bank=bank, mapping__kind=kind).order_by("mapping_id", "-number")):
        latest.setdefault(version.mapping_id, version)
    return sorted(latest.values(), key=lambda v: v.created_at, reverse=True)


def mapping_versions_of(*, mapping: ImportMapping) -> QuerySet[MappingVersion]:
    return (MappingVersion.objects.filter(mapping=mapping).select_related("created_by")
            .annotate(upload_count=Count("uploads")).order_by("-number"))


def mapping_header_history(*, bank: Bank, kind: str) -> dict[str, ColumnRule]:
    """Every header wording the bank's mappings used, with the field and rules it was last given."""
    specs = [MappingSpec.from_json(spec) for spec in
             MappingVersion.objects.filter(mapping__bank=bank, mapping__kind=kind).order_by("created_at", "pk")
             .values_list("spec", flat=True)]
    return history_of(specs)


def mapping_known_headers(*, bank: Bank, kind: str) -> set[str]:
    return {normalize(h) for headers in MappingVersion.objects.filter(mapping__bank=bank, mapping__kind=kind)
            .values_list("headers", flat=True) for h in headers}


def upload_batches_of_version(*, version: MappingVersion) -> QuerySet[BankFileUpload]:
    return (BankFileUpload.objects.filter(version=version).exclude(batch=None).select_related("batch", "uploaded_by")
            .order_by("-imported_at"))


STANDARD = "standard"


@dataclass
class MappingChoice:
    """Which mapping reads a file: `version` (None with `standard` for the standard template), whether the file's
    headers are exactly the mapping's (`exact`) or a changed layout of it (`diff`), and the other choices."""

    version: MappingVersion | None = None
    standard: bool = False
    exact: bool = False
    diff: LayoutDiff | None = None
    choices: list[MappingVersion] = field(default_factory=list)

    @property
    def label(self) -> str:
        if self.standard:
            return "标准模板"
        return self.version.label if self.version is not None else ""


def is_standard_layout(labels: list[str]) -> bool:
    keys = {normalize(label) for label in labels}
    return all(normalize(h) in keys for h in REQUIRED_HEADERS)


def mapping_choose(*, bank: Bank, kind: str, labels: list[str], version_id: int | None = None,
                   standard: bool = False) -> MappingChoice:
    """The mapping for a file with these headers: the one asked for (`version_id`, `standard`), else the bank's
    mapping with exactly these headers, else the standard template when the headers are its own, else the most
    similar mapping as a changed layout (the clerk confirms it), else none (a new layout)."""
    choices = mapping_latest_versions(bank=bank, kind=kind)
    if version_id is not None:
        version = (MappingVersion.objects.select_related("mapping")
                   .filter(pk=version_id, mapping__bank=bank, mapping__kind=kind).first())
        if version is not None:
            diff = compare_layout(version.headers, labels)
            return MappingChoice(version=version, exact=diff.same, diff=diff, choices=choices)
    if standard and kind == CASES:
        return MappingChoice(standard=True, exact=is_standard_layout(labels), choices=choices)
    for version in choices:
        diff = compare_layout(version.headers, labels)
        if diff.same:
            return MappingChoice(version=version, exact=True, diff=diff, choices=choices)
    if kind == CASES and is_standard_layout(labels):
        return MappingChoice(standard=True, exact=True, choices=choices)
    scored = sorted(((similarity(v.headers, labels), v) for v in choices), key=lambda p: p[0], reverse=True)
    if scored and scored[0][0] >= CHANGED_LAYOUT_SIMILARITY:
        version = scored[0][1]
        return MappingChoice(version=version, exact=False, diff=compare_layout(version.headers, labels),
                             choices=choices)
    return MappingChoice(choices=choices)


def standard_spec(labels: list[str]) -> MappingSpec:
    """The standard template as a mapping (for a standard-layout .xls or .csv): each header to its own field."""
    targets = targets_for(CASES)
    renamed = {"联系人姓名": "联系人1姓名", "联系人关系": "联系人1关系", "联系人电话": "联系人1电话"}
    columns = []
    for label in labels:
        if not label:
            continue
        key = normalize(label)
        target = renamed.get(key, key if key in targets else EXTRA)
        columns.append(ColumnRule(header=label, target=target))
    return MappingSpec(kind=CASES, columns=columns)
