"""A real OpenID provider for the tests: authlib's authorization server with its OpenID Connect
code grant and PKCE, RS256 ID tokens, a published key set and discovery, served on 127.0.0.1.

Nobody types a password here: the provider signs in whoever ``signed_in`` names (as an
identity provider would after its own login) and consents for them. Knobs make it misbehave
the ways the relying party must notice: ``nonce_override`` puts another nonce in ID tokens,
``claims_override`` another ``iss``, ``aud`` or ``exp``, ``signing_key`` a signature the key set
cannot verify, ``users[...]["email_verified"] = False`` an unverified address.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from flask import Flask, jsonify
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        allowed = {"openid", "email", "profile"}
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: dict
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


class OidcProvider:
    """The provider's state and its HTTP server; ``start()`` serves it, ``stop()`` ends it."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-1", "use": "sig"})
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        self.users: dict[str, dict] = {}
        self.signed_in: str | None = None
        self.nonce_override: str | None = None
        self.claims_override: dict = {}  # e.g. {"aud": ["another-client"]}, {"exp": 0}
        self.signing_key: RSAKey | None = None  # sign with a key the key set does not hold
        self.token_requests: list[dict] = []
        self.issuer = ""
        self._server = None

    def add_user(self, login: str, email: str, *, verified: bool = True, name: str = "") -> None:
        self.users[login] = {
            "sub": "sub-" + login,
            "email": email,
            "email_verified": verified,
            "name": name or login,
        }

    def add_client(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        self.clients[client_id] = Client(client_id, client_secret, [redirect_uri])

    def start(self) -> OidcProvider:
        app = self._app()
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()

    def _app(self) -> Flask:
        provider = self
        app = Flask("test-oidc-provider")
        app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": 600}

        class Grant(AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, request):
                data = request.payload.data
                provider.codes[code] = Code(
                    code=code,
                    client_id=request.client.get_client_id(),
                    redirect_uri=request.payload.redirect_uri,
                    scope=request.scope,
                    user=request.user,
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code, client):
                found = provider.codes.get(code)
                return found if found and found.client_id == client.get_client_id() else None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        class OpenID(OpenIDCode):
            def exists_nonce(self, nonce, request):
                return False

            def resolve_client_private_key(self, client):
                return provider.signing_key or provider.key

            def get_client_algorithm(self, client):
                return "RS256"

            def get_encode_header(self, client):
                return {"alg": "RS256", "kid": provider.key.kid}

            def get_client_claims(self, client):
                claims = {"iss": provider.issuer, "aud": [client.get_client_id()]}
                return {**claims, **provider.claims_override}

            def get_authorization_code_claims(self, authorization_code):
                claims = super().get_authorization_code_claims(authorization_code)
                if provider.nonce_override is not None:
                    claims["nonce"] = provider.nonce_override
                return claims

            def generate_user_info(self, user, scope):
                return dict(user)

        server = AuthorizationServer(
            app,
            query_client=lambda client_id: provider.clients.get(client_id),
            save_token=lambda token, request: None,
        )
        server.register_grant(Grant, [CodeChallenge(required=True), OpenID(require_nonce=True)])

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(
                issuer=provider.issuer,
                authorization_endpoint=provider.issuer + "/authorize",
                token_endpoint=provider.issuer + "/token",
                jwks_uri=provider.issuer + "/jwks",
                response_types_supported=["code"],
                subject_types_supported=["public"],
                id_token_signing_alg_values_supported=["RS256"],
                code_challenge_methods_supported=["S256"],
                token_endpoint_auth_methods_supported=["client_secret_basic"],
                scopes_supported=["openid", "email", "profile"],
            )

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet([provider.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            user = provider.users.get(provider.signed_in or "")
            grant = server.get_consent_grant(end_user=user)
            return server.create_authorization_response(grant=grant, grant_user=user)

        @app.post("/token")
        def token():
            from flask import request

            provider.token_requests.append(request.form.to_dict())
            return server.create_token_response()

        return app
