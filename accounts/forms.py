from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确，请重新输入（密码区分大小写）。",
        "inactive": "该账号已停用，请联系系统管理员。",
    }


class OtpTokenForm(forms.Form):
    token = forms.CharField(label="验证码", max_length=8, min_length=6,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                                          "pattern": "[0-9]*", "autofocus": True}),
                            help_text="打开手机上的验证器应用（如 Google Authenticator、Microsoft Authenticator、"
                                      "腾讯身份验证器），输入显示的 6 位数字")

    def clean_token(self) -> str:
        value = self.cleaned_data["token"].replace(" ", "")
        if not value.isdigit():
            raise forms.ValidationError("验证码应为 6 位数字。")
        return value
