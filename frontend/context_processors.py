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


# (label, url name, key, who sees it). Later work appends its pages here.
_NAV: list[tuple[str, str, str, tuple[str, ...]]] = [
    ("今日工作", "worklist:queue", "work-queue", ("is_phone_collector", "is_field_collector")),
    ("委案列表", "cases:case-list", "cases", ("any",)),
    ("批次导入", "cases:batch-import", "import", ("is_clerk",)),
    ("银行文件导入", "mappings:upload", "bank-import", ("is_clerk",)),
    ("批次列表", "cases:batch-list", "batches", ("is_clerk", "is_manager", "is_sysadmin")),
    ("实时看板", "cases:dashboard", "dashboard", ("is_manager", "is_sysadmin")),
    ("资料请求", "cases:docreq-inbox", "docreq", ("is_clerk", "is_manager")),
    ("我的资料请求", "cases:docreq-mine", "docreq-mine", ("is_phone_collector", "is_field_collector")),
    ("分配委案", "cases:assign", "assign", ("is_clerk", "is_manager")),
    ("离职交接", "cases:orphans", "handover", ("is_clerk", "is_manager")),
    ("投诉列表", "cases:complaint-list", "complaints", ("is_clerk", "is_manager", "is_sysadmin")),
    ("线路", "cases:lines-board", "lines", ("is_manager", "is_sysadmin")),
    ("拨打规则", "cases:call-rules", "call-rules", ("is_manager",)),
    ("外显号码", "callerids:number-list", "caller-ids", ("is_manager", "is_sysadmin")),
    ("未接来电", "cases:missed-calls", "missed-calls",
     ("is_phone_collector", "is_field_collector", "is_clerk", "is_manager")),
    ("目标与排名", "performance:ranking", "ranking", ("is_manager", "is_sysadmin")),
    ("提成", "performance:statements", "commission", ("is_manager", "is_sysadmin")),
    ("我的提成", "performance:statement-mine", "my-commission", ("is_phone_collector", "is_field_collector")),
    ("未匹配录音", "cases:recording-unmatched", "recordings",
     ("is_phone_collector", "is_field_collector", "is_manager")),
    ("回款文件", "cases:repayment-file", "repayment-file", ("is_clerk",)),
    ("退案与留案", "cases:return-list", "returns", ("is_clerk", "is_manager")),
    ("报表", "cases:reports", "reports", ("is_clerk", "is_manager", "is_sysadmin")),
    ("业务员工作", "worklist:collector-list", "collector-work", ("is_clerk", "is_manager")),
    ("承诺还款统计", "worklist:promise-stats", "promise-stats", ("is_clerk", "is_manager")),
    ("催收设置", "worklist:settings", "work-settings", ("is_manager",)),
    ("导出", "cases:exports", "cases-export", ("is_manager",)),
    ("模板下载", "cases:template-list", "templates", ("any",)),
    ("贷前评估", "assessment:applicant-list", "assessment", ("is_manager", "is_clerk")),
    ("账号管理", "ops:user-list", "ops-users", ("is_sysadmin",)),
    ("审计日志", "ops:audit-list", "ops-audit", ("is_sysadmin",)),
    ("VPN 账号", "ops:vpn-list", "ops-vpn", ("is_sysadmin",)),
    ("备份", "ops:backup-list", "ops-backups", ("is_sysadmin",)),
    ("系统健康", "ops:health", "ops-health", ("is_sysadmin",)),
    ("基础资料", "ops:bank-list", "master-data", ("is_sysadmin",)),
]


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items: list[NavItem] = []
    for label, url_name, key, roles in _NAV:
        if "any" not in roles and not any(getattr(user, role, False) for role in roles):
            continue
        try:
            items.append(NavItem(label=label, url=reverse(url_name), key=key))
        except NoReverseMatch:
            continue  # the page belongs to work not installed in this build
    return {"nav_items": items}
