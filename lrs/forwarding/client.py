"""The HTTP side of forwarding: authenticate to a destination and hand it a batch.

Every call goes through ``lrs.outbound`` (no address inside unless the operator allows it, a
total deadline, a bounded answer). Batches are a JSON array POSTed to ``<endpoint>/statements``
with ``X-Experience-API-Version``; they carry the statements' ids, so a re-sent batch is
idempotent at any conformant LRS. When a destination answers 409 (some LRSs do so for an id
they already hold, even with the same content) each statement of the batch is PUT by its id,
and one still in conflict is fetched and compared under the xAPI immutability rules: the same
statement counts as delivered, a different one stops the destination (an administrator must
decide which is right).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from urllib.parse import quote

from lrs.core import multipart
from lrs.core.statements import same_statement
from lrs.errors import OutboundFailed, UnsafeUrl
from lrs.forwarding.models import OAUTH
from lrs.outbound import Limits, OutboundGuard, Reply, send

NAME = "forwarding destination"
#: Answers that say the destination will never take this batch as it is (an invalid statement
#: for it, an attachment it was not sent, a wrong endpoint path): retrying cannot help, so the
#: destination is dead-lettered at once with the answer, for an administrator to act on.
REFUSED = frozenset({400, 404, 405, 413, 415, 422})


@dataclass(frozen=True)
class Target:
    """Where and how to deliver: the destination's endpoint and opened credentials."""

    id: int
    endpoint: str
    version: str
    auth: str
    username: str
    secret: str
    token_url: str = ""
    scope: str = ""


@dataclass(frozen=True)
class Result:
    """What a delivery attempt achieved. ``permanent``: retrying will not help."""

    delivered: bool
    status: int
    message: str
    permanent: bool = False


class TokenCache:
    """OAuth 2.0 access tokens per destination, kept until shortly before they expire."""

    def __init__(self, clock=time.monotonic) -> None:
        self._tokens: dict[tuple, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def get(self, key: tuple) -> str | None:
        with self._lock:
            found = self._tokens.get(key)
            if found and found[1] > self._clock():
                return found[0]
            self._tokens.pop(key, None)
            return None

    def put(self, key: tuple, token: str, expires_in: float) -> None:
        with self._lock:
            # 30 s early (or at half-life for short tokens): never send one about to expire
            self._tokens[key] = (
                token,
                self._clock() + max(expires_in - min(30, expires_in / 2), 1),
            )

    def forget(self, key: tuple) -> None:
        with self._lock:
            self._tokens.pop(key, None)


def _token_key(target: Target) -> tuple:
    return (target.id, target.token_url, target.username, target.scope)


class AuthFailed(Exception):
    def __init__(self, result: Result) -> None:
        super().__init__(result.message)
        self.result = result


def _basic(user: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()


def authorization(target: Target, guard: OutboundGuard, limits: Limits, tokens: TokenCache) -> str:
    """The Authorization header for ``target``: Basic, or a client-credentials bearer token.

    Raises AuthFailed when the token URL cannot be reached or refuses the client.
    """
    if target.auth != OAUTH:
        return _basic(target.username, target.secret)
    cached = tokens.get(_token_key(target))
    if cached:
        return "Bearer " + cached
    form = {"grant_type": "client_credentials"}
    if target.scope:
        form["scope"] = target.scope
    try:
        reply = send(
            guard,
            limits,
            "POST",
            target.token_url,
            name="destination's token URL",
            headers={
                "Authorization": _basic(target.username, target.secret),
                "Accept": "application/json",
            },
            data=form,
        )
    except (OutboundFailed, UnsafeUrl) as failure:
        status = getattr(failure, "upstream_status", 0)
        raise AuthFailed(Result(False, status, failure.message)) from None
    if reply.status != 200:
        raise AuthFailed(
            Result(
                False,
                reply.status,
                f"the destination's token URL answered {reply.status}{_said(reply)}",
            )
        )
    try:
        answer = json.loads(reply.body)
        token = answer["access_token"]
        expires_in = float(answer.get("expires_in") or 3600)
        if not isinstance(token, str) or not token:
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise AuthFailed(
            Result(False, reply.status, "the destination's token URL answered without a token")
        ) from None
    tokens.put(_token_key(target), token, expires_in)
    return "Bearer " + token


def _said(reply: Reply) -> str:
    """``: <the peer's message>`` from a JSON error body (bounded), or ""."""
    try:
        answer = json.loads(reply.body)
    except ValueError:
        return ""
    message = ""
    if isinstance(answer, dict):
        message = str(answer.get("message") or answer.get("error_description") or "")
        message = message or str(answer.get("error") or "")
    return f": {message[:300]}" if message else ""


#: An attachment's data as the destination receives it: (content type, sha2, bytes).
Part = tuple[str, str, bytes]


def body_of(
    statements: list[dict] | dict, parts: dict[str, Part] | None = None
) -> tuple[bytes, str]:
    """The request body and its content type.

    JSON, or multipart/mixed (xAPI Communication 1.5.2) when the statements have attachment data
    stored here (an attachment with only a ``fileUrl`` needs none).
    """
    text = json.dumps(statements, ensure_ascii=False, separators=(",", ":"))
    listed = statements if isinstance(statements, list) else [statements]
    wanted: list[Part] = []
    for statement in listed:
        for attachment in statement.get("attachments") or ():
            part = (parts or {}).get(str(attachment.get("sha2", "")).lower())
            if part is not None and part not in wanted:
                wanted.append(part)
    if not wanted:
        return text.encode(), "application/json"
    return multipart.build(text, wanted)


def _call(
    target: Target,
    guard: OutboundGuard,
    limits: Limits,
    header: str,
    method: str,
    path: str,
    body: tuple[bytes, str] | None = None,
) -> Reply:
    headers = {
        "Authorization": header,
        "X-Experience-API-Version": target.version,
        "Accept": "application/json",
    }
    if body is not None:
        headers["Content-Type"] = body[1]
    return send(
        guard,
        limits,
        method,
        target.endpoint.rstrip("/") + path,
        name=NAME,
        headers=headers,
        data=body[0] if body is not None else None,
    )


def for_version(statement: dict, version: str) -> dict:
    """The statement as an LRS of ``version`` accepts it.

    A 1.0.3 LRS refuses ``"version": "2.0.0"``; the property is the LRS's to fill in and no part
    of a statement's identity (xAPI immutability ignores it), so it is left out for such a
    destination, which then sets its own. Anything else 2.0-only is the destination's to judge.
    """
    if version.startswith("1.") and str(statement.get("version", "")).startswith("2."):
        return {k: v for k, v in statement.items() if k != "version"}
    return statement


def deliver(
    target: Target,
    statements: list[dict],
    guard: OutboundGuard,
    limits: Limits,
    tokens: TokenCache,
    parts: dict[str, Part] | None = None,
) -> Result:
    """POST ``statements`` (in order) to the destination; what came of it.

    Delivered on 200 or 204, or on 409 when every statement is, one by one, accepted or already
    there with the same content.
    """
    statements = [for_version(s, target.version) for s in statements]
    try:
        header = authorization(target, guard, limits, tokens)
        reply = _call(
            target, guard, limits, header, "POST", "/statements", body_of(statements, parts)
        )
        if reply.status in (200, 204):
            return Result(True, reply.status, f"accepted {len(statements)} statements")
        if reply.status == 409:
            return _one_by_one(target, statements, guard, limits, header, parts)
        if reply.status == 401 and target.auth == OAUTH:
            tokens.forget(_token_key(target))  # a revoked or expired token: ask for a new one
        said = f"the destination answered {reply.status}{_said(reply)}"
        if reply.status in REFUSED:
            return Result(False, reply.status, f"{said} (it refuses these statements)", True)
        return Result(False, reply.status, said)
    except AuthFailed as failed:
        return failed.result
    except (OutboundFailed, UnsafeUrl) as failure:
        return Result(False, getattr(failure, "upstream_status", 0), failure.message)


def _one_by_one(
    target: Target,
    statements: list[dict],
    guard: OutboundGuard,
    limits: Limits,
    header: str,
    parts: dict[str, Part] | None,
) -> Result:
    for statement in statements:
        statement_id = statement["id"]
        query = "/statements?statementId=" + quote(statement_id)
        reply = _call(target, guard, limits, header, "PUT", query, body_of(statement, parts))
        if reply.status in (200, 204):
            continue
        if reply.status != 409:
            return Result(
                False, reply.status, f"the destination answered {reply.status}{_said(reply)}"
            )
        held = _call(target, guard, limits, header, "GET", query)
        try:
            theirs = json.loads(held.body) if held.status == 200 else None
        except ValueError:
            theirs = None
        if not isinstance(theirs, dict) or not same_statement(statement, theirs, target.version):
            return Result(
                False,
                409,
                f"the destination holds a different statement with id {statement_id}",
                permanent=True,
            )
    return Result(True, 409, f"accepted {len(statements)} statements (some were already there)")
