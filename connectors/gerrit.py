"""Gerrit: the JSON events of the webhooks plugin (the ``stream-events`` format), shared secret.

The webhooks plugin posts each event to a configured URL and can neither sign nor add headers,
so the secret travels in that URL (``?token=SECRET``); a proxy may send it instead as
``Authorization: Bearer SECRET`` or ``X-Gerrit-Token``. ``learnloop serve`` keeps no access log,
so the query string is not written anywhere by Learnloop; check your proxy's logs.

Captured (Gerrit ``cmd-stream-events``):

- ``comment-added`` that casts a Code-Review vote (its approval has an ``oldValue``): +1/+2
  ``reviewed`` plus ``approve``, -1/-2 ``reviewed`` plus ``requested changes``, the vote in
  ``result.score``; a comment without a vote: ``commented``; a vote on other labels only
  (e.g. CI's Verified) is ignored;
- ``change-merged``: ``merged`` by the submitter;
- ``patchset-created``: the first patch set is ``authored``, a reworked later one ``revised``
  (rebases and other trivial patch sets are ignored).

Gerrit events carry no delivery id; one is derived from what identifies the event (type,
change, patch set, time, actor), so the plugin's retries are recognised. Pure: no Flask, no
database.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from urllib.parse import quote

from connectors import profile as p
from connectors.common import (
    Change,
    Event,
    Mapped,
    WebhookRequest,
    account_agent,
    code_review_statement,
    comment_statement,
    get,
    ignored,
    origin,
    parse_json_object,
    review_statements,
    same_secret,
    text_length,
    timestamp,
    web_url,
)
from connectors.errors import MalformedPayload, SignatureInvalid

SOURCE = "gerrit"
PLATFORM = "Gerrit"
CODE_REVIEW_LABEL = "Code-Review"
SCORE_RANGE = {"min": -2, "max": 2}


def presented_token(request: WebhookRequest) -> str | None:
    """The shared secret of a request: Bearer token, ``X-Gerrit-Token`` or ``?token=``."""
    authorization = request.header("Authorization") or ""
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.header("X-Gerrit-Token") or request.query.get("token")


def verify(request: WebhookRequest, secret: str) -> None:
    """Raise SignatureInvalid unless the request presents the connector's shared secret."""
    token = presented_token(request)
    if token is None:
        raise SignatureInvalid(
            "no shared secret: add ?token=SECRET to the webhook URL (or send it as a Bearer token)"
        )
    if not same_secret(token, secret):
        raise SignatureInvalid("the shared secret does not match this connector's secret")


def parse(request: WebhookRequest) -> Event:
    """The event of a verified request; its name is the event's ``type``."""
    payload = parse_json_object(request.body)
    name = get(payload, "type")
    return Event(SOURCE, name, delivery_id(payload), payload)


def delivery_id(payload: dict) -> str:
    """A stable id for an event that has none: what identifies it, hashed if long."""
    change = payload.get("change") if isinstance(payload.get("change"), dict) else {}
    patch_set = payload.get("patchSet") if isinstance(payload.get("patchSet"), dict) else {}
    actor = next(
        (
            payload[k]
            for k in ("author", "submitter", "uploader")
            if isinstance(payload.get(k), dict)
        ),
        {},
    )
    parts = [
        str(payload.get("type", "")),
        f"{change.get('project', '')}~{change.get('number', change.get('id', ''))}",
        str(patch_set.get("number", "")),
        str(payload.get("eventCreatedOn", "")),
        str(actor.get("username") or actor.get("email") or ""),
    ]
    key = ":".join(parts)
    if len(key) > 200:
        key = "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def map_event(event: Event) -> Mapped:
    """The statements of a Gerrit event; an ignored event maps to none, with a note."""
    handler = _HANDLERS.get(event.name)
    if handler is None:
        return ignored(event, f"Gerrit {event.name!r} events are not captured")
    return handler(event)


# ---- Payload pieces --------------------------------------------------------------------


def _site(change_url: str) -> str:
    """The Gerrit site of a change URL (``https://host/r/c/proj/+/1`` -> ``https://host/r``)."""
    head, sep, _ = change_url.partition("/c/")
    return head if sep else origin(change_url)


def _account(payload: dict, path: str, home: str) -> dict:
    """A Gerrit account as an Agent: by username, else by e-mail address."""
    username = get(payload, f"{path}.username", required=False)
    name = get(payload, f"{path}.name", required=False)
    if username:
        return account_agent(home, username, name)
    email = get(payload, f"{path}.email", required=False)
    if email:
        agent = {"objectType": "Agent", "mbox": f"mailto:{email}"}
        if name:
            agent["name"] = name
        return agent
    raise MalformedPayload.at(path, "has neither a username nor an email")


def _change(payload: dict) -> Change:
    url = web_url(payload, "change.url")
    home = origin(url)
    project = get(payload, "change.project")
    number = get(payload, "change.number", (int, str))
    subject = get(payload, "change.subject", required=False) or ""
    created = get(payload, "change.createdOn", (int, float), required=False)
    inserted = get(payload, "patchSet.sizeInsertions", int, required=False)
    deleted = get(payload, "patchSet.sizeDeletions", int, required=False)
    owner = get(payload, "change.owner", dict, required=False)
    return Change(
        url=url,
        title=f"{project}~{number}" + (f": {subject}" if subject else ""),
        repository_url=f"{_site(url)}/admin/repos/{quote(project, safe='')}",
        repository_name=project,
        platform=PLATFORM,
        author=_account(payload, "change.owner", home) if owner else None,
        created_at=timestamp(payload, "change.createdOn") if created is not None else None,
        lines_changed=None if inserted is None or deleted is None else inserted + abs(deleted),
    )


def _message(comment: str | None) -> str:
    """The reviewer's words: Gerrit prefixes ``Patch Set 2: Code-Review+2`` to the comment."""
    text = (comment or "").strip()
    first, _, rest = text.partition("\n")
    return rest.strip() if first.startswith("Patch Set ") else text


def _code_review_vote(payload: dict) -> int | None:
    """The Code-Review vote this comment cast, or None when it did not change the vote."""
    approvals = get(payload, "approvals", list, required=False) or []
    for index, approval in enumerate(approvals):
        if not isinstance(approval, dict) or approval.get("type") != CODE_REVIEW_LABEL:
            continue
        if "oldValue" not in approval:
            return None  # reported for information: the vote did not change here
        try:
            value, old = int(approval.get("value")), int(approval["oldValue"])
        except (TypeError, ValueError):
            raise MalformedPayload.at(f"approvals[{index}].value", "must be a number") from None
        return value if value != old else None
    return None


# ---- Events ----------------------------------------------------------------------------


def _comment_added(event: Event) -> Mapped:
    payload = event.payload
    change = _change(payload)
    actor = _account(payload, "author", origin(change.url))
    when = timestamp(payload, "eventCreatedOn")
    message = _message(get(payload, "comment", required=False))
    vote = _code_review_vote(payload)
    if vote:
        statements = review_statements(
            source=SOURCE,
            delivery_id=event.delivery_id,
            actor=actor,
            change=change,
            when=when,
            verdict=p.VERDICT_APPROVED if vote > 0 else p.VERDICT_CHANGES_REQUESTED,
            body_length=text_length(message),
            score={"raw": vote, **SCORE_RANGE},
        )
        return Mapped(event.name, event.delivery_id, statements)
    if not message:
        return ignored(event, "no Code-Review vote and no comment text")
    statement = comment_statement(
        source=SOURCE,
        delivery_id=event.delivery_id,
        actor=actor,
        change=change,
        when=when,
        comment_url=None,  # Gerrit events carry no id or link of the message
        body=message,
    )
    return Mapped(event.name, event.delivery_id, [statement])


def _change_merged(event: Event) -> Mapped:
    payload = event.payload
    change = _change(payload)
    statement = code_review_statement(
        source=SOURCE,
        delivery_id=event.delivery_id,
        n=0,
        actor=_account(payload, "submitter", origin(change.url)),
        verb=p.MERGED,
        change=change,
        when=timestamp(payload, "eventCreatedOn"),
    )
    return Mapped(event.name, event.delivery_id, [statement])


def _patchset_created(event: Event) -> Mapped:
    payload = event.payload
    change = _change(payload)
    number = get(payload, "patchSet.number", (int, str))
    kind = get(payload, "patchSet.kind", required=False) or "REWORK"
    if str(number) == "1":
        verb = p.AUTHORED
    elif kind == "REWORK":
        verb = p.REVISED
    else:
        return ignored(event, f"patch set of kind {kind} (no new work) is not captured")
    statement = code_review_statement(
        source=SOURCE,
        delivery_id=event.delivery_id,
        n=0,
        actor=_account(payload, "uploader", origin(change.url)),
        verb=verb,
        change=change if verb == p.REVISED else replace(change, author=None),
        when=timestamp(payload, "eventCreatedOn"),
    )
    return Mapped(event.name, event.delivery_id, [statement])


_HANDLERS = {
    "comment-added": _comment_added,
    "change-merged": _change_merged,
    "patchset-created": _patchset_created,
}
