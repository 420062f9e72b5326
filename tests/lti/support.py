"""Helpers for the LTI tests: platform keys, hand-signed id_tokens, servers on 127.0.0.1.

Hand-signed tokens serve the unit tests of single validation rules (each "known bad payload"
needs a token no conforming platform library would produce). The end-to-end tests launch from
the third-party ``lti1p3platform`` package instead (test_platform_integration.py).
"""

import base64
import contextlib
import hashlib
import hmac
import json
import threading
import time
from http.cookiejar import DefaultCookiePolicy

import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

from lti import claims as c

ISSUER = "https://platform.example.edu"
CLIENT_ID = "learnloop-client"
DEPLOYMENT = "1"
TOOL = "http://localhost"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PlatformKeys:
    """A platform's RSA key pair and its JWKS."""

    def __init__(self, kid="platform-key-1"):
        self.kid = kid
        self.key = RSAKey.generate_key(2048, private=True)

    @property
    def public_jwk(self):
        return dict(self.key.as_dict(private=False), kid=self.kid, alg="RS256", use="sig")

    def jwks(self):
        return {"keys": [self.public_jwk]}

    def sign(self, claims, header=None):
        header = {"alg": "RS256", "kid": self.kid, "typ": "JWT"} if header is None else header
        return jwt.encode(header, claims, self.key, algorithms=["RS256"])

    def sign_hs256_with_public_key(self, claims):
        """The classic algorithm-confusion forgery: HMAC keyed with the public key's PEM."""
        secret = self.key.as_pem(private=False)
        head = b64(json.dumps({"alg": "HS256", "kid": self.kid}).encode())
        body = b64(json.dumps(claims).encode())
        mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{b64(mac)}"


def unsigned(claims, kid="platform-key-1"):
    head = b64(json.dumps({"alg": "none", "kid": kid}).encode())
    return f"{head}.{b64(json.dumps(claims).encode())}."


def launch_claims(nonce="nonce-1", now=None, tool=TOOL, **overrides):
    """A valid LtiResourceLinkRequest for a learner; ``overrides`` replace claims (None drops)."""
    now = int(time.time()) if now is None else now
    claims = {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "moodle-user-7",
        "exp": now + 300,
        "iat": now,
        "nonce": nonce,
        "name": "Ann Learner",
        "email": "ann@example.com",
        c.VERSION: "1.3.0",
        c.MESSAGE_TYPE: "LtiResourceLinkRequest",
        c.DEPLOYMENT_ID: DEPLOYMENT,
        c.TARGET_LINK_URI: tool + "/lti/launch",
        c.RESOURCE_LINK: {"id": "rl-42", "title": "Secure coding basics"},
        c.ROLES: [c.LEARNER],
        c.CONTEXT: {"id": "course-9", "title": "Security 101", "label": "SEC101"},
        c.TOOL_PLATFORM: {"name": "Example Moodle", "guid": "moodle.example.edu"},
    }
    for name, value in overrides.items():
        key = {
            "version": c.VERSION,
            "message_type": c.MESSAGE_TYPE,
            "deployment_id": c.DEPLOYMENT_ID,
            "target_link_uri": c.TARGET_LINK_URI,
            "resource_link": c.RESOURCE_LINK,
            "roles": c.ROLES,
            "context": c.CONTEXT,
            "custom": c.CUSTOM,
            "dl_settings": c.DL_SETTINGS,
            "ags": c.AGS_ENDPOINT,
            "nrps": c.NRPS_SERVICE,
            "tool_platform": c.TOOL_PLATFORM,
        }.get(name, name)
        if value is None:
            claims.pop(key, None)
        else:
            claims[key] = value
    return claims


@contextlib.contextmanager
def serve(wsgi_app):
    """Serve a WSGI app on 127.0.0.1 (a free port) in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextlib.contextmanager
def serve_tool(app):
    """Serve Learnloop like ``serve``, with LEARNLOOP_PUBLIC_URL set to where it is served."""
    runtime = app.extensions["lrs"]
    configured = runtime.public_url
    with serve(app) as base:
        runtime.public_url = base
        try:
            yield base
        finally:
            runtime.public_url = configured


class _LoopbackBrowser(requests.Session):
    """Like a browser on 127.0.0.1 (a secure context): Secure cookies also travel over http.

    requests copies the jar into one with the default policy for each request, which would drop
    Secure cookies on http; the Cookie header is therefore rebuilt from the session's own jar.
    """

    def __init__(self):
        super().__init__()
        self.cookies.set_policy(DefaultCookiePolicy(secure_protocols=("https", "wss", "http")))

    def prepare_request(self, request):
        prepared = super().prepare_request(request)
        header = requests.cookies.get_cookie_header(self.cookies, prepared)
        if header:
            prepared.headers["Cookie"] = header
        return prepared


def browser():
    return _LoopbackBrowser()
