"""Forms of the case pages. They parse and validate input only; queries come from selectors."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from accounts.inputs import BusinessDateField, PageField, page_number
from accounts.models import BranchCompany, Department, User
from accounts.selectors import collector_list, sees_all_cases
from cases.enums import STATUS_GROUP_LABELS, CaseStatus
from cases.models import Bank, Batch
from cases.selectors.banks import bank_list_for_user
from cases.selectors.cases import DEFAULT_SORT, SEARCH_MODES, CaseFilters, SearchMode, batch_list_for_case_filter


class BankChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Bank) -> str:
        return f"{obj.name}（{obj.code}）"


class BatchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Batch) -> str:
        return f"{obj.batch_no} · {obj.bank.name}"


class CollectorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        dept = obj.department.name if obj.department else "未设部门"
        return f"{obj.display_name}（{dept}）"


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return f"{obj.branch.name} / {obj.name}"


def _date() -> forms.DateField:
    return BusinessDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))


def _amount(placeholder: str) -> forms.DecimalField:
    return forms.DecimalField(
        required=False, min_value=Decimal("0"), max_digits=14, decimal_places=2,
        widget=forms.NumberInput(attrs={"class": "amount", "placeholder": placeholder, "step": "0.01"}),
    )


class CaseFilterForm(forms.Form):
    """The case list's GET parameters (M2). Choices are limited to what the user may see."""

    q = forms.CharField(
        label="搜索", required=False, max_length=64,
        widget=forms.TextInput(attrs={"type": "search", "autofocus": True, "class": "search",
                                      "placeholder": "姓名 / 证件号码 / 电话 / 案件编号"}),
    )
    mode = forms.ChoiceField(label="按", required=False, choices=SEARCH_MODES)
    bank = BankChoiceField(label="银行", required=False, queryset=Bank.objects.none(), empty_label="全部银行")
    batch = BatchChoiceField(label="批次", required=False, queryset=Batch.objects.none(), empty_label="全部批次")
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *CaseStatus.choices])
    group = forms.ChoiceField(label="进度", required=False,
                              choices=[("", "全部"), *STATUS_GROUP_LABELS.items()])
    region = forms.CharField(label="地区", required=False, max_length=64,
                             widget=forms.TextInput(attrs={"placeholder": "如 沈阳市和平区", "size": 12}))
    amount_min = _amount("最低")
    amount_max = _amount("最高")
    entrust_from = _date()
    entrust_to = _date()
    return_from = _date()
    return_to = _date()
    branch = forms.ModelChoiceField(label="分公司", required=False, queryset=BranchCompany.objects.none(),
                                    empty_label="全部分公司")
    department = DepartmentChoiceField(label="部门", required=False, queryset=Department.objects.none(),
                                       empty_label="全部部门")
    collector = CollectorChoiceField(label="业务员", required=False, queryset=User.objects.none(),
                                     empty_label="全部业务员")
    sort = forms.CharField(required=False, max_length=32, widget=forms.HiddenInput)
    page = PageField(widget=forms.HiddenInput)

    # Filters by who works a case make sense only for desk roles; a collector sees only their own cases.
    STAFF_FIELDS = ("branch", "department", "collector")

    def __init__(self, data: object = None, *, user: User) -> None:
        super().__init__(data)
        self.user = user
        self.fields["bank"].queryset = bank_list_for_user(user=user)
        self.fields["batch"].queryset = batch_list_for_case_filter(user=user)
        if self.shows_staff_filters:
            self.fields["branch"].queryset = BranchCompany.objects.order_by("name")
            self.fields["department"].queryset = Department.objects.select_related("branch").order_by(
                "branch__name", "name")
            self.fields["collector"].queryset = collector_list(active_only=False)
        else:
            for name in self.STAFF_FIELDS:
                del self.fields[name]

    @property
    def shows_staff_filters(self) -> bool:
        return bool(sees_all_cases(self.user) or self.user.is_clerk)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        for low, high, label in (("amount_min", "amount_max", "委案金额"), ("entrust_from", "entrust_to", "委案日期"),
                                 ("return_from", "return_to", "退案日期")):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                self.add_error(high, f"{label}的上限不能小于下限")
        return data

    def _value(self, name: str) -> object:
        """The cleaned value of a field, or None when it was absent or invalid (the rest still applies)."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        if name in self.errors:
            return None
        return self.cleaned_data.get(name)

    def to_filters(self) -> CaseFilters:
        def pk(name: str) -> int | None:
            obj = self._value(name)
            return obj.pk if obj is not None else None  # type: ignore[attr-defined]

        status = str(self._value("status") or "")
        return CaseFilters(
            bank_id=pk("bank"), batch_id=pk("batch"),
            status=status,
            # A status picked in the form is narrower than a 进度 tab; keeping both could only give nothing.
            status_group="" if status else str(self._value("group") or ""),
            region=str(self._value("region") or "").strip(),
            amount_min=self._value("amount_min"), amount_max=self._value("amount_max"),  # type: ignore[arg-type]
            entrust_from=self._value("entrust_from"), entrust_to=self._value("entrust_to"),  # type: ignore[arg-type]
            return_from=self._value("return_from"), return_to=self._value("return_to"),  # type: ignore[arg-type]
            collector_id=pk("collector") if "collector" in self.fields else None,
            branch_id=pk("branch") if "branch" in self.fields else None,
            department_id=pk("department") if "department" in self.fields else None,
            q=str(self._value("q") or "").strip(),
            search_mode=str(self._value("mode") or SearchMode.AUTO),
            sort=str(self._value("sort") or DEFAULT_SORT),
        )

    @property
    def page_number(self) -> int:
        return page_number(self.data.get("page"))

    @property
    def has_filters(self) -> bool:
        """True when anything beyond sort and page narrows the list (shows the 清除筛选 link)."""
        return any(self.data.get(name) for name in self.fields if name not in ("sort", "page", "mode"))
