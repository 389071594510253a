"""Scorecard pages: list, create, one version (read), draft editing (settings, characteristics), publish,
new version. Managers edit; clerks read their banks' scorecards. Adapters only."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from assessment.actions.scorecards import (
    characteristic_delete,
    characteristic_save,
    scorecard_create,
    scorecard_version_new_draft,
    scorecard_version_publish,
    scorecard_version_update,
)
from assessment.enums import DEFINITIONS, UNITS, CharacteristicKind
from assessment.exceptions import ScorecardInvalidError
from assessment.forms import BinFormSet, CharacteristicForm, ScorecardCreateForm, VersionSettingsForm, bins_from
from assessment.models import Characteristic, ScorecardVersion
from assessment.policies import (
    access_scorecard,
    access_version,
    can_manage_scorecards,
    scorecards_visible_to,
)
from assessment.scoring import BinSpec, bin_text, check_card
from assessment.selectors.scorecards import card_spec, scorecard_list, version_list, version_rows
from assessment.views.applicants import require_assessor
from cases.exceptions import DomainError
from cases.views.cases import AppRequest


def require_manager(user: User) -> None:
    if not can_manage_scorecards(user=user):
        raise PermissionDenied("只有管理人员可以定义和修改评分卡")


def _draft(request: AppRequest, version_id: int) -> ScorecardVersion:
    require_manager(request.user)
    version = access_version(user=request.user, version_id=version_id)
    if not version.is_draft:
        raise PermissionDenied(f"第 {version.number} 版{version.get_status_display()}，不能修改")
    return version


@login_required
@require_GET
def scorecard_list_view(request: AppRequest) -> HttpResponse:
    require_assessor(request.user)
    cards = scorecard_list(scorecards=scorecards_visible_to(request.user))
    manage = can_manage_scorecards(user=request.user)
    context = {"cards": cards, "can_manage": manage, "create_form": ScorecardCreateForm() if manage else None,
               "tab": "scorecards", "nav_active": "assessment"}
    return render(request, "assessment/scorecard_list.html", context)


@login_required
@require_POST
def scorecard_create_view(request: AppRequest) -> HttpResponse:
    require_manager(request.user)
    form = ScorecardCreateForm(request.POST)
    if form.is_valid():
        version = scorecard_create(bank=form.cleaned_data["bank"], name=form.cleaned_data["name"], by=request.user)
        messages.success(request, f"已为{version.scorecard.bank.name}创建评分卡（草稿第 1 版，"
                                  "已填入默认特征，请检查后发布）")
        return redirect("assessment:version-detail", version_id=version.pk)
    cards = scorecard_list(scorecards=scorecards_visible_to(request.user))
    return render(request, "assessment/scorecard_list.html",
                  {"cards": cards, "can_manage": True, "create_form": form, "tab": "scorecards",
                   "nav_active": "assessment"}, status=400)


@login_required
@require_GET
def version_detail_view(request: AppRequest, version_id: int) -> HttpResponse:
    require_assessor(request.user)
    version = access_version(user=request.user, version_id=version_id)
    # Checked first: card_spec reloads the rows, which would drop the display attributes set below.
    problems = check_card(card_spec(version=version)) if version.is_draft else []
    version = version_rows(version=version)
    for char in version.chars:  # type: ignore[attr-defined]
        char.unit = UNITS.get(char.kind, "")
        char.definition = DEFINITIONS.get(char.kind, "")
        char.rows = [(b, bin_text(BinSpec(b.lower, b.upper, b.points), char.edge_rule, char.unit))
                     for b in char.bin_list]
    manage = can_manage_scorecards(user=request.user)
    context = {"v": version, "card": version.scorecard, "versions": version_list(scorecard=version.scorecard),
               "can_manage": manage, "problems": problems,
               "tab": "scorecards", "nav_active": "assessment"}
    return render(request, "assessment/version_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def version_settings_view(request: AppRequest, version_id: int) -> HttpResponse:
    version = _draft(request, version_id)
    if request.method == "POST":
        form = VersionSettingsForm(request.POST)
        if form.is_valid():
            scorecard_version_update(version=version, base_points=form.cleaned_data["base_points"],
                                     income_multiple=form.cleaned_data["income_multiple"],
                                     grades=form.grade_specs(), note=form.cleaned_data["note"], by=request.user)
            messages.success(request, "已保存基础分、额度规则和等级划分")
            return redirect("assessment:version-detail", version_id=version.pk)
    else:
        form = VersionSettingsForm(initial=VersionSettingsForm.initial_for(version))
    return render(request, "assessment/version_settings.html",
                  {"v": version, "form": form, "tab": "scorecards", "nav_active": "assessment"},
                  status=400 if form.errors else 200)


def _characteristic_page(request: AppRequest, version: ScorecardVersion,
                         current: Characteristic | None) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = CharacteristicForm(request.POST, version=version, current=current)
        formset = BinFormSet(request.POST, prefix="bins")
        if form.is_valid() and formset.is_valid():
            try:
                characteristic_save(version=version, kind=form.cleaned_data["kind"],
                                    edge_rule=form.cleaned_data["edge_rule"],
                                    missing_points=form.cleaned_data["missing_points"], bins=bins_from(formset),
                                    by=request.user, characteristic=current)
            except ScorecardInvalidError as error:
                form.add_error(None, "分箱有问题：" + "；".join(error.problems))
            except DomainError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, "已保存特征及其分箱")
                return redirect("assessment:version-detail", version_id=version.pk)
        status = 400
    else:
        initial = ({"kind": current.kind, "edge_rule": current.edge_rule, "missing_points": current.missing_points}
                   if current else {"edge_rule": "lower", "missing_points": 0})
        form = CharacteristicForm(initial=initial, version=version, current=current)
        bins = list(current.bins.order_by("position")) if current else []
        formset = BinFormSet(prefix="bins", initial=[{"lower": b.lower, "upper": b.upper, "points": b.points}
                                                     for b in bins])
    context = {"v": version, "form": form, "formset": formset, "current": current,
               "definitions": [(label, DEFINITIONS[value]) for value, label in CharacteristicKind.choices],
               "units": UNITS, "tab": "scorecards", "nav_active": "assessment"}
    return render(request, "assessment/characteristic_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def characteristic_create_view(request: AppRequest, version_id: int) -> HttpResponse:
    return _characteristic_page(request, _draft(request, version_id), None)


@login_required
@require_http_methods(["GET", "POST"])
def characteristic_edit_view(request: AppRequest, version_id: int, characteristic_id: int) -> HttpResponse:
    version = _draft(request, version_id)
    current = version.characteristics.filter(pk=characteristic_id).first()
    if current is None:
        raise Http404("特征不存在")
    return _characteristic_page(request, version, current)


@login_required
@require_POST
def characteristic_delete_view(request: AppRequest, version_id: int, characteristic_id: int) -> HttpResponse:
    version = _draft(request, version_id)
    current = version.characteristics.filter(pk=characteristic_id).first()
    if current is None:
        raise Http404("特征不存在")
    characteristic_delete(characteristic=current, by=request.user)
    messages.success(request, f"已删除特征“{current.get_kind_display()}”")
    return redirect("assessment:version-detail", version_id=version.pk)


@login_required
@require_POST
def version_publish_view(request: AppRequest, version_id: int) -> HttpResponse:
    version = _draft(request, version_id)
    try:
        scorecard_version_publish(version=version, by=request.user, request=request)
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"已发布第 {version.number} 版：此后{version.scorecard.bank.name}"
                                  "的申请人按此版本评分")
    return redirect("assessment:version-detail", version_id=version.pk)


@login_required
@require_POST
def version_new_view(request: AppRequest, scorecard_id: int) -> HttpResponse:
    require_manager(request.user)
    scorecard = access_scorecard(user=request.user, scorecard_id=scorecard_id)
    try:
        version = scorecard_version_new_draft(scorecard=scorecard, by=request.user,
                                              note=request.POST.get("note", ""))
    except DomainError as error:
        messages.error(request, str(error))
        draft = scorecard.versions.filter(status="draft").first()
        return redirect("assessment:version-detail", version_id=draft.pk if draft else scorecard.versions.first().pk)  # type: ignore[union-attr]
    messages.success(request, f"已创建草稿第 {version.number} 版（复制自上一版），"
                              "修改后发布即生效；已有评分仍指向原版本")
    return redirect("assessment:version-detail", version_id=version.pk)
