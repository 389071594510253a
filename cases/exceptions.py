"""Domain errors raised by actions and policies; views turn them into Chinese messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cases.imports.rows import RowError


class DomainError(Exception):
    """Base of every business-rule refusal. `str(error)` is a message fit for the user."""


class BatchAlreadyImportedError(DomainError):
    def __init__(self, bank_name: str, batch_no: str) -> None:
        super().__init__(f"{bank_name} 的批次 {batch_no} 已经导入过，不能重复导入")
        self.batch_no = batch_no


class BankNotInScopeError(DomainError):
    def __init__(self, bank_name: str) -> None:
        super().__init__(f"您没有负责银行“{bank_name}”的权限")


class ImportRejectedError(DomainError):
    """The import file was refused; `errors` lists every problem (Excel row, column, message)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"文件有 {len(errors)} 处问题，未导入任何数据")
        self.errors = errors


# --- Case work (P4, C13, C15) -------------------------------------------------------------------------

class UploadRejectedError(DomainError):
    """An uploaded file failed the content or size check; the message names the file and why."""


class CaseClosedForWorkError(DomainError):
    def __init__(self, case_no: str, status_label: str) -> None:
        super().__init__(f"委案 {case_no} 已{status_label.removeprefix('已')}，不能再添加工作记录")


class AlreadyDeletedError(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what}已被删除")


class DeleteReasonRequiredError(DomainError):
    def __init__(self) -> None:
        super().__init__("请填写删除原因")


class PromiseDetailsRequiredError(DomainError):
    def __init__(self) -> None:
        super().__init__("结果为“承诺还款”时，请填写承诺还款日期和大于 0 的承诺金额")


class PromiseDateTooEarlyError(DomainError):
    def __init__(self) -> None:
        super().__init__("承诺还款日期不能早于通话或外访当天")


class CallOutcomeNotOpenError(DomainError):
    """The outcome of a system-dialled call is entered once, by the collector who made it."""


class WorkDateInFutureError(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what}不能晚于现在")


# --- Document requests (C8, P9, R3) -----------------------------------------------------------------------

class DocumentRequestInvalidError(DomainError):
    """The request form is incomplete; the message says what is missing."""


class NoClerkForRequestError(DomainError):
    def __init__(self, bank_name: str) -> None:
        super().__init__(f"该委案没有负责内勤，“{bank_name}”也没有在职的内勤，暂时无法索要资料，请联系管理人员")


class DocumentRequestClosedError(DomainError):
    def __init__(self) -> None:
        super().__init__("该资料请求已关闭，不能再发送消息；如仍需资料，请由业务员重新打开")


class ChatMessageEmptyError(DomainError):
    def __init__(self) -> None:
        super().__init__("请输入消息内容或选择附件")


class ChatMessageTooLongError(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"消息过长，最多 {limit} 字")


class DocumentRequestTransitionError(DomainError):
    """A status change that the request's state or the user's side does not allow."""


# --- Assignment (C3, C4, C6) --------------------------------------------------------------------------

def _some(case_nos: list[str], limit: int = 5) -> str:
    shown = "、".join(case_nos[:limit])
    return f"{shown} 等 {len(case_nos)} 件" if len(case_nos) > limit else shown


class CaseNotAssignableError(DomainError):
    """Base of the refusals of an assignment; nothing was changed."""


class CaseClosedForAssignmentError(CaseNotAssignableError):
    def __init__(self, case_nos: list[str]) -> None:
        super().__init__(f"委案 {_some(case_nos)} 已结清或已退案，不能分配")
        self.case_nos = case_nos


class CaseOutOfScopeError(CaseNotAssignableError):
    def __init__(self, case_nos: list[str]) -> None:
        super().__init__(f"委案 {_some(case_nos)} 属于您未负责的银行，不能分配")
        self.case_nos = case_nos


class CollectorUnavailableError(CaseNotAssignableError):
    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"不能分配给 {name}：{why}")


class NothingToAssignError(CaseNotAssignableError):
    def __init__(self, what: str = "没有选择任何委案") -> None:
        super().__init__(what)


class SelectionChangedError(CaseNotAssignableError):
    def __init__(self) -> None:
        super().__init__("预览之后所选委案有变化（可能已被他人分配、结案或新导入），未做任何分配，请重新预览后再确认")


class AssignmentPlanError(CaseNotAssignableError):
    """The chosen collectors do not fit the chosen mode (e.g. 分给一人 with two collectors)."""


class AssignerNotAllowedError(CaseNotAssignableError):
    def __init__(self) -> None:
        super().__init__("只有内勤或管理人员可以分配委案")


# --- Money (C5, C9, C10) ----------------------------------------------------------------------------------

class RepaymentError(DomainError):
    """A repayment or its reversal was refused; the message says why in Chinese."""


class ReturnError(DomainError):
    """A return, retention or retention request was refused; the message says why in Chinese."""


# --- Running the agency from its own pages (issue 15) ----------------------------------------------------

class CalendarError(DomainError):
    """A holiday entry was refused (dates out of order, too long a range, outside the year)."""


class MasterDataError(DomainError):
    """A bank, branch company or department change was refused; the message says why."""


class CallRulesError(DomainError):
    """A calling rule outside the national limits, or a blocked-number change that is not allowed."""


class CallbackTimeError(DomainError):
    """A callback time agreed on a call is outside the calling window, the working calendar or the horizon."""


class ClerkAllocationError(DomainError):
    """Moving a clerk's cases to another clerk was refused; the message says why."""
