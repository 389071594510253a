"""Tables of system administration: VPN server accounts (S2) and backup runs (S3).

Thin models: fields, constraints and simple properties only.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone


class VpnProtocol(models.TextChoices):
    OPENVPN = "openvpn", "OpenVPN"
    WIREGUARD = "wireguard", "WireGuard"
    L2TP = "l2tp", "L2TP/IPsec"
    IPSEC = "ipsec", "IPsec (IKEv2)"
    SSL = "ssl", "SSL VPN"
    PPTP = "pptp", "PPTP"
    OTHER = "other", "其他"


class VpnAccount(models.Model):
    """One account on a VPN server (e.g. a bank's). The password is stored only as Fernet ciphertext."""

    server = models.CharField("服务器", max_length=255, help_text="地址或域名，例如 vpn.bank.example:1194")
    protocol = models.CharField("协议", max_length=16, choices=VpnProtocol.choices, default=VpnProtocol.OPENVPN)
    username = models.CharField("用户名", max_length=150)
    password_encrypted = models.TextField("密码（密文）", blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="vpn_accounts", verbose_name="使用人")
    expires_on = models.DateField("到期日", null=True, blank=True)
    note = models.TextField("备注", blank=True)
    # Expiry reminders already sent for the current expiry date (days-before thresholds, e.g. [30, 7]).
    reminded_thresholds = models.JSONField("已提醒", default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name="创建人")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "VPN 账号"
        ordering = ["server", "username"]
        constraints = [models.UniqueConstraint(fields=["server", "protocol", "username"],
                                               name="vpn_account_unique")]

    def __str__(self) -> str:
        return f"{self.username}@{self.server}"

    def days_left(self, today: dt.date | None = None) -> int | None:
        if self.expires_on is None:
            return None
        return (self.expires_on - (today or timezone.localdate())).days


class BackupStatus(models.TextChoices):
    RUNNING = "running", "进行中"
    OK = "ok", "成功"
    FAILED = "failed", "失败"


class BackupTrigger(models.TextChoices):
    MANUAL = "manual", "手动"
    SCHEDULED = "scheduled", "定时"


class BackupRun(models.Model):
    started_at = models.DateTimeField("开始时间", default=timezone.now, db_index=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    status = models.CharField("结果", max_length=16, choices=BackupStatus.choices, default=BackupStatus.RUNNING)
    trigger = models.CharField("方式", max_length=16, choices=BackupTrigger.choices, default=BackupTrigger.MANUAL)
    # The local day a scheduled run belongs to: unique, so two schedulers never both run that day's backup.
    scheduled_for = models.DateField("计划日期", null=True, blank=True)
    path = models.CharField("位置", max_length=500, blank=True)
    size_bytes = models.BigIntegerField("大小（字节）", null=True, blank=True)
    duration_s = models.FloatField("耗时（秒）", null=True, blank=True)
    encrypted = models.BooleanField("已加密", default=False)
    database_engine = models.CharField("数据库", max_length=32, blank=True)
    file_count = models.PositiveIntegerField("文件数", null=True, blank=True)
    error = models.TextField("错误", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "备份记录"
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["scheduled_for"], condition=models.Q(trigger="scheduled"),
                                               name="backup_one_scheduled_run_per_day")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.get_status_display()}"
