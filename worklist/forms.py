"""Forms of the collector's day; errors in Chinese."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone

from worklist.actions import WEIGHT_FIELDS
from worklist.models import BankWorkSettings


class CallbackForm(forms.Form):
    due_at = forms.DateTimeField(label="约定回电时间", input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                 error_messages={"required": "请填写约定回电时间", "invalid": "时间格式不正确"})
    phone = forms.CharField(label="回电号码", max_length=32, required=False)
    note = forms.CharField(label="备注", max_length=200, required=False)

    def clean_due_at(self) -> dt.datetime:
        value: dt.datetime = self.cleaned_data["due_at"]
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class BankWorkSettingsForm(forms.ModelForm):
    class Meta:
        model = BankWorkSettings
        fields = ["tolerance_amount", "grace_days", *WEIGHT_FIELDS]

    def clean_tolerance_amount(self) -> Decimal:
        value: Decimal = self.cleaned_data["tolerance_amount"]
        if value < 0:
            raise forms.ValidationError("金额容差不能为负数")
        return value

    def clean_grace_days(self) -> int:
        value: int = self.cleaned_data["grace_days"]
        if value > 30:
            raise forms.ValidationError("宽限天数须在 0 到 30 之间")
        return value

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        for name in WEIGHT_FIELDS:
            value = cleaned.get(name)
            if isinstance(value, int) and value > 100:
                self.add_error(name, "权重须在 0 到 100 之间")
        return cleaned


class ActivityFilterForm(forms.Form):
    KINDS = (("", "全部"), ("call", "电话"), ("visit", "外访"), ("promise", "承诺还款"), ("repayment", "回款"))
    date_from = forms.DateField(label="开始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"invalid": "开始日期格式不正确"})
    date_to = forms.DateField(label="结束日期", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                              error_messages={"invalid": "结束日期格式不正确"})
    kind = forms.ChoiceField(label="类型", choices=KINDS, required=False)

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        for name in ("date_from", "date_to"):
            value = cleaned.get(name)
            if isinstance(value, dt.date) and not dt.date(2000, 1, 1) <= value <= dt.date(2100, 12, 31):
                self.add_error(name, "日期超出范围")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and start > end:
            self.add_error("date_to", "结束日期不能早于开始日期")
        return cleaned


class PromiseStatsForm(forms.Form):
    GROUPS = (("collector", "业务员"), ("department", "部门"), ("branch", "分公司"), ("batch", "批次"))
    PERIODS = (("month", "按月"), ("day", "按日"))
    group = forms.ChoiceField(label="分组", choices=GROUPS, required=False)
    period = forms.ChoiceField(label="周期", choices=PERIODS, required=False)
    date_from = forms.DateField(label="开始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"invalid": "开始日期格式不正确"})
    date_to = forms.DateField(label="结束日期", required=False, widget=forms.DateInput(attrs={"type": "date"}),
                              error_messages={"invalid": "结束日期格式不正确"})

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        for name in ("date_from", "date_to"):
            value = cleaned.get(name)
            if isinstance(value, dt.date) and not dt.date(2000, 1, 1) <= value <= dt.date(2100, 12, 31):
                self.add_error(name, "日期超出范围")
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and start > end:
            self.add_error("date_to", "结束日期不能早于开始日期")
        return cleaned
