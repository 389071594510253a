"""The case domain's tables, one module per area, all re-exported here."""

from cases.models.assignments import Assignment, AssignmentKind
from cases.models.banks import Bank, ClerkBankScope
from cases.models.batches import Batch
from cases.models.calls import CallRecord
from cases.models.cases import Case, CaseContact
from cases.models.chat import ChatMessage, ChatReadState, DocumentRequest, DocumentRequestStatus, RequestedInfo
from cases.models.complaints import Complaint
from cases.models.compliance import BlockedNumber, CallPolicy, CallRefusal, NumberSuggestion, PendingRecording
from cases.models.files import StoredFile
from cases.models.history import CaseEvent
from cases.models.realtime import UserEvent
from cases.models.reminders import HolidayArrangement, Reminder
from cases.models.repayments import Repayment, RepaymentKind
from cases.models.reports import (
    BatchProgress,
    CollectorProgress,
    RepaymentDaily,
    RepaymentMonthly,
    RollupDirty,
    RollupKind,
)
from cases.models.returns import RetentionRequest, RetentionStatus
from cases.models.stats import DailyCaseWork, DailyCollectorStats
from cases.models.templates import BankTemplate
from cases.models.visits import VisitRecord

__all__ = ["Bank", "Batch", "Case", "CaseContact", "CaseEvent", "ClerkBankScope"]
__all__ += ["DailyCaseWork", "DailyCollectorStats", "HolidayArrangement", "Reminder", "UserEvent"]
__all__ += ["BankTemplate", "CallRecord", "Complaint", "StoredFile", "VisitRecord"]
__all__ += ["ChatMessage", "ChatReadState", "DocumentRequest", "DocumentRequestStatus", "RequestedInfo"]
__all__ += ["Assignment", "AssignmentKind"]
__all__ += ["BlockedNumber", "CallPolicy", "CallRefusal", "NumberSuggestion", "PendingRecording"]
__all__ += ["Repayment", "RepaymentDaily", "RepaymentKind"]
__all__ += ["RetentionRequest", "RetentionStatus"]
__all__ += ["BatchProgress", "CollectorProgress", "RepaymentMonthly", "RollupDirty", "RollupKind"]
