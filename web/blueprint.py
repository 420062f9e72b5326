"""The pages' blueprint and what every page shares: errors, headers, the signed-in viewer.

``web.views`` (people's pages) and ``web.admin_views`` (administration) add their routes to
``pages``; ``web.routes`` gathers them for the shell.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from lrs.auth import SCOPES
from lrs.errors import LrsError
from lrs.runtime import lrs_runtime
from web import i18n
from web.security import SessionInterface, csrf_token, secure_headers, session_viewer

pages = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
)


@pages.record_once
def _sessions(state) -> None:
    state.app.session_interface = SessionInterface()
    i18n.init_app(state.app)


TITLES = {
    400: _l("That did not work"),
    401: _l("Please sign in"),
    403: _l("Not for your role"),
    404: _l("Not found"),
    409: _l("Already there"),
    413: _l("Too large"),
}


def error_page(status: int, message: str, request_id: str | None = None):
    """The page of an error; a 500 (``learnloop.errors``) names only its request id."""
    return render_template(
        "error.html",
        title=TITLES.get(status) or _("Something went wrong"),
        message=i18n.say(message),
        request_id=request_id,
    ), status


@pages.errorhandler(LrsError)
def _lrs_error(error: LrsError):
    return error_page(error.status, error.message)


@pages.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    return error_page(error.code or 500, error.description or "")


@pages.url_defaults
def _carry_launch_token(endpoint: str, values: dict) -> None:
    """Inside an LMS, links between pages carry the launch token instead of a cookie."""
    if g.get("launch_token") and endpoint.startswith("web.") and endpoint != "web.static":
        values.setdefault("lt", g.launch_token)


@pages.app_context_processor
def _template_globals():
    return {
        "csrf_token": csrf_token,
        "viewer": g.get("viewer"),
        "SCOPES": SCOPES,
        "launch_token": g.get("launch_token"),
    }


@pages.after_app_request
def _headers(response):
    # /lti pages set their own headers: they live in the LMS's iframe and post back to it.
    if not request.path.startswith(("/xapi", "/api", "/lti")):
        secure_headers(response)
    return response


def base_url() -> str:
    return lrs_runtime().public_url.rstrip("/")


def signed_in(db):
    viewer = session_viewer(db)
    if viewer is None:
        abort(redirect(url_for("web.sign_in", next=request.full_path)))
    g.viewer = viewer
    return viewer


def signed_in_admin(db):
    viewer = signed_in(db)
    if not viewer.is_admin:
        abort(403, description="Only administrators of this organisation can open this page.")
    return viewer


@pages.app_template_filter("ago")
def ago(iso: str) -> str:
    """``2026-12-02T10:00:04Z`` as "4 s ago", "3 min ago", "2 h ago" or the date."""
    moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    seconds = max(0, int((dt.datetime.now(dt.UTC) - moment).total_seconds()))
    if seconds < 60:
        return _("%(n)s s ago", n=seconds)
    if seconds < 3600:
        return _("%(n)s min ago", n=seconds // 60)
    if seconds < 86400:
        return _("%(n)s h ago", n=seconds // 3600)
    return _("on %(date)s", date=i18n.date_filter(moment.date()))
