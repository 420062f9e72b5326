"""GitLab webhooks: verify ``X-Gitlab-Token`` (and the signing-token HMAC) and map MR events.

Captured (GitLab "Webhook events": Merge request events, Comment events):

- ``merge_request`` action ``open``: ``authored``; ``approval`` (one user approves):
  ``reviewed`` plus ``approve``; ``merge``: ``merged``. The ``approved`` action (all approval
  rules satisfied) is a state of the merge request, not a reviewer's act: counting it too
  would count the last approval twice, so it is acknowledged and ignored.
- ``note`` on a merge request, action ``create``: ``commented``. System notes are ignored.

GitLab may redact e-mail addresses, so people are identified by username. Pure: no Flask, no
database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

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
    hmac_sha256,
    ignored,
    origin,
    parse_json_object,
    review_statements,
    same_secret,
    timestamp,
    web_url,
)
from connectors.errors import MalformedPayload, SignatureInvalid

SOURCE = "gitlab"
PLATFORM = "GitLab"
TOKEN_HEADER = "X-Gitlab-Token"  # noqa: S105 (a header name, not a secret)
EVENT_HEADER = "X-Gitlab-Event"
SIGNING_TOLERANCE_SECONDS = 300


def signing_signature(webhook_id: str, ts: str, body: bytes, signing_token: str) -> str:
    """The ``webhook-signature`` of a signed GitLab delivery (Standard Webhooks ``v1``).

    HMAC-SHA256 of ``{webhook-id}.{webhook-timestamp}.{body}``, base64; a ``whsec_`` token's
    key is the base64 text after the prefix, any other token is used as it is.
    """
    if signing_token.startswith("whsec_"):
        key = base64.b64decode(signing_token.removeprefix("whsec_"))
    else:
        key = signing_token.encode()
    digest = hmac_sha256(key, f"{webhook_id}.{ts}.".encode() + body)
    return "v1," + base64.b64encode(digest).decode()


def verify(request: WebhookRequest, secret: str, signing_token: str | None = None) -> None:
    """Raise SignatureInvalid unless the delivery carries the connector's secret token.

    When the connector also has GitLab's signing token, the HMAC signature is required too
    (no downgrade to the token alone), and its timestamp must be within five minutes of
    ``request.received_at``, so a captured request cannot be replayed later. Without a
    signing token, signature headers are ignored (they cannot be checked).
    """
    if not same_secret(request.header(TOKEN_HEADER), secret):
        if request.header(TOKEN_HEADER) is None:
            raise SignatureInvalid(
                f"the {TOKEN_HEADER} header is missing; set the connector's secret as the "
                "webhook's secret token"
            )
        raise SignatureInvalid(f"{TOKEN_HEADER} does not match this connector's secret")
    if signing_token is None:
        return
    webhook_id = request.header("webhook-id")
    ts = request.header("webhook-timestamp")
    presented = request.header("webhook-signature")
    if not (webhook_id and ts and presented):
        raise SignatureInvalid(
            "this connector requires GitLab's signed deliveries: webhook-id, webhook-timestamp "
            "and webhook-signature headers are missing"
        )
    try:
        sent_at = int(ts)
    except ValueError:
        raise SignatureInvalid("webhook-timestamp is not a number of seconds") from None
    if abs(request.received_at - sent_at) > SIGNING_TOLERANCE_SECONDS:
        raise SignatureInvalid("webhook-timestamp is more than five minutes away from now")
    try:
        expected = signing_signature(webhook_id, ts, request.body, signing_token)
    except (binascii.Error, ValueError):
        raise SignatureInvalid("the connector's signing token is not valid base64") from None
    if not any(same_secret(candidate, expected) for candidate in presented.split()):
        raise SignatureInvalid("webhook-signature does not match the body and signing token")


def delivery_id(request: WebhookRequest) -> str:
    """GitLab's id of a delivery that stays the same across retries.

    ``Idempotency-Key`` (GitLab 17.4+), else the signed ``webhook-id``, else a hash of the
    body (a retry resends the same body).
    """
    for header in ("Idempotency-Key", "webhook-id"):
        value = (request.header(header) or "").strip()
        if value and len(value) <= 200:
            return value
    return "sha256:" + hashlib.sha256(request.body).hexdigest()


def parse(request: WebhookRequest) -> Event:
    """The event of a verified request; its name is the payload's ``object_kind``."""
    header = (request.header(EVENT_HEADER) or "").strip()
    if not header:
        raise MalformedPayload(f"the {EVENT_HEADER} header is missing")
    payload = parse_json_object(request.body)
    kind = payload.get("object_kind")
    name = kind if isinstance(kind, str) and kind else header
    return Event(SOURCE, name, delivery_id(request), payload)


def map_event(event: Event) -> Mapped:
    """The statements of a GitLab event; an ignored event maps to none, with a note."""
    if event.name == "merge_request":
        return _merge_request(event)
    if event.name == "note":
        return _note(event)
    return ignored(event, f"GitLab {event.name!r} events are not captured")


# ---- Payload pieces --------------------------------------------------------------------


def _home(payload: dict) -> str:
    return origin(web_url(payload, "project.web_url"))


def _user(payload: dict, home: str) -> dict:
    return account_agent(
        home, get(payload, "user.username"), get(payload, "user.name", required=False)
    )


def _change(payload: dict, path: str, url: str) -> Change:
    project = get(payload, "project.path_with_namespace")
    iid = get(payload, f"{path}.iid", int)
    title = get(payload, f"{path}.title", required=False) or ""
    created = get(payload, f"{path}.created_at", required=False)
    return Change(
        url=url,
        title=f"{project}!{iid}" + (f": {title}" if title else ""),
        repository_url=web_url(payload, "project.web_url"),
        repository_name=project,
        platform=PLATFORM,
        author=None,  # GitLab names the author by numeric id only (author_id)
        created_at=timestamp(payload, f"{path}.created_at") if created else None,
    )


# ---- Events ----------------------------------------------------------------------------


def _merge_request(event: Event) -> Mapped:
    payload = event.payload
    action = get(payload, "object_attributes.action", required=False)
    change = _change(payload, "object_attributes", web_url(payload, "object_attributes.url"))
    home = _home(payload)
    common = {"source": SOURCE, "delivery_id": event.delivery_id, "change": change}
    if action == "open":
        statement = code_review_statement(
            **common,
            n=0,
            actor=_user(payload, home),
            verb=p.AUTHORED,
            when=timestamp(payload, "object_attributes.created_at"),
        )
        return Mapped(event.name, event.delivery_id, [statement])
    if action == "approval":
        statements = review_statements(
            **common,
            actor=_user(payload, home),
            when=timestamp(payload, "object_attributes.updated_at"),
            verdict=p.VERDICT_APPROVED,
            body_length=0,
        )
        return Mapped(event.name, event.delivery_id, statements)
    if action == "approved":
        return ignored(
            event, "merge request fully approved; each approval is captured from its own event"
        )
    if action == "merge":
        statement = code_review_statement(
            **common,
            n=0,
            actor=_user(payload, home),
            verb=p.MERGED,
            when=timestamp(payload, "object_attributes.updated_at"),
        )
        return Mapped(event.name, event.delivery_id, [statement])
    return ignored(event, f"merge request action {action!r} is not captured")


def _note(event: Event) -> Mapped:
    payload = event.payload
    if get(payload, "object_attributes.noteable_type") != "MergeRequest":
        return ignored(event, "comment on something other than a merge request")
    if get(payload, "object_attributes.system", bool, required=False):
        return ignored(event, "system notes are not captured")
    action = get(payload, "object_attributes.action", required=False) or "create"
    if action != "create":
        return ignored(event, f"comment {action}: only new comments are captured")
    note_url = web_url(payload, "object_attributes.url")
    if get(payload, "merge_request.url", required=False):
        mr_url = web_url(payload, "merge_request.url")
    else:
        mr_url = note_url.split("#", 1)[0]
    change = _change(payload, "merge_request", mr_url)
    statement = comment_statement(
        source=SOURCE,
        delivery_id=event.delivery_id,
        actor=_user(payload, _home(payload)),
        change=change,
        when=timestamp(payload, "object_attributes.created_at"),
        comment_url=note_url,
        body=get(payload, "object_attributes.note", required=False),
    )
    return Mapped(event.name, event.delivery_id, [statement])
