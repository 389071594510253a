"""The permission matrix: every URL of the product × every role → the status it must answer.

How to extend: when you add a URL, add one `Route` to MATRIX below (its name, how to build its
arguments from the `world`, and the expected status per role; `desk()`, `everyone()` and `only()` build
the common rows). A URL that is in the URL conf but not in MATRIX or ALLOWED fails
`test_every_url_is_in_the_matrix`, so no page ships without a decision on who may see it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from cases.enums import CaseStatus, ReminderKind
from cases.models import Reminder
from tests import factories as f

ROLES: tuple[str, ...] = (
    "anonymous",
    "clerk",            # clerk of the case's bank
    "other_clerk",      # clerk of another bank only
    "collector",        # phone collector who owns the case
    "other_collector",  # phone collector who does not
    "field_collector",  # field collector (does not own the case)
    "manager",
    "sysadmin",
)
LOGIN = "login"  # a 302 to the login page
OK, REDIRECT, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = 200, 302, 403, 404, 405

# URLs outside the matrix on purpose: Django's own admin (its own is_staff check), the login page.
ALLOWED: tuple[re.Pattern[str], ...] = (
    re.compile(r"^admin:"),
    re.compile(r"^accounts:login$"),
)


def everyone(code: int | str, **overrides: int | str) -> dict[str, int | str]:
    """Every signed-in role gets `code`; anonymous users are sent to log in."""
    row: dict[str, int | str] = dict.fromkeys(ROLES, code)
    row["anonymous"] = LOGIN
    row.update(overrides)
    return row


def only(code: int | str, *roles: str, other: int | str = FORBIDDEN) -> dict[str, int | str]:
    """`roles` get `code`, the other signed-in roles `other`, anonymous users the login page."""
    return everyone(other, **dict.fromkeys(roles, code))


DESK = ("clerk", "other_clerk", "manager", "sysadmin")


def desk(code: int | str = OK) -> dict[str, int | str]:
    """Clerks (any bank), managers and system admins."""
    return only(code, *DESK)


def on_case(code: int | str, **overrides: int | str) -> dict[str, int | str]:
    """A POST on the world's case: who cannot see it gets 404, who sees it `code` unless overridden."""
    return everyone(NOT_FOUND, **{**dict.fromkeys(("clerk", "collector", "manager", "sysadmin"), code), **overrides})


# GETs on the world's case: those who see it (its bank's clerk, its collector, managers, admins) get 200.
SEES_CASE = everyone(NOT_FOUND, clerk=OK, collector=OK, manager=OK, sysadmin=OK)
# The world's document request: its collector, its clerk (the case's owner) and managers; 404 for the rest.
DOCREQ_SEEN = everyone(NOT_FOUND, clerk=OK, collector=OK, manager=OK)
DOCREQ_SIDES = everyone(NOT_FOUND, clerk=REDIRECT, collector=REDIRECT, manager=FORBIDDEN)
# Assignment pages: clerks (any bank: each sees their own banks' cases) and managers.
ASSIGNERS = only(OK, "clerk", "other_clerk", "manager")


@dataclass
class World:
    case_id: int
    batch_id: int
    id_number: str
    masked_id_number: str
    reminder_id: int
    # Case work (filled by the autouse `_case_work` fixture below): one file, call, visit and bank template.
    file_id: int = 0
    call_id: int = 0
    visit_id: int = 0
    template_id: int = 0
    # Document requests (C8, P9, R3), filled by the autouse `_document_request` fixture: a request on the
    # world's case (collector → its owner clerk) and a chat message with a picture attached.
    docreq_id: int = 0
    docreq_message_id: int = 0
    # Assignment (C3, C4): the world's collector, and a departed collector still holding a case of the bank.
    collector_id: int = 0
    departed_id: int = 0


@dataclass(frozen=True)
class Route:
    name: str
    expect: dict[str, int | str]
    kwargs: Callable[[World], dict[str, object]] = field(default=lambda w: {})
    method: str = "get"
    query: dict[str, str] = field(default_factory=dict)

    def url(self, world: World) -> str:
        return reverse(self.name, kwargs=self.kwargs(world))


MATRIX: tuple[Route, ...] = (
    Route("frontend:home", everyone(REDIRECT)),
    Route("frontend:favicon", dict.fromkeys(ROLES, 301)),
    Route("accounts:logout", dict.fromkeys(ROLES, NOT_ALLOWED)),  # POST only
    Route("accounts:password-change", everyone(OK)),
    Route("cases:case-list", everyone(OK)),
    Route("cases:case-list", everyone(OK), query={"q": "王"}),
    Route("cases:case-detail", everyone(NOT_FOUND, clerk=OK, collector=OK, manager=OK, sysadmin=OK),
          kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:batch-list", desk()),
    Route("cases:batch-import", only(OK, "clerk", "other_clerk")),
    Route("cases:batch-template", only(OK, "clerk", "other_clerk")),
    Route("cases:reminder-list", everyone(OK)),
    # The world's reminder belongs to the collector; anyone else gets 404 for it.
    Route("cases:reminder-read", everyone(NOT_FOUND, collector=REDIRECT), method="post",
          kwargs=lambda w: {"reminder_id": w.reminder_id}),
    Route("cases:reminder-read", everyone(NOT_ALLOWED), kwargs=lambda w: {"reminder_id": w.reminder_id}),
    Route("cases:reminder-read-all", everyone(REDIRECT), method="post"),
    Route("cases:reminder-read-all", everyone(NOT_ALLOWED)),
    Route("cases:dashboard", only(OK, "manager", "sysadmin")),
    # Case work (P4, P5, P11, C13, C14, C15). Posting an empty form re-renders the panel with errors (200).
    Route("cases:case-work", SEES_CASE, kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:call-create", on_case(FORBIDDEN, collector=OK), method="post",
          kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:call-create", everyone(NOT_ALLOWED), kwargs=lambda w: {"case_id": w.case_id}),
    # The world's call is a manual one: its collector gets the panel back saying it takes no outcome (200).
    Route("cases:call-outcome", on_case(FORBIDDEN, collector=OK), method="post",
          kwargs=lambda w: {"case_id": w.case_id, "call_id": w.call_id}),
    Route("cases:call-outcome", everyone(NOT_ALLOWED), kwargs=lambda w: {"case_id": w.case_id, "call_id": w.call_id}),
    Route("cases:visit-create", on_case(FORBIDDEN, collector=OK), method="post",
          kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:file-upload", on_case(FORBIDDEN, collector=OK, clerk=OK), method="post",
          kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:complaint-create", on_case(FORBIDDEN, clerk=OK, manager=OK), method="post",
          kwargs=lambda w: {"case_id": w.case_id}),
    # Without a reason the admin gets the panel back with "请填写删除原因" and nothing is deleted.
    Route("cases:work-delete", on_case(FORBIDDEN, sysadmin=OK), method="post",
          kwargs=lambda w: {"case_id": w.case_id, "what": "file", "object_id": w.file_id}),
    Route("cases:work-delete", on_case(FORBIDDEN, sysadmin=OK), method="post",
          kwargs=lambda w: {"case_id": w.case_id, "what": "visit", "object_id": w.visit_id}),
    Route("cases:case-file", SEES_CASE, kwargs=lambda w: {"case_id": w.case_id, "file_id": w.file_id}),
    Route("cases:case-bundle", SEES_CASE, kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:visit-form", SEES_CASE, kwargs=lambda w: {"case_id": w.case_id, "fmt": "docx"}),
    Route("cases:complaint-list", desk()),
    Route("cases:template-list", everyone(OK)),
    Route("cases:template-download", everyone(NOT_FOUND, clerk=OK, collector=OK, manager=OK, sysadmin=OK),
          kwargs=lambda w: {"template_id": w.template_id}),
    Route("cases:template-delete", everyone(NOT_FOUND, clerk=REDIRECT, sysadmin=REDIRECT, manager=FORBIDDEN,
                                            collector=FORBIDDEN), method="post",
          kwargs=lambda w: {"template_id": w.template_id}),
    # Assignment (C3, C4, C6): clerks and managers; empty POSTs come back with their errors, nothing changes.
    Route("cases:assign", ASSIGNERS),
    Route("cases:assign-collectors", ASSIGNERS),
    Route("cases:assign-preview", ASSIGNERS, method="post"),
    Route("cases:assign-confirm", ASSIGNERS, method="post"),
    Route("cases:reassign", ASSIGNERS),
    Route("cases:reassign", only(400, "clerk", "other_clerk", "manager"), method="post"),
    Route("cases:swap", only(400, "clerk", "other_clerk", "manager"), method="post"),
    Route("cases:orphans", ASSIGNERS),
    Route("cases:handover", ASSIGNERS, kwargs=lambda w: {"user_id": w.departed_id}),
    Route("cases:collector-assignments", ASSIGNERS, kwargs=lambda w: {"user_id": w.collector_id}),
    Route("cases:case-assignments", SEES_CASE, kwargs=lambda w: {"case_id": w.case_id}),
    # 内勤调配 (issue 15): managers only; an empty form comes back with its error (400).
    Route("cases:clerk-allocation", only(OK, "manager")),
    Route("cases:clerk-allocation", only(400, "manager"), method="post"),
    # 拨打规则 (issue 15): managers only; a POST naming no bank finds none (404).
    Route("cases:call-rules", only(OK, "manager")),
    Route("cases:call-rules", only(NOT_FOUND, "manager"), method="post"),
    # Document requests with chat (C8, P9, R3): the request's collector, its clerk and managers see it.
    Route("cases:docreq-inbox", only(OK, "clerk", "other_clerk", "manager")),
    Route("cases:docreq-mine", only(OK, "collector", "other_collector", "field_collector")),
    Route("cases:docreq-create", on_case(FORBIDDEN, collector=OK), kwargs=lambda w: {"case_id": w.case_id}),
    # An empty form comes back with its errors (200); nothing is created.
    Route("cases:docreq-create", on_case(FORBIDDEN, collector=OK), method="post",
          kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:docreq-case-panel", SEES_CASE, kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:docreq-detail", DOCREQ_SEEN, kwargs=lambda w: {"request_id": w.docreq_id}),
    Route("cases:docreq-status", DOCREQ_SEEN, kwargs=lambda w: {"request_id": w.docreq_id}),
    # Without a status the sides are sent back to the page with the error; managers only read.
    Route("cases:docreq-status", DOCREQ_SIDES, method="post", kwargs=lambda w: {"request_id": w.docreq_id}),
    Route("cases:docreq-message-create", DOCREQ_SIDES, method="post", kwargs=lambda w: {"request_id": w.docreq_id}),
    Route("cases:docreq-message-create", everyone(NOT_ALLOWED), kwargs=lambda w: {"request_id": w.docreq_id}),
    Route("cases:docreq-attachment", DOCREQ_SEEN,
          kwargs=lambda w: {"request_id": w.docreq_id, "message_id": w.docreq_message_id}),
)


# --- Money (issue 6): repayments on the case page (C5). Clerks of the case's bank record and reverse; an
# empty form comes back with its errors (200), nothing recorded.
MATRIX += (
    Route("cases:repayment-panel", SEES_CASE, kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:case-figures", SEES_CASE, kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:repayment-create", on_case(FORBIDDEN, clerk=OK), method="post",
          kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:repayment-create", everyone(NOT_ALLOWED), kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:repayment-reverse", on_case(FORBIDDEN, clerk=NOT_FOUND), method="post",
          kwargs=lambda w: {"case_id": w.case_id, "repayment_id": 999999}),
    # Bank repayment file: clerks only; an empty upload or confirm comes back with its error (400).
    Route("cases:repayment-file", only(OK, "clerk", "other_clerk")),
    Route("cases:repayment-file", only(400, "clerk", "other_clerk"), method="post"),
    Route("cases:repayment-file-confirm", only(400, "clerk", "other_clerk"), method="post"),
    Route("cases:repayment-file-confirm", everyone(NOT_ALLOWED)),
    # Return and retention (C9, C10, P10): clerks of the case's bank return and retain (then go back, 302);
    # the case's collector asks for a retention (without a reason: back to the case with the error, 302).
    Route("cases:return-list", only(OK, "clerk", "other_clerk", "manager")),
    Route("cases:case-return-bulk", only(REDIRECT, "clerk", "other_clerk"), method="post"),
    Route("cases:case-return-bulk", everyone(NOT_ALLOWED)),
    Route("cases:case-retain-bulk", only(REDIRECT, "clerk", "other_clerk"), method="post"),
    Route("cases:case-retain-bulk", everyone(NOT_ALLOWED)),
    # 退案 first shows what it will do (200), whether opened (GET) or posted without confirm=1.
    Route("cases:case-return", on_case(FORBIDDEN, clerk=OK), kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:case-return", on_case(FORBIDDEN, clerk=OK), method="post",
          kwargs=lambda w: {"case_id": w.case_id}),
    # The world's case is not returned: the owner clerk and managers are sent back with the reason.
    Route("cases:case-return-undo", on_case(FORBIDDEN, clerk=REDIRECT, manager=REDIRECT), method="post",
          kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:case-return-undo", everyone(NOT_ALLOWED), kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:case-retain", on_case(FORBIDDEN, clerk=REDIRECT), method="post",
          kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:return-panel", SEES_CASE, kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:retention-request", on_case(FORBIDDEN, collector=REDIRECT), method="post",
          kwargs=lambda w: {"case_id": w.case_id}),
    Route("cases:retention-decide", only(NOT_FOUND, "clerk", "other_clerk"), method="post",
          kwargs=lambda w: {"request_id": 999999}),
    # Reports (C12, M6): clerks (their banks), managers and admins; collectors none.
    Route("cases:reports", desk()),
    Route("cases:reports", desk(), query={"kind": "progress"}),
    Route("cases:reports", desk(), query={"kind": "repayments", "period": "day", "by": "rate", "format": "xlsx"}),
    # Dashboard charts (issue 18): the dashboard's own audience.
    Route("performance:dashboard-charts", only(OK, "manager", "sysadmin")),
    # Targets (issue 18): set by managers; the ranking is the dashboard's audience.
    Route("performance:targets", only(OK, "manager")),
    Route("performance:target-import", only(REDIRECT, "manager"), method="post"),
    Route("performance:target-template", only(OK, "manager")),
    Route("performance:ranking", only(OK, "manager", "sysadmin")),
    Route("performance:ranking", only(OK, "manager", "sysadmin"), query={"fragment": "compact"}),
    # 提成 (issue 18): schemes and approvals by managers; a collector reaches only their own statement.
    Route("performance:schemes", only(OK, "manager")),
    Route("performance:scheme-end", only(NOT_FOUND, "manager"), method="post", kwargs=lambda w: {"scheme_id": 999999}),
    Route("performance:statements", everyone(FORBIDDEN, manager=OK, sysadmin=OK, collector=REDIRECT,
                                             other_collector=REDIRECT, field_collector=REDIRECT)),
    Route("performance:statement-mine", only(OK, "collector", "other_collector", "field_collector")),
    Route("performance:statement-detail", everyone(NOT_FOUND, manager=OK, sysadmin=OK, collector=OK),
          kwargs=lambda w: {"collector_id": w.collector_id}),
    Route("performance:statement-detail", everyone(NOT_FOUND, manager=OK, sysadmin=OK, collector=OK),
          kwargs=lambda w: {"collector_id": w.collector_id}, query={"format": "xlsx"}),
    Route("performance:statement-approve", only(REDIRECT, "manager"), method="post",
          kwargs=lambda w: {"collector_id": w.collector_id}),
    # Per-batch progress (issue 18): the same desk; a batch of a bank the clerk does not handle is not found.
    Route("cases:batch-progress", desk()),
    Route("cases:batch-progress", desk(), query={"state": "all", "format": "xlsx"}),
    Route("cases:batch-progress-detail", everyone(FORBIDDEN, clerk=OK, manager=OK, sysadmin=OK, other_clerk=NOT_FOUND),
          kwargs=lambda w: {"batch_id": w.batch_id}),
    Route("cases:batch-progress-detail", everyone(FORBIDDEN, clerk=OK, manager=OK, sysadmin=OK, other_clerk=NOT_FOUND),
          kwargs=lambda w: {"batch_id": w.batch_id}, query={"format": "xlsx"}),
    # Exports (M4): managers only.
    Route("cases:cases-export", only(OK, "manager")),
    # M5: the exports page and all business data as a zip, for managers like the all-cases export.
    Route("cases:exports", only(OK, "manager")),
    Route("cases:business-export", only(OK, "manager")),
)

# --- System administration (issue 7): system admins only; the objects are the world's collector and a VPN
# account made on demand. Health JSON answers monitoring tokens too (tests/ops/test_health.py).
def _vpn_account_id(w: World) -> int:
    from ops.models import VpnAccount

    return VpnAccount.objects.get_or_create(server="vpn.example.test", protocol="openvpn", username="matrix")[0].pk


def _bank_id(w: World) -> int:
    from cases.models import Case

    return Case.objects.get(pk=w.case_id).bank_id


def _department(w: World):
    from accounts.models import BranchCompany, Department

    branch = BranchCompany.objects.get_or_create(name="矩阵分公司")[0]
    return Department.objects.get_or_create(branch=branch, name="矩阵部门")[0]


ADMIN_ONLY = only(OK, "sysadmin")
ADMIN_POST_ONLY = only(NOT_ALLOWED, "sysadmin")  # GET on a POST-only admin URL
_USER = {"kwargs": lambda w: {"user_id": w.collector_id}}
MATRIX += (
    Route("ops:user-list", ADMIN_ONLY),
    Route("ops:user-list", ADMIN_ONLY, query={"q": "王", "role": "clerk", "active": "all"}),
    Route("ops:user-create", ADMIN_ONLY),
    Route("ops:user-edit", ADMIN_ONLY, **_USER),
    Route("ops:user-deactivate", ADMIN_ONLY, **_USER),
    Route("ops:user-password-reset", ADMIN_POST_ONLY, **_USER),
    Route("ops:user-password-reset", ADMIN_ONLY, method="post", **_USER),
    Route("ops:user-reactivate", ADMIN_POST_ONLY, **_USER),
    Route("ops:user-reactivate", only(REDIRECT, "sysadmin"), method="post", **_USER),
    Route("ops:user-2fa-reset", ADMIN_POST_ONLY, **_USER),
    Route("ops:user-2fa-reset", only(REDIRECT, "sysadmin"), method="post", **_USER),
    Route("ops:scope-grid", ADMIN_ONLY),
    Route("ops:extension-list", ADMIN_ONLY),
    Route("ops:audit-list", ADMIN_ONLY),
    Route("ops:audit-list", ADMIN_ONLY, query={"action": "login", "date_from": "2026-01-01"}),
    Route("ops:audit-export", ADMIN_ONLY),
    Route("ops:vpn-list", ADMIN_ONLY),
    Route("ops:vpn-create", ADMIN_ONLY),
    Route("ops:vpn-edit", ADMIN_ONLY, kwargs=lambda w: {"account_id": _vpn_account_id(w)}),
    Route("ops:vpn-reveal", ADMIN_POST_ONLY, kwargs=lambda w: {"account_id": _vpn_account_id(w)}),
    Route("ops:vpn-reveal", ADMIN_ONLY, method="post", kwargs=lambda w: {"account_id": _vpn_account_id(w)}),
    Route("ops:vpn-delete", ADMIN_POST_ONLY, kwargs=lambda w: {"account_id": _vpn_account_id(w)}),
    Route("ops:backup-list", ADMIN_ONLY),
    Route("ops:backup-start", ADMIN_POST_ONLY),
    Route("ops:health", ADMIN_ONLY),
    # No token and no admin session: 401 for everyone, never a login redirect (monitoring speaks JSON).
    Route("ops:health-json", only(OK, "sysadmin", other=401) | {"anonymous": 401}),
    # 基础资料 (issue 15): banks, branch companies, departments; an empty or unknown POST comes back with its error.
    Route("ops:bank-list", ADMIN_ONLY),
    Route("ops:bank-list", only(400, "sysadmin"), method="post"),
    Route("ops:bank-edit", ADMIN_ONLY, kwargs=lambda w: {"bank_id": _bank_id(w)}),
    Route("ops:bank-edit", only(400, "sysadmin"), method="post", kwargs=lambda w: {"bank_id": _bank_id(w)}),
    Route("ops:org-list", ADMIN_ONLY),
    Route("ops:org-list", only(400, "sysadmin"), method="post"),
    Route("ops:branch-edit", ADMIN_ONLY, kwargs=lambda w: {"branch_id": _department(w).branch_id}),
    Route("ops:branch-edit", only(400, "sysadmin"), method="post",
          kwargs=lambda w: {"branch_id": _department(w).branch_id}),
    Route("ops:department-edit", ADMIN_ONLY, kwargs=lambda w: {"department_id": _department(w).pk}),
    Route("ops:department-edit", only(400, "sysadmin"), method="post",
          kwargs=lambda w: {"department_id": _department(w).pk}),
    # 基础资料 (issue 15): the holiday calendar; managers may look, admins change (empty forms: 400 with errors).
    Route("ops:calendar", only(OK, "manager", "sysadmin")),
    Route("ops:calendar", only(OK, "manager", "sysadmin"), query={"year": "2027"}),
    Route("ops:holiday-add", only(400, "sysadmin"), method="post"),
    Route("ops:holiday-add", ADMIN_POST_ONLY),
    Route("ops:holiday-delete", only(REDIRECT, "sysadmin"), method="post"),
    Route("ops:holiday-delete", ADMIN_POST_ONLY),
    Route("ops:holiday-template", ADMIN_ONLY),
    Route("ops:holiday-import", only(400, "sysadmin"), method="post"),
    Route("ops:holiday-import", ADMIN_POST_ONLY),
    Route("accounts:two-factor", everyone(OK)),
    # The second login step without a pending sign-in sends everyone back (anonymous to the login page).
    Route("accounts:login-otp", everyone(REDIRECT)),
)


# --- Dialer (issue 5): click-to-call on the case (only its collector gets through to the dialer; with no
# extension set and no dialer running the refusal is a 409 with the reason), suggested numbers for the
# owner clerk, unmatched recordings for collectors and managers, the managers' lines board and listen-in.
def _suggestion_id(w: World) -> int:
    from cases.models import Case, NumberSuggestion

    case = Case.objects.get(pk=w.case_id)
    return NumberSuggestion.objects.get_or_create(case=case, number="13911112222",
                                                  defaults={"suggested_by": case.collector})[0].pk


def _blocked_id(w: World) -> int:
    """The world's debtor's contact number marked 空号 on the world's case."""
    from cases.models import BlockedNumber, Case

    case = Case.objects.get(pk=w.case_id)
    return BlockedNumber.objects.get_or_create(number="13800001234", lifted_at=None,
                                               defaults={"reason": "empty", "case": case,
                                                         "created_by": case.collector})[0].pk


def _unmatched_call_id(w: World) -> int:
    """An inbound call's recording that matches no case yet (P6)."""
    from cases.actions.files import store_checked
    from cases.enums import FileKind
    from cases.models import CallRecord, Case
    from cases.uploads import StoredNames, check_upload
    from tests.cases import samples

    upload = samples.upload("in.wav", samples.wav())
    with StoredNames() as guard:
        stored = store_checked(case=None, kind=FileKind.RECORDING, upload=upload,
                               found=check_upload(upload, kind=FileKind.RECORDING), by=None, guard=guard)
    collector = Case.objects.get(pk=w.case_id).collector
    return CallRecord.objects.create(case=None, collector=collector, direction="inbound", number="13900000000",
                                     started_at=timezone.now(), recording=stored).pk


RECORDINGS = only(OK, "collector", "other_collector", "field_collector", "manager", "sysadmin")
_CASE = {"kwargs": lambda w: {"case_id": w.case_id}}
MATRIX += (
    Route("cases:dial-numbers", SEES_CASE, **_CASE),
    Route("cases:call-dial", on_case(409), method="post", **_CASE),
    Route("cases:call-dial", everyone(NOT_ALLOWED), **_CASE),
    Route("cases:call-hangup", everyone(400), method="post"),
    Route("cases:call-hangup", everyone(NOT_ALLOWED)),
    Route("cases:number-suggestions", SEES_CASE, **_CASE),
    Route("cases:number-suggestion-decide", on_case(FORBIDDEN, clerk=REDIRECT), method="post",
          kwargs=lambda w: {"case_id": w.case_id, "suggestion_id": _suggestion_id(w)}),
    # Blocked numbers (issue 15): the case's collector, owner clerk and managers mark (without a reason: back to
    # the case with the error); the owner clerk and managers lift; admins only look.
    Route("cases:number-block", on_case(REDIRECT, sysadmin=FORBIDDEN), method="post", **_CASE),
    Route("cases:number-block", everyone(NOT_ALLOWED), **_CASE),
    Route("cases:number-unblock", on_case(REDIRECT, collector=FORBIDDEN, sysadmin=FORBIDDEN), method="post",
          kwargs=lambda w: {"case_id": w.case_id, "blocked_id": _blocked_id(w)}),
    Route("cases:number-unblock", everyone(NOT_ALLOWED),
          kwargs=lambda w: {"case_id": w.case_id, "blocked_id": _blocked_id(w)}),
    Route("cases:recording-unmatched", RECORDINGS),
    Route("cases:missed-calls", everyone(OK)),
    Route("cases:missed-calls", everyone(NOT_ALLOWED), method="post"),
    Route("cases:recording-unmatched", only(NOT_FOUND, *[r for r in RECORDINGS if RECORDINGS[r] == OK]),
          method="post"),
    Route("cases:recording-unmatched-file", only(NOT_FOUND, *[r for r in RECORDINGS if RECORDINGS[r] == OK]),
          kwargs=lambda w: {"call_id": 999999}),
    Route("cases:recording-unmatched-file", RECORDINGS, kwargs=lambda w: {"call_id": _unmatched_call_id(w)}),
    Route("cases:lines-board", only(OK, "manager", "sysadmin")),
    Route("cases:lines-board", only(OK, "manager", "sysadmin"), query={"fragment": "1"}),
    Route("cases:listen-in", only(REDIRECT, "manager", "sysadmin"), method="post"),
    Route("cases:listen-in", everyone(NOT_ALLOWED)),
)


# --- Pre-loan assessment (issue 8): managers and clerks assess (a clerk only their banks' applicants: the
# other bank's clerk gets 404 for the world's applicant); managers alone edit scorecards; system admins and
# collectors get 403 on every page of the module. The objects come from the autouse `_assessment_world`.
ASSESSORS = only(OK, "clerk", "other_clerk", "manager")
MANAGER_ONLY = only(OK, "manager")


def on_applicant(code: int | str) -> dict[str, int | str]:
    return everyone(FORBIDDEN, clerk=code, manager=code, other_clerk=NOT_FOUND)


_APPLICANT = {"kwargs": lambda w: {"applicant_id": w.applicant_id}}
_SCORE = {"kwargs": lambda w: {"assessment_id": w.assessment_id}}
_DRAFT = {"kwargs": lambda w: {"version_id": w.draft_id}}
MATRIX += (
    Route("assessment:applicant-list", ASSESSORS),
    Route("assessment:applicant-list", ASSESSORS, query={"q": "王", "grade": "A", "status": "scored"}),
    Route("assessment:assessment-export", ASSESSORS),
    Route("assessment:applicant-create", ASSESSORS),
    Route("assessment:applicant-create", ASSESSORS, method="post"),  # empty form: errors, nothing saved
    Route("assessment:applicant-import", ASSESSORS),
    Route("assessment:applicant-import", ASSESSORS, method="post"),
    Route("assessment:applicant-template", ASSESSORS),
    Route("assessment:applicant-detail", on_applicant(OK), **_APPLICANT),
    Route("assessment:applicant-score", on_applicant(REDIRECT), method="post", **_APPLICANT),
    Route("assessment:applicant-score", everyone(NOT_ALLOWED), **_APPLICANT),
    Route("assessment:document-upload", on_applicant(400), method="post", **_APPLICANT),
    Route("assessment:document-download", on_applicant(OK),
          kwargs=lambda w: {"applicant_id": w.applicant_id, "document_id": w.document_id}),
    Route("assessment:assessment-detail", on_applicant(OK), **_SCORE),
    Route("assessment:assessment-review", on_applicant(400), method="post", **_SCORE),
    Route("assessment:assessment-review", everyone(NOT_ALLOWED), **_SCORE),
    Route("assessment:assessment-report", on_applicant(OK), **_SCORE),
    Route("assessment:history-check", ASSESSORS),
    Route("assessment:history-check", ASSESSORS, query={"phone": "13800001234"}),
    Route("assessment:scorecard-list", ASSESSORS),
    Route("assessment:scorecard-create", only(400, "manager"), method="post"),
    Route("assessment:version-new", only(REDIRECT, "manager"), method="post",
          kwargs=lambda w: {"scorecard_id": w.scorecard_id}),
    Route("assessment:version-detail", on_applicant(OK), kwargs=lambda w: {"version_id": w.version_id}),
    Route("assessment:version-detail", on_applicant(OK), **_DRAFT),
    Route("assessment:version-settings", MANAGER_ONLY, **_DRAFT),
    Route("assessment:version-settings", only(400, "manager"), method="post", **_DRAFT),
    Route("assessment:version-publish", only(REDIRECT, "manager"), method="post", **_DRAFT),
    Route("assessment:characteristic-create", MANAGER_ONLY, **_DRAFT),
    Route("assessment:characteristic-edit", MANAGER_ONLY,
          kwargs=lambda w: {"version_id": w.draft_id, "characteristic_id": w.draft_characteristic_id}),
    Route("assessment:characteristic-delete", only(REDIRECT, "manager"), method="post",
          kwargs=lambda w: {"version_id": w.draft_id, "characteristic_id": w.draft_characteristic_id}),
)


# --- Bank-file import (issue 19): clerks only (403 for everyone else); the world's upload and mapping belong to
# the world's bank, so the other bank's clerk gets 404 for them. The objects come from the autouse `_mapping_world`.
CLERKS = only(OK, "clerk", "other_clerk")


def on_bank_file(code: int | str) -> dict[str, int | str]:
    return everyone(FORBIDDEN, clerk=code, other_clerk=NOT_FOUND)


_UPLOAD = {"kwargs": lambda w: {"upload_id": w.upload_id}}
MATRIX += (
    Route("mappings:upload", CLERKS),
    Route("mappings:upload", CLERKS, method="post"),  # empty form: errors, nothing stored
    Route("mappings:review", on_bank_file(OK), **_UPLOAD),
    Route("mappings:edit", on_bank_file(OK), **_UPLOAD),
    Route("mappings:edit", on_bank_file(OK), method="post", **_UPLOAD),  # no action: the preview, nothing saved
    Route("mappings:mapping-list", CLERKS),
    Route("mappings:mapping-detail", on_bank_file(OK), kwargs=lambda w: {"mapping_id": w.mapping_id}),
)


# 今日工作 and promises (issue 16): the queue is the collectors' own page; a case's promise panel follows the case;
# callbacks are agreed by the case's collector (the others who see the case get 403); the settings are managers'.
# M3 (a collector's work) is for managers, clerks (their banks' cases) and the collector themself. The callback
# comes from the autouse `_worklist_world`.
COLLECTORS = only(OK, "collector", "other_collector", "field_collector")
MATRIX += (
    Route("worklist:queue", COLLECTORS),
    Route("worklist:case-promises", SEES_CASE, kwargs=lambda w: {"case_id": w.case_id}),
    Route("worklist:callback-create", on_case(FORBIDDEN, collector=OK), method="post",
          kwargs=lambda w: {"case_id": w.case_id}),
    Route("worklist:callback-cancel", on_case(FORBIDDEN, collector=OK), method="post",
          kwargs=lambda w: {"callback_id": w.callback_id}),
    Route("worklist:settings", MANAGER_ONLY),
    Route("worklist:settings", MANAGER_ONLY, method="post"),  # no bank chosen: the first bank's form, errors
    Route("worklist:collector-list", only(OK, "clerk", "other_clerk", "manager")),
    Route("worklist:promise-stats", only(OK, "clerk", "other_clerk", "manager")),
    Route("worklist:collector-activity", only(OK, "clerk", "other_clerk", "manager", "collector"),
          kwargs=lambda w: {"collector_id": w.collector_id}),
    Route("worklist:collector-activity-export", only(OK, "clerk", "other_clerk", "manager", "collector"),
          kwargs=lambda w: {"collector_id": w.collector_id}),
)


def _caller_number_id(w: World) -> int:
    from callerids.models import CallerNumber

    return CallerNumber.objects.get_or_create(number="02161000001")[0].pk


# 外显号码池 (issue 17): managers and system admins read the pool; only system admins add, rest and reactivate
# (an empty add, a rest without a reason, reactivating a number in use: back to the page with the error).
_NUMBER = {"kwargs": lambda w: {"number_id": _caller_number_id(w)}}
MATRIX += (
    Route("callerids:number-list", only(OK, "manager", "sysadmin")),
    Route("callerids:number-detail", only(OK, "manager", "sysadmin"), **_NUMBER),
    Route("callerids:number-add", only(REDIRECT, "sysadmin"), method="post"),
    Route("callerids:number-add", everyone(NOT_ALLOWED)),
    Route("callerids:number-rest", only(REDIRECT, "sysadmin"), method="post", **_NUMBER),
    Route("callerids:number-rest", everyone(NOT_ALLOWED), **_NUMBER),
    Route("callerids:number-reactivate", only(REDIRECT, "sysadmin"), method="post", **_NUMBER),
    Route("callerids:number-reactivate", everyone(NOT_ALLOWED), **_NUMBER),
)


def _dial_session_id(w: World) -> int:
    from accounts.models import User
    from progressive.actions import session_start
    from progressive.models import DialSession

    open_one = DialSession.objects.filter(collector_id=w.collector_id, ended_at=None).first()
    if open_one is not None:
        return open_one.pk
    collector = User.objects.get(pk=w.collector_id)
    if not collector.sip_endpoint:
        collector.sip_endpoint = "8001"  # the phone the dialer rings first
        collector.save(update_fields=["sip_endpoint"])
    return session_start(collector=collector, case_ids=[w.case_id], wrap_up_s=30).pk


# 连续外呼 (issue 17): a phone collector starts a session of their own cases and only they control it; the bar
# answers others with nothing; the lines board's sessions part is for those who see the dashboard.
_SESSION = {"kwargs": lambda w: {"session_id": _dial_session_id(w), "action": "pause"}}
MATRIX += (
    Route("progressive:session-start", only(REDIRECT, "collector", "other_collector"), method="post"),
    Route("progressive:session-start", everyone(NOT_ALLOWED)),
    Route("progressive:session-bar", everyone(OK)),
    Route("progressive:session-board", only(OK, "manager", "sysadmin")),
    Route("progressive:session-control", only(OK, "collector"), method="post", **_SESSION),
    Route("progressive:session-control", everyone(NOT_ALLOWED), **_SESSION),
)


def _url_names(patterns: list[URLPattern | URLResolver], namespace: str = "") -> list[str]:
    names: list[str] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            names += _url_names(p.url_patterns, ns)
        else:
            names.append(namespace + (p.name or f"<unnamed: {p.pattern}>"))
    return names


def test_every_url_is_in_the_matrix():
    # given
    known = {route.name for route in MATRIX}
    # when
    missing = [name for name in _url_names(get_resolver().url_patterns)
               if name not in known and not any(rx.search(name) for rx in ALLOWED)]
    # then
    assert missing == [], f"add these URLs to MATRIX in tests/test_permissions.py: {missing}"


# Names in MATRIX that are not pages: a GET never renders anything for anyone (the URL takes POSTs only, or it
# only sends the user elsewhere). Every other name must be rendered (GET, 200) by at least one role that may see
# it (issue 13: the scope grid was only ever POSTed to in tests, and rendered every box unticked).
NOT_PAGES: dict[str, str] = {
    "frontend:home": "sends each role to its start page",
    "frontend:favicon": "a permanent redirect to the static icon",
    "accounts:login-otp": "the second login step; only reached right after a password (tests/accounts/test_2fa.py)",
}


def test_every_page_is_rendered_by_a_role_that_may_see_it():
    # given
    names = {route.name for route in MATRIX}
    rendered = {r.name for r in MATRIX if r.method == "get" and OK in r.expect.values()}
    post_only = {r.name for r in MATRIX if r.method == "get"
                 and all(code in (NOT_ALLOWED, LOGIN, FORBIDDEN) for code in r.expect.values())
                 and NOT_ALLOWED in r.expect.values()}
    without_get = names - {r.name for r in MATRIX if r.method == "get"}
    # when
    missing = sorted(names - rendered - post_only - without_get - set(NOT_PAGES))
    # then
    assert missing == [], f"add a GET row with a role that gets 200 for: {missing}"


def test_every_route_lists_every_role():
    for route in MATRIX:
        assert set(route.expect) == set(ROLES), route.name


@pytest.fixture
def world(db, bank, collector, clerk) -> World:
    case = f.CaseFactory(
        batch=f.BatchFactory(bank=bank), collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS,
        debtor_name="王权限", commission_rate=Decimal("0.123400"), id_number=f.make_id_number(321),
    )
    f.CaseContactFactory(case=case, phone="13800001234")
    reminder = Reminder.objects.create(user=collector, case=case, kind=ReminderKind.EXPIRY_30, cycle="2027-02-01",
                                       due_at=timezone.now(), text="此案件还有30天到期，请抓紧进行工作")
    return World(case_id=case.pk, batch_id=case.batch_id, id_number=case.id_number,
                 masked_id_number=case.masked_id_number, reminder_id=reminder.pk)


def _client(request, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    return client


def _fetch(request, route: Route, role: str, world: World):
    client = _client(request, role)
    return getattr(client, route.method)(route.url(world), route.query)


CELLS = [(route, role) for route in MATRIX for role in ROLES]


@pytest.mark.parametrize(("route", "role"), CELLS,
                         ids=[f"{r.method.upper()} {r.name}{'?' + '&'.join(r.query) if r.query else ''}-{role}"
                              for r, role in CELLS])
def test_permission_matrix(request, world, other_clerk, other_collector, field_collector, manager, sysadmin,
                           route, role):
    # given
    expected = route.expect[role]
    # when
    response = _fetch(request, route, role, world)
    # then
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    else:
        assert response.status_code == expected
        if expected == REDIRECT:
            assert not response["Location"].startswith(reverse("accounts:login"))


COLLECTOR_ROLES = ("collector", "other_collector", "field_collector")


@pytest.mark.parametrize("role", COLLECTOR_ROLES)
def test_no_page_a_collector_gets_shows_a_commission_rate(request, world, other_collector, field_collector, role):
    # given
    pages = [r for r in MATRIX if r.expect[role] == OK and r.method == "get"]
    assert pages, "collectors must reach at least the case list"
    for route in pages:
        # when
        response = _fetch(request, route, role, world)
        # then
        if response.streaming or not response["Content-Type"].startswith("text/html"):
            continue  # files and downloads: the visit form's text is checked in tests/cases/test_documents.py
        text = response.content.decode()
        assert "佣金" not in text, route.name
        assert "12.34" not in text and "0.1234" not in text, route.name


def test_collectors_list_shows_id_numbers_masked(request, world):
    # when
    text = _fetch(request, Route("cases:case-list", everyone(OK)), "collector", world).content.decode()
    # then
    assert "王权限" in text
    assert world.id_number not in text
    assert world.masked_id_number in text


def test_desk_roles_see_the_commission_rate_on_the_case(request, world, manager):
    # when
    text = _fetch(request, Route("cases:case-detail", {}, kwargs=lambda w: {"case_id": w.case_id}),
                  "manager", world).content.decode()
    # then
    assert "12.34%" in text


@pytest.fixture(autouse=True)
def _case_work(request, settings, tmp_path):
    """Gives the world's case a stored file, a call, a visit and its bank a template (case-work routes)."""
    if "world" not in request.fixturenames:
        return
    from cases.actions.calls import call_record_create
    from cases.actions.files import file_upload
    from cases.actions.templates import bank_template_upload
    from cases.actions.visits import visit_record_create
    from cases.enums import CallResult, FileKind, VisitResult
    from cases.models import Case
    from tests.cases import samples

    settings.MEDIA_ROOT = str(tmp_path / "media")
    world = request.getfixturevalue("world")
    case = Case.objects.select_related("collector", "bank").get(pk=world.case_id)
    collector, clerk = case.collector, request.getfixturevalue("clerk")
    world.file_id = file_upload(case=case, kind=FileKind.RECORDING, upload=samples.upload("a.wav", samples.wav()),
                                by=collector).pk
    world.call_id = call_record_create(case=case, collector=collector, by=collector, number="13800001234",
                                       result=CallResult.NO_ANSWER).pk
    world.visit_id = visit_record_create(case=case, collector=collector, by=collector, visited_on=timezone.localdate(),
                                         address="沈阳市和平区", result=VisitResult.NOBODY_HOME).pk
    world.template_id = bank_template_upload(bank=case.bank, title="还款承诺书",
                                             upload=samples.upload("t.docx", samples.docx()), by=clerk).pk


@pytest.fixture(autouse=True)
def _assignment_world(request):
    """Gives the world a departed (inactive) collector still holding an unfinished case (hand-over routes)."""
    if "world" not in request.fixturenames:
        return
    from cases.models import Case

    world = request.getfixturevalue("world")
    case = Case.objects.get(pk=world.case_id)
    departed = f.CollectorFactory(username="departed", full_name="郑离职", is_active=False)
    f.CaseFactory(batch=case.batch, collector=departed, status=CaseStatus.IN_PROGRESS)
    world.collector_id, world.departed_id = case.collector_id, departed.pk


@pytest.fixture(autouse=True)
def _document_request(request, _case_work):
    """Gives the world's case a document request with a picture in its chat (document request routes)."""
    if "world" not in request.fixturenames:
        return
    from cases.actions.chat import chat_message_send, document_request_open
    from cases.models import Case
    from tests.cases import samples

    world = request.getfixturevalue("world")
    case = Case.objects.select_related("collector", "bank").get(pk=world.case_id)
    docreq = document_request_open(case=case, by=case.collector, items=["id_copy"], reason="核对身份")
    message = chat_message_send(docreq=docreq, by=request.getfixturevalue("clerk"), text="见附件",
                                upload=samples.upload("身份证.png", samples.png()))
    world.docreq_id, world.docreq_message_id = docreq.pk, message.pk


@pytest.fixture(autouse=True)
def _assessment_world(request, _case_work):
    """Gives the world's bank a published scorecard and a draft, an applicant with the world case's ID number,
    scored, with one document (pre-loan assessment routes only: the other cells do not pay for it)."""
    callspec = getattr(request.node, "callspec", None)
    route = callspec.params.get("route") if callspec is not None else None
    if "world" not in request.fixturenames or route is None or not route.name.startswith("assessment:"):
        return
    from assessment.actions.applicants import applicant_create, applicant_document_upload
    from assessment.actions.assessments import assessment_score
    from assessment.actions.scorecards import (
        scorecard_create,
        scorecard_version_new_draft,
        scorecard_version_publish,
    )
    from assessment.identity import birth_date_of, sex_of
    from assessment.imports.rows import ApplicantInput
    from cases.models import Case
    from tests.cases import samples

    world = request.getfixturevalue("world")
    case = Case.objects.select_related("bank").get(pk=world.case_id)
    boss = request.getfixturevalue("manager")
    version = scorecard_version_publish(version=scorecard_create(bank=case.bank, name="评分卡", by=boss), by=boss)
    draft = scorecard_version_new_draft(scorecard=version.scorecard, by=boss)
    applicant = applicant_create(bank=case.bank, by=boss, data=ApplicantInput(
        name="王申请", id_number=case.id_number, phone="13800001234", birth_date=birth_date_of(case.id_number),
        sex=sex_of(case.id_number), monthly_income=Decimal("8000"), loan_amount=Decimal("50000"),
        loan_term_months=24))
    document = applicant_document_upload(applicant=applicant, title="身份证",
                                         upload=samples.upload("id.png", samples.png()), by=boss)
    world.applicant_id, world.document_id = applicant.pk, document.pk
    world.assessment_id = assessment_score(applicant=applicant, by=boss).pk
    world.scorecard_id, world.version_id, world.draft_id = version.scorecard_id, version.pk, draft.pk
    world.draft_characteristic_id = draft.characteristics.order_by("position").first().pk


@pytest.fixture(autouse=True)
def _mapping_world(request):
    """Gives the world's bank an uploaded bank file and a saved mapping of its layout (bank-file routes only)."""
    callspec = getattr(request.node, "callspec", None)
    route = callspec.params.get("route") if callspec is not None else None
    if "world" not in request.fixturenames or route is None or not route.name.startswith("mappings:"):
        return
    import io

    from cases.models import Case
    from mappings.actions import mapping_save, upload_open, upload_receive
    from mappings.imports.headers import propose
    from tests.mappings import banks

    world = request.getfixturevalue("world")
    clerk = request.getfixturevalue("clerk")
    bank = Case.objects.select_related("bank").get(pk=world.case_id).bank
    upload = upload_receive(bank=bank, kind="cases", file=io.BytesIO(banks.ccb(banks.month_cases(9), "JH-09")),
                            filename="建行9月.xlsx", by=clerk)
    read = upload_open(upload)
    spec = propose(kind="cases", labels=read.header.labels)
    spec.constants["佣金比例"] = "5%"
    version = mapping_save(bank=bank, kind="cases", spec=spec, headers=read.header.labels, header_rows=1, by=clerk,
                           name="建行委外清单")
    world.upload_id, world.mapping_id = upload.pk, version.mapping_id


@pytest.fixture(autouse=True)
def _worklist_world(request):
    """Gives the world's case a pending callback (worklist routes only)."""
    callspec = getattr(request.node, "callspec", None)
    route = callspec.params.get("route") if callspec is not None else None
    if "world" not in request.fixturenames or route is None or not route.name.startswith("worklist:"):
        return
    import datetime as dt

    from worklist.models import Callback

    world = request.getfixturevalue("world")
    collector = request.getfixturevalue("collector")
    world.collector_id = collector.pk
    world.callback_id = Callback.objects.create(case_id=world.case_id, collector=collector, created_by=collector,
                                                due_at=timezone.now() + dt.timedelta(days=1)).pk
