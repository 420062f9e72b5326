"""Sign-in sessions, CSRF tokens and the Content-Security-Policy of the pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from flask import Response, abort, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.orm import Session

from lrs.runtime import lrs_runtime
from objectives.accounts import Viewer, session_account, session_fields, viewer_of
from objectives.models import Account
from web.i18n import use_locale_for_names

STALE_FORM = "This form expired or did not come from Learnloop. Reload the page and try again."
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors {ancestors}"
)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions; the cookie is Secure on https requests as well.

    The xAPI resources authenticate every request by its credentials and never read the cookie:
    they get no session, which spares each statement request the cookie's signature check.
    """

    def open_session(self, app, request):
        if request.path.startswith("/xapi/"):
            return None  # Flask's null session: reads see nothing, a write would fail loudly
        return super().open_session(app, request)

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def sign_in_session(account: Account) -> None:
    """Start a session for the account (a fresh CSRF token, the account's session epoch)."""
    session.clear()
    session.update(session_fields(account, _now()))
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = False


def _now() -> dt.datetime:
    return dt.datetime.fromtimestamp(lrs_runtime().clock() / 1000, dt.UTC)


def session_viewer(db: Session) -> Viewer | None:
    """The signed-in account: the session cookie, or inside an LMS the launch token ``lt``."""
    launch_token = request.values.get("lt")
    if launch_token:
        return launch_viewer(db, launch_token)
    if not session.get("account_id"):
        return None
    account = session_account(db, session, _now())
    if account is None:
        session.clear()
        return None
    g.account_locale = account.locale
    use_locale_for_names()
    return viewer_of(account)


def launch_viewer(db: Session, token: str) -> Viewer:
    """Sign-in through an LTI launch; frames allowed for the launching platform only."""
    from objectives.lti_hooks import launch_sign_in

    viewer, origins, locale = launch_sign_in(db, token)
    g.frame_ancestors = " ".join(origins) or "'self'"
    g.launch_token = token
    g.launch_locale = locale
    use_locale_for_names()
    return viewer


def csrf_token() -> str:
    """The form token: the session's, or in an LMS an HMAC of the launch token (no cookie)."""
    if g.get("launch_token"):
        return _launch_csrf(g.launch_token)
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a POST whose form token does not match the session's (400, nothing changes)."""
    sent = request.form.get("csrf_token", "")
    launch_token = request.form.get("lt")
    expected = _launch_csrf(launch_token) if launch_token else session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description=STALE_FORM)


def _launch_csrf(launch_token: str) -> str:
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"csrf:" + launch_token.encode(), hashlib.sha256).hexdigest()


def secure_headers(response: Response, frame_ancestors: str = "'self'") -> Response:
    response.headers["Content-Security-Policy"] = CSP.format(
        ancestors=g.get("frame_ancestors", frame_ancestors)
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
