from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import AuditAction, AuditEntry
from cases.actions.assignments import (
    AssignmentMode,
    PlanCase,
    assignment_create,
    assignment_handover,
    assignment_move,
    assignment_plan,
    assignment_plan_apply,
    assignment_swap,
    case_owner_transfer,
    handover_plan,
)
from cases.enums import CaseEventType, CaseStatus
from cases.exceptions import (
    AssignmentPlanError,
    CaseClosedForAssignmentError,
    CaseNotAssignableError,
    CaseOutOfScopeError,
    CollectorUnavailableError,
    NothingToAssignError,
    SelectionChangedError,
)
from cases.models import Assignment, AssignmentKind, Case, CaseEvent, DailyCollectorStats
from realtime import groups
from realtime.events import CaseAssigned
from tests import factories as f


def _plan_cases(amounts):
    return [PlanCase(id=i + 1, amount=Decimal(a)) for i, a in enumerate(amounts)]


# --- the plan (pure) -------------------------------------------------------------------------------------

def test_assignment_plan_one_gives_everything_to_one_collector():
    # given
    cases = _plan_cases(["100", "200", "300"])
    # when
    plan = assignment_plan(cases=cases, collectors=[7], mode=AssignmentMode.ONE)
    # then
    assert [(s.collector_id, s.case_ids, s.amount) for s in plan.shares] == [(7, (1, 2, 3), Decimal("600"))]


def test_assignment_plan_one_refuses_several_collectors():
    # given
    cases = _plan_cases(["100"])
    # when / then
    with pytest.raises(AssignmentPlanError):
        assignment_plan(cases=cases, collectors=[7, 8], mode=AssignmentMode.ONE)


@pytest.mark.parametrize("n_cases,n_collectors", [(1, 3), (10, 3), (50, 2), (101, 7), (1000, 6)])
def test_assignment_plan_even_by_count_differs_by_at_most_one(n_cases, n_collectors):
    # given
    cases = _plan_cases([str(1000 + (i * 7919) % 50000) for i in range(n_cases)])
    # when
    plan = assignment_plan(cases=cases, collectors=list(range(1, n_collectors + 1)), mode=AssignmentMode.COUNT)
    # then
    counts = [s.count for s in plan.shares]
    assert max(counts) - min(counts) <= 1
    assert sum(counts) == n_cases
    assert sorted(i for s in plan.shares for i in s.case_ids) == [c.id for c in cases]


def test_assignment_plan_even_by_amount_balances_the_sums():
    # given: one big case and many small ones: by count one collector would get far more money
    cases = _plan_cases(["90000"] + ["1000"] * 90 + ["500"] * 20)
    # when
    by_amount = assignment_plan(cases=cases, collectors=[1, 2], mode=AssignmentMode.AMOUNT)
    by_count = assignment_plan(cases=cases, collectors=[1, 2], mode=AssignmentMode.COUNT)
    # then
    assert by_amount.amount_spread <= Decimal("500")  # no more than the smallest case
    assert by_amount.total_amount == sum(c.amount for c in cases)
    assert by_count.amount_spread > Decimal("80000")


def test_assignment_plan_even_by_amount_is_within_the_largest_case():
    # given
    amounts = [str(100 + (i * 7919) % 20000) for i in range(500)]
    cases = _plan_cases(amounts)
    # when
    plan = assignment_plan(cases=cases, collectors=[1, 2, 3, 4, 5], mode=AssignmentMode.AMOUNT)
    # then: greedy largest-first keeps every sum within one (smallest-remaining) case of the others
    assert plan.amount_spread <= max(Decimal(a) for a in amounts)
    assert plan.amount_spread <= Decimal("200")


def test_assignment_plan_refuses_no_cases_and_no_collectors():
    with pytest.raises(NothingToAssignError):
        assignment_plan(cases=[], collectors=[1], mode=AssignmentMode.COUNT)
    with pytest.raises(AssignmentPlanError):
        assignment_plan(cases=_plan_cases(["1"]), collectors=[], mode=AssignmentMode.COUNT)


def test_assignment_plan_digest_changes_with_the_selection():
    # given
    cases = _plan_cases(["100", "200"])
    # when
    same = assignment_plan(cases=list(reversed(cases)), collectors=[1], mode=AssignmentMode.ONE).digest
    first = assignment_plan(cases=cases, collectors=[1], mode=AssignmentMode.ONE).digest
    more = assignment_plan(cases=[*cases, PlanCase(id=9, amount=Decimal("1"))], collectors=[1],
                           mode=AssignmentMode.ONE).digest
    moved = assignment_plan(cases=[PlanCase(id=1, amount=Decimal("100"), collector_id=5), cases[1]], collectors=[1],
                            mode=AssignmentMode.ONE).digest
    # then
    assert first == same
    assert len({first, more, moved}) == 3


# --- assignment_create -----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_assignment_create_sets_collector_owner_clerk_status_and_time(make_case, clerk, collector):
    # given
    case = make_case()
    # when
    created = assignment_create(cases=[case], collector=collector, by=clerk)
    # then
    case.refresh_from_db()
    assert case.collector == collector
    assert case.owner_clerk == clerk
    assert case.status == CaseStatus.NOT_STARTED
    assert case.assigned_at is not None
    assert [(a.case_id, a.collector_id, a.assigned_by_id, a.kind, a.ended_at) for a in created] == [
        (case.pk, collector.pk, clerk.pk, AssignmentKind.ASSIGN, None)]


@pytest.mark.django_db
def test_assignment_create_writes_one_history_entry_per_case(make_case, clerk, collector):
    # given
    cases = [make_case() for _ in range(3)]
    # when
    assignment_create(cases=cases, collector=collector, by=clerk, reason="11月新批次")
    # then
    events = CaseEvent.objects.filter(type=CaseEventType.ASSIGNED).order_by("case_id")
    assert [e.case_id for e in events] == [c.pk for c in cases]
    assert events[0].summary == "分配给 王催收，原因：11月新批次"
    assert events[0].actor == clerk
    assert events[0].data == {"from": None, "to": collector.pk, "kind": "assign"}


@pytest.mark.django_db
def test_assignment_create_audits_and_counts_new_assignments(make_case, clerk, collector):
    # given
    cases = [make_case() for _ in range(4)]
    # when
    assignment_create(cases=cases, collector=collector, by=clerk)
    # then
    entry = AuditEntry.objects.get(object_type="assignment")
    assert entry.action == AuditAction.PERMISSION_CHANGE
    assert "王催收 4 件" in entry.summary
    assert DailyCollectorStats.objects.get(collector=collector).new_assignments == 4


@pytest.mark.django_db
def test_assignment_create_ends_the_open_assignment(make_case, clerk, collector, other_collector):
    # given
    case = make_case()
    assignment_create(cases=[case], collector=collector, by=clerk)
    # when
    assignment_create(cases=[case], collector=other_collector, by=clerk, reason="重新分配")
    # then
    rows = list(Assignment.objects.filter(case=case).order_by("id"))
    assert [r.collector_id for r in rows] == [collector.pk, other_collector.pk]
    assert rows[0].ended_at == rows[1].started_at
    assert rows[1].ended_at is None
    latest = CaseEvent.objects.filter(case=case).order_by("-id").first()
    assert latest.summary == "重新分配：由 王催收 改为 周催收，原因：重新分配"


@pytest.mark.django_db
def test_assignment_create_keeps_in_progress_and_retained_statuses(make_case, clerk, collector, other_collector):
    # given
    working = make_case(status=CaseStatus.IN_PROGRESS, collector=collector)
    retained = make_case(status=CaseStatus.RETAINED, collector=collector)
    # when
    assignment_create(cases=[working, retained], collector=other_collector, by=clerk)
    # then
    working.refresh_from_db()
    retained.refresh_from_db()
    assert (working.status, retained.status) == (CaseStatus.IN_PROGRESS, CaseStatus.RETAINED)
    assert working.collector == retained.collector == other_collector


@pytest.mark.django_db
@pytest.mark.parametrize("status", [CaseStatus.SETTLED, CaseStatus.RETURNED])
def test_assignment_create_refuses_closed_cases(make_case, clerk, collector, status):
    # given
    open_case = make_case()
    closed = make_case(status=status, case_no="CLOSED-1")
    # when
    with pytest.raises(CaseClosedForAssignmentError) as err:
        assignment_create(cases=[open_case, closed], collector=collector, by=clerk)
    # then: nothing changed, the message names the case
    assert "CLOSED-1" in str(err.value)
    open_case.refresh_from_db()
    assert open_case.collector is None
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_assignment_create_refuses_cases_of_banks_outside_the_clerks_scope(make_case, clerk, other_bank, collector):
    # given
    mine = make_case()
    theirs = make_case(bank=other_bank, case_no="JS-1")
    # when
    with pytest.raises(CaseOutOfScopeError) as err:
        assignment_create(cases=[mine, theirs], collector=collector, by=clerk)
    # then
    assert "JS-1" in str(err.value)
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_assignment_create_by_a_manager_reaches_every_bank_and_keeps_the_owner(make_case, manager, clerk, other_bank,
                                                                              collector):
    # given
    case = make_case(bank=other_bank, owner_clerk=clerk)
    # when
    assignment_create(cases=[case], collector=collector, by=manager)
    # then
    case.refresh_from_db()
    assert case.collector == collector
    assert case.owner_clerk == clerk


@pytest.mark.django_db
def test_assignment_create_refuses_inactive_and_non_collector_targets(make_case, clerk, collector, manager):
    # given
    case = make_case()
    collector.is_active = False
    collector.save()
    # when / then
    with pytest.raises(CollectorUnavailableError, match="已停用"):
        assignment_create(cases=[case], collector=collector, by=clerk)
    with pytest.raises(CollectorUnavailableError, match="不是催收业务员"):
        assignment_create(cases=[case], collector=manager, by=clerk)


@pytest.mark.django_db
def test_assignment_create_refuses_a_collector_as_assigner(make_case, collector, other_collector):
    # given
    case = make_case()
    # when / then
    with pytest.raises(CaseNotAssignableError):
        assignment_create(cases=[case], collector=other_collector, by=collector)


@pytest.mark.django_db
def test_assignment_create_leaves_cases_already_with_the_collector_alone(make_case, clerk, collector):
    # given
    case = make_case()
    assignment_create(cases=[case], collector=collector, by=clerk)
    # when
    again = assignment_create(cases=[case], collector=collector, by=clerk)
    # then
    assert again == []
    assert Assignment.objects.filter(case=case).count() == 1


@pytest.mark.django_db
def test_assignment_create_handles_thousands_with_few_queries(clerk, bank, collector, django_assert_max_num_queries):
    # given
    batch = f.BatchFactory(bank=bank)
    f.CaseFactory.create_batch(3000, batch=batch)
    cases = Case.objects.filter(batch=batch)
    # when: a constant number of statements per chunk (SQLite's 999-parameter batches make it ~60 here;
    # per-row saves would be over 6000)
    with django_assert_max_num_queries(100):
        created = assignment_create(cases=cases, collector=collector, by=clerk)
    # then
    assert len(created) == 3000
    assert Case.objects.filter(collector=collector, owner_clerk=clerk, status=CaseStatus.NOT_STARTED).count() == 3000
    assert CaseEvent.objects.filter(type=CaseEventType.ASSIGNED).count() == 3000


# --- plan apply (the confirm step) ---------------------------------------------------------------------------

def _selection(cases):
    return [PlanCase(id=c.pk, amount=c.entrusted_amount, collector_id=c.collector_id) for c in cases]


@pytest.mark.django_db
def test_assignment_plan_apply_spreads_over_collectors(make_case, clerk, collector, other_collector):
    # given
    cases = [make_case(entrusted_amount=Decimal(1000 * (i + 1))) for i in range(5)]
    plan = assignment_plan(cases=_selection(cases), collectors=[collector.pk, other_collector.pk],
                           mode=AssignmentMode.COUNT)
    # when
    assignment_plan_apply(plan=plan, by=clerk, expected_digest=plan.digest)
    # then
    assert Case.objects.filter(collector=collector).count() == 3
    assert Case.objects.filter(collector=other_collector).count() == 2
    assert DailyCollectorStats.objects.get(collector=other_collector).new_assignments == 2


@pytest.mark.django_db
def test_assignment_plan_apply_refuses_when_the_selection_changed_since_preview(make_case, clerk, collector):
    # given: the clerk previewed two cases, then a third matching case was imported
    cases = [make_case(), make_case()]
    previewed = assignment_plan(cases=_selection(cases), collectors=[collector.pk], mode=AssignmentMode.ONE)
    cases.append(make_case())
    now = assignment_plan(cases=_selection(cases), collectors=[collector.pk], mode=AssignmentMode.ONE)
    # when / then
    with pytest.raises(SelectionChangedError):
        assignment_plan_apply(plan=now, by=clerk, expected_digest=previewed.digest)
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_assignment_plan_apply_refuses_when_a_case_changed_hands_meanwhile(make_case, clerk, collector,
                                                                         other_collector):
    # given: planned while unassigned; another clerk assigns one case before the confirm
    cases = [make_case(), make_case()]
    plan = assignment_plan(cases=_selection(cases), collectors=[collector.pk], mode=AssignmentMode.ONE)
    assignment_create(cases=[cases[0]], collector=other_collector, by=clerk)
    # when / then
    with pytest.raises(SelectionChangedError):
        assignment_plan_apply(plan=plan, by=clerk, expected_digest=plan.digest)
    assert Case.objects.filter(collector=collector).count() == 0


# --- move, swap, hand-over ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_assignment_move_moves_all_unfinished_cases(make_case, clerk, collector, other_collector):
    # given
    working = [make_case(collector=collector, status=s) for s in
               (CaseStatus.NOT_STARTED, CaseStatus.IN_PROGRESS, CaseStatus.RETAINED)]
    settled = make_case(collector=collector, status=CaseStatus.SETTLED)
    # when
    moved = assignment_move(from_collector=collector, to_collector=other_collector, by=clerk, reason="工作量调整")
    # then
    assert sorted(a.case_id for a in moved) == sorted(c.pk for c in working)
    assert Case.objects.get(pk=settled.pk).collector == collector
    assert {a.kind for a in moved} == {AssignmentKind.MOVE}
    event = CaseEvent.objects.filter(case=working[0]).latest("id")
    assert (event.type, event.summary) == (CaseEventType.REASSIGNED, "调整：由 王催收 转给 周催收，原因：工作量调整")


@pytest.mark.django_db
def test_assignment_move_moves_only_the_chosen_cases(make_case, clerk, collector, other_collector):
    # given
    a, b = make_case(collector=collector, status=CaseStatus.IN_PROGRESS), make_case(collector=collector,
                                                                                    status=CaseStatus.IN_PROGRESS)
    # when
    assignment_move(from_collector=collector, to_collector=other_collector, cases=[a], by=clerk, reason="客户要求")
    # then
    assert Case.objects.get(pk=a.pk).collector == other_collector
    assert Case.objects.get(pk=b.pk).collector == collector


@pytest.mark.django_db
def test_assignment_move_refuses_cases_of_someone_else_and_a_missing_reason(make_case, clerk, collector,
                                                                          other_collector, field_collector):
    # given
    not_theirs = make_case(collector=field_collector, status=CaseStatus.IN_PROGRESS)
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    # when / then
    with pytest.raises(CaseNotAssignableError, match="不是 王催收 名下"):
        assignment_move(from_collector=collector, to_collector=other_collector, cases=[not_theirs], by=clerk,
                        reason="调整")
    with pytest.raises(CaseNotAssignableError, match="请填写调整原因"):
        assignment_move(from_collector=collector, to_collector=other_collector, by=clerk, reason="  ")


@pytest.mark.django_db
def test_assignment_move_leaves_cases_of_other_banks_with_the_collector(make_case, clerk, other_bank, collector,
                                                                      other_collector):
    # given
    mine = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    theirs = make_case(bank=other_bank, collector=collector, status=CaseStatus.IN_PROGRESS)
    # when
    assignment_move(from_collector=collector, to_collector=other_collector, by=clerk, reason="调整")
    # then
    assert Case.objects.get(pk=mine.pk).collector == other_collector
    assert Case.objects.get(pk=theirs.pk).collector == collector


@pytest.mark.django_db
def test_assignment_swap_exchanges_two_collectors_cases(make_case, clerk, collector, other_collector):
    # given
    a_cases = [make_case(collector=collector, status=CaseStatus.IN_PROGRESS) for _ in range(2)]
    b_case = make_case(collector=other_collector, status=CaseStatus.NOT_STARTED)
    # when
    assignment_swap(a=collector, b=other_collector, by=clerk, reason="区域调整")
    # then
    assert set(Case.objects.filter(collector=other_collector).values_list("pk", flat=True)) == {c.pk for c in a_cases}
    assert list(Case.objects.filter(collector=collector).values_list("pk", flat=True)) == [b_case.pk]
    assert set(Assignment.objects.filter(ended_at=None).values_list("kind", flat=True)) == {AssignmentKind.SWAP}
    event = CaseEvent.objects.filter(case=b_case).latest("id")
    assert (event.type, event.summary) == (CaseEventType.SWAPPED, "互换：由 周催收 换给 王催收，原因：区域调整")


@pytest.mark.django_db
def test_assignment_swap_refuses_when_neither_holds_anything(clerk, collector, other_collector):
    with pytest.raises(NothingToAssignError):
        assignment_swap(a=collector, b=other_collector, by=clerk, reason="区域调整")


@pytest.mark.django_db
def test_assignment_handover_spreads_a_departed_collectors_cases(make_case, clerk, collector, other_collector,
                                                                 field_collector):
    # given
    cases = [make_case(collector=collector, status=CaseStatus.IN_PROGRESS) for _ in range(5)]
    collector.is_active = False
    collector.save()
    # when
    done = assignment_handover(departed=collector, collectors=[other_collector, field_collector],
                               mode=AssignmentMode.COUNT, by=clerk)
    # then
    assert len(done) == 5
    counts = sorted(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("collector_id", flat=True))
    assert sorted([counts.count(other_collector.pk), counts.count(field_collector.pk)]) == [2, 3]
    assert {a.kind for a in done} == {AssignmentKind.HANDOVER}
    assert {a.reason for a in done} == {"王催收 离职"}
    assert CaseEvent.objects.filter(type=CaseEventType.HANDED_OVER).count() == 5


@pytest.mark.django_db
def test_assignment_handover_refuses_an_active_user(make_case, clerk, collector, other_collector):
    # given
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    # when / then
    with pytest.raises(CaseNotAssignableError, match="仍在使用"):
        assignment_handover(departed=collector, collectors=[other_collector], mode=AssignmentMode.ONE, by=clerk)


@pytest.mark.django_db
def test_assignment_handover_refuses_a_changed_selection(make_case, clerk, collector, other_collector):
    # given
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    collector.is_active = False
    collector.save()
    previewed = handover_plan(departed=collector, collectors=[other_collector.pk], mode=AssignmentMode.ONE, by=clerk)
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS)  # a continuation landed meanwhile
    # when / then
    with pytest.raises(SelectionChangedError):
        assignment_handover(departed=collector, collectors=[other_collector], mode=AssignmentMode.ONE, by=clerk,
                            expected_digest=previewed.digest)


# --- live notice to the collectors (case.assigned) ------------------------------------------------------------

@pytest.mark.django_db
def test_assignment_create_notifies_the_receiving_collector(make_case, clerk, collector, published,
                                                            django_capture_on_commit_callbacks):
    # given
    cases = [make_case() for _ in range(3)]
    # when
    with django_capture_on_commit_callbacks(execute=True):
        assignment_create(cases=cases, collector=collector, by=clerk, reason="11月新批次")
    # then
    [event] = published.sent_to(groups.user(collector.pk))
    assert event == CaseAssigned(direction="in", case_ids=tuple(sorted(c.pk for c in cases)), count=3,
                                 collector_id=collector.pk, by_name="李内勤", kind="assign", kind_label="分配",
                                 text="您有 3 件新分配的委案", reason="11月新批次")
    assert published.types().count("case.assigned") == 1


@pytest.mark.django_db
def test_assignment_create_notice_is_stored_for_replay(make_case, clerk, collector, published,
                                                       django_capture_on_commit_callbacks):
    # given
    from cases.models import UserEvent

    case = make_case()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        assignment_create(cases=[case], collector=collector, by=clerk)
    # then: the message carries the id of the stored row, so a reconnecting browser catches up on it
    stored = UserEvent.objects.get(user=collector, type="case.assigned")
    [message] = published.messages_to(groups.user(collector.pk))
    assert message["event_id"] == stored.pk
    assert stored.payload["text"] == "您有 1 件新分配的委案"


@pytest.mark.django_db
def test_assignment_notice_is_not_sent_when_the_assignment_fails(make_case, clerk, collector, published,
                                                                  django_capture_on_commit_callbacks):
    # given
    closed = make_case(status=CaseStatus.SETTLED)
    # when
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(CaseClosedForAssignmentError):
        assignment_create(cases=[closed], collector=collector, by=clerk)
    # then
    assert published.deliveries == []


@pytest.mark.django_db
def test_assignment_plan_apply_notifies_each_collector_of_their_share(make_case, clerk, collector, other_collector,
                                                                       published, django_capture_on_commit_callbacks):
    # given
    cases = [make_case(entrusted_amount=Decimal(1000 * (i + 1))) for i in range(5)]
    plan = assignment_plan(cases=_selection(cases), collectors=[collector.pk, other_collector.pk],
                           mode=AssignmentMode.COUNT)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        assignment_plan_apply(plan=plan, by=clerk, expected_digest=plan.digest)
    # then
    [mine] = published.sent_to(groups.user(collector.pk))
    [theirs] = published.sent_to(groups.user(other_collector.pk))
    assert (mine.count, mine.text) == (3, "您有 3 件新分配的委案")
    assert (theirs.count, theirs.text) == (2, "您有 2 件新分配的委案")
    assert set(mine.case_ids) | set(theirs.case_ids) == {c.pk for c in cases}


@pytest.mark.django_db
def test_assignment_move_notifies_the_receiving_and_the_previous_collector(make_case, clerk, collector,
                                                                           other_collector, published,
                                                                           django_capture_on_commit_callbacks):
    # given
    cases = [make_case(collector=collector, status=CaseStatus.IN_PROGRESS) for _ in range(2)]
    # when
    with django_capture_on_commit_callbacks(execute=True):
        assignment_move(from_collector=collector, to_collector=other_collector, by=clerk, reason="客户投诉更换")
    # then
    [received] = published.sent_to(groups.user(other_collector.pk))
    [lost] = published.sent_to(groups.user(collector.pk))
    assert (received.direction, received.count, received.from_collector_id) == ("in", 2, collector.pk)
    assert received.text == "您有 2 件新分配的委案（调整，原由 王催收 负责）"
    assert (lost.direction, lost.count, lost.collector_id) == ("out", 2, other_collector.pk)
    assert lost.text == "您名下 2 件委案已调整给 周催收"
    assert set(lost.case_ids) == {c.pk for c in cases}


@pytest.mark.django_db
def test_assignment_swap_tells_both_collectors_what_came_and_went(make_case, clerk, collector, other_collector,
                                                                  published, django_capture_on_commit_callbacks):
    # given
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    make_case(collector=other_collector, status=CaseStatus.NOT_STARTED)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        assignment_swap(a=collector, b=other_collector, by=clerk, reason="区域调整")
    # then
    to_a = {(e.direction, e.count) for e in published.sent_to(groups.user(collector.pk))}
    to_b = {(e.direction, e.count) for e in published.sent_to(groups.user(other_collector.pk))}
    assert to_a == {("in", 1), ("out", 2)}
    assert to_b == {("in", 2), ("out", 1)}


@pytest.mark.django_db
def test_assignment_notice_caps_the_case_ids_but_counts_all(clerk, bank, collector, published,
                                                            django_capture_on_commit_callbacks):
    # given
    batch = f.BatchFactory(bank=bank)
    f.CaseFactory.create_batch(30, batch=batch)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        assignment_create(cases=Case.objects.all(), collector=collector, by=clerk)
    # then
    [event] = published.sent_to(groups.user(collector.pk))
    assert event.count == 30
    assert len(event.case_ids) == 20


# --- owner clerk take-over (C6) ------------------------------------------------------------------------------

@pytest.fixture
def gone_clerk(db, bank):
    user = f.ClerkFactory(username="clerk_gone", full_name="钱离职", is_active=False)
    f.ClerkBankScopeFactory(clerk=user, bank=bank)
    return user


@pytest.mark.django_db
def test_case_owner_transfer_makes_the_clerk_owner_with_history_and_audit(make_case, clerk, gone_clerk, collector):
    # given
    cases = [make_case(owner_clerk=gone_clerk, collector=collector, status=CaseStatus.IN_PROGRESS)
             for _ in range(3)]
    # when
    changed = case_owner_transfer(cases=cases, to_clerk=clerk, by=clerk, reason="钱离职 离职")
    # then
    assert sorted(changed) == sorted(c.pk for c in cases)
    assert set(Case.objects.values_list("owner_clerk_id", flat=True)) == {clerk.pk}
    events = CaseEvent.objects.filter(type=CaseEventType.OWNER_CHANGED)
    assert events.count() == 3
    assert events[0].summary == "负责内勤由 钱离职 改为 李内勤，原因：钱离职 离职"
    assert events[0].data == {"from": gone_clerk.pk, "to": clerk.pk}
    entry = AuditEntry.objects.get(object_type="case_owner")
    assert "钱离职 3 件 改由 李内勤 负责" in entry.summary
    assert Case.objects.filter(collector=collector).count() == 3  # the collector keeps the cases


@pytest.mark.django_db
def test_case_owner_transfer_by_a_manager_to_a_clerk_of_the_bank(make_case, manager, clerk, gone_clerk):
    # given
    case = make_case(owner_clerk=gone_clerk)
    # when
    case_owner_transfer(cases=[case], to_clerk=clerk, by=manager, reason="离职")
    # then
    case.refresh_from_db()
    assert case.owner_clerk == clerk


@pytest.mark.django_db
def test_case_owner_transfer_refuses_a_clerk_without_the_bank(make_case, manager, other_clerk, gone_clerk):
    # given
    case = make_case(owner_clerk=gone_clerk)
    # when / then
    with pytest.raises(CaseNotAssignableError, match="赵内勤 未负责委案"):
        case_owner_transfer(cases=[case], to_clerk=other_clerk, by=manager, reason="离职")
    case.refresh_from_db()
    assert case.owner_clerk == gone_clerk


@pytest.mark.django_db
def test_case_owner_transfer_refuses_a_clerk_handing_to_someone_else(make_case, clerk, gone_clerk, bank):
    # given
    colleague = f.ClerkFactory(username="clerk_2", full_name="孔内勤")
    f.ClerkBankScopeFactory(clerk=colleague, bank=bank)
    case = make_case(owner_clerk=gone_clerk)
    # when / then
    with pytest.raises(CaseNotAssignableError, match="内勤只能由自己接手"):
        case_owner_transfer(cases=[case], to_clerk=colleague, by=clerk, reason="离职")


@pytest.mark.django_db
def test_case_owner_transfer_refuses_cases_of_other_banks_closed_cases_and_no_reason(make_case, clerk, gone_clerk,
                                                                                     other_bank):
    # given
    foreign = make_case(owner_clerk=gone_clerk, bank=other_bank, case_no="JS-1")
    settled = make_case(owner_clerk=gone_clerk, status=CaseStatus.SETTLED, case_no="ZS-9")
    mine = make_case(owner_clerk=gone_clerk)
    # when / then
    with pytest.raises(CaseOutOfScopeError, match="JS-1"):
        case_owner_transfer(cases=[foreign, mine], to_clerk=clerk, by=clerk, reason="离职")
    with pytest.raises(CaseClosedForAssignmentError, match="ZS-9"):
        case_owner_transfer(cases=[settled], to_clerk=clerk, by=clerk, reason="离职")
    with pytest.raises(CaseNotAssignableError, match="请填写调整原因"):
        case_owner_transfer(cases=[mine], to_clerk=clerk, by=clerk, reason=" ")
    assert not CaseEvent.objects.filter(type=CaseEventType.OWNER_CHANGED).exists()


@pytest.mark.django_db
def test_case_owner_transfer_refuses_an_inactive_clerk_and_a_collector_as_actor(make_case, manager, gone_clerk,
                                                                                collector):
    # given
    from cases.exceptions import AssignerNotAllowedError

    case = make_case(owner_clerk=gone_clerk)
    # when / then
    with pytest.raises(CaseNotAssignableError, match="不是在职内勤"):
        case_owner_transfer(cases=[case], to_clerk=gone_clerk, by=manager, reason="离职")
    with pytest.raises(AssignerNotAllowedError):
        case_owner_transfer(cases=[case], to_clerk=manager, by=collector, reason="离职")
