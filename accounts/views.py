from __future__ import annotations

import time

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.actions import audit_record
from accounts.forms import LoginForm, OtpTokenForm
from accounts.models import AuditAction, User
from accounts.origin import client_ip
from accounts.sessions import OTP_ENROL_REQUIRED_KEY
from accounts.twofactor import (
    confirmed_device,
    enrolment_device,
    must_keep_second_factor,
    needs_second_factor,
    otpauth_uri,
    qr_data_uri,
    secret_base32,
    token_failed,
    token_succeeded,
    token_wait_seconds,
)

# The password step is remembered this long while the user types the token of the second step.
OTP_PENDING_KEY = "otp_pending"
OTP_PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        user = form.get_user()
        if needs_second_factor(user):
            # Not signed in yet: the session only remembers that the password was right, for a few minutes.
            self.request.session.cycle_key()
            self.request.session[OTP_PENDING_KEY] = {
                "user_id": user.pk, "backend": getattr(user, "backend", ""), "at": time.time(),
                "next": self.get_success_url(),
            }
            return HttpResponseRedirect(reverse("accounts:login-otp"))
        response = super().form_valid(form)
        if must_keep_second_factor(user):
            # 系统管理员 and 管理人员 must use a second factor: one without it enrols before anything else
            # (accounts.middleware lets this session reach only the enrolment page; no websocket either).
            self.request.session[OTP_ENROL_REQUIRED_KEY] = True
            messages.warning(self.request,
                             "系统管理员和管理人员必须启用两步验证：请用手机验证器扫描二维码完成设置后再继续。")
            return HttpResponseRedirect(reverse("accounts:two-factor"))
        return response


def _pending(request: HttpRequest) -> tuple[User, dict[str, object]] | None:
    data = request.session.get(OTP_PENDING_KEY)
    if not isinstance(data, dict) or time.time() - float(data.get("at", 0)) > OTP_PENDING_SECONDS:
        request.session.pop(OTP_PENDING_KEY, None)
        return None
    user = get_user_model().objects.filter(pk=data.get("user_id"), is_active=True).first()
    return (user, data) if user is not None else None


@never_cache
@csrf_protect
@sensitive_post_parameters("token")
def login_otp_view(request: HttpRequest) -> HttpResponse:
    """The second login step: the TOTP token of a user whose password was right a moment ago."""
    pending = _pending(request)
    if pending is None:
        if request.user.is_authenticated:
            return HttpResponseRedirect(reverse("frontend:home"))
        if request.method == "POST":
            messages.error(request, "登录已超时，请重新输入用户名和密码。")
        return HttpResponseRedirect(reverse("accounts:login"))
    user, data = pending
    device = confirmed_device(user)
    if device is None:  # reset by an admin meanwhile: start over with the password alone
        request.session.pop(OTP_PENDING_KEY, None)
        return HttpResponseRedirect(reverse("accounts:login"))
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        wait = token_wait_seconds(device, ip)
        if wait:
            form.add_error("token", f"验证码错误次数过多，请 {wait} 秒后再试。")
        elif device.verify_token(form.cleaned_data["token"]):
            token_succeeded(device, ip)
            request.session.pop(OTP_PENDING_KEY, None)
            user.otp_device = device  # django-otp records the verified device in the session on login
            auth_login(request, user, backend=str(data.get("backend") or "django.contrib.auth.backends.ModelBackend"))
            return HttpResponseRedirect(str(data.get("next") or reverse("frontend:home")))
        else:
            token_failed(device, ip)
            audit_record(actor=None, actor_name=user.username, action=AuditAction.LOGIN_FAILED,
                         summary=f"用户名 {user.username} 两步验证码错误", object_type="user", object_id=user.pk,
                         request=request)
            form.add_error("token", "验证码不正确或已过期，请输入验证器上当前显示的 6 位数字。")
    return render(request, "accounts/login_otp.html", {"form": form, "pending_user": user})


@never_cache
@login_required
def two_factor_view(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP authenticator (QR code or typed secret), see its state, or switch it off (where allowed)."""
    user: User = request.user  # type: ignore[assignment]
    device = confirmed_device(user)
    form = OtpTokenForm(request.POST or None)
    action = request.POST.get("action", "")
    if device is not None:
        if request.method == "POST" and action == "disable":
            if must_keep_second_factor(user):
                messages.error(request, "系统管理员和管理人员必须保留两步验证；更换手机请联系另一位系统管理员重置。")
            elif form.is_valid() and device.verify_token(form.cleaned_data["token"]):
                user.totpdevice_set.all().delete()
                audit_record(actor=user, action=AuditAction.USER_CHANGE, summary=f"{user.username} 关闭两步验证",
                             object_type="user", object_id=user.pk,
                             detail={"changes": {"two_factor": {"before": True, "after": False}}}, request=request)
                messages.success(request, "已关闭两步验证。")
                return HttpResponseRedirect(reverse("accounts:two-factor"))
            else:
                form.add_error("token", "验证码不正确，未关闭。")
        return render(request, "accounts/two_factor.html", {"device": device, "form": form,
                                                            "can_disable": not must_keep_second_factor(user)})
    pending = enrolment_device(user)
    if request.method == "POST" and action == "confirm" and form.is_valid():
        if pending.verify_token(form.cleaned_data["token"]):
            pending.confirmed = True
            pending.save(update_fields=["confirmed"])
            user.totpdevice_set.filter(confirmed=False).delete()
            request.session.pop(OTP_ENROL_REQUIRED_KEY, None)
            audit_record(actor=user, action=AuditAction.USER_CHANGE, summary=f"{user.username} 启用两步验证",
                         object_type="user", object_id=user.pk,
                         detail={"changes": {"two_factor": {"before": False, "after": True}}}, request=request)
            messages.success(request, "两步验证已启用：以后登录时，输入密码后还需输入验证器上的 6 位数字。")
            return HttpResponseRedirect(reverse("accounts:two-factor"))
        form.add_error("token", "验证码不正确：请确认手机时间准确，并输入验证器上当前显示的 6 位数字。")
    uri = otpauth_uri(pending, user)
    return render(request, "accounts/two_factor.html", {
        "device": None, "form": form, "qr": qr_data_uri(uri), "secret": secret_base32(pending), "uri": uri})


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("frontend:home")

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        forced = user.must_change_password
        if forced:
            user.must_change_password = False
            user.save(update_fields=["must_change_password"])
        audit_record(actor=user, action=AuditAction.USER_CHANGE, summary=f"{user.username} 修改了自己的密码",
                     object_type="user", object_id=user.pk,
                     detail={"changes": {"must_change_password": {"before": forced, "after": False}}}
                     if forced else {}, request=self.request)
        messages.success(self.request, "密码已修改。")
        return response
