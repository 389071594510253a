"""Assignment pages (C3, C4, C6): 分配 with preview, 调整 (move, swap), 离职交接, and assignment history.

Adapters only: parse the form, check the policy, call a selector or an action, render. Clerks and managers
use these pages (`can_assign_cases`); everyone else gets 403. What a clerk may assign is narrowed by the
selectors and enforced again by the actions (C7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet, Sum
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import User
from accounts.selectors import collector_list
from cases.actions.assignments import (
    AssignmentMode,
    AssignmentPlan,
    PlanCase,
    assignment_handover,
    assignment_move,
    assignment_plan,
    assignment_plan_apply,
    assignment_swap,
    case_owner_transfer,
    handover_plan,
)
from cases.exceptions import DomainError
from cases.forms import CaseFilterForm
from cases.forms_assignments import AssignForm, CollectorFilterForm, MoveForm, PlanForm, SwapForm
from cases.models import Case
from cases.policies import access_case, can_assign_cases
from cases.selectors.assignments import (
    ZERO,
    assignment_candidate_list,
    assignment_list_for_case,
    assignment_list_for_collector,
    assignment_selection,
    collector_loads,
    collector_loads_for,
    departed_holder_list,
    departed_owner_list,
    owned_open_cases_of,
    unfinished_cases_of,
    unfinished_load,
)
from cases.selectors.cases import case_page
from cases.views.cases import AppRequest

MOVE_TABLE_LIMIT = 300  # rows of a collector's cases listed for ticking; "all" moves every one regardless


def _require_assigner(request: AppRequest) -> User:
    if not can_assign_cases(user=request.user):
        raise PermissionDenied("只有内勤或管理人员可以分配委案")
    return request.user


@dataclass(frozen=True)
class PickerRow:
    user: User
    count: int
    amount: Decimal
    checked: bool


def _picker(*, data: QueryDict, checked: set[int], exclude: int | None = None) -> tuple[CollectorFilterForm,
                                                                                        list[PickerRow]]:
    """The collector picker: active collectors of the chosen branch/department with what each holds now."""
    form = CollectorFilterForm(data)
    users = [u for u in form.collectors() if u.pk != exclude]
    loads = collector_loads(collector_ids=[u.pk for u in users])
    rows = [PickerRow(user=u, count=loads[u.pk].count if u.pk in loads else 0,
                      amount=loads[u.pk].amount if u.pk in loads else ZERO, checked=u.pk in checked)
            for u in users]
    return form, rows


def _checked_collectors(data: QueryDict) -> set[int]:
    return {int(v) for v in data.getlist("collector") if v.isdigit()}


# --- 分配 ------------------------------------------------------------------------------------------------

def _default_filters(request: AppRequest) -> QueryDict:
    # A first visit shows what a clerk assigns every morning: the cases nobody holds yet.
    return request.GET if request.GET else QueryDict("status=unassigned")


def _assign_context(request: AppRequest, *, filter_data: QueryDict) -> dict[str, object]:
    user = request.user
    form = CaseFilterForm(filter_data, user=user)
    form.is_valid()
    filters = form.to_filters()
    qs = assignment_candidate_list(user=user, filters=filters)
    # Exact count and money of the whole match: "select all N" must mean exactly N.
    summary = qs.order_by().aggregate(n=Count("pk"), amount=Sum("entrusted_amount"))
    page = case_page(qs=qs, number=form.page_number, page_size=settings.CASE_LIST_PAGE_SIZE)
    query = filter_data.copy()
    query.pop("page", None)
    picker_form, picker_rows = _picker(data=request.GET, checked=_checked_collectors(request.GET))
    return {
        "form": form,
        "page": page,
        "match_count": summary["n"] or 0,
        "match_amount": summary["amount"] or ZERO,
        "filters_query": query.urlencode(),
        "picker_form": picker_form,
        "picker_rows": picker_rows,
        "modes": AssignmentMode.choices,
        "mode": AssignmentMode.COUNT,
        "nav_active": "assign",
        "tab": "assign",
    }


@login_required
@require_GET
def assign_view(request: AppRequest) -> HttpResponse:
    _require_assigner(request)
    context = _assign_context(request, filter_data=_default_filters(request))
    return render(request, "cases/assign.html", context)


@login_required
@require_GET
def assign_collectors_view(request: AppRequest) -> HttpResponse:
    """The collector picker alone, re-rendered when the branch or department filter changes."""
    _require_assigner(request)
    exclude = request.GET.get("exclude", "")
    picker_form, rows = _picker(data=request.GET, checked=_checked_collectors(request.GET),
                                exclude=int(exclude) if exclude.isdigit() else None)
    return render(request, "cases/assign_collectors.html",
                  {"picker_form": picker_form, "picker_rows": rows, "picker_url": request.path,
                   "exclude": exclude})


@dataclass(frozen=True)
class PreviewRow:
    user: User
    count: int
    amount: Decimal
    before_count: int
    before_amount: Decimal

    @property
    def after_count(self) -> int:
        return self.before_count + self.count

    @property
    def after_amount(self) -> Decimal:
        return self.before_amount + self.amount


def _preview_rows(plan: AssignmentPlan, collectors: list[User]) -> list[PreviewRow]:
    by_id = {u.pk: u for u in collectors}
    loads = collector_loads(collector_ids=list(by_id))
    rows = []
    for share in plan.shares:
        load = loads.get(share.collector_id)
        rows.append(PreviewRow(user=by_id[share.collector_id], count=share.count, amount=share.amount,
                               before_count=load.count if load else 0, before_amount=load.amount if load else ZERO))
    return rows


def _assign_plan(form: AssignForm, user: User) -> AssignmentPlan:
    """Recompute the selection from the posted filter (or ticked ids) and plan it."""
    filters = form.filter_form().to_filters()
    qs = assignment_candidate_list(user=user, filters=filters)
    if not form.cleaned_data["select_all"]:
        qs = qs.filter(pk__in=form.cleaned_data["case"])
    cases = [PlanCase(id=r.id, amount=r.amount, collector_id=r.collector_id) for r in assignment_selection(qs=qs)]
    collectors = form.collectors_in_order()
    return assignment_plan(cases=cases, collectors=[u.pk for u in collectors], mode=form.cleaned_data["mode"])


def _form_errors(form: PlanForm) -> list[str]:
    errors = [str(e) for e in form.non_field_errors()]
    for name, field_errors in form.errors.items():
        if name != "__all__":
            errors += [str(e) for e in field_errors]
    return errors


def _render_preview(request: AppRequest, *, form: PlanForm, plan: AssignmentPlan | None, errors: list[str],
                    confirm_url: str, verb: str = "分配") -> HttpResponse:
    collectors = form.collectors_in_order() if plan is not None else []
    context = {"plan": plan, "rows": _preview_rows(plan, collectors) if plan else [], "errors": errors,
               "confirm_url": confirm_url, "mode_label": AssignmentMode(plan.mode).label if plan else "",
               "verb": verb}
    return render(request, "cases/assign_preview.html", context)


@login_required
@require_POST
def assign_preview_view(request: AppRequest) -> HttpResponse:
    user = _require_assigner(request)
    form = AssignForm(request.POST, user=user)
    confirm_url = reverse("cases:assign-confirm")
    if not form.is_valid():
        return _render_preview(request, form=form, plan=None, errors=_form_errors(form), confirm_url=confirm_url)
    try:
        plan = _assign_plan(form, user)
    except DomainError as e:
        return _render_preview(request, form=form, plan=None, errors=[str(e)], confirm_url=confirm_url)
    return _render_preview(request, form=form, plan=plan, errors=[], confirm_url=confirm_url)


def _done(request: AppRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_POST
def assign_confirm_view(request: AppRequest) -> HttpResponse:
    user = _require_assigner(request)
    form = AssignForm(request.POST, user=user)
    confirm_url = reverse("cases:assign-confirm")
    if not form.is_valid():
        return _render_preview(request, form=form, plan=None, errors=_form_errors(form), confirm_url=confirm_url)
    digest = form.cleaned_data["digest"]
    if not digest:
        return _render_preview(request, form=form, plan=None, errors=["请先预览分配结果，再确认分配"],
                               confirm_url=confirm_url)
    try:
        plan = _assign_plan(form, user)
        done = assignment_plan_apply(plan=plan, by=user, reason=form.cleaned_data["reason"],
                                     expected_digest=digest)
    except DomainError as e:
        return _render_preview(request, form=form, plan=None, errors=[str(e)], confirm_url=confirm_url)
    by_id = {u.pk: u.display_name for u in form.collectors_in_order()}
    names = "、".join(f"{by_id[s.collector_id]} {s.count} 件" for s in plan.shares if s.count)
    skipped = plan.total_count - len(done)
    messages.success(request, f"已分配 {len(done)} 件委案（{names}）"
                              + (f"；{skipped} 件本来就在所选业务员名下，未变动" if skipped else ""))
    return _done(request, f"{reverse('cases:assign')}?{form.cleaned_data['filters']}")


# --- 调整: move and swap ---------------------------------------------------------------------------------

def _reassign_context(request: AppRequest, *, move_form: MoveForm, swap_form: SwapForm,
                      from_user: User | None) -> dict[str, object]:
    user = request.user
    loads = collector_loads_for(user=user)
    context: dict[str, object] = {
        "move_form": move_form, "swap_form": swap_form, "from_user": from_user,
        "from_choices": [(u, loads.get(u.pk)) for u in collector_list(active_only=False)
                         if u.is_active or u.pk in loads],
        "nav_active": "assign", "tab": "reassign",
    }
    if from_user is not None:
        mine, every = unfinished_load(user=user, collector=from_user)
        rows = list(unfinished_cases_of(user=user, collector=from_user)[:MOVE_TABLE_LIMIT])
        ticked = set(move_form["case"].value() or []) if move_form.is_bound else set()
        context.update({"load": mine, "load_all": every, "rows": rows, "ticked": {int(v) for v in ticked},
                        "rows_capped": mine.count > len(rows)})
    return context


def _from_user(value: str | None) -> User | None:
    if not value or not str(value).isdigit():
        return None
    return collector_list(active_only=False).filter(pk=int(value)).first()


@login_required
@require_http_methods(["GET", "POST"])
def reassign_view(request: AppRequest) -> HttpResponse:
    """GET: pick the collector to move from and see their unfinished cases. POST: move them."""
    user = _require_assigner(request)
    swap_form = SwapForm()
    if request.method == "GET":
        from_user = _from_user(request.GET.get("from"))
        move_form = MoveForm(initial={"from_collector": from_user})
        return render(request, "cases/assign_reassign.html",
                      _reassign_context(request, move_form=move_form, swap_form=swap_form, from_user=from_user))

    move_form = MoveForm(request.POST)
    from_user = _from_user(request.POST.get("from_collector"))
    if move_form.is_valid():
        data = move_form.cleaned_data
        cases = None
        if data["scope"] == MoveForm.TICKED:
            cases = Case.objects.filter(pk__in=data["case"])
        try:
            done = assignment_move(from_collector=data["from_collector"], to_collector=data["to_collector"],
                                   cases=cases, by=user, reason=data["reason"])
        except DomainError as e:
            move_form.add_error(None, str(e))
        else:
            messages.success(request, f"已将 {data['from_collector'].display_name} 的 {len(done)} 件委案转给 "
                                      f"{data['to_collector'].display_name}")
            return redirect(f"{reverse('cases:reassign')}?from={data['from_collector'].pk}")
    return render(request, "cases/assign_reassign.html",
                  _reassign_context(request, move_form=move_form, swap_form=swap_form, from_user=from_user),
                  status=400)


@login_required
@require_POST
def swap_view(request: AppRequest) -> HttpResponse:
    user = _require_assigner(request)
    swap_form = SwapForm(request.POST)
    if swap_form.is_valid():
        a, b = swap_form.cleaned_data["a"], swap_form.cleaned_data["b"]
        a_before, _ = unfinished_load(user=user, collector=a)
        b_before, _ = unfinished_load(user=user, collector=b)
        try:
            assignment_swap(a=a, b=b, by=user, reason=swap_form.cleaned_data["reason"])
        except DomainError as e:
            swap_form.add_error(None, str(e))
        else:
            messages.success(request, f"已互换：{a.display_name} 的 {a_before.count} 件转给 {b.display_name}，"
                                      f"{b.display_name} 的 {b_before.count} 件转给 {a.display_name}")
            return redirect("cases:reassign")
    return render(request, "cases/assign_reassign.html",
                  _reassign_context(request, move_form=MoveForm(), swap_form=swap_form, from_user=None), status=400)


# --- 离职交接 -----------------------------------------------------------------------------------------------

def _orphan_context(user: User) -> dict[str, object]:
    holders = departed_holder_list(user=user)
    owners = departed_owner_list(user=user)
    return {"holders": holders, "owners": owners, "nav_active": "handover", "tab": "orphans",
            "total_cases": sum(h.total_count for h in holders), "my_cases": sum(h.count for h in holders),
            "owner_total": sum(o.total_count for o in owners), "owner_mine": sum(o.count for o in owners)}


@login_required
@require_http_methods(["GET", "POST"])
def orphan_list_view(request: AppRequest) -> HttpResponse:
    """GET: departed collectors' unfinished cases and departed clerks' owned cases. POST: take over the
    owner-clerk role of a departed clerk's open cases (the clerk themself, or a clerk a manager picks)."""
    user = _require_assigner(request)
    if request.method == "GET":
        return render(request, "cases/assign_orphans.html", _orphan_context(user))
    owner = get_object_or_404(User, pk=request.POST.get("owner") or 0, is_active=False)
    raw_to = request.POST.get("to_clerk") or ""
    to_clerk = get_object_or_404(User, pk=raw_to) if raw_to.isdigit() else user
    reason = (request.POST.get("reason") or "").strip() or f"{owner.display_name} 离职"
    cases = owned_open_cases_of(user=user, owner=owner)
    try:
        if not cases.exists():
            raise DomainError(f"{owner.display_name} 负责的未结委案中没有您负责银行的委案，请由该银行的内勤接手")
        changed = case_owner_transfer(cases=cases, to_clerk=to_clerk, by=user, reason=reason)
    except DomainError as e:
        context = _orphan_context(user)
        context["owner_error"] = str(e)
        return render(request, "cases/assign_orphans.html", context, status=400)
    messages.success(request, f"{to_clerk.display_name} 已接手 {owner.display_name} 负责的 {len(changed)} 件委案")
    return redirect("cases:orphans")


def _departed(user_id: int) -> User:
    return get_object_or_404(User, pk=user_id, is_active=False)


@login_required
@require_http_methods(["GET", "POST"])
def handover_view(request: AppRequest, user_id: int) -> HttpResponse:
    """GET: the hand-over form. POST with `preview`: the per-collector preview; without: hand over."""
    user = _require_assigner(request)
    departed = _departed(user_id)
    confirm_url = reverse("cases:handover", kwargs={"user_id": departed.pk})
    if request.method == "POST":
        form = PlanForm(request.POST)
        errors: list[str] = []
        plan = None
        if not form.is_valid():
            errors = _form_errors(form)
        else:
            collectors = form.collectors_in_order()
            try:
                plan = handover_plan(departed=departed, collectors=[u.pk for u in collectors],
                                     mode=form.cleaned_data["mode"], by=user)
                if "preview" not in request.GET:
                    if not form.cleaned_data["digest"]:
                        raise DomainError("请先预览交接结果，再确认交接")
                    done = assignment_handover(departed=departed, collectors=collectors,
                                               mode=form.cleaned_data["mode"], by=user,
                                               reason=form.cleaned_data["reason"],
                                               expected_digest=form.cleaned_data["digest"])
                    messages.success(request, f"已将 {departed.display_name} 的 {len(done)} 件未完成委案交接完毕")
                    return _done(request, reverse("cases:orphans"))
            except DomainError as e:
                errors, plan = [str(e)], None
        return _render_preview(request, form=form, plan=plan, errors=errors, confirm_url=confirm_url, verb="交接")

    mine, every = unfinished_load(user=user, collector=departed)
    picker_form, picker_rows = _picker(data=request.GET, checked=_checked_collectors(request.GET))
    cases = list(unfinished_cases_of(user=user, collector=departed)[:MOVE_TABLE_LIMIT])
    return render(request, "cases/assign_handover.html", {
        "departed": departed, "load": mine, "load_all": every, "rows": cases, "rows_capped": mine.count > len(cases),
        "picker_form": picker_form, "picker_rows": picker_rows, "modes": AssignmentMode.choices,
        "mode": AssignmentMode.COUNT, "confirm_url": confirm_url, "nav_active": "handover", "tab": "orphans",
    })


# --- history ---------------------------------------------------------------------------------------------

@login_required
@require_GET
def case_assignment_history_view(request: AppRequest, case_id: int) -> HttpResponse:
    """The case's assignment periods (who, when, from, to, why): a fragment the case page loads."""
    case = access_case(user=request.user, case_id=case_id)
    from cases.selectors.assignments import owner_changes_for_case

    return render(request, "cases/_assignment_history.html",
                  {"case": case, "assignments": list(assignment_list_for_case(case=case)),
                   "owner_changes": owner_changes_for_case(case=case)})


@login_required
@require_GET
def collector_assignment_history_view(request: AppRequest, user_id: int) -> HttpResponse:
    user = _require_assigner(request)
    collector = get_object_or_404(collector_list(active_only=False), pk=user_id)
    mine, every = unfinished_load(user=user, collector=collector)
    return render(request, "cases/assign_collector_history.html", {
        "collector": collector, "load": mine, "load_all": every,
        "assignments": assignment_list_for_collector(user=user, collector=collector),
        "nav_active": "assign", "tab": "reassign",
    })


# --- 内勤调配 (issue 15): managers move an active clerk's owned cases to another clerk ----------------------

def _allocation_selection(post: QueryDict) -> tuple[User | None, User | None, QuerySet[Case] | None, str, str]:
    """(from clerk, to clerk, selected cases, scope label, error)."""
    from accounts.inputs import id_param
    from cases.models import Bank, Batch
    from cases.selectors.assignments import clerk_owned_cases

    clerks = User.objects.filter(is_active=True, is_clerk=True)
    from_clerk = clerks.filter(pk=id_param(post.get("from_clerk", "")) or 0).first()
    to_clerk = clerks.filter(pk=id_param(post.get("to_clerk", "")) or 0).first()
    if from_clerk is None or to_clerk is None:
        return from_clerk, to_clerk, None, "", "请选择调出和调入的内勤（均须为在职内勤）"
    scope = post.get("scope", "all")
    if scope == "bank":
        bank = Bank.objects.filter(pk=id_param(post.get("bank", "")) or 0).first()
        if bank is None:
            return from_clerk, to_clerk, None, "", "请选择银行"
        return from_clerk, to_clerk, clerk_owned_cases(clerk=from_clerk, bank_id=bank.pk), f"{bank.name}的委案", ""
    if scope == "batch":
        batch = Batch.objects.filter(pk=id_param(post.get("batch", "")) or 0).first()
        if batch is None:
            return from_clerk, to_clerk, None, "", "请选择批次"
        return (from_clerk, to_clerk, clerk_owned_cases(clerk=from_clerk, batch_id=batch.pk),
                f"批次 {batch.batch_no} 的委案", "")
    if scope == "cases":
        nos = [n for n in re.split(r"[\s,，;；、]+", post.get("case_nos", "")) if n][:5000]
        if not nos:
            return from_clerk, to_clerk, None, "", "请填写案件编号（每行一个，或用逗号分隔）"
        return (from_clerk, to_clerk, clerk_owned_cases(clerk=from_clerk, case_nos=nos),
                f"所列 {len(nos)} 个案件编号", "")
    return from_clerk, to_clerk, clerk_owned_cases(clerk=from_clerk), "全部未结委案", ""


@login_required
@require_http_methods(["GET", "POST"])
def clerk_allocation_view(request: AppRequest) -> HttpResponse:
    """管理员管理内勤的调配: preview (what moves, which collectors hear of it), then confirm with a reason."""
    from cases.actions.assignments import clerk_cases_reallocate
    from cases.models import Bank, Batch
    from cases.selectors.assignments import clerk_owned_summary, clerks_with_owned_cases

    if not (request.user.is_active and request.user.is_manager):
        raise PermissionDenied("只有管理人员可以调配内勤负责的委案")
    error, summary, total, label = "", None, 0, ""
    post = request.POST if request.method == "POST" else QueryDict()
    if request.method == "POST":
        from_clerk, to_clerk, cases, label, error = _allocation_selection(request.POST)
        if not error and cases is not None and from_clerk is not None and to_clerk is not None:
            if request.POST.get("action") == "confirm":
                try:
                    changed = clerk_cases_reallocate(from_clerk=from_clerk, to_clerk=to_clerk, by=request.user,
                                                     reason=request.POST.get("reason", ""), cases=cases)
                except DomainError as exc:
                    error = str(exc)
                else:
                    messages.success(request, f"已把 {from_clerk.display_name} 负责的 {len(changed)} 件委案调配给 "
                                              f"{to_clerk.display_name}（已记入分配记录和审计日志，并通知相关业务员）。")
                    return redirect("cases:clerk-allocation")
            summary = clerk_owned_summary(cases=cases)
            total = sum(g.count for g in summary)
    return render(request, "cases/clerk_allocation.html", {
        "clerks": clerks_with_owned_cases(), "banks": Bank.objects.order_by("code"),
        "batches": Batch.objects.select_related("bank").order_by("-imported_at")[:200],
        "post": post, "error": error, "summary": summary, "total": total, "label": label,
        "nav_active": "assign", "tab": "clerks",
    }, status=400 if error else 200)
