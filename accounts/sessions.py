"""Is a login session still good for live updates? The websocket consumers ask on connect, on every client
frame and every minute or so, so a socket never outlives the session it was opened with.

A session is good while it exists and has not expired (idle timeout: SESSION_COOKIE_AGE counted from the last
request), names an active user, still carries that user's password hash (a changed or reset password ends
every session), and the user has nothing to do first (a temporary password to change, a second factor to
enrol). Must not import `cases` or `realtime`.
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.utils.crypto import constant_time_compare

from accounts.models import User

# Set at sign-in for a 系统管理员 or 管理人员 without a second factor: until they enrol one, the session reaches
# only the enrolment page (accounts.middleware) and no websocket.
OTP_ENROL_REQUIRED_KEY = "otp_enrol_required"


def session_refusal(*, session_key: str | None, user_id: int) -> str | None:
    """Why the session `session_key` may no longer be used by `user_id` for live updates (None: it may)."""
    if not session_key:
        return "no session"
    engine = import_module(settings.SESSION_ENGINE)
    data = engine.SessionStore(session_key).load()  # {} once it expired or was deleted (logout)
    if not data:
        return "session ended"
    if str(data.get(SESSION_KEY)) != str(user_id):
        return "another user"
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.is_active:
        return "account inactive"
    stored_hash = data.get(HASH_SESSION_KEY)
    if not (isinstance(stored_hash, str) and constant_time_compare(stored_hash, user.get_session_auth_hash())):
        return "password changed"
    if user.must_change_password:
        return "must change password"
    if data.get(OTP_ENROL_REQUIRED_KEY):
        return "second factor not enrolled"
    return None
