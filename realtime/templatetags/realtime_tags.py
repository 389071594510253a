"""Template tags of the page shell's realtime parts: where the websocket catches up from, the bell count."""

from __future__ import annotations

from django import template

from cases.selectors.notifications import user_event_last_id
from cases.selectors.reminders import reminder_count_unread

register = template.Library()


@register.simple_tag(takes_context=True)
def rt_last_event_id(context: template.Context) -> int:
    """The newest stored event of the signed-in user: this page reflects everything up to it."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return 0
    return user_event_last_id(user_id=user.pk)


@register.simple_tag(takes_context=True)
def reminder_unread_count(context: template.Context) -> int:
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return 0
    return reminder_count_unread(user=user)
