from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "账号与权限"

    def ready(self) -> None:
        # django.contrib.admin's ready() (earlier in INSTALLED_APPS) has loaded every app's admin module by now.
        from django.contrib import admin

        from accounts import signals  # noqa: F401  (connects the login audit receivers)
        from accounts.admin import lock_down

        lock_down(admin.site)
