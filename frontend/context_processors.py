"""Navigation shown in the page header, by the roles the signed-in user holds."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    key: str


@dataclass(frozen=True)
class NavGroup:
    """A menu of the top bar that opens a list of pages (keyboard: Enter/Space/↓ opens, Esc closes)."""

    label: str
    items: tuple[NavItem, ...]

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(item.key for item in self.items)


# Groups of the top bar, in order. A page without a group is always a link of its own.
CASES, CALLS, RESULTS, SETTINGS, SYSTEM = "委案管理", "外呼", "业绩与报表", "设置", "系统管理"
# Up to this many pages a person's bar shows them all side by side (a collector's seven); beyond, the grouped
# pages fold into their menus so that a manager's or an administrator's bar fits a 1366-px office screen.
FLAT_UP_TO = 9

# (label, url name, key, who sees it, group). Later work appends its pages here.
_NAV: list[tuple[str, str, str, tuple[str, ...], str]] = [
    ("今日工作", "worklist:queue", "work-queue", ("is_phone_collector", "is_field_collector"), ""),
    ("委案列表", "cases:case-list", "cases", ("any",), ""),
    ("实时看板", "cases:dashboard", "dashboard", ("is_manager", "is_sysadmin"), ""),
    ("批次导入", "cases:batch-import", "import", ("is_clerk",), CASES),
    ("银行文件导入", "mappings:upload", "bank-import", ("is_clerk",), CASES),
    ("批次列表", "cases:batch-list", "batches", ("is_clerk", "is_manager", "is_sysadmin"), CASES),
    ("分配委案", "cases:assign", "assign", ("is_clerk", "is_manager"), CASES),
    ("离职交接", "cases:orphans", "handover", ("is_clerk", "is_manager"), CASES),
    ("回款文件", "cases:repayment-file", "repayment-file", ("is_clerk",), CASES),
    ("退案与留案", "cases:return-list", "returns", ("is_clerk", "is_manager"), CASES),
    ("资料请求", "cases:docreq-inbox", "docreq", ("is_clerk", "is_manager"), CASES),
    ("我的资料请求", "cases:docreq-mine", "docreq-mine", ("is_phone_collector", "is_field_collector"), CASES),
    ("投诉列表", "cases:complaint-list", "complaints", ("is_clerk", "is_manager", "is_sysadmin"), CASES),
    ("线路", "cases:lines-board", "lines", ("is_manager", "is_sysadmin"), CALLS),
    ("未接来电", "cases:missed-calls", "missed-calls",
     ("is_phone_collector", "is_field_collector", "is_clerk", "is_manager"), CALLS),
    ("未匹配录音", "cases:recording-unmatched", "recordings",
     ("is_phone_collector", "is_field_collector", "is_manager"), CALLS),
    ("拨打规则", "cases:call-rules", "call-rules", ("is_manager",), CALLS),
    ("外显号码", "callerids:number-list", "caller-ids", ("is_manager", "is_sysadmin"), CALLS),
    ("报表", "cases:reports", "reports", ("is_clerk", "is_manager", "is_sysadmin"), RESULTS),
    ("业务员工作", "worklist:collector-list", "collector-work", ("is_clerk", "is_manager"), RESULTS),
    ("承诺还款统计", "worklist:promise-stats", "promise-stats", ("is_clerk", "is_manager"), RESULTS),
    ("目标与排名", "performance:ranking", "ranking", ("is_manager", "is_sysadmin"), RESULTS),
    ("提成", "performance:statements", "commission", ("is_manager", "is_sysadmin"), RESULTS),
    ("我的提成", "performance:statement-mine", "my-commission", ("is_phone_collector", "is_field_collector"), RESULTS),
    ("导出", "cases:exports", "cases-export", ("is_manager",), RESULTS),
    ("贷前评估", "assessment:applicant-list", "assessment", ("is_manager", "is_clerk"), ""),
    ("催收设置", "worklist:settings", "work-settings", ("is_manager",), SETTINGS),
    ("模板下载", "cases:template-list", "templates", ("any",), SETTINGS),
    ("账号管理", "ops:user-list", "ops-users", ("is_sysadmin",), SYSTEM),
    ("审计日志", "ops:audit-list", "ops-audit", ("is_sysadmin",), SYSTEM),
    ("VPN 账号", "ops:vpn-list", "ops-vpn", ("is_sysadmin",), SYSTEM),
    ("备份", "ops:backup-list", "ops-backups", ("is_sysadmin",), SYSTEM),
    ("系统健康", "ops:health", "ops-health", ("is_sysadmin",), SYSTEM),
    ("基础资料", "ops:bank-list", "master-data", ("is_sysadmin",), SYSTEM),
]


def navigation(request: HttpRequest) -> dict[str, object]:
    """`nav_items`: every page the user may open, in menu order; `nav_entries`: the top bar, where each entry is
    a NavItem (a link) or a NavGroup (a menu) once the pages no longer fit side by side (FLAT_UP_TO)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_entries": []}
    visible: list[tuple[NavItem, str]] = []
    for label, url_name, key, roles, group in _NAV:
        if "any" not in roles and not any(getattr(user, role, False) for role in roles):
            continue
        try:
            visible.append((NavItem(label=label, url=reverse(url_name), key=key), group))
        except NoReverseMatch:
            continue  # the page belongs to work not installed in this build
    items = [item for item, _ in visible]
    if len(items) <= FLAT_UP_TO:
        return {"nav_items": items, "nav_entries": items}
    members: dict[str, list[NavItem]] = {}
    for item, group in visible:
        if group:
            members.setdefault(group, []).append(item)
    entries: list[NavItem | NavGroup] = []
    placed: set[str] = set()
    for item, group in visible:
        if not group or len(members[group]) == 1:
            entries.append(item)
        elif group not in placed:
            placed.add(group)
            entries.append(NavGroup(label=group, items=tuple(members[group])))
    return {"nav_items": items, "nav_entries": entries}
