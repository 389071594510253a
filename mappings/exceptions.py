"""Refusals of the import-mapping actions; `str(error)` is the Chinese message for the clerk."""

from __future__ import annotations

from cases.exceptions import DomainError


class MappingInvalidError(DomainError):
    """The mapping cannot import anything as it stands; `problems` lists why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("映射还不完整：" + "；".join(problems))
        self.problems = problems


class LayoutChangedError(DomainError):
    """The file's header no longer matches the mapping chosen: the clerk must confirm the mapping again."""

    def __init__(self, label: str, missing: list[str], added: list[str]) -> None:
        parts = []
        if missing:
            parts.append("缺少列“" + "”“".join(missing) + "”")
        if added:
            parts.append("多出列“" + "”“".join(added) + "”")
        super().__init__(f"文件的表头与映射“{label}”不一致（{'，'.join(parts)}），请重新确认映射后再导入")
        self.missing, self.added = missing, added


class BankFileUnreadableError(DomainError):
    """The file cannot be read at all (not a spreadsheet, broken, no header)."""


class UploadAlreadyImportedError(DomainError):
    def __init__(self, filename: str) -> None:
        super().__init__(f"文件《{filename}》已经导入过")
