"""Repayments on the case page (C5): the panel, recording and reversing. Adapters only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from cases.actions.repayments import repayment_record, repayment_reverse
from cases.exceptions import RepaymentError
from cases.models import Case
from cases.policies import access_case, can_record_repayment
from cases.selectors.repayments import repayment_get, repayment_list
from cases.views.cases import AppRequest

PANEL = "money/_repayment_panel.html"


class RepaymentForm(forms.Form):
    amount = forms.DecimalField(label="回款金额（元）", max_digits=14, decimal_places=2, min_value=Decimal("0.01"),
                                error_messages={"required": "请填写回款金额", "invalid": "回款金额不是有效的数字",
                                                "min_value": "回款金额必须大于 0",
                                                "max_decimal_places": "回款金额最多两位小数（精确到分）"})
    repaid_on = forms.DateField(label="还款日期", widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"required": "请填写还款日期", "invalid": "还款日期格式应为 年-月-日"})
    bank_ref = forms.CharField(label="银行通知编号/流水号", max_length=64, required=False)
    note = forms.CharField(label="备注", max_length=500, required=False)
    overpayment = forms.BooleanField(label="超额还款（金额可超过余额）", required=False)

    def clean_repaid_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["repaid_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("还款日期不能晚于今天")
        return day


def _context(case: Case, user: object, form: RepaymentForm | None = None, error: str = "") -> dict[str, object]:
    can = can_record_repayment(user=user, case=case)  # type: ignore[arg-type]
    return {
        "case": case, "can_record": can, "error": error,
        "form": form or RepaymentForm(initial={"repaid_on": timezone.localdate()}),
        "repayments": repayment_list(case=case),
    }


@login_required
@require_GET
def repayment_panel_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    return render(request, PANEL, _context(case, request.user))


@login_required
@require_POST
def repayment_create_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_record_repayment(user=request.user, case=case):
        raise PermissionDenied
    form = RepaymentForm(request.POST)
    if form.is_valid():
        try:
            repayment_record(case=case, by=request.user, **form.cleaned_data)
        except RepaymentError as exc:
            return render(request, PANEL, _context(case, request.user, form, error=str(exc)))
        return render(request, PANEL, _context(case, request.user))
    return render(request, PANEL, _context(case, request.user, form))


@login_required
@require_POST
def repayment_reverse_view(request: AppRequest, case_id: int, repayment_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_record_repayment(user=request.user, case=case):
        raise PermissionDenied
    repayment = repayment_get(case=case, repayment_id=repayment_id)
    if repayment is None:
        raise Http404("回款记录不存在")
    try:
        repayment_reverse(repayment=repayment, by=request.user, reason=request.POST.get("reason", ""))
    except RepaymentError as exc:
        return render(request, PANEL, _context(case, request.user, error=str(exc)))
    return render(request, PANEL, _context(case, request.user))
