"""Domain errors raised by actions and policies; views turn them into Chinese messages."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every business-rule refusal. `str(error)` is a message fit for the user."""


class BatchAlreadyImportedError(DomainError):
    def __init__(self, bank_name: str, batch_no: str) -> None:
        super().__init__(f"{bank_name} 的批次 {batch_no} 已经导入过，不能重复导入")
        self.batch_no = batch_no


class BankNotInScopeError(DomainError):
    def __init__(self, bank_name: str) -> None:
        super().__init__(f"您没有负责银行“{bank_name}”的权限")
