"""Signals `cases` sends where a bulk write skips the model's own save signals.

- `repayments_recorded(sender=Repayment, repayments=[...])`: the entries of a bank repayment file, written
  together (cases.actions.repayments). Receivers that react to one repayment's post_save handle these as a
  group (the worklist re-matches the promises of the cases that have any).
"""

from __future__ import annotations

from django.dispatch import Signal

repayments_recorded = Signal()
