"""The LTI endpoints an LMS calls, the pages after a launch, and the admin API.

Thin: parse, call the database modules (``keys``, ``registrations``, ``launches``,
``placements``, ``rosters``) and the pure rules, render. Browser-facing errors are HTML pages
with the reason (JSON when the client asks for it), logged without any token.

``/lti/login`` and ``/lti/launch`` are cross-site requests from the LMS and must stay exempt
from any CSRF protection added later (``CSRF_EXEMPT_ENDPOINTS``). The tool's own forms need
none: they carry the signed launch token in a field, which another site cannot read.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)

from lrs import metrics
from lrs.api import source_principal
from lrs.catalogue import M_
from lrs.db import read_transaction, write_transaction
from lrs.errors import LrsError
from lrs.http import error_response
from lrs.people import services as people
from lrs.runtime import current_principal, lrs_runtime
from lti import canvas, explain, launches, oidc, placements, registrations, rosters, tasks
from lti import claims as c
from lti import deep_linking as dl
from lti import keys as tool_keys
from lti import statements as st
from lti.errors import (
    DeepLinkingRejected,
    MissingLaunchParameter,
    NotAllowed,
    PlatformReportedError,
    PlatformServiceError,
    ServiceNotGranted,
)
from lti.launch import Expected, origin, validate_id_token
from lti.models import Context, Launch, Registration, ResourceLink, utc
from lti.runtime import runtime
from schemas import lti as schemas

log = logging.getLogger("learnloop.lti")

lti = Blueprint("lti", __name__, url_prefix="/lti", template_folder="templates",
                static_folder="static", static_url_path="/static")  # fmt: skip
admin = Blueprint("lti_admin", __name__, url_prefix="/api/admin/lti")

CSRF_EXEMPT_ENDPOINTS = frozenset({"lti.login", "lti.launch"})
STATE_COOKIE_PATH = "/lti/"


# ==== page helpers ===============================================================================


def _sessions():
    return lrs_runtime().sessions


def _base_url() -> str:
    """The tool's public base URL: LEARNLOOP_PUBLIC_URL, never a request's Host header."""
    return lrs_runtime().public_url.rstrip("/")


def _own_origins() -> tuple[str, ...]:
    return (origin(lrs_runtime().public_url),)


def _page(
    template: str,
    *,
    status: int = 200,
    frame_origins: list[str] | None = None,
    form_targets: tuple[str, ...] = (),
    **context: Any,
) -> Response:
    """A server-rendered page with the headers every LTI page needs.

    ``frame-ancestors`` names the registration's platform origins (never X-Frame-Options:
    DENY, which would break the LMS iframe); no inline script runs anywhere.
    """
    response = Response(render_template(template, **context), status=status)
    ancestors = " ".join(frame_origins) if frame_origins else "'none'"
    actions = " ".join(("'self'", *form_targets))
    headers = {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"form-action {actions}; frame-ancestors {ancestors}; base-uri 'none'"
        ),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    response.headers.update(headers)
    g.lti_headers = headers
    return response


@lti.after_app_request
def _keep_lti_headers(response: Response) -> Response:
    """Restore this page's headers if an app-wide hook replaced them.

    A site-wide CSP with ``frame-ancestors 'self'`` and ``form-action 'self'`` would stop the
    LMS from framing the tool and the Deep Linking response from reaching the platform. App-wide
    hooks run in reverse order of registration, and this one is registered first.
    """
    headers = g.get("lti_headers")
    if headers and request.blueprint == "lti":
        response.headers.update(headers)
    return response


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


@lti.errorhandler(LrsError)
def _lti_error(error: LrsError):
    """Every rejection as a page (or JSON) with its reason; logged without tokens."""
    level = logging.WARNING if error.status >= 500 else logging.INFO
    log.log(level, "lti %s %s rejected: %s: %s", request.method, request.path, error.code,
            error.message)  # fmt: skip
    if request.endpoint == "lti.launch":
        metrics.count_lti_launch(error.code)
    if _wants_json():
        return error_response(error)
    # An error page has no actions, so any LMS may frame it: the user then reads the reason
    # inside the course instead of a blank frame.
    return _page(
        "lti/error.html",
        status=error.status,
        frame_origins=g.get("lti_frame_origins") or ["*"],
        error=error,
    )


# ==== OIDC login initiation ======================================================================


@lti.route("/login", methods=["GET", "POST"])
def login():
    """Third-party initiated login: bind a fresh state to the browser, redirect to the platform."""
    params = request.form if request.method == "POST" else request.args
    login_request = oidc.parse_login(params)
    rt = runtime()
    now = rt.now()
    oidc.check_target_link_uri(login_request.target_link_uri, _own_origins())
    with write_transaction(_sessions()) as session:
        registration = registrations.find_registration(
            session, login_request.iss, login_request.client_id
        )
        g.lti_frame_origins = registrations.platform_origins(registration)
        row = launches.begin_login(
            session, registration, login_request, now, rt.config.login_seconds
        )
        state, storage_target = row.state, row.storage_target
        auth_url = oidc.authentication_url(
            registration.auth_login_url,
            client_id=registration.client_id,
            redirect_uri=_base_url() + "/lti/launch",
            login_hint=login_request.login_hint,
            lti_message_hint=login_request.lti_message_hint,
            state=row.state,
            nonce=row.nonce,
        )
        platform_origin = origin(registration.auth_login_url)
    if storage_target:
        # The platform offers platform storage: keep the state there too, then go on. The
        # cookie is still set, for browsers that allow it.
        response = _page(
            "lti/storage_login.html",
            frame_origins=g.lti_frame_origins,
            state=state,
            platform_origin=platform_origin,
            storage_target=storage_target,
            auth_url=auth_url,
        )
    else:
        response = redirect(auth_url, 302)
        response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        oidc.state_cookie_name(state),
        state,
        max_age=rt.config.login_seconds,
        path=STATE_COOKIE_PATH,
        secure=True,
        httponly=True,
        samesite="None",
        partitioned=True,
    )
    return response


# ==== launch =====================================================================================


@lti.route("/launch", methods=["GET"])
def launch_get():
    raise MissingLaunchParameter("id_token")


@lti.post("/launch")
def launch():
    """The redirect URI: check state, then the id_token, record the launch, show the page."""
    form = request.form
    if form.get("error") and not form.get("id_token"):
        error, description = form["error"][:100], (form.get("error_description") or "")[:300]
        raise PlatformReportedError(
            M_(
                "the platform refused the login: %(error)s (%(description)s)",
                error=error,
                description=description,
            )
            if description
            else M_("the platform refused the login: %(error)s", error=error)
        )
    id_token = form.get("id_token")
    if not id_token:
        raise MissingLaunchParameter("id_token")
    state = form.get("state")
    if not state:
        raise MissingLaunchParameter("state")
    rt = runtime()
    now = rt.now()
    cookie_name = oidc.state_cookie_name(state)
    with read_transaction(_sessions()) as session:
        bound = launches.bind_state(
            session, state, request.cookies.get(cookie_name), form.get("lti_storage_state"), now
        )
    g.lti_frame_origins = bound.frame_origins
    if bound.needs_storage_check:
        metrics.count_lti_launch("storage_check")
        return _page(
            "lti/storage_launch.html",
            frame_origins=bound.frame_origins,
            id_token=id_token,
            state=state,
            platform_origin=bound.platform_origin,
            storage_target=bound.storage_target,
        )
    with write_transaction(_sessions()) as session:
        launches.consume_state(session, bound.state_pk, now)

    def keys(kid: str, refresh: bool):
        return rt.jwks.key(bound.key_set_url, kid, refresh)

    def nonce_used(nonce: str) -> bool:
        with read_transaction(_sessions()) as session:
            return launches.nonce_used(session, bound.registration_id, nonce)

    expected = Expected(
        issuer=bound.issuer,
        client_id=bound.client_id,
        deployment_ids=bound.deployment_ids,
        nonce=bound.nonce,
        own_origins=_own_origins(),
    )
    message = validate_id_token(
        id_token, expected, keys, nonce_used, now / 1000, rt.config.leeway_seconds
    )
    with write_transaction(_sessions()) as session:
        record = launches.record_launch(session, bound, message, now, rt.config.leeway_seconds)
        for hook in rt.launch_hooks:
            hook(session, record)
        response = _landing(session, record, now)
    log.info("lti launch %s: %s for %s", record.id, message.message_type, bound.issuer)
    metrics.count_lti_launch("ok")
    response.delete_cookie(
        cookie_name, path=STATE_COOKIE_PATH, secure=True, httponly=True, samesite="None",
        partitioned=True,
    )  # fmt: skip
    return response


def _landing(session, launch, now: int, notice: str | None = None, status: int = 200):
    """The page for a launch: content picker, instructor's course page or learner's page."""
    rt = runtime()
    token = launches.issue_launch_token(
        session, launch, now, rt.config.launch_token_seconds, box=rt.key_box()
    )
    _use_launch_locale(launch)
    registration = session.get(Registration, launch.registration_id)
    frame_origins = registrations.platform_origins(registration)
    roles = json.loads(launch.roles)
    context = session.get(Context, launch.context_pk) if launch.context_pk else None
    link = session.get(ResourceLink, launch.resource_link_pk) if launch.resource_link_pk else None
    common = {
        "token": token,
        "platform": registration.name,
        "course": context.title if context else "",
        "notice": notice,
        "return_url": _safe_link(launches.launch_settings(launch).get("return_url")),
    }
    if launch.message_type == c.DEEP_LINKING_REQUEST:
        settings = launches.launch_settings(launch).get("deep_linking_settings") or {}
        sections = [
            (provider, provider.options(session, launch.store_id))
            for provider in rt.placement_providers.values()
        ]
        return _page(
            "lti/deep_link.html",
            status=status,
            frame_origins=frame_origins,
            sections=sections,
            settings=settings,
            can_grade=settings.get("accept_lineitem") is not False,
            **common,
        )
    if launch.message_type == c.SUBMISSION_REVIEW_REQUEST and c.is_teaching(roles):
        return _submission_review(session, launch, registration, link, token)
    if c.is_teaching(roles):
        members = rosters.roster(session, context.id) if context else []
        return _page(
            "lti/instructor.html",
            status=status,
            frame_origins=frame_origins,
            members=[_member_view(m) for m in members],
            can_sync=bool(context and context.memberships_url),
            no_roster_service=(
                explain.roster_service_not_granted()
                if context is None or not context.memberships_url
                else None
            ),
            synced=utc(context.roster_synced_ms) if context else "",
            link_title=link.title if link else "",
            **common,
        )
    panels = []
    if launch.person_id is not None:
        for panel in rt.learner_panels:
            shown = panel(session, launch.store_id, launch.person_id)
            if shown is not None:
                panels.append(shown)
    recent = (
        _recent_learning(session, launch.store_id, launch.person_id)
        if launch.person_id is not None
        else []
    )
    record_url = (
        url_for("web.person", person_id=launch.person_id, lt=token)
        if launch.person_id is not None and "web.person" in current_app.view_functions
        else None
    )
    return _page(
        "lti/learner.html",
        record_url=record_url,
        status=status,
        frame_origins=frame_origins,
        panels=panels,
        recent=[st.describe_statement(s) for s in recent],
        link_title=link.title if link else "",
        placed_activity=link.placed_activity if link else None,
        **common,
    )


def _submission_review(session, launch, registration, link, token: str) -> Response:
    """An instructor opened a learner's grade in the LMS: on to that learner's evidence.

    A learner opening their own submission review gets their usual page (``_landing``).
    """
    for_user = launches.launch_settings(launch).get("for_user") or ""
    learner = people.find_person(
        session, launch.store_id, st.lms_agent(registration.issuer, for_user)
    )
    if learner is None:
        raise NotAllowed(
            M_(
                "this learner has not opened Learnloop from the LMS yet, so Learnloop does not "
                "know who they are here; their evidence shows once they have"
            )
        )
    if link is None:
        raise NotAllowed(M_("this grade's placement never launched Learnloop, so it holds nothing"))
    review = runtime().submission_review
    if review is None:
        raise NotAllowed(M_("submission review is not available in this installation"))
    target = review(session, launch, learner.id, link, token)
    response = redirect(_base_url() + target if target.startswith("/") else target, 303)
    response.headers["Cache-Control"] = "no-store"
    return response


def _safe_link(url: Any) -> str | None:
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def _member_view(member) -> dict[str, Any]:
    roles = json.loads(member.roles or "[]")
    short = sorted({r.rsplit("#", 1)[-1] for r in roles})
    return {
        "name": member.name or member.user_id,
        "email": member.email or "",
        "roles": ", ".join(short),
        "status": member.status,
        "learner": c.LEARNER in roles,
    }


def _recent_learning(
    session, store_id: int, person_id: int, limit: int = 20
) -> list[dict[str, Any]]:
    """The person's most recent statements under any of their identities, newest first."""
    from lrs.core.query import parse_statement_query
    from lrs.core.versions import V200
    from lrs.statements.read import query_statements

    principal = source_principal(store_id, "lti")
    found: dict[str, tuple[str, dict]] = {}
    for agent in people.identities(session, store_id, person_id):
        query = parse_statement_query({"agent": json.dumps(agent), "limit": str(limit)}, V200)
        for text in query_statements(session, principal, query, []).statements:
            statement = json.loads(text)
            found[statement["id"]] = (statement.get("stored", ""), statement)
    ordered = sorted(found.values(), key=lambda pair: pair[0], reverse=True)
    return [statement for _, statement in ordered[:limit]]


def _use_launch_locale(launch) -> None:
    """The page in the LMS's language (its launch's locale), names from its language maps."""
    locale = launches.launch_settings(launch).get("locale")
    if isinstance(locale, str):
        g.launch_locale = locale
        st.VIEWER_LANGUAGES.set((locale, locale.split("-")[0]))


def _launch_from(token: str | None, session, now: int):
    """The launch a page's launch token names, its pages in the launch's language."""
    launch = launches.open_launch_token(session, token, now)
    _use_launch_locale(launch)
    registration = session.get(Registration, launch.registration_id)
    g.lti_frame_origins = registrations.platform_origins(registration) if registration else None
    return launch


@lti.get("/home")
def home():
    """The launch's page again (a link on the page carries the launch token, not a cookie)."""
    now = runtime().now()
    with write_transaction(_sessions()) as session:
        launch = _launch_from(request.args.get("lt"), session, now)
        return _landing(session, launch, now)


@lti.post("/roster/sync")
def roster_sync():
    """Fetch the course's members from NRPS (instructors only) and show them."""
    rt = runtime()
    now = rt.now()
    notice = failure = None
    with read_transaction(_sessions()) as session:
        launch = _launch_from(request.form.get("lt"), session, now)
        if not c.is_teaching(json.loads(launch.roles)):
            raise NotAllowed(M_("only instructors can load the course's roster"))
        context = session.get(Context, launch.context_pk) if launch.context_pk else None
        fetched = None
        try:
            if context is None:
                raise ServiceNotGranted(M_("the LMS launched Learnloop outside a course"))
            fetched = rosters.fetch_roster(
                session, context, use_differences=bool(context.differences_url), runtime=rt
            )
        except (PlatformServiceError, ServiceNotGranted) as exc:
            failure = exc.message
            # Messages (lrs.catalogue): the page says them in its language, the log in English.
            notice = M_("The roster could not be loaded: %(why)s", why=failure)
    with write_transaction(_sessions()) as session:
        launch = launches.open_launch_token(session, request.form.get("lt"), now)
        if fetched is not None and launch.context_pk is not None:
            context = session.get(Context, launch.context_pk)
            result = rosters.apply_roster(session, context, fetched, now)
            counts = {"members": result.members, "people": result.people_created}
            notice = (
                M_("Roster loaded: %(members)s members changed, %(people)s new people.", **counts)
                if result.used_differences
                else M_("Roster loaded: %(members)s members, %(people)s new people.", **counts)
            )
        rosters.log_sync(
            session,
            launch.store_id,
            launch.registration_id,
            launch.context_pk,
            now,
            members=len(fetched.members) if fetched is not None else 0,
            failure=failure,
        )
        return _landing(session, launch, now, notice=notice)


# ==== deep linking ===============================================================================


@lti.post("/deep-link")
def deep_link():
    """Return the instructor's choice to the platform as a signed LtiDeepLinkingResponse."""
    rt = runtime()
    now = rt.now()
    form = request.form
    with read_transaction(_sessions()) as session:
        launch = _launch_from(form.get("lt"), session, now)
        if launch.message_type != c.DEEP_LINKING_REQUEST:
            raise DeepLinkingRejected(M_("this launch was not a Deep Linking request"))
        if not c.is_teaching(json.loads(launch.roles)):
            raise NotAllowed(M_("only instructors can place content in a course"))
        settings = launches.launch_settings(launch).get("deep_linking_settings") or {}
        activity_id = (form.get("activity_id") or "").strip()
        if activity_id:
            kind, key = "activity", activity_id
        else:
            kind, _, key = (form.get("choice") or "").partition(":")
        provider = rt.placement_providers.get(kind)
        if provider is None or not key:
            raise DeepLinkingRejected(M_("choose something to place"))
        placement = provider.resolve(
            session, launch.store_id, key, (form.get("title") or "").strip()[:200]
        )
        launch_pk = launch.id
    graded = form.get("graded") == "on"
    try:
        score_maximum = float(form.get("score_maximum") or 100)
    except ValueError:
        raise DeepLinkingRejected(M_("the maximum score must be a number")) from None
    dl.check_acceptable(settings, 1, graded)
    item = dl.content_item(placement, _base_url() + "/lti/launch", graded, score_maximum)
    with write_transaction(_sessions()) as session:
        return_url, jwt = placements.deep_linking_response(
            session,
            session.get(Launch, launch_pk),
            [item],
            now,
            message=f"Placed: {placement.title}",
            box=rt.key_box(),
        )
    rt.http.check(return_url, "deep_link_return_url")
    return _page(
        "lti/deep_link_return.html",
        frame_origins=g.get("lti_frame_origins"),
        form_targets=(origin(return_url),),
        return_url=return_url,
        jwt=jwt,
        title=placement.title,
    )


# ==== keys and dynamic registration ==============================================================


@lti.get("/jwks")
def jwks():
    """The tool's public keys: the current key and retired keys still in their grace period."""
    rt = runtime()
    now = rt.now()
    with read_transaction(_sessions()) as session:
        keys = tool_keys.published_keys(session, now)
    if not keys:
        with write_transaction(_sessions()) as session:
            tool_keys.current_key(session, now, rt.key_box())
            keys = tool_keys.published_keys(session, now)
    response = jsonify({"keys": keys})
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@lti.get("/canvas.json")
def canvas_json():
    """Canvas's developer key configuration ("Enter URL"): URLs, scopes, placements."""
    response = jsonify(canvas.configuration(_base_url()))
    response.headers["Cache-Control"] = "no-cache"
    return response


@lti.get("/register")
def register():
    """LTI Dynamic Registration: fetch the platform's configuration, register, close."""
    from lti.errors import DynamicRegistrationFailed

    rt = runtime()
    now = rt.now()
    config_url = request.args.get("openid_configuration")
    if not config_url:
        raise DynamicRegistrationFailed(
            M_(
                "open this link from the LMS's tool registration page (LTI Dynamic "
                "Registration): it adds the openid_configuration parameter"
            )
        )
    with read_transaction(_sessions()) as session:
        invite = registrations.check_invite(session, request.args.get("invite"), now)
        invite_pk = invite.id
    rt.http.check(config_url, "openid_configuration")
    platform = registrations.fetch_platform_configuration(config_url, rt)
    g.lti_frame_origins = [origin(platform.issuer)]
    client_id, deployment_id = registrations.register_with_platform(
        platform, request.args.get("registration_token"), _base_url(), rt
    )
    with write_transaction(_sessions()) as session:
        registration = registrations.complete_dynamic_registration(
            session, invite_pk, platform, client_id, deployment_id, runtime().now()
        )
        name = registration.name
    log.info("lti dynamic registration of %s (client %s)", platform.issuer, client_id)
    return _page(
        "lti/registered.html",
        frame_origins=g.lti_frame_origins,
        platform=name,
        client_id=client_id,
        deployment_id=deployment_id,
    )


# ==== admin API ==================================================================================


@admin.get("/registrations")
def list_registrations():
    principal = current_principal("all")
    with read_transaction(_sessions()) as session:
        rows = registrations.list_registrations(session, principal.store_id)
        return jsonify(
            {"registrations": [registrations.registration_view(session, r) for r in rows]}
        )


@admin.post("/registrations")
def create_registration():
    principal = current_principal("all")
    data = schemas.load(schemas.RegistrationSchema(), request.get_json(silent=True))
    registration = registrations.RegistrationData(**data)
    rt = runtime()
    registrations.check_registration_urls(registration, rt)
    rt.http.check(registration.issuer, "issuer")
    with write_transaction(_sessions()) as session:
        row = registrations.create_registration(
            session, principal.store_id, registration, source="api"
        )
        body = registrations.registration_view(session, row)
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = url_for(".get_registration", registration_id=body["id"])
    return response


@admin.get("/grades")
def grade_log():
    """Scores sent to the LMS gradebooks (newest first) and grades that failed, with why."""
    principal = current_principal("all")
    with read_transaction(_sessions()) as session:
        return jsonify(
            {
                "deliveries": tasks.deliveries(session, principal.store_id),
                "failed": tasks.failed_grades(session, principal.store_id),
            }
        )


@admin.get("/registrations/<int:registration_id>")
def get_registration(registration_id: int):
    principal = current_principal("all")
    with read_transaction(_sessions()) as session:
        row = registrations.get_registration(session, principal.store_id, registration_id)
        return jsonify(registrations.registration_view(session, row))


@admin.patch("/registrations/<int:registration_id>")
def change_registration(registration_id: int):
    principal = current_principal("all")
    changes = schemas.load(
        schemas.RegistrationChangeSchema(), request.get_json(silent=True), partial=True
    )
    rt = runtime()
    for name in ("auth_login_url", "auth_token_url", "key_set_url"):
        if name in changes:
            rt.http.check(changes[name], name)
    with write_transaction(_sessions()) as session:
        row = registrations.get_registration(session, principal.store_id, registration_id)
        registrations.update_registration(session, row, changes)
        return jsonify(registrations.registration_view(session, row))


@admin.delete("/registrations/<int:registration_id>")
def delete_registration(registration_id: int):
    principal = current_principal("all")
    with write_transaction(_sessions()) as session:
        row = registrations.get_registration(session, principal.store_id, registration_id)
        registrations.delete_registration(session, row)
    return Response(status=204)


@admin.post("/invites")
def create_invite():
    """A single-use Dynamic Registration URL for this store, to paste into an LMS."""
    principal = current_principal("all")
    data = schemas.load(schemas.InviteSchema(), request.get_json(silent=True) or {})
    rt = runtime()
    ttl = int(data["days"] * 86400) if data.get("days") else rt.config.invite_seconds
    now = rt.now()
    with write_transaction(_sessions()) as session:
        token = registrations.create_invite(session, principal.store_id, now, ttl)
    response = jsonify(
        {
            "registration_url": f"{_base_url()}/lti/register?invite={token}",
            "expires_at": utc(now + ttl * 1000),
        }
    )
    response.status_code = 201
    return response


@admin.get("/tool")
def tool_configuration():
    """The URLs an LMS administrator enters for a manual registration."""
    current_principal("all")
    base = _base_url()
    return jsonify(
        {
            "login_url": base + "/lti/login",
            "redirect_uri": base + "/lti/launch",
            "target_link_uri": base + "/lti/launch",
            "deep_linking_url": base + "/lti/launch",
            "jwks_url": base + "/lti/jwks",
            "canvas_configuration_url": base + "/lti/canvas.json",
            "domain": base.split("://", 1)[-1],
        }
    )
