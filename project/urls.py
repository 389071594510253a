from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "催收管控平台 · 系统维护"
admin.site.site_title = "催收管控平台"
admin.site.index_title = "只读查看（紧急情况使用；所有修改请在系统页面中进行）"
# Every admin registration is read-only and third-party writable ones are removed (accounts/apps.py → admin.py).

urlpatterns = [
    path("", include("frontend.urls")),
    path("accounts/", include("accounts.urls")),
    path("cases/", include("cases.urls")),
    path("ops/", include("ops.urls")),
    path("assessment/", include("assessment.urls")),
    path("imports/", include("mappings.urls")),
    path("work/", include("worklist.urls")),
    path("caller-ids/", include("callerids.urls")),
    path("performance/", include("performance.urls")),
    path("dialing/", include("progressive.urls")),
    path("admin/", admin.site.urls),
]
