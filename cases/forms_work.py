"""Forms of case work (calls, visits, files, complaints, bank templates). Parse and validate input only.

Choices are handed in by the views (from selectors); uploads are checked by content in the actions, not
here: a form only says whether a file was sent.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import forms
from django.utils import timezone

from accounts.models import User
from cases.enums import CallResult, ComplaintReason, FileKind, VisitResult
from cases.models import Bank, Case, CaseContact
from cases.models.cases import mask_phone
from cases.validators import normalize_phone


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (visit photos)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self, data: object, initial: object = None) -> list[object]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _date(**kwargs: object) -> forms.DateField:
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **kwargs)  # type: ignore[arg-type]


def _amount(label: str) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=False, min_value=Decimal("0.01"), max_digits=14,
                              decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.01", "class": "amount"}))


class ContactChoiceField(forms.ModelChoiceField):
    def __init__(self, *args: object, full_numbers: bool = False, **kwargs: object) -> None:
        self.full_numbers = full_numbers
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def label_from_instance(self, obj: CaseContact) -> str:
        phone = obj.phone if self.full_numbers else mask_phone(obj.phone)
        who = " ".join(part for part in (obj.relation, obj.name if obj.name != obj.relation else "") if part)
        return f"{who or '联系人'} {phone}"


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.display_name}（{obj.role_labels}）"


class _PromiseMixin:
    """承诺还款 needs a date and an amount; other results must not carry them."""

    def clean_promise(self, cleaned: dict[str, object]) -> None:
        if cleaned.get("result") in (CallResult.PROMISE, VisitResult.PROMISE):
            if not cleaned.get("promise_date"):
                self.add_error("promise_date", "承诺还款时请填写承诺日期")  # type: ignore[attr-defined]
            if not cleaned.get("promise_amount"):
                self.add_error("promise_amount", "承诺还款时请填写承诺金额")  # type: ignore[attr-defined]
        else:
            cleaned["promise_date"], cleaned["promise_amount"] = None, None


class _CallResultForm(_PromiseMixin, forms.Form):
    """What a call came to: its result, the promise with a 承诺还款 result, and what was said."""

    result = forms.ChoiceField(label="结果", choices=[("", "— 选择结果 —"), *CallResult.choices])
    promise_date = _date(label="承诺还款日期", required=False)
    promise_amount = _amount("承诺还款金额（元）")
    note = forms.CharField(label="通话内容", required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3, "placeholder": "对方说了什么、下一步怎么做"}))

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        self.clean_promise(cleaned)
        return cleaned


class CallRecordForm(_CallResultForm):
    """A call made outside the system, typed in by the collector."""

    contact = ContactChoiceField(label="拨打对象", required=False, queryset=CaseContact.objects.none(),
                                 empty_label="— 选择联系人 —")
    other_number = forms.CharField(label="或其他号码", required=False, max_length=32,
                                   widget=forms.TextInput(attrs={"inputmode": "tel",
                                                                 "placeholder": "不在列表中的号码"}))
    started_at = forms.DateTimeField(label="通话时间", widget=forms.DateTimeInput(
        attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))
    recording = forms.FileField(label="通话录音（可选）", required=False,
                                help_text="WAV、MP3、M4A 或 AMR，按文件内容识别",
                                widget=forms.ClearableFileInput(attrs={"accept": "audio/*,.amr,.m4a"}))

    def __init__(self, *args: object, case: Case, full_numbers: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["contact"]
        assert isinstance(field, ContactChoiceField)
        field.queryset = case.contacts.order_by("id")
        field.full_numbers = full_numbers
        self.fields["started_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        other = normalize_phone(str(cleaned.get("other_number") or ""))
        cleaned["other_number"] = other
        if not cleaned.get("contact") and not other:
            self.add_error("contact", "请选择拨打的联系人，或填写其他号码")
        return cleaned

    @property
    def number(self) -> str:
        contact = self.cleaned_data.get("contact")
        return self.cleaned_data.get("other_number") or (contact.phone if contact else "")


class CallOutcomeForm(_CallResultForm):
    """The outcome of a call placed through the system (its time, number and recording the dialer wrote), and a
    callback time agreed on it (约定回电, optional; the action checks it against the bank's calling window and
    the working calendar)."""

    callback_at = forms.DateTimeField(
        label="约定回电（可选）", required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="对方约定的回电时间，到时提醒并置顶今日工作", error_messages={"invalid": "约定回电时间格式不正确"})

    def __init__(self, *args: object, call_id: int, **kwargs: object) -> None:
        super().__init__(*args, prefix=f"outcome-{call_id}", **kwargs)  # type: ignore[arg-type]
        self.fields["note"].widget.attrs["rows"] = 2  # it opens inside the call's row

    def clean_callback_at(self) -> dt.datetime | None:
        value: dt.datetime | None = self.cleaned_data.get("callback_at")
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class VisitRecordForm(_PromiseMixin, forms.Form):
    collector = PersonChoiceField(label="外访人员", queryset=User.objects.none(), empty_label=None)
    visited_on = _date(label="外访日期")
    address = forms.CharField(label="外访地址", max_length=255,
                              widget=forms.TextInput(attrs={"list": "visit-addresses", "autocomplete": "off"}))
    met_person = forms.CharField(label="见到何人", required=False, max_length=64,
                                 widget=forms.TextInput(attrs={"placeholder": "如：本人、配偶、邻居"}))
    result = forms.ChoiceField(label="外访结果", choices=[("", "— 选择结果 —"), *VisitResult.choices])
    promise_date = _date(label="承诺还款日期", required=False)
    promise_amount = _amount("承诺还款金额（元）")
    note = forms.CharField(label="情况说明", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    photos = MultipleFileField(label="外访照片", required=False, help_text="可多选；JPEG、PNG 或 HEIC")
    signed_form = forms.FileField(label="签字外访记录表（PDF）", required=False,
                                  widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}))
    recording = forms.FileField(label="外访录音", required=False, help_text="WAV、MP3、M4A 或 AMR",
                                widget=forms.ClearableFileInput(attrs={"accept": "audio/*,.amr,.m4a"}))

    def __init__(self, *args: object, visitors: object, me: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["collector"]
        assert isinstance(field, PersonChoiceField)
        field.queryset = visitors  # type: ignore[assignment]
        field.initial = me.pk
        self.fields["visited_on"].initial = timezone.localdate()
        self.fields["photos"].widget.attrs["accept"] = "image/jpeg,image/png,image/heic,.heic"

    def clean_visited_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["visited_on"]
        if day > timezone.localdate():
            raise forms.ValidationError("外访日期不能晚于今天")
        return day

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        self.clean_promise(cleaned)
        return cleaned


CASE_FILE_KINDS = [(FileKind.ATTACHMENT, "附件（PDF 或图片）"), (FileKind.RECORDING, "录音")]


class CaseFileForm(forms.Form):
    kind = forms.ChoiceField(label="类别", choices=CASE_FILE_KINDS, initial=FileKind.ATTACHMENT)
    file = forms.FileField(label="文件")


class ComplaintForm(forms.Form):
    reason = forms.ChoiceField(label="投诉原因", choices=[("", "— 选择原因 —"), *ComplaintReason.choices])
    collector = PersonChoiceField(label="被投诉业务员", required=False, queryset=User.objects.none(),
                                  empty_label="— 不针对具体业务员 —")
    content = forms.CharField(label="投诉内容", max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: object, case: Case, collectors: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["collector"]
        assert isinstance(field, PersonChoiceField)
        field.queryset = collectors  # type: ignore[assignment]
        field.initial = case.collector_id


class ComplaintFilterForm(forms.Form):
    bank = forms.ModelChoiceField(label="银行", required=False, queryset=Bank.objects.none(), empty_label="全部银行")
    collector = PersonChoiceField(label="被投诉业务员", required=False, queryset=User.objects.none(),
                                  empty_label="全部业务员")
    reason = forms.ChoiceField(label="原因", required=False, choices=[("", "全部原因"), *ComplaintReason.choices])
    date_from = _date(label="记录日期从", required=False)
    date_to = _date(label="至", required=False)

    def __init__(self, *args: object, banks: object, collectors: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["bank"].queryset = banks  # type: ignore[attr-defined]
        self.fields["collector"].queryset = collectors  # type: ignore[attr-defined]


class BankTemplateForm(forms.Form):
    bank = forms.ModelChoiceField(label="银行", queryset=Bank.objects.none(), empty_label="— 选择银行 —")
    title = forms.CharField(label="标题", max_length=100,
                            widget=forms.TextInput(attrs={"placeholder": "如：还款承诺书"}))
    file = forms.FileField(label="文件", help_text="Word（.docx）、Excel（.xlsx）或 PDF，按文件内容识别")

    def __init__(self, *args: object, banks: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["bank"].queryset = banks  # type: ignore[attr-defined]
