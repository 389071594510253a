"""VPN accounts (S2): encrypted at rest with the VPN key (not SECRET_KEY), revealed only by an audited POST,
system admins only, expiry reminders through the realtime layer, key rotation."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.urls import reverse

from accounts.models import AuditAction, AuditEntry
from cases.models import UserEvent
from ops.actions import vpn_expiry_check
from ops.crypto import CryptoError, decrypt_secret
from ops.models import VpnAccount

pytestmark = pytest.mark.django_db
SECRET = "Bank-VPN#pass2026"


@pytest.fixture
def vpn_key(settings):
    settings.VPN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    return settings.VPN_ENCRYPTION_KEYS[0]


@pytest.fixture
def account(sysadmin_client, vpn_key, collector):
    sysadmin_client.post(reverse("ops:vpn-create"), {
        "server": "vpn.zsyh.example:1194", "protocol": "openvpn", "username": "cm_agency", "password": SECRET,
        "owner": collector.pk, "expires_on": "2027-01-31", "note": "招行催收专线"})
    return VpnAccount.objects.get()


def test_password_is_encrypted_with_the_vpn_key(account, vpn_key, settings):
    # then
    assert SECRET not in account.password_encrypted
    assert Fernet(vpn_key.encode()).decrypt(account.password_encrypted.encode()).decode() == SECRET
    settings.VPN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CryptoError):
        decrypt_secret(account.password_encrypted)


def test_list_never_renders_the_password(sysadmin_client, account):
    # when
    text = sysadmin_client.get(reverse("ops:vpn-list")).content.decode()
    edit = sysadmin_client.get(reverse("ops:vpn-edit", args=[account.pk])).content.decode()
    # then
    assert "cm_agency" in text and SECRET not in text and SECRET not in edit
    assert account.password_encrypted not in text


def test_reveal_shows_it_for_that_response_and_is_audited(sysadmin_client, account):
    # when
    response = sysadmin_client.post(reverse("ops:vpn-reveal", args=[account.pk]))
    later = sysadmin_client.get(reverse("ops:vpn-list"))
    # then
    assert SECRET in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert SECRET not in later.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.VIEW_SENSITIVE)
    assert entry.object_type == "vpn_account" and entry.object_id == str(account.pk)


@pytest.mark.parametrize("role", ["clerk", "collector", "manager"])
def test_other_roles_cannot_reveal(request, account, role):
    # given
    from django.test import Client

    client = Client()
    client.force_login(request.getfixturevalue(role))
    # when
    response = client.post(reverse("ops:vpn-reveal", args=[account.pk]))
    # then
    assert response.status_code == 403
    assert not AuditEntry.objects.filter(action=AuditAction.VIEW_SENSITIVE).exists()


def test_edit_without_password_keeps_it_and_audits_the_change(sysadmin_client, account):
    # when
    sysadmin_client.post(reverse("ops:vpn-edit", args=[account.pk]), {
        "server": account.server, "protocol": "wireguard", "username": "cm_agency", "password": "",
        "expires_on": "2027-03-31", "note": ""})
    # then
    account.refresh_from_db()
    assert account.protocol == "wireguard" and decrypt_secret(account.password_encrypted) == SECRET
    entry = AuditEntry.objects.filter(object_type="vpn_account", action=AuditAction.PERMISSION_CHANGE).get()
    assert entry.detail["changes"]["protocol"] == {"before": "openvpn", "after": "wireguard"}


def test_expiry_check_alerts_admins_once_per_threshold(account, sysadmin):
    # given: expires 2027-01-31
    # when
    far = vpn_expiry_check(today=dt.date(2026, 12, 1))
    at_30 = vpn_expiry_check(today=dt.date(2027, 1, 1))
    again = vpn_expiry_check(today=dt.date(2027, 1, 2))
    at_7 = vpn_expiry_check(today=dt.date(2027, 1, 24))
    # then
    assert far == [] and at_30 == [account.pk] and again == [] and at_7 == [account.pk]
    events = list(UserEvent.objects.filter(user=sysadmin, type="ops.alert_raised").order_by("pk"))
    assert len(events) == 2
    assert "还有 30 天到期" in events[0].payload["text"] and "还有 7 天到期" in events[1].payload["text"]


def test_key_rotation_reencrypts_with_the_new_key(account, vpn_key, settings):
    # given
    new = Fernet.generate_key().decode()
    settings.VPN_ENCRYPTION_KEYS = [new, vpn_key]
    # when
    call_command("vpn_rotate_key", stdout=io.StringIO())
    # then
    account.refresh_from_db()
    settings.VPN_ENCRYPTION_KEYS = [new]
    assert decrypt_secret(account.password_encrypted) == SECRET
