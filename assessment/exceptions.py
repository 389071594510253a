"""Refusals of the assessment actions; `str(error)` is the Chinese message shown to the user."""

from __future__ import annotations

from cases.exceptions import DomainError


class NoPublishedScorecardError(DomainError):
    def __init__(self, bank_name: str) -> None:
        super().__init__(f"{bank_name} 还没有已发布的评分卡，请管理人员先在“评分卡”中定义并发布")


class AlreadyReviewedError(DomainError):
    def __init__(self) -> None:
        super().__init__("该申请人已复核，不能再评分或复核")


class NotCurrentAssessmentError(DomainError):
    def __init__(self) -> None:
        super().__init__("这不是该申请人最新的评分结果，只能复核最新一次评分")


class OverrideReasonRequiredError(DomainError):
    def __init__(self) -> None:
        super().__init__("最终决定或额度与系统建议不同，请填写推翻建议的理由")


class VersionNotEditableError(DomainError):
    def __init__(self, number: int, status: str) -> None:
        super().__init__(f"第 {number} 版{status}，不能修改；请“创建新版本”后在草稿中修改")


class ScorecardInvalidError(DomainError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("评分卡尚不能发布：" + "；".join(problems))
        self.problems = problems


class DraftExistsError(DomainError):
    def __init__(self, number: int) -> None:
        super().__init__(f"已有草稿第 {number} 版，请在草稿中修改或发布后再创建新版本")


class DuplicateIntakeFileError(DomainError):
    def __init__(self, filename: str, when: str) -> None:
        super().__init__(f"同一文件已于 {when} 导入过（{filename}），没有重复导入")
