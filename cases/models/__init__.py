"""The case domain's tables, one module per area, all re-exported here."""

from cases.models.banks import Bank, ClerkBankScope
from cases.models.batches import Batch
from cases.models.cases import Case, CaseContact
from cases.models.history import CaseEvent
from cases.models.realtime import UserEvent
from cases.models.reminders import HolidayArrangement, Reminder
from cases.models.stats import DailyCaseWork, DailyCollectorStats

__all__ = ["Bank", "Batch", "Case", "CaseContact", "CaseEvent", "ClerkBankScope"]
__all__ += ["DailyCaseWork", "DailyCollectorStats", "HolidayArrangement", "Reminder", "UserEvent"]
