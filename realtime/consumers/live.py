"""LiveConsumer at /ws/live/: the one websocket of every page.

It joins the user's own group (reminders, read-state sync, chat notices: stored and replayed) plus the
topics the page asks for in `?topics=` (e.g. `case:12`, `dashboard`), each checked by policy.
"""

from __future__ import annotations

from accounts.models import User
from realtime import groups
from realtime.consumers.base import AppConsumer, topics_groups


class LiveConsumer(AppConsumer):
    def groups_for(self, user: User) -> list[str]:
        return [groups.user(user.pk), *topics_groups(user, self.query_param("topics"), into=self.topic_groups)]
