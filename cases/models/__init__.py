"""The case domain's tables, one module per area, all re-exported here."""

from cases.models.banks import Bank, ClerkBankScope
from cases.models.batches import Batch
from cases.models.cases import Case, CaseContact
from cases.models.history import CaseEvent

__all__ = ["Bank", "Batch", "Case", "CaseContact", "CaseEvent", "ClerkBankScope"]
