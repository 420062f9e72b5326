"""Why a call to a platform's service failed, in the platform's terms: scopes and answers.

Pure. An LMS administrator reads these messages (the LMS admin page, the connection check, the
grade log, the instructor's page), so each names the service as the LMS names it in its
settings, the scope as the LMS lists it, or the platform's HTTP answer and OAuth error code,
and says what to change. None names a function of ours, and none quotes a platform's body
beyond a standard OAuth ``error`` code (trap 4 of STYLE.md: a body may echo tokens).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from http import HTTPStatus

from lti import ags, nrps

#: The services as LMS settings name them (Moodle's checkboxes, Canvas's scopes).
AGS_SERVICE = "IMS LTI Assignment and Grade Services"
NRPS_SERVICE = "IMS LTI Names and Role Provisioning"

#: What each scope lets Learnloop do, in words.
SCOPE_MEANINGS = {
    ags.SCOPE_LINEITEM: "create and read gradebook columns",
    ags.SCOPE_LINEITEM_READONLY: "read gradebook columns",
    ags.SCOPE_RESULT_READONLY: "read grades",
    ags.SCOPE_SCORE: "send scores",
    nrps.SCOPE: "read the course roster",
}

_OAUTH_ERROR = re.compile(r"^[a-z_]{1,40}$")


def service_of(scopes: Iterable[str]) -> str:
    """The service these scopes belong to, as the LMS names it."""
    return NRPS_SERVICE if nrps.SCOPE in set(scopes) else AGS_SERVICE


def scope_words(scopes: Iterable[str]) -> str:
    """``https://…/scope/score (send scores)``, joined with "and"."""
    return " and ".join(f"{s} ({SCOPE_MEANINGS.get(s, 'unknown')})" for s in sorted(set(scopes)))


def grade_service_not_granted() -> str:
    return (
        "this LMS has not granted the grade service to Learnloop (its launches carry no "
        "Assignment and Grade Services claim); ask your LMS administrator to enable "
        f"'{AGS_SERVICE}' for Learnloop"
    )


def roster_service_not_granted() -> str:
    return (
        "this LMS has not granted the roster service to Learnloop; ask your LMS administrator "
        f"to enable '{NRPS_SERVICE}'"
    )


def scope_not_granted(wanted: Iterable[str]) -> str:
    """The LMS grants the service, but not a scope this call needs (any of ``wanted``)."""
    wanted = list(wanted)
    return (
        f"this LMS has not granted Learnloop the scope {' or '.join(wanted)} "
        f"({' or '.join(SCOPE_MEANINGS.get(s, 'unknown') for s in wanted)}); ask your LMS "
        f"administrator to allow it under '{service_of(wanted)}'"
    )


def no_line_item(title: str) -> str:
    """The placement has no gradebook column: the platform sent no ``lineitem`` with it."""
    where = f"'{title}'" if title else "this placement"
    return (
        f"the LMS has no gradebook column for {where}: its launches carry no line item; make "
        "the activity graded in the LMS (or place it again from Learnloop with 'graded' ticked)"
    )


def oauth_error(body: object) -> str | None:
    """The standard ``error`` code of an OAuth 2 error answer (RFC 6749 §5.2), if well-formed."""
    code = body.get("error") if isinstance(body, dict) else None
    return code if isinstance(code, str) and _OAUTH_ERROR.match(code) else None


def token_refused(status: int, error: str | None, scopes: Iterable[str], client_id: str) -> str:
    """The LMS's token endpoint refused an access token for these scopes."""
    scopes = list(scopes)
    answer = f"HTTP {status}" + (f", OAuth error {error}" if error else "")
    if error == "invalid_scope":
        return (
            f"the LMS refused Learnloop an access token ({answer}): it has not granted "
            f"{scope_words(scopes)}; ask your LMS administrator to enable "
            f"'{service_of(scopes)}' for Learnloop"
        )
    if error in ("invalid_client", "unauthorized_client") or status == 401:
        return (
            f"the LMS did not accept Learnloop's signed request for an access token ({answer}): "
            f"check that the LMS's tool has the client id {client_id} and takes Learnloop's "
            "public keys from its key set URL (/lti/jwks)"
        )
    return (
        f"the LMS refused Learnloop an access token for {scope_words(scopes)} ({answer}); "
        f"check that '{service_of(scopes)}' is enabled for Learnloop"
    )


def _reason(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def service_answer(what: str, status: int, scopes: Iterable[str]) -> str:
    """The LMS's ``what`` (``score service``…) answered ``status``: what that means here."""
    scopes = list(scopes)
    said = f"the LMS's {what} answered {_reason(status)}"
    if status == 401:
        return said + ": it did not accept Learnloop's access token, even a fresh one"
    if status == 403:
        allowed = " and ".join(SCOPE_MEANINGS.get(s, s) for s in scopes)
        return (
            f"{said}: it does not let Learnloop {allowed} here; ask your LMS administrator to "
            f"enable '{service_of(scopes)}' for Learnloop"
        )
    if status == 404:
        return said + ": the LMS no longer has it (deleted in the gradebook or the course?)"
    if status in (400, 415, 422):
        return said + ": the LMS rejected the request as malformed"
    if status == 409:
        return said + ": the LMS refused it as conflicting with what it has"
    if status == 429:
        return said + ": the LMS limits how often it may be called"
    if status >= 500:
        return said + ": the LMS had a problem of its own"
    return said
