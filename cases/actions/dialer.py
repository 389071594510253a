"""The dialer's writes (issue 5): dial requests from the case page, call records and recordings written by
the dialer, compliance refusals, suggested numbers, unmatched recordings.

The dialer reaches these only through dialer/domain.py; views call them directly. Web → dialer commands go
over realtime.commands (the channel layer), never through process memory.
Must not import views, `realtime.consumers` or `dialer`.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from typing import TypedDict, cast

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import RedisError

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases import history, rollups, uploads
from cases.actions.calls import call_record_create
from cases.actions.files import store_checked
from cases.actions.suggestions import typed_number_record
from cases.enums import CallResult, CallSource, ContactSource, FileKind
from cases.exceptions import DomainError
from cases.models import CallRecord, CallRefusal, Case, CaseContact, NumberSuggestion, PendingRecording, StoredFile
from cases.models.cases import mask_phone
from cases.models.compliance import BlockedNumberReason, NumberSuggestionStatus
from cases.policies import can_record_work
from cases.selectors.dialer import blocked_reason
from cases.uploads import StoredNames
from realtime import groups
from realtime.commands import send_dialer_command_on_commit
from realtime.events_calls import CallRecorded, CallStatusChanged, LinesChanged
from realtime.publish import publish_on_commit

HEALTH_KEY = "dialer:health"
LINES_KEY = "dialer:lines"
_NUMBER = re.compile(r"^\+?\d{3,20}$")

# The dialer's end causes (dialer.session.EndCause values) as call results a collector would have typed.
_RESULT_OF_CAUSE = {"busy": CallResult.BUSY, "no_answer": CallResult.NO_ANSWER}


class LiveCall(TypedDict, total=False):
    """One call on the lines board, as dialer.app writes it."""

    call_uuid: str
    phase: str
    direction: str
    extension: str
    collector_id: int | None
    case_id: int | None
    number: str
    since: float | None
    connected_at: float | None
    session_id: int | None  # placed by a progressive dialling session (连续外呼)


class LinesSnapshot(TypedDict, total=False):
    lines: int
    calls: list[LiveCall]


class DialRefusedError(DomainError):
    """A dial request that cannot go to the dialer (the message says why, in Chinese)."""


class LiveStateUnavailableError(DialRefusedError):
    """Redis, which carries the dialer's heartbeat, its lines and the commands to it, cannot be reached."""


LIVE_STATE_UNAVAILABLE = "实时服务（Redis）暂时无法连接，呼叫系统的状态无法确认，请稍后再试"


def _live_state(key: str) -> object:
    """Read what the dialer left in the cache; Redis being unreachable is a refusal with a reason, not a 500."""
    try:
        return cache.get(key)
    except RedisError as exc:
        raise LiveStateUnavailableError(LIVE_STATE_UNAVAILABLE) from exc


def dialer_health_checked() -> dict[str, object] | None:
    """The dialer's last heartbeat (written every 10 s by dialer.app), None when it is not running.

    Raises: LiveStateUnavailableError (Redis unreachable), for callers that must say why they refuse.
    """
    value = _live_state(HEALTH_KEY)
    return cast(dict[str, object], value) if isinstance(value, dict) else None


def _down_reason(message: str) -> str:
    """`message` (the dialer is not connected), or that Redis itself cannot be reached, which is why."""
    try:
        _live_state(HEALTH_KEY)
    except LiveStateUnavailableError:
        return LIVE_STATE_UNAVAILABLE
    return message


def dialer_health() -> dict[str, object] | None:
    """The dialer's last heartbeat, None when it is not running or Redis cannot be reached (a page showing the
    dialer's state then shows it as not connected instead of failing)."""
    try:
        return dialer_health_checked()
    except LiveStateUnavailableError:
        return None


def lines_snapshot() -> LinesSnapshot:
    """The dialer's last picture of its lines ({"lines": n, "calls": [...]}, written by dialer.app on each change).

    Raises: LiveStateUnavailableError (Redis unreachable).
    """
    value = _live_state(LINES_KEY)
    return cast(LinesSnapshot, value) if isinstance(value, dict) else {}


def _clean_number(raw: str) -> str:
    number = re.sub(r"[\s\-()]", "", raw or "")
    if not _NUMBER.match(number):
        raise DialRefusedError("号码格式不正确，请输入 3–20 位数字")
    return number


def case_label(case: Case) -> str:
    return f"{case.case_no} {case.debtor_name}"


def dial_request(*, case: Case, by: User, contact: CaseContact | None = None, number: str = "") -> str:
    """Ask the dialer to ring `by`'s phone, then `contact`'s number (or the typed `number`), bridged and recorded.

    A typed number that differs from the contact's is audited and, when new to the case, offered to the owner clerk
    (cases.actions.suggestions). A number marked 空号 / 停机 / 勿扰 / 非本人 is refused here, before any originate (the
    dialer checks again), and the refusal is logged like the dialer's own (拒绝拨打记录), kept although the request
    fails.
    Returns the call uuid the panel follows.
    Emits: CallStatusChanged ("requested") to the collector.
    Raises: DialRefusedError (not this collector's case, no extension, dialer not connected, bad or blocked number).
    """
    if not can_record_work(user=by, case=case):
        raise DialRefusedError("只有该委案的业务员可以拨打")
    if not by.sip_endpoint:
        raise DialRefusedError("您还没有设置分机，请联系系统管理员")
    if contact is not None and contact.case_id != case.pk:
        raise DialRefusedError("该联系人不属于这个委案")
    known = contact.phone if contact is not None else case.mobile
    target = _clean_number(number) if number.strip() else _clean_number(known)
    blocked = blocked_reason(number=target)
    if blocked:
        message = f"该号码已标记为{BlockedNumberReason(blocked).label}，不能拨打"
        CallRefusal.objects.create(collector=by, case=case, number=target, rule=blocked, message=message)
        raise DialRefusedError(message)
    return _dial_send(case=case, by=by, contact=contact, target=target,
                      typed=bool(number.strip()) and target != re.sub(r"[\s\-()]", "", known or ""))


@transaction.atomic
def _dial_send(*, case: Case, by: User, contact: CaseContact | None, target: str, typed: bool) -> str:
    """dial_request once the number may be dialled: the originate command, sent when this transaction commits."""
    health = dialer_health()
    if health is None or not health.get("ari_connected"):
        raise DialRefusedError(_down_reason("呼叫系统未连接（电话服务器断开），暂时无法拨号，请稍后再试"))
    if typed:
        typed_number_record(case=case, by=by, number=target, contact=contact, via="dial")
    call_uuid = uuid.uuid4().hex
    send_dialer_command_on_commit({
        "type": "originate", "call_uuid": call_uuid, "collector_id": by.pk, "ext": by.sip_endpoint,
        "case_id": case.pk, "contact_id": contact.pk if contact is not None else None, "number": target,
    })
    call_status_notify(collector_id=by.pk, call_uuid=call_uuid, status="requested", direction="outbound",
                       number=target, case=case, message="正在呼叫您的话机，请摘机")
    return call_uuid


def call_hangup_request(*, call_uuid: str, by: User) -> None:
    """Ask the dialer to hang up `by`'s call (the dialer checks the call is theirs).

    Emits: nothing (the dialer's CallStatusChanged "ended" follows).
    Raises: nothing.
    """
    send_dialer_command_on_commit({"type": "hangup", "call_uuid": call_uuid, "user_id": by.pk})


@transaction.atomic
def listen_in_request(*, call_uuid: str, by: User) -> None:
    """Ask the dialer to let manager `by` listen to a live call on their phone (spy only); audited with the call's
    collector, case and number as the lines board last showed them.

    Emits: nothing. Raises: DialRefusedError (no manager, no extension, dialer down).
    """
    if not (by.is_active and by.is_manager):
        raise DialRefusedError("只有管理人员可以监听")
    if not by.sip_endpoint:
        raise DialRefusedError("您还没有设置分机，请联系系统管理员")
    health = dialer_health()
    if health is None or not health.get("ari_connected"):
        raise DialRefusedError(_down_reason("呼叫系统未连接，暂时无法监听"))
    live: LiveCall = next((c for c in lines_snapshot().get("calls", []) if c.get("call_uuid") == call_uuid), LiveCall())
    collector = User.objects.filter(pk=live.get("collector_id") or 0).first()
    case = Case.objects.filter(pk=live.get("case_id") or 0).first()
    number = str(live.get("number") or "")
    parts = [f"监听通话（分机 {by.sip_endpoint}）"]
    if collector is not None:
        parts.append(f"业务员 {collector.display_name}")
    if case is not None:
        parts.append(f"委案 {case.case_no}")
    if number:
        parts.append(mask_phone(number))
    audit_record(actor=by, action=AuditAction.LISTEN_IN, object_type="Call", object_id=call_uuid[:64],
                 summary=" · ".join(parts),
                 detail={"call_uuid": call_uuid[:64], "extension": by.sip_endpoint,
                         "collector_id": collector.pk if collector is not None else None,
                         "case_id": case.pk if case is not None else None, "number": number,
                         "direction": str(live.get("direction") or "")})
    send_dialer_command_on_commit({"type": "listen", "call_uuid": call_uuid, "user_id": by.pk,
                                   "ext": by.sip_endpoint})


def call_status_notify(*, collector_id: int, call_uuid: str, status: str, direction: str, number: str,
                       case: Case | None = None, cause: str = "", message: str = "",
                       connected_at: dt.datetime | None = None, duration_s: int | None = None,
                       popup: bool = False, sent_at: float | None = None) -> None:
    """Tell the collector's call panel where their call stands.

    Emits: CallStatusChanged to the collector's user group. Raises: nothing.
    """
    event = CallStatusChanged(
        call_uuid=call_uuid, status=status, direction=direction, number_masked=mask_phone(number),
        case_id=case.pk if case is not None else None, case_label=case_label(case) if case is not None else "",
        case_url=reverse("cases:case-detail", args=[case.pk]) if case is not None and popup else "",
        cause=cause, message=message, connected_at=connected_at.isoformat() if connected_at else "",
        duration_s=duration_s, sent_at=sent_at if sent_at is not None else time.time(),
    )
    publish_on_commit(event, to=[groups.user(collector_id)])


def lines_changed_notify(*, in_use: int, lines: int) -> None:
    """M7: tell the lines board that a line was taken or freed (the dialer calls this after each change).

    Emits: LinesChanged to the `lines` group. Raises: nothing.
    """
    publish_on_commit(LinesChanged(in_use=in_use, lines=lines), to=[groups.lines()])


@transaction.atomic
def call_refusal_log(*, collector_id: int, case_id: int | None, number: str, rule: str, message: str,
                     call_uuid: str) -> CallRefusal:
    """Log a call the product refused (compliance, lines, phone, connection) and tell the collector why.

    Emits: CallStatusChanged ("refused"). Raises: nothing.
    """
    case = Case.objects.filter(pk=case_id).first() if case_id else None
    row = CallRefusal.objects.create(collector_id=collector_id, case=case, number=number, rule=rule,
                                     message=message[:200])
    call_status_notify(collector_id=collector_id, call_uuid=call_uuid, status="refused", direction="outbound",
                       number=number, case=case, cause=rule, message=message)
    return row


@transaction.atomic
def dialer_call_write(*, call_uuid: str, collector_id: int | None, case_id: int | None, contact_id: int | None,
                      number: str, direction: str, started_at: dt.datetime, answered_at: dt.datetime | None,
                      ended_at: dt.datetime, cause: str, cause_label: str, recording_name: str = "",
                      caller_id: str = "") -> CallRecord:
    """Write a finished dialer call on its case (or unmatched), once per call uuid, with its pending recording.

    Emits: DashboardCounterChanged (through call_record_create); CallRecorded to the collector when the call is
    on a case (their open case page refreshes and asks for the outcome, P4). Raises: nothing for a repeated write.
    """
    existing = CallRecord.objects.filter(call_uuid=call_uuid).first()
    if existing is not None:
        return existing
    case = Case.objects.filter(pk=case_id).first() if case_id else None
    collector = User.objects.filter(pk=collector_id).first() if collector_id else None
    contact = CaseContact.objects.filter(pk=contact_id, case=case).first() if contact_id and case else None
    call = call_record_create(
        case=case, collector=collector, number=number, by=collector, contact=contact, direction=direction,
        source=CallSource.DIALER, started_at=started_at, answered_at=answered_at, ended_at=ended_at,
        hangup_cause=cause_label[:64], result=_RESULT_OF_CAUSE.get(cause, ""), call_uuid=call_uuid,
    )
    if caller_id:
        # The pool number shown (outbound) or dialled by the customer (inbound), issue 17.
        call.caller_id = caller_id[:32]
        call.save(update_fields=["caller_id"])
    if recording_name and call.recording_id is None:
        PendingRecording.objects.get_or_create(name=recording_name, defaults={"call": call})
    if case is not None and collector is not None:
        publish_on_commit(CallRecorded(case_id=case.pk, call_id=call.pk, needs_outcome=not call.result),
                          to=[groups.user(collector.pk)])
    return call


def recording_store(*, name: str, data: bytes) -> StoredFile | None:
    """Store a fetched recording (content-checked, SHA-256) on its call and forget it as pending.

    Returns None when no call waits for `name` (already stored: a repeated fetch).
    Emits: nothing. Raises: UploadRejectedError (not audio).
    """
    with transaction.atomic():
        pending = PendingRecording.objects.select_for_update().filter(name=name).first()
        if pending is None:
            return None
        call = CallRecord.objects.select_related("case", "collector").get(pk=pending.call_id)
        upload = ContentFile(data, name=f"{name}.wav")
        found = uploads.check_upload(upload, kind=FileKind.RECORDING)
        with StoredNames() as guard:
            stored = store_checked(case=call.case, kind=FileKind.RECORDING, upload=upload, found=found,
                                   by=call.collector, guard=guard)
            call.recording = stored
            call.save(update_fields=["recording"])
            pending.delete()
        return stored


def recording_is_stored(*, name: str) -> bool:
    """Whether the dialer's recording `name` ("call-<call uuid>") is already stored on its call."""
    call_uuid = name.removeprefix("call-")
    return CallRecord.objects.filter(call_uuid=call_uuid, recording__isnull=False).exists()


def recording_fetch_failed(*, name: str, error: str) -> None:
    """Count a failed download; the scheduler's next round asks the dialer again. Emits/Raises: nothing."""
    pending = PendingRecording.objects.filter(name=name).first()
    if pending is not None:
        pending.attempts += 1
        pending.last_error = error[:300]
        pending.save(update_fields=["attempts", "last_error"])


def pending_recording_names() -> list[str]:
    return list(PendingRecording.objects.order_by("created_at").values_list("name", flat=True)[:100])


def recordings_retry_request(*, older_than_s: int = 60) -> int:
    """Scheduler job: ask the dialer to fetch recordings still on Asterisk. Returns how many wait.

    Emits: nothing. Raises: nothing (Redis unreachable: nobody can be asked; the next tick asks again, and the
    rest of this tick, report roll-ups and backups, goes on).
    """
    # Leave a minute for the live fetch that follows RecordingFinished; only ask a dialer that is listening.
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_s)
    waiting = PendingRecording.objects.filter(created_at__lte=cutoff).count()
    health = dialer_health() if waiting else None  # None too while Redis is unreachable: asked next tick
    if health is not None and health.get("ari_connected"):
        send_dialer_command_on_commit({"type": "recordings.retry"})
    return waiting


@transaction.atomic
def recording_match(*, call: CallRecord, case: Case, by: User) -> CallRecord:
    """Attach an unmatched call (and its recording) to `case`; it leaves the unmatched list.

    Emits: nothing. Raises: DialRefusedError (already matched).
    """
    call = CallRecord.objects.select_for_update().get(pk=call.pk)
    if call.case_id is not None:
        raise DialRefusedError("这条录音已经匹配到委案")
    call.case = case
    call.save(update_fields=["case"])
    rollups.mark(worked_case_ids=[case.pk])
    if call.recording_id:
        StoredFile.objects.filter(pk=call.recording_id, case__isnull=True).update(case=case)
    history.call_recorded(call=call, actor=by)
    return call


@transaction.atomic
def number_suggestion_decide(*, suggestion: NumberSuggestion, accept: bool, by: User) -> CaseContact | None:
    """The owner clerk adds a collector's new number to the case as a contact, or declines it; audited and on the
    case's timeline.

    Emits: nothing. Raises: DialRefusedError (already decided).
    """
    suggestion = NumberSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != NumberSuggestionStatus.PENDING:
        raise DialRefusedError("该号码已经处理过了")
    suggestion.status = NumberSuggestionStatus.ACCEPTED if accept else NumberSuggestionStatus.DECLINED
    suggestion.decided_by = by
    suggestion.save(update_fields=["status", "decided_by"])
    contact = None
    if accept:
        contact = CaseContact.objects.create(case_id=suggestion.case_id, phone=suggestion.number,
                                             relation="业务员新增", source=ContactSource.ADDED)
    history.number_suggestion_decided(suggestion=suggestion, actor=by, contact=contact)
    verdict = "添加为联系人" if accept else "未采纳"
    audit_record(actor=by, action=AuditAction.NUMBER_DECIDED, object_type="Case", object_id=suggestion.case_id,
                 summary=(f"委案 {suggestion.case.case_no} 业务员 {suggestion.suggested_by.display_name} 提交的号码 "
                          f"{mask_phone(suggestion.number)}：{verdict}"),
                 detail={"case_id": suggestion.case_id, "suggestion_id": suggestion.pk, "number": suggestion.number,
                         "accepted": accept, "contact_id": contact.pk if contact is not None else None,
                         "suggested_by": suggestion.suggested_by_id})
    return contact

