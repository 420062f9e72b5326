"""GitHub webhooks: verify ``X-Hub-Signature-256`` and map review events to statements.

Captured (docs.github.com "Webhook events and payloads"):

- ``pull_request_review`` submitted: ``reviewed`` plus ``approve`` / ``requested changes`` for
  the states approved / changes_requested (a "commented" review is ``reviewed`` only);
- ``pull_request_review_comment`` created: ``commented`` (a comment on the diff);
- ``issue_comment`` created on a pull request: ``commented`` (the conversation);
- ``pull_request`` opened: ``authored``; closed with ``merged: true``: ``merged``.

Everything else (edits, dismissals, issues, pings, bots) is acknowledged and ignored. Pure:
no Flask, no database.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import replace
from urllib.parse import parse_qs

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

SOURCE = "github"
PLATFORM = "GitHub"
SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"

VERDICTS = {
    "approved": p.VERDICT_APPROVED,
    "changes_requested": p.VERDICT_CHANGES_REQUESTED,
    "commented": p.VERDICT_COMMENTED,
}


def signature(body: bytes, secret: str) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends: ``sha256=`` and the hex HMAC of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(request: WebhookRequest, secret: str) -> None:
    """Raise SignatureInvalid unless the raw body carries a valid signature under ``secret``.

    GitHub signs no timestamp, so replays are stopped by the delivery id, not here.
    """
    presented = request.header(SIGNATURE_HEADER)
    if not presented:
        raise SignatureInvalid(
            f"the {SIGNATURE_HEADER} header is missing; set the connector's secret on the webhook"
        )
    if not same_secret(presented.strip(), signature(request.body, secret)):
        raise SignatureInvalid(f"{SIGNATURE_HEADER} does not match the body and this secret")


def parse(request: WebhookRequest) -> Event:
    """The event of a verified request: event name, delivery id and JSON payload.

    Accepts both webhook content types: ``application/json`` and the form encoding, whose
    ``payload`` field holds the JSON.
    """
    name = (request.header(EVENT_HEADER) or "").strip()
    if not name:
        raise MalformedPayload(f"the {EVENT_HEADER} header is missing")
    delivery = (request.header(DELIVERY_HEADER) or "").strip()
    if not delivery:
        raise MalformedPayload(f"the {DELIVERY_HEADER} header is missing")
    if len(delivery) > 200:
        raise MalformedPayload(f"the {DELIVERY_HEADER} header is longer than 200 characters")
    body = request.body
    content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(body.decode("utf-8"), strict_parsing=False)
        except UnicodeDecodeError:
            raise MalformedPayload("the form body is not UTF-8") from None
        if "payload" not in form:
            raise MalformedPayload("the form body has no payload field")
        body = form["payload"][0].encode()
    return Event(SOURCE, name, delivery, parse_json_object(body))


def stored_delivery(item: object) -> Event:
    """A delivery stored as JSON (for backfills) as an Event, without a signature check.

    Accepts GitHub's delivery API shape (``{"guid", "event", "request": {"headers",
    "payload"}}``, as ``GET /repos/{owner}/{repo}/hooks/{id}/deliveries/{delivery_id}``
    returns it), ``{"event", "delivery", "payload"}``, and ``{"headers", "payload"}``. The
    guid must be there for a backfill to recognise deliveries the webhook already received.
    """
    if not isinstance(item, dict):
        raise MalformedPayload("a stored delivery must be a JSON object")
    source = item["request"] if isinstance(item.get("request"), dict) else item
    raw_headers = source.get("headers") if isinstance(source.get("headers"), dict) else {}
    headers = {str(k).lower(): v for k, v in raw_headers.items()}
    name = item.get("event") or headers.get(EVENT_HEADER.lower())
    delivery = item.get("guid") or item.get("delivery") or headers.get(DELIVERY_HEADER.lower())
    payload = source.get("payload")
    if isinstance(payload, str):
        payload = parse_json_object(payload.encode())
    if not isinstance(name, str) or not name:
        raise MalformedPayload.at("event", "is required (or an X-GitHub-Event header)")
    if not isinstance(delivery, str) or not delivery or len(delivery) > 200:
        raise MalformedPayload.at("guid", "is required (or an X-GitHub-Delivery header)")
    if not isinstance(payload, dict):
        raise MalformedPayload.at("payload", "must be the event's JSON object")
    return Event(SOURCE, name, delivery, payload)


def map_event(event: Event) -> Mapped:
    """The statements of a GitHub event; an ignored event maps to none, with a note."""
    handler = _HANDLERS.get(event.name)
    if handler is None:
        if event.name == "ping":
            return ignored(event, "ping: the webhook reaches Learnloop and its secret matches")
        return ignored(event, f"GitHub {event.name!r} events are not captured")
    return handler(event)


# ---- Payload pieces --------------------------------------------------------------------


def _home(payload: dict) -> str:
    return origin(web_url(payload, "repository.html_url"))


def _user(payload: dict, path: str, home: str) -> dict:
    return account_agent(home, get(payload, f"{path}.login"))


def _is_bot(payload: dict, path: str) -> bool:
    return get(payload, f"{path}.type", required=False) == "Bot"


def _change(payload: dict, path: str, url_path: str | None = None) -> Change:
    """The change request at ``path`` (``pull_request``, or ``issue`` for issue comments)."""
    home = _home(payload)
    number = get(payload, f"{path}.number", int)
    title = get(payload, f"{path}.title", required=False) or ""
    repository = get(payload, "repository.full_name")
    created = get(payload, f"{path}.created_at", required=False)
    additions = get(payload, f"{path}.additions", int, required=False)
    deletions = get(payload, f"{path}.deletions", int, required=False)
    author = get(payload, f"{path}.user", dict, required=False)
    return Change(
        url=web_url(payload, url_path or f"{path}.html_url"),
        title=f"{repository}#{number}" + (f": {title}" if title else ""),
        repository_url=web_url(payload, "repository.html_url"),
        repository_name=repository,
        platform=PLATFORM,
        author=_user(payload, f"{path}.user", home) if author else None,
        created_at=timestamp(payload, f"{path}.created_at") if created else None,
        lines_changed=None if additions is None or deletions is None else additions + deletions,
        files=get(payload, f"{path}.changed_files", int, required=False),
    )


# ---- Events ----------------------------------------------------------------------------


def _pull_request_review(event: Event) -> Mapped:
    payload = event.payload
    action = get(payload, "action")
    if action != "submitted":
        return ignored(event, f"review {action}: only submitted reviews are captured")
    state = get(payload, "review.state").lower()
    if state not in VERDICTS:
        return ignored(event, f"review in state {state!r} is not captured")
    if _is_bot(payload, "review.user"):
        return ignored(event, "reviews by bot accounts are not captured")
    statements = review_statements(
        source=SOURCE,
        delivery_id=event.delivery_id,
        actor=_user(payload, "review.user", _home(payload)),
        change=_change(payload, "pull_request"),
        when=timestamp(payload, "review.submitted_at"),
        verdict=VERDICTS[state],
        body_length=text_length(get(payload, "review.body", required=False)),
    )
    return Mapped(event.name, event.delivery_id, statements)


def _comment(event: Event, change: Change) -> Mapped:
    payload = event.payload
    action = get(payload, "action")
    if action != "created":
        return ignored(event, f"comment {action}: only new comments are captured")
    if _is_bot(payload, "comment.user"):
        return ignored(event, "comments by bot accounts are not captured")
    statement = comment_statement(
        source=SOURCE,
        delivery_id=event.delivery_id,
        actor=_user(payload, "comment.user", _home(payload)),
        change=change,
        when=timestamp(payload, "comment.created_at"),
        comment_url=web_url(payload, "comment.html_url"),
        body=get(payload, "comment.body", required=False),
    )
    return Mapped(event.name, event.delivery_id, [statement])


def _pull_request_review_comment(event: Event) -> Mapped:
    return _comment(event, _change(event.payload, "pull_request"))


def _issue_comment(event: Event) -> Mapped:
    if get(event.payload, "issue.pull_request", dict, required=False) is None:
        return ignored(event, "comment on an issue, not on a pull request")
    return _comment(event, _change(event.payload, "issue", "issue.pull_request.html_url"))


def _pull_request(event: Event) -> Mapped:
    payload = event.payload
    action = get(payload, "action")
    change = _change(payload, "pull_request")
    home = _home(payload)
    if action == "opened":
        if _is_bot(payload, "pull_request.user"):
            return ignored(event, "pull requests by bot accounts are not captured")
        statement = code_review_statement(
            source=SOURCE,
            delivery_id=event.delivery_id,
            n=0,
            actor=_user(payload, "pull_request.user", home),
            verb=p.AUTHORED,
            change=replace(change, author=None),  # the actor is the author
            when=timestamp(payload, "pull_request.created_at"),
        )
        return Mapped(event.name, event.delivery_id, [statement])
    if action == "closed" and get(payload, "pull_request.merged", bool, required=False):
        merger = "pull_request.merged_by"
        if get(payload, merger, dict, required=False) is None:
            merger = "sender"
        statement = code_review_statement(
            source=SOURCE,
            delivery_id=event.delivery_id,
            n=0,
            actor=_user(payload, merger, home),
            verb=p.MERGED,
            change=change,
            when=timestamp(payload, "pull_request.merged_at"),
        )
        return Mapped(event.name, event.delivery_id, [statement])
    if action == "closed":
        return ignored(event, "pull request closed without merging")
    return ignored(event, f"pull request {action}: only opened and merged are captured")


_HANDLERS = {
    "pull_request_review": _pull_request_review,
    "pull_request_review_comment": _pull_request_review_comment,
    "issue_comment": _issue_comment,
    "pull_request": _pull_request,
}
