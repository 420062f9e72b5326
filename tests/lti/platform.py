"""A small LMS for the integration tests, built on the third-party ``lti1p3platform`` package.

``lti1p3platform`` (PyPI, OpenLearning) builds and signs the id_tokens, validates the tool's
authentication request, runs the OAuth2 token endpoint (checking our client assertion against
our ``/lti/jwks``) and validates our Deep Linking response. It has no AGS or NRPS endpoints, so
those are written here, following the 1EdTech media types and ``Link`` paging headers; they
authenticate the bearer tokens with ``lti1p3platform``'s own ``validate_token``.

The platform is stricter than the library on the points where real LMSs are strict (Moodle's
``auth.php``): redirect_uri must be registered, login_hint must be the user who clicked,
response_mode form_post, prompt none, scope openid.
"""

from __future__ import annotations

import html
import json
import re
import threading
from dataclasses import dataclass, field
from urllib.parse import urlencode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, abort, jsonify, redirect, request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request

from lti import ags, nrps
from lti import claims as c

LEARNER = c.LEARNER
INSTRUCTOR = c.INSTRUCTOR


def _pem_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class _FlaskRequest(Request):
    def build_metadata(self, flask_request):
        return {
            "method": flask_request.method,
            "form_data": flask_request.form.to_dict(),
            "get_data": flask_request.args.to_dict(),
            "headers": flask_request.headers,
            "content_type": flask_request.content_type,
            "path": flask_request.path,
            "json": flask_request.get_json(silent=True),
        }


class _Config(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs):
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs):
        return self._registration


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs):
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url):
        return redirect(url, 302)


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data, **kwargs):
        inputs = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(launch_data[name])}">'
            for name in ("id_token", "state")
        )
        action = html.escape(launch_data["launch_url"])
        return Response(f'<form method="post" action="{action}">{inputs}</form>')


@dataclass
class User:
    user_id: str
    name: str
    email: str
    roles: list[str]
    status: str = "Active"
    locale: str = ""  # the user's LMS language: launch_presentation.locale when set


@dataclass
class Link:
    """A resource link in the course, as the LMS keeps it (from a Deep Linking item)."""

    id: str
    title: str
    custom: dict = field(default_factory=dict)
    line_item_id: str | None = None


class LmsPlatform:
    """The LMS: one course, users, links, a gradebook and a roster."""

    def __init__(self, page_size: int = 2):
        self.private_pem, self.public_pem = _pem_pair()
        self.page_size = page_size
        self.base = ""
        self.tool = ""
        self.client_id = "lms-client-" + str(id(self))[-6:]
        self.deployment_id = "1"
        self.context = {"id": "course-1", "title": "Secure Software", "label": "SEC1"}
        self.users: dict[str, User] = {}
        self.links: dict[str, Link] = {"rl-1": Link("rl-1", "Welcome")}
        self.line_items: dict[str, dict] = {}
        self.scores: list[dict] = []
        #: Per LMS user id: statuses the score service answers before it accepts their scores,
        #: and a status it answers for them for good (``refuse_scores``).
        self.score_failures: dict[str, list[int]] = {}
        self.refuse_scores: dict[str, int] = {}
        self.score_attempts = 0
        self.results: dict[tuple[str, str], dict] = {}
        self.token_requests: list[dict] = []
        self.deep_link_items: list[dict] = []
        self.deep_link_claims: dict = {}
        self.membership_version = 0
        self.removed_since: dict[int, list[str]] = {}
        self.lock = threading.Lock()
        self.current_user = ""
        self.registration_token = "registration-token-" + str(id(self))[-6:]
        self.dynamic_registrations: list[dict] = []
        self.issuer_override: str | None = None
        #: The scopes the LMS grants the tool (an admin's service settings): launches carry
        #: only these, and the token endpoint refuses others with OAuth ``invalid_scope``.
        self.granted: set[str] = {*ags.SCOPES, nrps.SCOPE}
        #: Claims left out of launches (an LMS that does not share ``name``, ``email``).
        self.withheld_claims: set[str] = set()
        self.app = self._build_app()

    # ---- setup -----------------------------------------------------------------------------

    def start(self, base: str, tool: str) -> None:
        self.base, self.tool = base, tool
        registration = (
            Registration()
            .set_iss(base)
            .set_client_id(self.client_id)
            .set_deployment_id(self.deployment_id)
            .set_oidc_login_url(tool + "/lti/login")
            .set_launch_url(tool + "/lti/launch")
            .set_deeplink_launch_url(tool + "/lti/launch")
            .set_platform_public_key(self.public_pem)
            .set_platform_private_key(self.private_pem)
            .set_tool_key_set_url(tool + "/lti/jwks")
        )
        self.config = _Config(registration=registration)
        self.config.get_registration()

    def add_user(self, user: User) -> None:
        self.users[user.user_id] = user

    def add_line_item(self, label: str, resource_id: str, tag: str = "") -> dict:
        item_id = str(len(self.line_items) + 1)
        item = {
            "id": f"{self.base}/lineitems/{item_id}/lineitem?type_id=1",
            "label": label,
            "scoreMaximum": 100,
            "resourceId": resource_id,
            "tag": tag,
        }
        self.line_items[item_id] = item
        return item

    def registration_payload(self) -> dict:
        return {
            "issuer": self.base,
            "client_id": self.client_id,
            "deployment_ids": [self.deployment_id],
            "auth_login_url": self.base + "/auth",
            "auth_token_url": self.base + "/token",
            "key_set_url": self.base + "/jwks",
            "name": "Test LMS",
        }

    def launch_url(
        self, user_id: str, kind: str = "resource", link: str = "rl-1", for_user: str = ""
    ) -> str:
        """Where ``user_id`` clicks the tool: a link (``resource``), the content picker
        (``deeplink``), or ``review``: ``for_user``'s grade of the link in the gradebook."""
        query = {"user": user_id, "kind": kind, "link": link, "for_user": for_user}
        return f"{self.base}/launch?" + urlencode(query)

    # ---- the app ---------------------------------------------------------------------------

    def _build_app(self) -> Flask:
        app = Flask("test-lms")
        platform = self

        @app.get("/launch")
        def start_launch():
            """The LMS page where a user clicks the tool: third-party initiated login."""
            user = request.args["user"]
            platform.current_user = user
            hint = json.dumps(
                {
                    "kind": request.args["kind"],
                    "link": request.args["link"],
                    "for_user": request.args.get("for_user", ""),
                }
            )
            login = _Login(_FlaskRequest(request), platform.config)
            login.set_lti_message_hint(hint=hint)
            return login.initiate_login(user)

        @app.get("/auth")
        def authorize():
            args = request.args
            checks = {
                "scope": "openid",
                "response_type": "id_token",
                "response_mode": "form_post",
                "prompt": "none",
                "redirect_uri": platform.tool + "/lti/launch",
                "login_hint": platform.current_user,
            }
            for name, value in checks.items():
                if args.get(name) != value:
                    abort(400, f"{name} must be {value!r}")
            hint = json.loads(args["lti_message_hint"])
            user = platform.users[args["login_hint"]]
            launch = _Launch(_FlaskRequest(request), platform.config)
            launch.set_user_data(
                user.user_id,
                user.roles,
                None if "name" in platform.withheld_claims else user.name,
                None if "email" in platform.withheld_claims else user.email,
            )
            launch.set_launch_context_claim(
                platform.context["id"],
                context_title=platform.context["title"],
                context_label=platform.context["label"],
            )
            if nrps.SCOPE in platform.granted:
                launch.set_nrps(platform.base + "/memberships")
            link = platform.links.get(hint["link"])
            if hint["kind"] == "deeplink":
                launch.set_dl(
                    platform.base + "/dl-return",
                    title="Add content",
                    accept_types={"ltiResourceLink"},
                    extra_data={"opaque": "echo-me"},
                )
            else:
                launch.set_resource_link_claim(link.id, title=link.title)
                if link.custom:
                    launch.set_custom_parameters_claim(link.custom)
                granted = [s for s in ags.SCOPES if s in platform.granted]
                if granted:
                    endpoint = {"scope": granted, "lineitems": platform.base + "/lineitems"}
                    if link.line_item_id:
                        endpoint["lineitem"] = platform.line_items[link.line_item_id]["id"]
                    launch.set_extra_claims({c.AGS_ENDPOINT: endpoint})
                if hint["kind"] == "review":  # AGS 2.0 §7: the gradebook's submission review
                    launch.set_extra_claims(
                        {
                            c.MESSAGE_TYPE: c.SUBMISSION_REVIEW_REQUEST,
                            c.FOR_USER: {"user_id": hint["for_user"]},
                        }
                    )
            launch.set_extra_claims(
                {c.TOOL_PLATFORM: {"name": "Test LMS", "product_family_code": "lti1p3platform"}}
            )
            if user.locale:
                launch.set_extra_claims({c.LAUNCH_PRESENTATION: {"locale": user.locale}})
            return launch.lti_launch()

        @app.get("/jwks")
        def jwks():
            return jsonify(platform.config.get_jwks())

        @app.post("/token")
        def token():
            form = request.form.to_dict()
            try:
                claims = platform.config.tool_validate_and_decode(form["client_assertion"])
            except Exception:  # as an LMS answers an assertion it cannot verify (RFC 6749 §5.2)
                return jsonify({"error": "invalid_client"}), 401
            if claims.get("aud") != platform.base + "/token" or not claims.get("jti"):
                abort(401, "client assertion aud must be the token URL, with a jti")
            if claims["iss"] != platform.client_id or claims["sub"] != platform.client_id:
                abort(401, "client assertion iss and sub must be the client id")
            with platform.lock:
                platform.token_requests.append({"scope": form.get("scope", "")})
            if not set(form.get("scope", "").split()) <= platform.granted:
                return jsonify({"error": "invalid_scope"}), 400
            return jsonify(platform.config.get_access_token(form))

        def bearer(*scopes):
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                abort(401)
            try:
                ok = platform.config.validate_token(auth[7:], list(scopes))
            except Exception:
                abort(401)
            if not ok:
                abort(403)

        def paged(items, url, media):
            page = int(request.args.get("page", "1"))
            limit = int(request.args.get("limit", platform.page_size))
            start = (page - 1) * limit
            chunk = items[start : start + limit]
            response = Response(json.dumps(chunk), mimetype=media)
            if start + limit < len(items):
                query = request.args.to_dict()
                query["page"] = str(page + 1)
                response.headers["Link"] = f'<{url}?{urlencode(query)}>; rel="next"'
            return response

        @app.route("/lineitems", methods=["GET", "POST"])
        def lineitems():
            if request.method == "GET":
                bearer(ags.SCOPE_LINEITEM, ags.SCOPE_LINEITEM_READONLY)
                if request.headers.get("Accept") != ags.LINEITEMS_MEDIA:
                    abort(406)
                items = [
                    item
                    for item in platform.line_items.values()
                    if all(
                        item.get(key) == request.args[param]
                        for key, param in (
                            ("resourceId", "resource_id"),
                            ("tag", "tag"),
                            ("resourceLinkId", "resource_link_id"),
                        )
                        if param in request.args
                    )
                ]
                return paged(items, platform.base + "/lineitems", ags.LINEITEMS_MEDIA)
            bearer(ags.SCOPE_LINEITEM)
            if request.content_type != ags.LINEITEM_MEDIA:
                abort(415)
            payload = request.get_json(force=True)
            item = platform.add_line_item(payload["label"], payload.get("resourceId", ""))
            item.update({k: v for k, v in payload.items() if k != "id"})
            return Response(json.dumps(item), status=201, mimetype=ags.LINEITEM_MEDIA)

        @app.post("/lineitems/<item_id>/lineitem/scores")
        def scores(item_id):
            bearer(ags.SCOPE_SCORE)
            if request.content_type != ags.SCORE_MEDIA:
                abort(415)
            if request.args.get("type_id") != "1":
                abort(404, "the query string of the line item URL was lost")
            if item_id not in platform.line_items:
                abort(404)
            score = request.get_json(force=True)
            key = (item_id, score["userId"])
            with platform.lock:
                platform.score_attempts += 1
                failures = platform.score_failures.get(score["userId"])
                if failures:
                    return Response("try later", status=failures.pop(0))
                if score["userId"] in platform.refuse_scores:
                    return Response("no", status=platform.refuse_scores[score["userId"]])
                last = platform.results.get(key)
                if last is not None and score["timestamp"] <= last["timestamp"]:
                    return Response("stale timestamp", status=409)
                platform.scores.append(score)
                platform.results[key] = score
            return Response(status=204)

        @app.get("/lineitems/<item_id>/lineitem/results")
        def results(item_id):
            bearer(ags.SCOPE_RESULT_READONLY)
            if request.headers.get("Accept") != ags.RESULTS_MEDIA:
                abort(406)
            item = platform.line_items[item_id]
            found = [
                {
                    "id": f"{platform.base}/lineitems/{item_id}/results/{user}",
                    "scoreOf": item["id"],
                    "userId": user,
                    "resultScore": score.get("scoreGiven"),
                    "resultMaximum": score.get("scoreMaximum"),
                    "comment": score.get("comment", ""),
                }
                for (iid, user), score in sorted(platform.results.items())
                if iid == item_id and request.args.get("user_id", user) == user
            ]
            return paged(found, f"{platform.base}/lineitems/{item_id}/lineitem/results",
                         ags.RESULTS_MEDIA)  # fmt: skip

        @app.get("/memberships")
        def memberships():
            bearer(nrps.SCOPE)
            if request.headers.get("Accept") != nrps.MEDIA:
                abort(406)
            since = request.args.get("since")
            members = [
                {
                    "user_id": u.user_id,
                    "roles": u.roles,
                    "status": u.status,
                    "name": u.name,
                    "email": u.email,
                }
                for u in platform.users.values()
            ]
            if since is not None:  # differences: changed since that version
                changed = set(platform.removed_since.get(int(since), []))
                members = [m for m in members if m["user_id"] in changed]
            if request.args.get("rlid"):
                link = platform.links.get(request.args["rlid"])
                if link is None:
                    abort(403)
                members = [m for m in members if INSTRUCTOR in m["roles"] or m["user_id"] != "u3"]
            page = int(request.args.get("page", "1"))
            size = platform.page_size
            chunk = members[(page - 1) * size : page * size]
            body = {
                "id": platform.base + "/memberships",
                "context": platform.context,
                "members": chunk,
            }
            response = Response(json.dumps(body), mimetype=nrps.MEDIA)
            links = []
            if page * size < len(members):
                query = request.args.to_dict()
                query["page"] = str(page + 1)
                links.append(f'<{platform.base}/memberships?{urlencode(query)}>; rel="next"')
            links.append(
                f"<{platform.base}/memberships?since={platform.membership_version}>; "
                'rel="differences"'
            )
            response.headers["Link"] = ", ".join(links)
            return response

        @app.get("/.well-known/openid-configuration")
        def openid_configuration():
            """LTI Dynamic Registration: the platform's OpenID configuration (DR 1.0 §3.3)."""
            base = platform.base
            return jsonify(
                {
                    "issuer": platform.issuer_override or base,
                    "authorization_endpoint": base + "/auth",
                    "token_endpoint": base + "/token",
                    "jwks_uri": base + "/jwks",
                    "registration_endpoint": base + "/register",
                    "scopes_supported": ["openid", *ags.SCOPES, nrps.SCOPE],
                    "response_types_supported": ["id_token"],
                    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                        "product_family_code": "lti1p3platform",
                        "version": "0.1.8",
                        "messages_supported": [
                            {"type": "LtiResourceLinkRequest"},
                            {"type": "LtiDeepLinkingRequest"},
                        ],
                    },
                }
            )

        @app.post("/register")
        def dynamic_register():
            """Moodle's checks on a tool registration, then the client id it assigns."""
            if request.headers.get("Authorization") != "Bearer " + platform.registration_token:
                abort(401)
            body = request.get_json(force=True)
            tool = body["https://purl.imsglobal.org/spec/lti-tool-configuration"]
            from urllib.parse import urlsplit

            problems = [
                name
                for name, ok in (
                    ("response_types", "id_token" in body.get("response_types", [])),
                    ("auth method", body.get("token_endpoint_auth_method") == "private_key_jwt"),
                    ("domain", tool.get("domain") == urlsplit(tool["target_link_uri"]).netloc),
                    ("redirect_uris", tool["target_link_uri"] in body.get("redirect_uris", [])),
                    ("jwks_uri", body.get("jwks_uri", "").endswith("/lti/jwks")),
                )
                if not ok
            ]
            if problems:
                return jsonify({"error": "invalid_client_metadata", "problems": problems}), 400
            platform.dynamic_registrations.append(body)
            return jsonify(
                {
                    **body,
                    "client_id": platform.client_id,
                    "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                        **tool,
                        "deployment_id": platform.deployment_id,
                    },
                }
            )

        @app.post("/dl-return")
        def deep_link_return():
            items = platform.config.validate_deeplinking_resp({"JWT": request.form["JWT"]})
            claims = platform.config.tool_validate_and_decode(request.form["JWT"])
            problems = []
            if claims.get("aud") not in (platform.base, [platform.base]):
                problems.append("aud")
            if claims.get(c.DEPLOYMENT_ID) != platform.deployment_id:
                problems.append("deployment_id")
            if claims.get(c.DL_DATA) != {"opaque": "echo-me"}:
                problems.append("data")
            if not claims.get("nonce") or claims.get("iss") != platform.client_id:
                problems.append("nonce/iss")
            if problems:
                abort(400, "bad deep linking response: " + ", ".join(problems))
            platform.deep_link_claims = claims
            platform.deep_link_items = items
            for n, item in enumerate(items, start=len(platform.links) + 1):
                link = Link(f"rl-{n}", item["title"], item.get("custom", {}))
                if "lineItem" in item:
                    line_item = platform.add_line_item(
                        item["lineItem"]["label"],
                        item["lineItem"]["resourceId"],
                        item["lineItem"].get("tag", ""),
                    )
                    line_item["resourceLinkId"] = link.id
                    line_item["scoreMaximum"] = item["lineItem"]["scoreMaximum"]
                    link.line_item_id = line_item["id"].split("/lineitems/")[1].split("/")[0]
                platform.links[link.id] = link
            return f"placed {len(items)} item(s)"

        return app

    def remove_member(self, user_id: str) -> None:
        """The user leaves the course; differences since the current version report it."""
        self.users[user_id].status = "Deleted"
        self.removed_since.setdefault(self.membership_version, []).append(user_id)
        self.membership_version += 1


FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
INPUT = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"')


def form_of(page: str, action_contains: str = "") -> tuple[str, dict]:
    """The first form (whose action contains ``action_contains``) and its prefilled fields."""
    for action, body in FORM.findall(page):
        if action_contains in html.unescape(action):
            fields = {name: html.unescape(value) for name, value in INPUT.findall(body)}
            return html.unescape(action), fields
    raise AssertionError(f"no form with action containing {action_contains!r}")
