"""``POST /oauth/token``, ``POST /oauth/revoke`` and the RFC 8414 metadata, on authlib's server.

authlib's ``AuthorizationServer`` runs the protocol (RFC 6749 §4.4 client credentials, client
authentication by ``client_secret_basic`` or ``client_secret_post``, the §5.2 errors) and its
``RevocationEndpoint`` RFC 7009; Learnloop supplies the clients and the storage. A client is a
credential: its key and secret are checked by ``Authenticator.verify``, the very check HTTP
Basic uses on /xapi, so the failed-check throttle (``lrs.throttle``, 429 with Retry-After) and
the short verification cache apply here too, and an unknown key costs the same scrypt as a
wrong secret.

The bearer side is not authlib's ``ResourceProtector``: /xapi authenticates every request in
one place (``lrs.xapi``) and renders every error with one handler, so a token is checked there,
beside Basic, by ``Authenticator.authenticate_bearer``.

Every answer of the token endpoint carries ``Cache-Control: no-store``; an error is RFC 6749's
``{"error", "error_description"}`` (what was wrong and where). A token is never logged: authlib
logs issued tokens at debug level, so its logger is held at info.
"""

from __future__ import annotations

import logging

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidScopeError
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import Blueprint, Flask, Response, current_app, json, request

from lrs.auth import SCOPES, Principal, parse_basic
from lrs.db import read_transaction, write_transaction
from lrs.errors import Unauthorized
from lrs.oauth import (
    OAuthSettings,
    ScopeRefused,
    find_token,
    grant_scopes,
    issue_token,
    revoke,
    settings_from_env,
)
from lrs.oauth_models import OAuthToken
from lrs.runtime import lrs_runtime

oauth = Blueprint("oauth", __name__)

EXTENSION = "lrs.oauth"
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
GRANT_TYPE = "client_credentials"
#: Said when authlib raises an error without a description of its own.
DESCRIPTIONS = {
    "invalid_request": "the request lacks a required parameter or repeats one",
    "invalid_client": (
        "unknown key or wrong secret: send the credential's key and secret by HTTP Basic, "
        "or as client_id and client_secret in the form"
    ),
    "invalid_grant": "the token was issued to another client",
    "invalid_scope": "a requested scope is unknown or not held by the credential",
    "unsupported_grant_type": "the only grant_type is client_credentials",
    "unsupported_token_type": "token_type_hint must be access_token or refresh_token",
    "unauthorized_client": "this client may only use grant_type=client_credentials",
}
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TOKEN_TYPE_HINTS = ("access_token", "refresh_token")


def safe_description(text: str) -> str:
    """``text`` in the characters RFC 6749 §5.2 allows an error_description.

    Printable ASCII but the double quote and the backslash: a client's scope is echoed, and it
    may hold anything (authlib refuses anything else with a ValueError, a 500).
    """
    return "".join(c if " " <= c <= "~" and c not in '"\\' else "?" for c in text)


class Client(ClientMixin):
    """A credential as an OAuth client: its key is the client_id, its secret the secret.

    ``principal`` is set once the secret is verified; an unknown key is a client whose secret
    never verifies (after the same scrypt), so keys cannot be enumerated here either.
    """

    def __init__(self, key: str, address: str | None) -> None:
        self.key = key
        self.address = address
        self.principal: Principal | None = None

    def get_client_id(self) -> str:
        return self.key

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        held = self.principal.scopes if self.principal else frozenset()
        return " ".join(grant_scopes(held, scope))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        if "\x00" in self.key or "\x00" in client_secret:
            return False
        runtime = lrs_runtime()
        try:
            with read_transaction(runtime.sessions) as session:
                self.principal = runtime.authenticator.verify(
                    session, self.key, client_secret, self.address
                )
        except Unauthorized:
            return False
        return True

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == GRANT_TYPE


class ClientCredentials(ClientCredentialsGrant):
    """RFC 6749 §4.4, with either client authentication and the credential's xAPI scopes."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_requested_scope(self) -> None:
        held = self.client.principal.scopes if self.client.principal else frozenset()
        try:
            grant_scopes(held, self.request.payload.scope)
        except ScopeRefused as exc:
            raise InvalidScopeError(description=safe_description(exc.message)) from None


class Revocation(RevocationEndpoint):
    """RFC 7009: a client revokes a token of its own; an unknown token is not an error."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None):
        with read_transaction(lrs_runtime().sessions) as session:
            row = find_token(session, token_string)
            return _StoredToken(row.id, row.credential_id) if row else None

    def revoke_token(self, token: _StoredToken, request) -> None:
        runtime = lrs_runtime()
        with write_transaction(runtime.sessions) as session:
            row = session.get(OAuthToken, token.id)
            if row is not None:
                revoke(session, row, runtime.clock())
        # This process stops accepting it at once (others within the cache period), and the
        # other clients' remembered checks stay: a revocation costs nobody else a scrypt.
        runtime.authenticator.forget_token(request.form["token"])


class _StoredToken:
    def __init__(self, token_id: int, credential_id: int) -> None:
        self.id = token_id
        self.credential_id = credential_id

    def check_client(self, client: Client) -> bool:
        return client.principal is not None and client.principal.credential_id == self.credential_id


class Server(AuthorizationServer):
    """authlib's Flask server, answering in Learnloop's terms (descriptions, no-store)."""

    def __init__(self, settings: OAuthSettings) -> None:
        super().__init__(query_client=self._client, save_token=self._save)
        self.settings = settings
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: "",  # made and stored by issue_token
                expires_generator=lambda client, grant_type: settings.token_seconds,
            ),
        )
        self.register_grant(ClientCredentials)
        self.register_endpoint(Revocation)

    @staticmethod
    def _client(client_id: str) -> Client:
        return Client(client_id[:200], request.remote_addr)

    def _save(self, token: dict, oauth_request) -> None:
        client: Client = oauth_request.client
        runtime = lrs_runtime()
        with write_transaction(runtime.sessions) as session:
            token["access_token"] = issue_token(
                session,
                client.principal,
                token["scope"].split(),
                runtime.clock(),
                token["expires_in"],
            )

    def handle_response(self, status_code, payload, headers) -> Response:
        if isinstance(payload, dict) and "error" in payload:
            if payload["error"] == "unsupported_token_type":
                status_code = 400  # RFC 7009 §2.2.1 (authlib answers 401, without a challenge)
            if payload["error"] == "invalid_client" and status_code == 401:
                payload["error_description"] = DESCRIPTIONS["invalid_client"]
            if payload["error"] == "unsupported_grant_type":
                given = request.form.get("grant_type", "")[:100]
                payload["error_description"] = (
                    f"grant_type: {given!r} is not supported; the only grant_type is "
                    "client_credentials"
                )
            payload.setdefault(
                "error_description", DESCRIPTIONS.get(payload["error"], payload["error"])
            )
            payload["error_description"] = safe_description(payload["error_description"])
            payload.pop("state", None)
        response = Response(json.dumps(payload), status=status_code, headers=headers)
        response.headers.update(NO_STORE)
        response.mimetype = "application/json"
        return response


def install(app: Flask, settings: OAuthSettings | None = None) -> None:
    """Build the authorization server of ``app`` (``LEARNLOOP_OAUTH_*``, checked now)."""
    app.extensions[EXTENSION] = Server(settings or settings_from_env())
    # authlib logs every issued token at debug level ("Issue token ..."): never let it through.
    logging.getLogger("authlib").setLevel(logging.INFO)


def _server() -> Server:
    return current_app.extensions[EXTENSION]


def _refusal(error: str, description: str, status: int = 400) -> Response:
    description = safe_description(description)
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = (
            f'Basic realm="Learnloop OAuth", error="{error}", error_description="{description}"'
        )
    return _server().handle_response(
        status, {"error": error, "error_description": description}, headers
    )


def _malformed() -> Response | None:
    """A refusal for what authlib would not notice or would fail on; None if well formed.

    Parameters travel in the form body only (not the URL, where they would be logged by
    proxies), each once (RFC 6749 §3.2); a Basic header must decode (authlib would raise).
    """
    if request.args:
        return _refusal(
            "invalid_request", "parameters belong in the form body, not the URL's query string"
        )
    if request.mimetype != "application/x-www-form-urlencoded":
        return _refusal(
            "invalid_request", "the body must be application/x-www-form-urlencoded (RFC 6749)"
        )
    for name in request.form:
        if len(request.form.getlist(name)) > 1:
            return _refusal("invalid_request", f"{name[:50]}: given more than once")
        if "\x00" in name or "\x00" in request.form[name]:
            return _refusal("invalid_request", f"{name[:50]}: must not contain NUL characters")
    header = request.headers.get("Authorization")
    if header:
        try:
            parse_basic(header)
        except Unauthorized as exc:
            return _refusal("invalid_client", exc.message, 401)
    return None


@oauth.post("/oauth/token")
def token():
    """RFC 6749 §4.4: a bearer token for a credential, with some or all of its scopes."""
    refused = _malformed()
    if refused is not None:
        return refused
    if not request.form.get("grant_type"):
        return _refusal("invalid_request", "grant_type: required (grant_type=client_credentials)")
    return _server().create_token_response()


@oauth.post("/oauth/revoke")
def revoke_token():
    """RFC 7009: revoke a token; 200 whether or not it was known."""
    refused = _malformed()
    if refused is not None:
        return refused
    hint = request.form.get("token_type_hint")
    if hint is not None and hint not in TOKEN_TYPE_HINTS:
        return _refusal(
            "unsupported_token_type", "token_type_hint: must be access_token or refresh_token"
        )
    return _server().create_endpoint_response(Revocation.ENDPOINT_NAME)


@oauth.get("/.well-known/oauth-authorization-server")
def metadata():
    """RFC 8414 metadata: where the token and revocation endpoints are, what they accept."""
    base = lrs_runtime().public_url.rstrip("/") or request.host_url.rstrip("/")
    response = current_app.response_class(
        json.dumps(metadata_document(base)), mimetype="application/json"
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def metadata_document(base: str) -> dict:
    """The authorization server metadata of a Learnloop served at ``base`` (RFC 8414 §2)."""
    return {
        "issuer": base,
        "token_endpoint": base + "/oauth/token",
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint": base + "/oauth/revoke",
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "grant_types_supported": [GRANT_TYPE],
        "response_types_supported": [],
        "scopes_supported": list(SCOPES),
        "service_documentation": base + "/xapi/openapi.json",
    }
