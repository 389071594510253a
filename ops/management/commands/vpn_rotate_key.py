"""manage.py vpn_rotate_key: re-encrypt every VPN password with the first key of VPN_ENCRYPTION_KEYS."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.actions import audit_record
from accounts.models import AuditAction
from ops.crypto import rotate_secret
from ops.models import VpnAccount


class Command(BaseCommand):
    help = "密钥轮换：用 VPN_ENCRYPTION_KEYS 的第一个密钥重新加密全部 VPN 密码（旧密钥须仍在列表中）"

    def handle(self, *args: object, **options: object) -> None:
        with transaction.atomic():
            count = 0
            for account in VpnAccount.objects.select_for_update().exclude(password_encrypted=""):
                account.password_encrypted = rotate_secret(account.password_encrypted)
                account.save(update_fields=["password_encrypted"])
                count += 1
            audit_record(actor=None, actor_name="vpn_rotate_key", action=AuditAction.PERMISSION_CHANGE,
                         summary=f"VPN 密码密钥轮换：重新加密 {count} 个账号", object_type="vpn_account")
        self.stdout.write(f"已用新密钥重新加密 {count} 个 VPN 密码。现在可以从 VPN_ENCRYPTION_KEYS 中移除旧密钥。")
