"""Forms of the system-administration pages (Chinese labels and messages)."""

from __future__ import annotations

import re

from django import forms

from accounts.inputs import BusinessDateField
from accounts.models import ROLE_FIELDS, AuditAction, BranchCompany, Department, Role, User
from ops.models import VpnAccount

# The PJSIP endpoint name (the section name in pjsip.conf); the dialer dials PJSIP/<name>.
SIP_ENDPOINT = re.compile(r"^[A-Za-z0-9_.\-]{1,58}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{3,30}$")
PHONE = re.compile(r"^1\d{10}$|^0\d{2,3}-?\d{7,8}$")


class UserForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=30,
                               help_text="登录用，3–30 位字母、数字、下划线、点或连字符；创建后不可修改")
    full_name = forms.CharField(label="姓名", max_length=64)
    phone = forms.CharField(label="手机号码", max_length=20, required=False)
    email = forms.EmailField(label="电子邮箱", required=False)
    roles = forms.MultipleChoiceField(label="角色", choices=[(f, r.label) for r, f in ROLE_FIELDS.items()],
                                      widget=forms.CheckboxSelectMultiple, required=False,
                                      help_text="可多选；没有任何角色的账号只能登录，看不到委案")
    branch = forms.ModelChoiceField(label="分公司", queryset=BranchCompany.objects.all(), required=False,
                                    empty_label="（不属于分公司）")
    department = forms.ModelChoiceField(label="部门", queryset=Department.objects.select_related("branch"),
                                        required=False, empty_label="（不属于部门）")
    sip_endpoint = forms.CharField(label="坐席分机", max_length=64, required=False,
                                   help_text="话机在 pjsip.conf 中的 endpoint 名，通常是分机号，例如 8001")

    def __init__(self, *args: object, instance: User | None = None, **kwargs: object) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "username": instance.username, "full_name": instance.full_name, "phone": instance.phone,
                "email": instance.email, "branch": instance.branch_id, "department": instance.department_id,
                "sip_endpoint": instance.sip_endpoint,
                "roles": [f for f in ROLE_FIELDS.values() if getattr(instance, f)],
            }
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if instance is not None:
            self.fields["username"].disabled = True
            self.fields["username"].help_text = "用户名创建后不可修改"

    def clean_username(self) -> str:
        value = self.cleaned_data["username"].strip()
        if self.instance is not None:
            return self.instance.username
        if not USERNAME.match(value):
            raise forms.ValidationError("用户名只能用 3–30 位字母、数字、下划线、点或连字符。")
        if User.objects.filter(username__iexact=value).exists():
            raise forms.ValidationError(f"用户名“{value}”已被使用，请换一个。")
        return value

    def clean_phone(self) -> str:
        value = self.cleaned_data["phone"].strip().replace(" ", "")
        if value and not PHONE.match(value):
            raise forms.ValidationError("手机号码应为 11 位手机号（1 开头），或带区号的座机号，例如 010-12345678。")
        return value

    def clean_sip_endpoint(self) -> str:
        value = self.cleaned_data["sip_endpoint"].strip()
        if not value:
            return ""
        if value.upper().startswith("PJSIP/"):
            value = value[len("PJSIP/"):]  # admins often write it the way Asterisk's dialplan does
        if not SIP_ENDPOINT.match(value):
            raise forms.ValidationError("分机格式不对，应为 pjsip.conf 中话机的 endpoint 名，例如“8001”。")
        clash = User.objects.filter(sip_endpoint=value, is_active=True)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        other = clash.first()
        if other is not None:
            raise forms.ValidationError(f"分机 {value} 已分配给 {other.display_name}（{other.username}），"
                                        "一个分机只能对应一位业务员。")
        return value

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        branch, department = data.get("branch"), data.get("department")
        if isinstance(department, Department) and isinstance(branch, BranchCompany) \
                and department.branch_id != branch.pk:
            self.add_error("department", f"部门“{department.name}”属于“{department.branch.name}”，"
                                         f"不属于所选的“{branch.name}”。")
        roles = set(data.get("roles") or [])
        if data.get("sip_endpoint") and ROLE_FIELDS[Role.PHONE_COLLECTOR] not in roles:
            self.add_error("sip_endpoint", "只有电话催收业务员需要坐席分机；请勾选该角色或清空分机。")
        return data


class DeactivateForm(forms.Form):
    reason = forms.CharField(label="停用原因", max_length=200, help_text="例如：离职、调岗；记入审计日志",
                             widget=forms.TextInput(attrs={"placeholder": "离职"}))


class AuditFilterForm(forms.Form):
    actor_name = forms.CharField(label="操作人", required=False,
                                 widget=forms.TextInput(attrs={"placeholder": "姓名或用户名"}))
    action = forms.ChoiceField(label="操作", required=False, choices=[("", "全部操作"), *AuditAction.choices])
    object_type = forms.CharField(label="对象类型", required=False, widget=forms.TextInput(
        attrs={"placeholder": "如 user、case", "list": "object-types"}))
    object_id = forms.CharField(label="对象编号", required=False, max_length=64)
    date_from = BusinessDateField(label="从", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = BusinessDateField(label="到", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    q = forms.CharField(label="摘要包含", required=False)
    actor = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:  # type: ignore[operator]
            self.add_error("date_to", "结束日期不能早于开始日期。")
        return data


class VpnAccountForm(forms.ModelForm):
    password = forms.CharField(label="密码", required=False, strip=False,
                               widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                               help_text="加密保存；修改账号时留空表示不改密码")

    class Meta:
        model = VpnAccount
        fields = ["server", "protocol", "username", "password", "owner", "expires_on", "note"]
        widgets = {"expires_on": forms.DateInput(attrs={"type": "date"}), "note": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("full_name", "username")
        self.fields["owner"].empty_label = "（公共账号）"
        if self.instance.pk is None:
            self.fields["password"].required = True
            self.fields["password"].help_text = "加密保存，之后只有系统管理员点击“显示密码”才能看到（留痕）"

    def validate_unique(self) -> None:
        try:
            self.instance.validate_constraints(exclude=self._get_validation_exclusions())
        except forms.ValidationError:
            self.add_error(None, "该服务器上已登记了同一协议、同一用户名的 VPN 账号。")


# --- 节假日安排 (issue 15) ----------------------------------------------------------------------------------

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class HolidayForm(forms.Form):
    start = BusinessDateField(label="开始日期", widget=DATE_INPUT)
    end = BusinessDateField(label="结束日期", required=False, widget=DATE_INPUT, help_text="只有一天时留空")
    kind = forms.ChoiceField(label="类型", choices=[("off", "放假"), ("work", "调休上班")], initial="off",
                             widget=forms.RadioSelect)
    name = forms.CharField(label="名称", max_length=32, required=False, help_text="例如 春节、春节调休上班")


class HolidayImportForm(forms.Form):
    file = forms.FileField(label="Excel 文件（.xlsx）", error_messages={"required": "请选择要导入的 .xlsx 文件。"})
