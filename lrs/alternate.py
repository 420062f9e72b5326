"""The Alternate Request Syntax of xAPI 1.0.3 (Communication 1.3), as WSGI middleware.

A client that cannot send arbitrary methods or headers POSTs ``?method=PUT`` with a form body:
header-named fields become headers, ``content`` becomes the body, the remaining fields become
query parameters. The middleware rewrites such a request into the request it stands for, so the
resources never see the difference. It is marked, because xAPI 2.0 dropped the syntax and a
2.0.0 request using it is a 400 (see ``lrs.xapi``).
"""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qsl, urlencode

ALTERNATE = "learnloop.alternate"
ALTERNATE_ERROR = "learnloop.alternate_error"
HEADER_FIELDS = {
    "authorization": "HTTP_AUTHORIZATION",
    "x-experience-api-version": "HTTP_X_EXPERIENCE_API_VERSION",
    "content-type": "CONTENT_TYPE",
    "content-length": "CONTENT_LENGTH",
    "if-match": "HTTP_IF_MATCH",
    "if-none-match": "HTTP_IF_NONE_MATCH",
}
METHODS = {"GET", "HEAD", "PUT", "POST", "DELETE"}
FORM = "application/x-www-form-urlencoded"
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


class AlternateRequestSyntax:
    """Rewrites ``POST /xapi/...?method=X`` form requests into X requests."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if environ.get("PATH_INFO", "").startswith("/xapi/") and "method=" in query:
            params = parse_qsl(query, keep_blank_values=True)
            if any(name == "method" for name, _ in params):
                self._rewrite(environ, params)
        return self.app(environ, start_response)

    def _rewrite(self, environ, params: list[tuple[str, str]]) -> None:
        environ[ALTERNATE] = True

        def fail(message: str) -> None:
            environ[ALTERNATE_ERROR] = message

        method = dict(params)["method"].upper()
        if environ.get("REQUEST_METHOD") != "POST":
            return fail("the alternate request syntax must be sent as a POST")
        if len(params) != 1:
            return fail("with the alternate request syntax, method is the only query parameter")
        if method not in METHODS:
            return fail(f"method {method!r} is not one of {', '.join(sorted(METHODS))}")
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if content_type != FORM:
            return fail(f"the alternate request syntax needs a {FORM} body")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > self.max_bytes:
            return fail("the request body is too large")
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            fields = parse_qsl(
                raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw)
            )
        except (UnicodeDecodeError, ValueError):
            return fail("the form body is not URL-encoded")
        content = None
        query = []
        environ["CONTENT_TYPE"] = "application/json"
        for name, value in fields:
            lowered = name.lower()
            if lowered == "content":
                content = value
            elif lowered in HEADER_FIELDS:
                if _CONTROL.search(value):  # no real header holds them; PostgreSQL takes no NUL
                    return fail(f"the {name} form field must not contain control characters")
                environ[HEADER_FIELDS[lowered]] = value
            else:
                query.append((name, value))
        if method in ("PUT", "POST") and content is None and not query:
            return fail("the alternate request syntax needs a content form field for a PUT or POST")
        body = (content or "").encode("utf-8")
        environ["REQUEST_METHOD"] = method
        environ["QUERY_STRING"] = urlencode(query)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        return None
