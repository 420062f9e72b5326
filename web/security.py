"""Sign-in sessions, CSRF tokens and the Content-Security-Policy of the pages."""

from __future__ import annotations

import hmac
import secrets

from flask import Response, abort, g, request, session
from sqlalchemy.orm import Session

from objectives.accounts import Viewer, viewer_of
from objectives.models import Account

STALE_FORM = "This form expired or did not come from Learnloop. Reload the page and try again."
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors {ancestors}"
)


def sign_in_session(account: Account) -> None:
    """Start a session for the account (a fresh CSRF token, the account's session epoch)."""
    session.clear()
    session["account_id"] = account.id
    session["epoch"] = account.session_epoch
    session["csrf"] = secrets.token_urlsafe(32)
    session.permanent = False


def session_viewer(db: Session) -> Viewer | None:
    account_id = session.get("account_id")
    if not account_id:
        return None
    account = db.get(Account, account_id)
    if account is None or account.disabled_at or session.get("epoch") != account.session_epoch:
        session.clear()
        return None
    return viewer_of(account)


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse a POST whose form token does not match the session's (400, nothing changes)."""
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description=STALE_FORM)


def secure_headers(response: Response, frame_ancestors: str = "'self'") -> Response:
    response.headers["Content-Security-Policy"] = CSP.format(
        ancestors=g.get("frame_ancestors", frame_ancestors)
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    return response
