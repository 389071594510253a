"""Writes of system administration: accounts, clerk scopes, 2FA resets, VPN accounts and admin alerts.

Every change is audited with its before/after values (accounts.actions.audit_record). Views are adapters
that call these. May import accounts, cases (models, notifications) and realtime; nothing imports ops.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from accounts.actions import JsonValue, audit_record
from accounts.models import ROLE_FIELDS, AuditAction, BranchCompany, Department, User
from cases.actions.notifications import user_events_deliver
from cases.models import Bank, ClerkBankScope
from ops.crypto import decrypt_secret, encrypt_secret
from ops.events import OpsAlertRaised
from ops.models import VpnAccount
from realtime import groups
from realtime.events_access import CaseAccessRevoked
from realtime.publish import publish_on_commit

if TYPE_CHECKING:
    import datetime as dt

    from django.http import HttpRequest

# Fields of a user whose changes the audit log records (the password never: only that it was reset).
USER_TRACKED: tuple[str, ...] = ("username", "full_name", "phone", "email", *ROLE_FIELDS.values(), "branch_id",
                                 "department_id", "sip_endpoint", "is_active", "must_change_password")
# Role and activation changes are permission changes; the rest is an account change.
_PERMISSION_FIELDS = {*ROLE_FIELDS.values(), "is_active", "branch_id", "department_id"}

# No 0/O, 1/l/I: a temporary password is read aloud or copied from a screen.
_ALPHABET = "".join(c for c in string.ascii_letters + string.digits if c not in "0O1lI")


class AccountError(Exception):
    """A refused account change; the message is for the admin, in Chinese."""


def _snapshot(user: User) -> dict[str, JsonValue]:
    return {f: getattr(user, f) for f in USER_TRACKED}


def _changes(before: dict[str, JsonValue], after: dict[str, JsonValue]) -> dict[str, JsonValue]:
    return {f: {"before": before.get(f), "after": after[f]} for f in after if before.get(f) != after[f]}


def temporary_password_generate(*, user: User | None = None) -> str:
    """A random 12-character password that passes the configured validators."""
    for _ in range(50):
        candidate = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        if not (any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate)):
            continue
        try:
            validate_password(candidate, user)
        except ValidationError:
            continue
        return candidate
    raise AccountError("无法生成符合规则的临时密码，请检查密码规则配置。")


def _check_org(branch: BranchCompany | None, department: Department | None) -> None:
    if department is not None and branch is not None and department.branch_id != branch.pk:
        raise AccountError(f"部门“{department.name}”不属于分公司“{branch.name}”。")


@transaction.atomic
def user_create(*, by: User, username: str, full_name: str, phone: str = "", email: str = "",
                roles: Iterable[str] = (), branch: BranchCompany | None = None,
                department: Department | None = None, sip_endpoint: str = "",
                request: HttpRequest | None = None) -> tuple[User, str]:
    """Create an account with a temporary password the user must change at first login.

    Emits: nothing. Returns the user and the temporary password (shown once, never stored in clear).
    Raises: AccountError.
    """
    if User.objects.filter(username__iexact=username).exists():
        raise AccountError(f"用户名“{username}”已被使用。")
    _check_org(branch, department)
    if department is not None and branch is None:
        branch = department.branch
    user = User(username=username, full_name=full_name, phone=phone, email=email, branch=branch,
                department=department, sip_endpoint=sip_endpoint, must_change_password=True)
    for field in ROLE_FIELDS.values():
        setattr(user, field, field in set(roles))
    password = temporary_password_generate(user=user)
    user.set_password(password)
    user.save()
    audit_record(actor=by, action=AuditAction.USER_CHANGE, summary=f"创建账号 {user.username}（{user.display_name}）",
                 object_type="user", object_id=user.pk,
                 detail={"changes": _changes({}, _snapshot(user)), "roles": user.role_labels}, request=request)
    return user, password


@transaction.atomic
def user_update(*, by: User, user: User, request: HttpRequest | None = None, **values: object) -> User:
    """Change a user's name, phone, roles, organisation or extension; audited with before/after.

    Emits: nothing.
    Raises: AccountError (e.g. an admin removing their own admin role).
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    before = _snapshot(user)
    roles = values.pop("roles", None)
    for key, value in values.items():
        if key not in {"full_name", "phone", "email", "branch", "department", "sip_endpoint"}:
            raise AccountError(f"不能修改字段 {key}")
        setattr(user, key, value)
    if roles is not None:
        if not isinstance(roles, list | tuple | set | frozenset):
            raise AccountError("角色格式不正确")
        role_set = {str(role) for role in roles}
        for field in ROLE_FIELDS.values():
            setattr(user, field, field in role_set)
        if user.pk == by.pk and before["is_sysadmin"] and not user.is_sysadmin:
            raise AccountError("不能取消自己的系统管理员角色（请由另一位系统管理员操作），以免无人能管理系统。")
    _check_org(user.branch, user.department)
    if user.department is not None and user.branch is None:
        user.branch = user.department.branch
    after = _snapshot(user)
    changes = _changes(before, after)
    if not changes:
        return user
    user.save()
    action = AuditAction.PERMISSION_CHANGE if set(changes) & _PERMISSION_FIELDS else AuditAction.USER_CHANGE
    audit_record(actor=by, action=action, summary=f"修改账号 {user.username}：{'、'.join(_labels(changes))}",
                 object_type="user", object_id=user.pk, detail={"changes": changes}, request=request)
    return user


def _labels(changes: dict[str, JsonValue]) -> list[str]:
    names = {"branch_id": "分公司", "department_id": "部门"}
    out = []
    for field in changes:
        if field in names:
            out.append(names[field])
        else:
            model_field = User._meta.get_field(field)
            out.append(str(model_field.verbose_name) if isinstance(model_field, models.Field) else field)
    return out


@transaction.atomic
def user_reset_password(*, by: User, user: User, request: HttpRequest | None = None) -> str:
    """Give `user` a new temporary password they must change at next login; returns it (shown once).

    Emits: nothing.
    Raises: AccountError.
    """
    password = temporary_password_generate(user=user)
    user.set_password(password)
    user.must_change_password = True
    user.save(update_fields=["password", "must_change_password"])
    audit_record(actor=by, action=AuditAction.USER_CHANGE, summary=f"重置账号 {user.username} 的密码（下次登录须修改）",
                 object_type="user", object_id=user.pk,
                 detail={"changes": {"password": {"before": "（旧密码）", "after": "（临时密码）"},
                                     "must_change_password": {"before": False, "after": True}}},
                 request=request)
    return password


@transaction.atomic
def user_set_active(*, by: User, user: User, active: bool, reason: str = "",
                    request: HttpRequest | None = None) -> User:
    """Deactivate (the account can no longer sign in; open sessions end) or reactivate an account.

    Emits: nothing.
    Raises: AccountError (an admin deactivating themselves).
    """
    if not active and user.pk == by.pk:
        raise AccountError("不能停用自己的账号。")
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    verb = "启用" if active else "停用"
    audit_record(actor=by, action=AuditAction.PERMISSION_CHANGE, summary=f"{verb}账号 {user.username}"
                 + (f"：{reason}" if reason else ""), object_type="user", object_id=user.pk,
                 detail={"changes": {"is_active": {"before": not active, "after": active}}, "reason": reason},
                 request=request)
    return user


@transaction.atomic
def clerk_scopes_set(*, by: User, clerk: User, banks: Sequence[Bank],
                     request: HttpRequest | None = None) -> list[int]:
    """Make `banks` exactly the banks `clerk` handles (C7). Returns the bank ids now in scope.

    Emits: CaseAccessRevoked → account.<clerk id> when a bank is withdrawn (their open case and chat
    subscriptions of that bank end at once).
    Raises: AccountError when the user is not a clerk but banks are given.
    """
    wanted = {b.pk for b in banks}
    if wanted and not clerk.is_clerk:
        raise AccountError(f"{clerk.display_name} 不是内勤，不能分配负责银行（请先在账号中勾选“内勤”角色）。")
    current = set(ClerkBankScope.objects.filter(clerk=clerk).values_list("bank_id", flat=True))
    removed, added = current - wanted, wanted - current
    if not removed and not added:
        return sorted(current)
    ClerkBankScope.objects.filter(clerk=clerk, bank_id__in=removed).delete()
    ClerkBankScope.objects.bulk_create([ClerkBankScope(clerk=clerk, bank_id=b, granted_by=by) for b in sorted(added)])
    names = dict(Bank.objects.filter(pk__in=current | wanted).values_list("pk", "name"))
    audit_record(actor=by, action=AuditAction.PERMISSION_CHANGE,
                 summary=f"修改内勤 {clerk.display_name} 负责的银行：增加 {len(added)} 家，取消 {len(removed)} 家",
                 object_type="user", object_id=clerk.pk,
                 detail={"changes": {"banks": {"before": sorted(names[b] for b in current),
                                               "after": sorted(names[b] for b in wanted)}}},
                 request=request)
    if removed:
        publish_on_commit(CaseAccessRevoked(user_id=clerk.pk), to=[groups.account(clerk.pk)])
    return sorted(wanted)


@transaction.atomic
def user_reset_2fa(*, by: User, user: User, request: HttpRequest | None = None) -> int:
    """Remove every TOTP device of `user` (a lost phone); they sign in with the password alone again.

    Emits: nothing.
    Raises: nothing.
    """
    from django_otp.plugins.otp_totp.models import TOTPDevice

    devices = TOTPDevice.objects.filter(user=user)
    count: int = devices.count()
    devices.delete()
    audit_record(actor=by, action=AuditAction.PERMISSION_CHANGE, summary=f"重置账号 {user.username} 的两步验证",
                 object_type="user", object_id=user.pk,
                 detail={"changes": {"totp_devices": {"before": count, "after": 0}}}, request=request)
    return count


# --- VPN accounts (S2) -----------------------------------------------------------------------------------

_VPN_TRACKED = ("server", "protocol", "username", "owner_id", "expires_on", "note")


def _vpn_snapshot(account: VpnAccount) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    for f in _VPN_TRACKED:
        value = getattr(account, f)
        out[f] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


@transaction.atomic
def vpn_account_save(*, by: User, account: VpnAccount, password: str | None,
                     request: HttpRequest | None = None) -> VpnAccount:
    """Create or update a VPN account; a non-empty `password` replaces the stored one (encrypted).

    Emits: nothing.
    Raises: ops.crypto.CryptoError when no encryption key is configured.
    """
    creating = account.pk is None
    before = {} if creating else _vpn_snapshot(VpnAccount.objects.get(pk=account.pk))
    if not creating and before.get("expires_on") != (account.expires_on.isoformat() if account.expires_on else None):
        account.reminded_thresholds = []  # a new expiry date gets its reminders again
    if password:
        account.password_encrypted = encrypt_secret(password)
    if creating:
        account.created_by = by
    account.save()
    changes = _changes(before, _vpn_snapshot(account))
    if password:
        changes["password"] = {"before": "（已隐藏）" if not creating else None, "after": "（已加密保存）"}
    if changes:
        audit_record(actor=by, action=AuditAction.USER_CHANGE if creating else AuditAction.PERMISSION_CHANGE,
                     summary=f"{'新增' if creating else '修改'} VPN 账号 {account}", object_type="vpn_account",
                     object_id=account.pk, detail={"changes": changes}, request=request)
    return account


def vpn_password_reveal(*, by: User, account: VpnAccount, request: HttpRequest | None = None) -> str:
    """The clear password of `account`, for one response; every reveal is audited.

    Emits: nothing.
    Raises: ops.crypto.CryptoError.
    """
    password = decrypt_secret(account.password_encrypted)
    audit_record(actor=by, action=AuditAction.VIEW_SENSITIVE, summary=f"查看 VPN 账号 {account} 的密码",
                 object_type="vpn_account", object_id=account.pk, request=request)
    return password


@transaction.atomic
def vpn_account_delete(*, by: User, account: VpnAccount, request: HttpRequest | None = None) -> None:
    """Delete a VPN account that is no longer used; audited with what it was.

    Emits: nothing.
    Raises: nothing.
    """
    snapshot = _vpn_snapshot(account)
    pk = account.pk
    label = str(account)
    account.delete()
    audit_record(actor=by, action=AuditAction.DELETE, summary=f"删除 VPN 账号 {label}", object_type="vpn_account",
                 object_id=pk, detail={"before": snapshot}, request=request)


# --- Alerts to system admins -----------------------------------------------------------------------------

def sysadmin_alert(*, level: str, title: str, text: str, url: str = "") -> int:
    """Store and push an alert to every active system admin (toast now, or on their next connect).

    Emits: OpsAlertRaised → user.<id> of every active system admin.
    Raises: nothing.
    """
    admin_ids = list(User.objects.filter(is_sysadmin=True, is_active=True).values_list("pk", flat=True))
    event = OpsAlertRaised(level=level, title=title, text=text, url=url, raised_at=timezone.now().isoformat())
    return len(user_events_deliver(event=event, user_ids=admin_ids))


VPN_REMINDER_THRESHOLDS: tuple[int, ...] = (30, 7, 1, 0)


def vpn_expiry_check(*, today: dt.date | None = None) -> list[int]:
    """Remind system admins of VPN accounts expiring soon: once per threshold (30, 7, 1, 0 days) per expiry date.

    Safe to call every scheduler tick. Returns the ids of accounts reminded now.
    Emits: OpsAlertRaised → every active system admin.
    Raises: nothing.
    """
    from datetime import timedelta

    from django.conf import settings
    from django.urls import reverse

    today = today or timezone.localdate()
    horizon = today + timedelta(days=max(settings.VPN_EXPIRY_WARN_DAYS, max(VPN_REMINDER_THRESHOLDS)))
    reminded: list[int] = []
    for account in VpnAccount.objects.filter(expires_on__isnull=False, expires_on__lte=horizon).select_related("owner"):
        days = account.days_left(today)
        assert days is not None
        due = [t for t in VPN_REMINDER_THRESHOLDS if days <= t and t not in account.reminded_thresholds]
        if not due:
            continue
        with transaction.atomic():
            locked = VpnAccount.objects.select_for_update().get(pk=account.pk)
            due = [t for t in VPN_REMINDER_THRESHOLDS if days <= t and t not in locked.reminded_thresholds]
            if not due:
                continue
            # Every threshold already passed counts as reminded: one alert, not four, after a long outage.
            locked.reminded_thresholds = sorted({*locked.reminded_thresholds, *due})
            locked.save(update_fields=["reminded_thresholds"])
            when = "今天到期" if days == 0 else (f"已过期 {-days} 天" if days < 0 else f"还有 {days} 天到期")
            owner = f"（使用人 {locked.owner.display_name}）" if locked.owner else ""
            sysadmin_alert(level="error" if days <= 1 else "warn", title="VPN 账号即将到期",
                           text=f"{locked.username}@{locked.server} {when}（{locked.expires_on:%Y-%m-%d}）{owner}，"
                                "请及时续期。",
                           url=reverse("ops:vpn-list"))
        reminded.append(account.pk)
    return reminded
