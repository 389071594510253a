"""VPN accounts (S2), system admins only. The password is rendered only in the response to an explicit,
audited "显示密码" POST, and that response is never cached."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ops.actions import vpn_account_delete, vpn_account_save, vpn_password_reveal
from ops.crypto import CryptoError, vpn_using_dev_key
from ops.forms import VpnAccountForm
from ops.models import VpnAccount
from ops.policies import sysadmin_required
from ops.selectors import vpn_account_list


def _list_context(request: HttpRequest, **extra: object) -> dict[str, object]:
    q = request.GET.get("q", "").strip()
    return {"accounts": vpn_account_list(q=q), "q": q, "today": timezone.localdate(),
            "dev_key": vpn_using_dev_key(), "nav_active": "ops-vpn", **extra}


@never_cache
@sysadmin_required
def vpn_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "ops/vpn_list.html", _list_context(request))


@never_cache
@sysadmin_required
@require_POST
def vpn_reveal_view(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(VpnAccount, pk=account_id)
    try:
        password = vpn_password_reveal(by=request.user, account=account, request=request)  # type: ignore[arg-type]
    except CryptoError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("ops:vpn-list"))
    return render(request, "ops/vpn_list.html", _list_context(request, revealed_id=account.pk,
                                                              revealed_password=password))


@never_cache
@sysadmin_required
def vpn_edit_view(request: HttpRequest, account_id: int | None = None) -> HttpResponse:
    account = get_object_or_404(VpnAccount, pk=account_id) if account_id else VpnAccount()
    form = VpnAccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        try:
            saved = vpn_account_save(by=request.user, account=form.save(commit=False),  # type: ignore[arg-type]
                                     password=form.cleaned_data.get("password") or None, request=request)
        except CryptoError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已保存 VPN 账号 {saved}。")
            return HttpResponseRedirect(reverse("ops:vpn-list"))
    return render(request, "ops/vpn_form.html", {"form": form, "account": account if account.pk else None,
                                                 "dev_key": vpn_using_dev_key(), "nav_active": "ops-vpn"})


@sysadmin_required
@require_POST
def vpn_delete_view(request: HttpRequest, account_id: int) -> HttpResponse:
    account = get_object_or_404(VpnAccount, pk=account_id)
    label = str(account)
    vpn_account_delete(by=request.user, account=account, request=request)  # type: ignore[arg-type]
    messages.success(request, f"已删除 VPN 账号 {label}。")
    return HttpResponseRedirect(reverse("ops:vpn-list"))
