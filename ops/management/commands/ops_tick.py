"""manage.py ops_tick: one round of system-administration checks (VPN expiry reminders, a due backup).

The scheduler calls ops.backup.ops_tick() every tick; this command runs it by hand (or from cron).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from ops.actions import vpn_expiry_check
from ops.backup import backup_run_if_due


class Command(BaseCommand):
    help = "运维检查：VPN 账号到期提醒；到了备份时间则执行当天的定时备份"

    def handle(self, *args: object, **options: object) -> None:
        reminded = vpn_expiry_check()
        run_id = backup_run_if_due(background=False)
        done = f"已执行定时备份 #{run_id}" if run_id else "无需备份"
        self.stdout.write(f"VPN 到期提醒 {len(reminded)} 个；{done}")
