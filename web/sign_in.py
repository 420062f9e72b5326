"""Signing in: the store chosen without guessing, passwords, single sign-on, API tokens.

The store comes from the URL (``/s/<store>/sign-in``), from the only store there is (then the
form has no organisation field), or from the email's domain (``sign_in_domains``); the
organisation field is asked only when none of these says. Passwords go through
``objectives.accounts.verify_password`` (throttled); a store can turn them off
(``sign_in_settings``), on the pages and on ``POST /api/tokens``. Single sign-on is OpenID
Connect (``directory.sign_in.oidc``): ``/s/<store>/sign-in/sso`` leaves for the provider,
``/sign-in/sso/callback`` comes back; failed callbacks count against the client address like
wrong passwords. A signed-in page session makes ``/api`` bearer tokens at ``/account/api-token``
(the way in to the API for people who sign in with single sign-on).
"""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from directory.sign_in import services as sign_ins
from directory.sign_in.oidc import Client, ProviderUnavailable, SignInRefused, relying_party
from lrs.db import read_transaction, write_transaction
from lrs.errors import Forbidden, LrsError
from lrs.models import Store
from lrs.runtime import lrs_runtime
from lrs.throttle import TooManyAttempts, counters
from objectives import accounts
from objectives.errors import NotSignedIn
from objectives.models import Account
from web import forms
from web.blueprint import base_url, error_page, pages, signed_in
from web.i18n import say
from web.security import check_csrf, sign_in_session

PASSWORDS_OFF = _l("This organisation signs in with single sign-on only.")
WHICH_ORGANISATION = _l(
    "Which organisation? Your email's domain does not say; type your organisation's short name."
)


@pages.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    """The sign-in page: no organisation field when there is one store or the email says."""
    with read_transaction(lrs_runtime().sessions) as db:
        store = sign_ins.only_store(db)
        settings = sign_ins.settings_of(db, store) if store else None
    return _sign_in(settings)


@pages.route("/s/<store_name>/sign-in", methods=["GET", "POST"])
def store_sign_in(store_name: str):
    """A store's own sign-in page, to bookmark or link from the intranet."""
    with read_transaction(lrs_runtime().sessions) as db:
        store = sign_ins.find_store(db, store_name)
        if store is None:
            abort(
                404,
                description=_(
                    "There is no organisation called %(name)s here.", name=repr(store_name[:100])
                ),
            )
        settings = sign_ins.settings_of(db, store)
    return _sign_in(settings)


def _sign_in(settings: sign_ins.Settings | None):
    """The form, or its answer. ``settings`` None: the store is not known yet."""
    if request.method == "GET":
        return _page(settings)
    check_csrf()
    form = request.form
    runtime = lrs_runtime()
    if settings is None:
        with read_transaction(runtime.sessions) as db:
            named = form.get("store", "").strip()
            store = (
                sign_ins.find_store(db, named)
                if named
                else sign_ins.store_for_email(db, form.get("email", ""))
            )
            chosen = sign_ins.settings_of(db, store) if store else None
        if "sso" in form:
            if chosen is None or not chosen.oidc_enabled:
                message = (
                    _("This organisation does not use single sign-on.")
                    if chosen or named
                    else WHICH_ORGANISATION
                )
                return _page(None, message, 400)
            return redirect(_sso_url(chosen))
        if chosen is None and not named:
            return _page(None, WHICH_ORGANISATION, 400)
        store_name = named or (chosen.store_name if chosen else "")
    else:
        chosen, store_name = settings, settings.store_name
    if chosen is not None and not chosen.password_enabled:
        return _page(settings, PASSWORDS_OFF, 403)
    try:
        account_id = accounts.verify_password(
            runtime.sessions,
            runtime.throttle,
            store_name,
            form.get("email", ""),
            form.get("password", ""),
            request.remote_addr,
        )
    except TooManyAttempts as exc:
        error = _too_many_attempts(exc.retry_after)
        return _page(settings, error, 429, {"Retry-After": str(exc.retry_after)})
    except LrsError:
        error = _("That email and password do not match an account of this organisation.")
        return _page(settings, error, 401)
    with read_transaction(runtime.sessions) as db:
        sign_in_session(db.get(Account, account_id))
    return redirect(forms.safe_next(request.args.get("next")) or url_for("web.home"))


def _page(settings, error: str | None = None, status: int = 200, headers=None):
    page = render_template(
        "sign_in.html",
        error=error,
        form=request.form,
        settings=settings,
        sso_url=_sso_url(settings) if settings and settings.oidc_enabled else None,
    )
    return page, status, headers or {}


def _too_many_attempts(retry_after: int) -> str:
    """The throttle's refusal, with the wait rounded up to whole minutes."""
    minutes = -(-retry_after // 60)
    return ngettext(
        "Too many attempts. Try again in %(num)s minute.",
        "Too many attempts. Try again in %(num)s minutes.",
        minutes,
    )


def _unreachable(exc: ProviderUnavailable) -> str:
    return _("The identity provider cannot be reached: %(why)s", why=say(exc.message))


def _sso_url(settings: sign_ins.Settings) -> str:
    next_url = forms.safe_next(request.args.get("next"))
    return url_for("web.sso_start", store_name=settings.store_name, next=next_url)


# ---- single sign-on ------------------------------------------------------------------------


def _client(settings: sign_ins.Settings, secret: str = "") -> Client:
    return Client(
        issuer=settings.issuer or "",
        client_id=settings.client_id or "",
        client_secret=secret,
        redirect_uri=base_url() + url_for("web.sso_callback"),
    )


@pages.get("/s/<store_name>/sign-in/sso")
def sso_start(store_name: str):
    """Leave for the store's OpenID provider, with a fresh state, nonce and PKCE verifier."""
    with read_transaction(lrs_runtime().sessions) as db:
        store = sign_ins.find_store(db, store_name)
        settings = sign_ins.settings_of(db, store) if store else None
    if settings is None or not settings.oidc_enabled:
        abort(404, description=_("This organisation does not use single sign-on."))
    try:
        url, pending = relying_party().begin(_client(settings))
    except ProviderUnavailable as exc:
        return error_page(502, _unreachable(exc))
    session["sso"] = {
        **pending,
        "store_id": settings.store_id,
        "next": forms.safe_next(request.args.get("next")) or "",
        "at": lrs_runtime().clock(),
    }
    return redirect(url)


@pages.get("/sign-in/sso/callback")
def sso_callback():
    """Back from the provider: check everything, then sign in the account of the verified email.

    Refusals (wrong state, nonce, signature, audience, an unverified or foreign email, no
    account) are a 401 page naming the check, and count against the client address like a
    wrong password; at the limit a 429 comes before any call to the provider.
    """
    runtime = lrs_runtime()
    pending = session.pop("sso", None)
    if not isinstance(pending, dict) or not isinstance(pending.get("store_id"), int):
        return error_page(400, _("This sign-in was not started here, or it is over. Start again."))
    party = relying_party()
    if not 0 <= runtime.clock() - pending.get("at", 0) < party.config.login_seconds * 1000:
        return error_page(400, _("This sign-in took too long. Start again."))
    with read_transaction(runtime.sessions) as db:
        store = db.get(Store, pending["store_id"])
        settings = sign_ins.settings_of(db, store) if store else None
    if settings is None or not settings.oidc_enabled:
        return error_page(400, _("This organisation does not use single sign-on any more."))
    # Per address only: a counter per store would let anyone lock a whole company out.
    counted = {
        name: limit
        for name, limit in counters("sso", settings.store_name, request.remote_addr).items()
        if not name.startswith("who:")
    }
    throttle = runtime.throttle
    try:
        if throttle:
            throttle.check(counted)
        with read_transaction(runtime.sessions) as db:
            secret = sign_ins.client_secret(db, _secret_box(), settings.store_id)
        identity = party.finish(_client(settings, secret), pending, request.args.to_dict())
        if not sign_ins.email_allowed(settings, identity.email):
            raise SignInRefused(
                _("%(email)s is not an address of this organisation", email=identity.email)
            )
        with write_transaction(runtime.sessions) as db:
            account = sign_ins.account_for_identity(db, settings.store_id, identity.email)
            sign_in_session(account)
    except TooManyAttempts as exc:
        page, status = error_page(429, _too_many_attempts(exc.retry_after))
        return page, status, {"Retry-After": str(exc.retry_after)}
    except ProviderUnavailable as exc:
        return error_page(502, _unreachable(exc))
    except (SignInRefused, NotSignedIn) as exc:
        if throttle:
            throttle.failed(counted)
        why = say(exc.message)
        return error_page(401, _("Single sign-on did not sign you in: %(why)s.", why=why))
    if throttle:
        throttle.succeeded(counted)
    return redirect(forms.safe_next(pending.get("next")) or url_for("web.home"))


def _secret_box() -> sign_ins.SecretBox:
    return sign_ins.SecretBox(lrs_runtime().instance_secret())


# ---- API tokens and passwords turned off -------------------------------------------------


@pages.route("/account/api-token", methods=["GET", "POST"])
def api_token():
    """Make a bearer token for ``/api`` from a page session (shown once)."""
    if request.method == "GET":  # reads never write
        with read_transaction(lrs_runtime().sessions) as db:
            _token_maker(db)
        return render_template("api_token.html", token=None)
    with write_transaction(lrs_runtime().sessions) as db:
        viewer = _token_maker(db)
        check_csrf()
        name = request.form.get("name", "").strip()[:200] or "made on the pages"
        token = accounts.issue_token(db, db.get(Account, viewer.account_id), name)
    return render_template("api_token.html", token=token), 201


def _token_maker(db):
    viewer = signed_in(db)
    if g.get("launch_token"):
        abort(403, description=_("Make API tokens outside the LMS, on Learnloop's own pages."))
    return viewer


@pages.before_app_request
def _passwords_off_for_api():
    """``POST /api/tokens`` refuses passwords for a store that turned them off (403)."""
    if request.endpoint != "api.create_token":
        return None
    body = request.get_json(silent=True)
    store_name = body.get("store") if isinstance(body, dict) else None
    if not isinstance(store_name, str):
        return None  # the route answers with its own 400
    with read_transaction(lrs_runtime().sessions) as db:
        allowed = sign_ins.password_allowed(db, store_name)
    if not allowed:
        raise Forbidden(
            "this organisation signs in with single sign-on only; sign in on the pages and "
            "make a token at /account/api-token"
        )
    return None
