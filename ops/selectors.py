"""Reads of system administration: users, unfinished cases of a user, the audit log, VPN accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import NoReverseMatch, reverse

from accounts.inputs import MAX_PAGE
from accounts.models import ROLE_FIELDS, AuditEntry, User
from cases.enums import OPEN_STATUSES, CaseStatus
from cases.models import Bank, Case, ClerkBankScope
from ops.models import BackupRun, BackupStatus, VpnAccount


def user_list(*, q: str = "", role: str = "", branch_id: int | None = None,
              active: str = "active") -> QuerySet[User]:
    qs = User.objects.select_related("branch", "department")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(full_name__icontains=q) | Q(phone__icontains=q)
                       | Q(sip_endpoint__icontains=q))
    fields = {r.value: f for r, f in ROLE_FIELDS.items()}
    if role in fields:
        qs = qs.filter(**{fields[role]: True})
    if branch_id:
        qs = qs.filter(branch_id=branch_id)
    if active == "active":
        qs = qs.filter(is_active=True)
    elif active == "inactive":
        qs = qs.filter(is_active=False)
    return qs.order_by("-is_active", "branch__name", "department__name", "username")


@dataclass(frozen=True)
class UnfinishedCases:
    total: int
    amount: object  # Decimal or None
    by_status: list[tuple[str, int]]
    sample: list[Case]


def unfinished_cases_for(*, user: User, sample: int = 50) -> UnfinishedCases:
    """The cases still on `user`'s desk: what must be handed over when they leave."""
    qs = Case.objects.filter(collector=user, status__in=OPEN_STATUSES)
    stats = qs.aggregate(total=Count("pk"), amount=Sum("entrusted_amount"))
    labels = dict(CaseStatus.choices)
    by_status = [(labels.get(row["status"], row["status"]), row["n"])
                 for row in qs.values("status").annotate(n=Count("pk")).order_by("status")]
    rows = list(qs.select_related("batch", "batch__bank").order_by("case_no")[:sample])
    return UnfinishedCases(total=stats["total"] or 0, amount=stats["amount"], by_status=by_status, sample=rows)


def handover_url(*, user: User) -> str | None:
    """The hand-over page of a departed collector's cases, when the case-work pages provide it."""
    for kwargs in ({"user_id": user.pk}, {"collector_id": user.pk}, {"departed_id": user.pk}, {"pk": user.pk}):
        try:
            return reverse("cases:handover", kwargs=kwargs)
        except NoReverseMatch:
            continue
    try:
        return reverse("cases:handover") + f"?departed={user.pk}"
    except NoReverseMatch:
        return None


def clerk_scope_grid() -> tuple[list[User], list[Bank], set[tuple[int, int]]]:
    clerks = list(User.objects.filter(is_clerk=True).order_by("-is_active", "full_name", "username"))
    banks = list(Bank.objects.order_by("-is_active", "code"))
    pairs = set(ClerkBankScope.objects.values_list("clerk_id", "bank_id"))
    return clerks, banks, pairs


def totp_device_status(*, user: User) -> str:
    """"confirmed", "pending" (enrolment started) or "" (none)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    devices = list(TOTPDevice.objects.filter(user=user).values_list("confirmed", flat=True))
    if any(devices):
        return "confirmed"
    return "pending" if devices else ""


def users_with_2fa() -> set[int]:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return set(TOTPDevice.objects.filter(confirmed=True).values_list("user_id", flat=True))


# --- audit log -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditFilter:
    actor_id: int | None = None
    actor_name: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    q: str = ""


def audit_list(*, f: AuditFilter) -> QuerySet[AuditEntry]:
    from django.utils import timezone

    qs = AuditEntry.objects.all()
    if f.actor_id:
        qs = qs.filter(actor_id=f.actor_id)
    if f.actor_name:
        qs = qs.filter(actor_name__icontains=f.actor_name)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type)
    if f.object_id:
        qs = qs.filter(object_id=f.object_id)
    tz = timezone.get_current_timezone()
    if f.date_from:
        qs = qs.filter(created_at__gte=dt.datetime.combine(f.date_from, dt.time.min, tzinfo=tz))
    if f.date_to:
        qs = qs.filter(created_at__lt=dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    if f.q:
        qs = qs.filter(summary__icontains=f.q)
    return qs.order_by("-created_at", "-id")


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditEntry]
    number: int
    has_next: bool
    has_previous: bool


def audit_page(*, f: AuditFilter, page: int, size: int = 50) -> AuditPage:
    """One page without COUNT(*): fetch one row more than the page to know whether a next page exists."""
    page = min(max(1, page), MAX_PAGE)
    start = (page - 1) * size
    rows = list(audit_list(f=f)[start:start + size + 1])
    return AuditPage(rows=rows[:size], number=page, has_next=len(rows) > size, has_previous=page > 1)


def audit_object_types() -> list[str]:
    return sorted(t for t in AuditEntry.objects.values_list("object_type", flat=True).distinct() if t)


def audit_for_user(*, user: User, limit: int = 15) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(Q(object_type="user", object_id=str(user.pk)) | Q(actor=user))
                .order_by("-created_at", "-id")[:limit])


# --- VPN and backups -------------------------------------------------------------------------------------

def vpn_account_list(*, q: str = "") -> QuerySet[VpnAccount]:
    qs = VpnAccount.objects.select_related("owner")
    if q:
        qs = qs.filter(Q(server__icontains=q) | Q(username__icontains=q) | Q(note__icontains=q)
                       | Q(owner__full_name__icontains=q))
    return qs.order_by("expires_on", "server", "username")


def backup_run_list(*, limit: int = 60) -> list[BackupRun]:
    return list(BackupRun.objects.order_by("-started_at", "-id")[:limit])


def backup_last_ok() -> BackupRun | None:
    return BackupRun.objects.filter(status=BackupStatus.OK).order_by("-finished_at").first()
