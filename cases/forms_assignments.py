"""Forms of the assignment pages (C3, C4). They parse and validate input only; queries come from selectors.

The case selection reuses the case list's `CaseFilterForm` (one filter implementation): the assign form
carries the list's query string and either the ticked case ids or "every case matching the filter".
"""

from __future__ import annotations

from django import forms
from django.http import QueryDict

from accounts.models import BranchCompany, Department, User
from accounts.selectors import collector_list
from cases.actions.assignments import AssignmentMode
from cases.forms import CaseFilterForm, CollectorChoiceField, DepartmentChoiceField

MAX_TICKED = 1000  # a page holds at most CASE_LIST_PAGE_SIZE rows; "all matching" has no limit


class CollectorFilterForm(forms.Form):
    """Narrows the collector picker to a branch company and department (C3)."""

    cbranch = forms.ModelChoiceField(label="分公司", required=False, queryset=BranchCompany.objects.none(),
                                     empty_label="全部分公司")
    cdept = DepartmentChoiceField(label="部门", required=False, queryset=Department.objects.none(),
                                  empty_label="全部部门")

    def __init__(self, data: object = None) -> None:
        super().__init__(data)
        self.fields["cbranch"].queryset = BranchCompany.objects.order_by("name")
        self.fields["cdept"].queryset = Department.objects.select_related("branch").order_by("branch__name", "name")

    def collectors(self) -> list[User]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        branch, dept = data.get("cbranch"), data.get("cdept")
        return list(collector_list(branch_id=branch.pk if branch else None,
                                   department_id=dept.pk if dept else None))


class IdListField(forms.Field):
    """Ticked row ids (`name="case"` checkboxes), de-duplicated, at most `limit`."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, limit: int = MAX_TICKED, **kwargs: object) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.limit = limit

    def to_python(self, value: object) -> list[int]:
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = list(dict.fromkeys(int(str(v)) for v in values))
        except ValueError:
            raise forms.ValidationError("委案选择有误，请刷新页面后重试") from None
        if len(ids) > self.limit:
            raise forms.ValidationError("勾选的委案太多，请改用“选择全部符合条件的委案”")
        return ids


class CollectorsField(forms.ModelMultipleChoiceField):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(queryset=collector_list(), error_messages={
            "required": "请至少选择一位业务员",
            "invalid_choice": "所选业务员不存在或已停用，请刷新页面后重新选择",
            "invalid_pk_value": "业务员选择有误",
        }, **kwargs)  # type: ignore[arg-type]


class PlanForm(forms.Form):
    """Whom to and how: the part shared by the assign page and the hand-over page."""

    collector = CollectorsField(label="业务员")
    mode = forms.ChoiceField(label="分配方式", choices=AssignmentMode.choices, initial=AssignmentMode.COUNT,
                             widget=forms.RadioSelect)
    reason = forms.CharField(label="备注/原因", required=False, max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": "选填，如：11月新批次"}))
    digest = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        collectors = data.get("collector")
        if data.get("mode") == AssignmentMode.ONE and collectors is not None and len(collectors) > 1:
            self.add_error("mode", "“全部分给一人”只能选择一位业务员；要分给多人请选择按件数或按金额平均")
        return data

    def collectors_in_order(self) -> list[User]:
        """The chosen collectors by name: the preview lists them so, and the round-robin starts at the first."""
        return sorted(self.cleaned_data["collector"], key=lambda u: (u.display_name, u.pk))


class AssignForm(PlanForm):
    """The assign page's POST: the selection (ticked ids or every match of `filters`) plus the plan."""

    filters = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    select_all = forms.BooleanField(required=False, widget=forms.HiddenInput)
    case = IdListField()

    def __init__(self, data: object = None, *, user: User) -> None:
        super().__init__(data)
        self.user = user

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if not data.get("select_all") and not data.get("case") and "case" not in self.errors:
            self.add_error(None, "请先勾选委案，或选择全部符合条件的委案")
        return data

    def filter_form(self) -> CaseFilterForm:
        form = CaseFilterForm(QueryDict(self.cleaned_data.get("filters") or ""), user=self.user)
        form.is_valid()
        return form


class MoveForm(forms.Form):
    """调整: move all or the ticked unfinished cases of one collector to another."""

    ALL, TICKED = "all", "ticked"
    from_collector = forms.ModelChoiceField(label="原业务员", queryset=User.objects.none())
    to_collector = forms.ModelChoiceField(label="转给", queryset=User.objects.none(),
                                          error_messages={"required": "请选择接手的业务员"})
    scope = forms.ChoiceField(label="范围", choices=((ALL, "全部未完成委案"), (TICKED, "仅勾选的委案")),
                              initial=ALL, widget=forms.RadioSelect)
    case = IdListField()
    reason = forms.CharField(label="调整原因", max_length=200, error_messages={"required": "请填写调整原因"},
                             widget=forms.TextInput(attrs={"placeholder": "如：工作量调整、客户要求更换"}))

    def __init__(self, data: object = None, *, initial: dict[str, object] | None = None) -> None:
        super().__init__(data, initial=initial)
        self.fields["from_collector"].queryset = collector_list(active_only=False)
        self.fields["to_collector"].queryset = collector_list()

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("scope") == self.TICKED and not data.get("case"):
            self.add_error(None, "选择了“仅勾选的委案”，但没有勾选任何委案")
        a, b = data.get("from_collector"), data.get("to_collector")
        if a is not None and b is not None and a == b:
            self.add_error("to_collector", "原业务员和接手的业务员不能是同一人")
        return data


class SwapForm(forms.Form):
    """互换: A's unfinished cases go to B and B's to A."""

    a = CollectorChoiceField(label="业务员甲", queryset=User.objects.none(), empty_label="请选择…",
                             error_messages={"required": "请选择两位业务员"})
    b = CollectorChoiceField(label="业务员乙", queryset=User.objects.none(), empty_label="请选择…",
                             error_messages={"required": "请选择两位业务员"})
    reason = forms.CharField(label="互换原因", max_length=200, error_messages={"required": "请填写互换原因"})

    def __init__(self, data: object = None, **kwargs: object) -> None:
        super().__init__(data, prefix="swap", **kwargs)  # type: ignore[arg-type]
        self.fields["a"].queryset = collector_list()
        self.fields["b"].queryset = collector_list()

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("a") is not None and data.get("a") == data.get("b"):
            self.add_error("b", "请选择两位不同的业务员")
        return data
