"""Ending the live updates of a session or an account when its access ends (connected in RealtimeConfig.ready).

Whatever path ends it, the sockets hear it at once, in every web process (through the channel layer):
- a logout ends the sockets of that one session (SessionEnded → `session.<digest>`);
- deactivating an account, resetting or changing its password, or requiring a password change ends the
  sockets of every session of the account (AccountSignedOut → `account.<id>`). A post_save receiver on the
  user model rather than a line in each action: the ops pages, Django admin, `manage.py changepassword` and
  the password page all save the user, and none of them may be forgotten.
Idle expiry has no moment to announce: the consumers re-check the session on every client frame and every
REALTIME_SESSION_CHECK_SECONDS (accounts.sessions).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.http import HttpRequest

from accounts.models import User
from realtime import groups
from realtime.events_access import AccountSignedOut, SessionEnded
from realtime.publish import publish_on_commit


def _session_logged_out(sender: type, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    # Sent before the session is flushed: its key still names the sockets opened with it.
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if session_key:
        publish_on_commit(SessionEnded(reason="logout"), to=[groups.session(session_key)])


def _account_saved(sender: type, instance: User, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    if created or instance.pk is None:
        return
    if not instance.is_active:
        reason = "deactivated"
    elif getattr(instance, "_password", None) is not None:  # set_password() in this save (reset or changed)
        reason = "password_changed"
    elif instance.must_change_password:
        reason = "must_change_password"
    else:
        return
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a sign-in of a user who still has to change the password: nothing new to end
    publish_on_commit(AccountSignedOut(user_id=instance.pk, reason=reason), to=[groups.account(instance.pk)])


def connect() -> None:
    user_logged_out.connect(_session_logged_out, dispatch_uid="realtime.access.session_logged_out")
    post_save.connect(_account_saved, sender=User, dispatch_uid="realtime.access.account_saved")
