"""Forms of the assessment pages: they parse and validate input only; queries come from policies/selectors."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.conf import settings
from django.utils import timezone

from accounts.inputs import BusinessDateField, PageField, page_number
from accounts.models import User
from assessment.enums import GRADES, ApplicantStatus, CharacteristicKind, Decision, EdgeRule, Grade
from assessment.imports.excel import Problem, id_number_value, phone_value
from assessment.imports.rows import ApplicantInput
from assessment.models import Characteristic, ScorecardVersion
from assessment.policies import banks_for_assessor
from assessment.scoring import BinSpec, GradeSpec
from assessment.selectors.applicants import ApplicantFilters
from cases.models import Bank
from cases.validators import id_number_error, normalize_id_number


class BankChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Bank) -> str:
        return f"{obj.name}（{obj.code}）"


def _money(label: str, *, required: bool = True, minimum: str = "0") -> forms.DecimalField:
    return forms.DecimalField(label=label, required=required, min_value=Decimal(minimum), max_digits=14,
                              decimal_places=2, widget=forms.NumberInput(attrs={"step": "0.01", "class": "amount"}),
                              error_messages={"required": f"请填写{label}", "invalid": f"{label}应为数字",
                                              "min_value": f"{label}不能小于 {minimum}",
                                              "max_decimal_places": f"{label}最多 2 位小数"})


class ApplicantForm(forms.Form):
    bank = BankChoiceField(label="申请银行", queryset=Bank.objects.none(), empty_label="请选择银行",
                           error_messages={"required": "请选择申请银行", "invalid_choice": "只能选择您负责的银行"})
    name = forms.CharField(label="姓名", max_length=64, error_messages={"required": "请填写姓名"})
    id_number = forms.CharField(label="证件号码", max_length=24, error_messages={"required": "请填写证件号码"},
                                widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off"}))
    phone = forms.CharField(label="手机号码", max_length=20, error_messages={"required": "请填写手机号码"})
    employer = forms.CharField(label="工作单位", max_length=128, required=False)
    employment_years = forms.DecimalField(label="工作年限（年）", min_value=Decimal("0"), max_value=Decimal("60"),
                                          max_digits=4, decimal_places=1, initial=0,
                                          widget=forms.NumberInput(attrs={"step": "0.1", "class": "amount"}),
                                          error_messages={"required": "请填写工作年限（没有可填 0）"})
    monthly_income = _money("月收入（元）")
    total_debt = _money("现有负债总额（元）", required=False)
    monthly_debt_payment = _money("现有月还款额（元）", required=False)
    loan_amount = _money("申请金额（元）", minimum="0.01")
    loan_term_months = forms.IntegerField(label="申请期限（月）", min_value=1, max_value=360,
                                          error_messages={"required": "请填写申请期限",
                                                          "min_value": "申请期限至少 1 个月",
                                                          "max_value": "申请期限最长 360 个月"})
    purpose = forms.CharField(label="贷款用途", max_length=128, required=False)
    collateral = forms.CharField(label="抵押/担保", max_length=255, required=False,
                                 widget=forms.TextInput(attrs={"placeholder": "没有可不填"}))
    overdue_records = forms.IntegerField(label="现有逾期记录（次）", min_value=0, max_value=999, initial=0,
                                         error_messages={"required": "请填写逾期记录次数（没有填 0）"})

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["bank"].queryset = banks_for_assessor(user)  # type: ignore[attr-defined]

    def clean_id_number(self) -> tuple[str, object, str]:
        try:
            return id_number_value(self.cleaned_data["id_number"], today=timezone.localdate())
        except Problem as problem:
            raise forms.ValidationError(str(problem)) from problem

    def clean_phone(self) -> str:
        try:
            return phone_value(self.cleaned_data["phone"])
        except Problem as problem:
            raise forms.ValidationError(str(problem)) from problem

    def to_input(self) -> ApplicantInput:
        data = self.cleaned_data
        number, birth, sex = data["id_number"]
        return ApplicantInput(
            name=data["name"].strip(), id_number=number, phone=data["phone"], birth_date=birth, sex=sex,
            monthly_income=data["monthly_income"], loan_amount=data["loan_amount"],
            loan_term_months=data["loan_term_months"], employer=data["employer"].strip(),
            employment_years=data["employment_years"], total_debt=data["total_debt"] or Decimal("0.00"),
            monthly_debt_payment=data["monthly_debt_payment"] or Decimal("0.00"), purpose=data["purpose"].strip(),
            collateral=data["collateral"].strip(), overdue_records=data["overdue_records"],
        )


class ApplicantImportForm(forms.Form):
    bank = BankChoiceField(label="申请银行", queryset=Bank.objects.none(), empty_label="请选择银行",
                           error_messages={"required": "请选择申请银行", "invalid_choice": "只能选择您负责的银行"})
    file = forms.FileField(label="申请人文件（.xlsx）", error_messages={"required": "请选择要上传的 .xlsx 文件",
                                                                  "empty": "上传的文件是空的"})

    def __init__(self, *args: object, user: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["bank"].queryset = banks_for_assessor(user)  # type: ignore[attr-defined]

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(f"文件超过 {settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024)} MB 的上传上限")
        return upload


class DocumentForm(forms.Form):
    title = forms.CharField(label="资料名称", max_length=64, error_messages={"required": "请填写资料名称"},
                            widget=forms.TextInput(attrs={"placeholder": "如 身份证、收入证明", "list": "doc-titles"}))
    file = forms.FileField(label="文件（PDF 或图片）", error_messages={"required": "请选择文件",
                                                                "empty": "上传的文件是空的"})


class ReviewForm(forms.Form):
    final_decision = forms.ChoiceField(label="最终决定", choices=Decision.choices,
                                       error_messages={"required": "请选择最终决定"})
    final_limit = _money("最终额度（元）")
    reason = forms.CharField(label="推翻建议的理由", required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3,
                                                          "placeholder": "最终决定或额度与系统建议不同时必填"}))


class HistoryCheckForm(forms.Form):
    id_number = forms.CharField(label="证件号码", max_length=24, required=False,
                                widget=forms.TextInput(attrs={"class": "mono", "autofocus": True,
                                                              "autocomplete": "off"}))
    phone = forms.CharField(label="手机号码", max_length=20, required=False)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        raw_id, raw_phone = str(data.get("id_number") or "").strip(), str(data.get("phone") or "").strip()
        if not raw_id and not raw_phone:
            raise forms.ValidationError("请填写证件号码或手机号码")
        if raw_id:
            number = normalize_id_number(raw_id)
            reason = id_number_error(number)
            if reason is not None:
                self.add_error("id_number", f"证件号码“{number}”无效：{reason}")
            data["id_number"] = number
        if raw_phone:
            try:
                data["phone"] = phone_value(raw_phone)
            except Problem as problem:
                self.add_error("phone", str(problem))
        return data


class ApplicantFilterForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=64,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "姓名 / 证件号码"}))
    bank = BankChoiceField(label="银行", required=False, queryset=Bank.objects.none(), empty_label="全部银行")
    grade = forms.ChoiceField(label="等级", required=False, choices=[("", "全部等级"), *Grade.choices])
    decision = forms.ChoiceField(label="决定", required=False, choices=[("", "全部决定"), *Decision.choices])
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *ApplicantStatus.choices])
    date_from = BusinessDateField(label="录入日期", required=False,
                                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    date_to = BusinessDateField(label="至", required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    page = PageField(widget=forms.HiddenInput)

    def __init__(self, data: object = None, *, user: User) -> None:
        super().__init__(data)  # type: ignore[arg-type]
        self.fields["bank"].queryset = banks_for_assessor(user)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "结束日期不能早于开始日期")
        return data

    def _value(self, name: str) -> object:
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return None if name in self.errors else self.cleaned_data.get(name)

    def to_filters(self) -> ApplicantFilters:
        bank = self._value("bank")
        return ApplicantFilters(
            bank_id=bank.pk if bank is not None else None,  # type: ignore[attr-defined]
            grade=str(self._value("grade") or ""), decision=str(self._value("decision") or ""),
            status=str(self._value("status") or ""),
            date_from=self._value("date_from"), date_to=self._value("date_to"),  # type: ignore[arg-type]
            q=str(self._value("q") or "").strip(),
        )

    @property
    def page_number(self) -> int:
        return page_number(self.data.get("page"))

    @property
    def has_filters(self) -> bool:
        return any(self.data.get(name) for name in self.fields if name != "page")


class ScorecardCreateForm(forms.Form):
    bank = BankChoiceField(label="银行", queryset=Bank.objects.none(), empty_label="请选择银行",
                           error_messages={"required": "请选择银行", "invalid_choice": "该银行已有评分卡"})
    name = forms.CharField(label="名称", max_length=64, initial="个人贷款评分卡",
                           error_messages={"required": "请填写评分卡名称"})

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["bank"].queryset = (  # type: ignore[attr-defined]
            Bank.objects.filter(is_active=True, scorecard__isnull=True).order_by("code"))


class VersionSettingsForm(forms.Form):
    """Base points, the limit's income cap and the A–E table (one row of fields per grade)."""

    base_points = forms.IntegerField(label="基础分", min_value=-10000, max_value=10000,
                                     error_messages={"required": "请填写基础分"})
    income_multiple = forms.DecimalField(label="额度上限：月收入的倍数", min_value=Decimal("0.01"),
                                         max_value=Decimal("1000"), max_digits=6, decimal_places=2,
                                         error_messages={"required": "请填写月收入倍数",
                                                         "min_value": "月收入倍数应大于 0"})
    note = forms.CharField(label="修改说明", max_length=255, required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for grade in GRADES:
            if grade != "E":
                self.fields[f"min_{grade}"] = forms.IntegerField(
                    label=f"{grade} 级最低总分", min_value=-100000, max_value=100000,
                    error_messages={"required": f"请填写 {grade} 级的最低总分"})
            self.fields[f"decision_{grade}"] = forms.ChoiceField(label=f"{grade} 级建议决定", choices=Decision.choices)
            self.fields[f"percent_{grade}"] = forms.DecimalField(
                label=f"{grade} 级建议额度（%）", min_value=Decimal("0"), max_value=Decimal("100"), max_digits=5,
                decimal_places=2, error_messages={"required": f"请填写 {grade} 级的建议额度百分比",
                                                  "max_value": "百分比不能超过 100"},
                widget=forms.NumberInput(attrs={"step": "0.01", "class": "amount"}))

    @staticmethod
    def initial_for(version: ScorecardVersion) -> dict[str, object]:
        initial: dict[str, object] = {"base_points": version.base_points, "income_multiple": version.income_multiple,
                                      "note": version.note}
        for rule in version.grades.all():
            initial[f"min_{rule.grade}"] = rule.min_points
            initial[f"decision_{rule.grade}"] = rule.decision
            initial[f"percent_{rule.grade}"] = rule.limit_percent
        return initial

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        previous: tuple[str, int] | None = None
        for grade in GRADES[:-1]:
            value = data.get(f"min_{grade}")
            if value is None:
                continue
            if previous is not None and value >= previous[1]:
                self.add_error(f"min_{grade}", f"{grade} 级最低总分应低于 {previous[0]} 级的 {previous[1]}")
            previous = (grade, value)  # type: ignore[assignment]
        for grade in GRADES:
            if data.get(f"decision_{grade}") == Decision.DECLINE and data.get(f"percent_{grade}") not in (None, 0):
                self.add_error(f"percent_{grade}", f"{grade} 级建议拒绝，建议额度百分比应为 0")
        return data

    def grade_specs(self) -> list[GradeSpec]:
        d = self.cleaned_data
        return [GradeSpec(grade=g, min_points=d.get(f"min_{g}"), decision=d[f"decision_{g}"],
                          limit_percent=d[f"percent_{g}"]) for g in GRADES]

    def grade_rows(self) -> list[tuple[str, object, object, object]]:
        return [(g, self[f"min_{g}"] if g != "E" else None, self[f"decision_{g}"], self[f"percent_{g}"])
                for g in GRADES]


class CharacteristicForm(forms.Form):
    kind = forms.ChoiceField(label="特征", choices=CharacteristicKind.choices)
    edge_rule = forms.ChoiceField(label="分箱边界", choices=EdgeRule.choices, widget=forms.RadioSelect)
    missing_points = forms.IntegerField(label="缺失值得分", initial=0, min_value=-10000, max_value=10000,
                                        help_text="取值无法计算时（如月收入为 0、没有催收记录时的回款率）的得分")

    def __init__(self, *args: object, version: ScorecardVersion, current: Characteristic | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        taken = set(version.characteristics.exclude(pk=current.pk if current else None).values_list("kind", flat=True))
        self.fields["kind"].choices = [c for c in CharacteristicKind.choices if c[0] not in taken]  # type: ignore[attr-defined]


class BinForm(forms.Form):
    lower = forms.DecimalField(label="下限", required=False, max_digits=16, decimal_places=2,
                               widget=forms.NumberInput(attrs={"step": "any", "class": "amount", "placeholder": "−∞",
                                                              "aria-label": "下限"}))
    upper = forms.DecimalField(label="上限", required=False, max_digits=16, decimal_places=2,
                               widget=forms.NumberInput(attrs={"step": "any", "class": "amount", "placeholder": "+∞",
                                                              "aria-label": "上限"}))
    points = forms.IntegerField(label="分数", required=False, min_value=-10000, max_value=10000,
                                widget=forms.NumberInput(attrs={"class": "amount", "aria-label": "分数"}))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        used = data.get("lower") is not None or data.get("upper") is not None
        if used and data.get("points") is None:
            self.add_error("points", "请填写该分箱的分数")
        return data

    @property
    def is_blank(self) -> bool:
        d = getattr(self, "cleaned_data", {})
        return d.get("lower") is None and d.get("upper") is None and d.get("points") is None


BinFormSet = forms.formset_factory(BinForm, extra=3, max_num=30, validate_max=True)


def bins_from(formset: forms.BaseFormSet) -> list[BinSpec]:  # type: ignore[type-arg]
    """The filled rows in the order typed (blank rows dropped; a row with only points is the single open bin)."""
    specs: list[BinSpec] = []
    for form in formset.forms:
        if not form.is_blank and form.cleaned_data.get("points") is not None:
            specs.append(BinSpec(form.cleaned_data.get("lower"), form.cleaned_data.get("upper"),
                                 form.cleaned_data["points"]))
    return specs
