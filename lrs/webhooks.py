"""Outbound webhooks (issue 17): Learnloop's own events, signed the Standard Webhooks way.

An administrator registers an *endpoint* (an https URL, the events it wants; none listed means
all) and receives its signing secret once (``whsec_`` + base64 of 32 random bytes; kept sealed,
``lrs.sealing``, because signing needs it, not only a comparison). A higher floor calls ``emit``
in the transaction of its event (an objective met, a review submitted); ``emit`` leaves one
``webhook`` job per subscribed endpoint in the durable queue, so an event is sent exactly when
it committed, and the worker delivers it with the queue's retries and backoff.

Each delivery is a JSON POST ``{"type", "timestamp", "data"}`` with the three Standard Webhooks
headers (https://www.standardwebhooks.com): ``webhook-id`` (the same on every retry of one
event, so receivers can deduplicate), ``webhook-timestamp`` (seconds, the attempt's time) and
``webhook-signature`` (``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body`` under the secret's
bytes). A 2xx answer is a delivery; anything else is retried until ``webhook_attempts`` are
spent. Every attempt is in the delivery log (``lrs.deliveries``); the admin page's test-send
sends a ``webhook.test`` event at once and shows the answer.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lrs import audit, deliveries, metrics, queue
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, NotFound, OutboundFailed, UnsafeUrl
from lrs.forwarding.settings import forwarding_config
from lrs.models import Base
from lrs.outbound import Limits, OutboundGuard, send
from lrs.sealing import Sealed, SecretBox
from schemas.errors import FieldError

#: Kind of the worker's job that delivers one event to one endpoint.
WEBHOOK = "webhook"
OBJECTIVE_MET = "objective.met"
REVIEW_SUBMITTED = "review.submitted"
TEST = "webhook.test"
#: The events an endpoint can subscribe to (kudos and badges join when they exist).
EVENT_TYPES = (OBJECTIVE_MET, REVIEW_SUBMITTED)
PURPOSE = b"learnloop webhook signing secret v1"
PREFIX = "whsec_"
#: Attempts of one event before it is given up (the worker's backoff between them).
ATTEMPTS = 8


class WebhookEndpoint(Base):
    """Where a store's events are sent."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(200), default="")
    events: Mapped[str] = mapped_column(String(400), default="", comment="comma list; '': all")
    secret_sealed: Mapped[str] = mapped_column(Text, comment="lrs.sealing, context webhook:<id>")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_ms: Mapped[int] = mapped_column(BigInteger)


# ==== pure rules =================================================================================


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks form: ``whsec_`` + base64(32 bytes)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix(PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def body_of(event_type: str, occurred_ms: int, data: dict) -> bytes:
    """The JSON an endpoint receives."""
    when = dt.datetime.fromtimestamp(occurred_ms / 1000, dt.UTC).isoformat(timespec="milliseconds")
    return json.dumps(
        {"type": event_type, "timestamp": when.replace("+00:00", "Z"), "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def subscribed(events: str, event_type: str) -> bool:
    """Whether an endpoint listing ``events`` (comma list, "" = all) wants ``event_type``."""
    wanted = [e.strip() for e in events.split(",") if e.strip()]
    return not wanted or event_type in wanted or event_type == TEST


# ==== services ===================================================================================


def sealed_values(session: Session) -> list[Sealed]:
    """Every endpoint's sealed signing secret, for ``learnloop secrets reseal``."""
    return [
        Sealed(e, "secret_sealed", _context(e.id), f"webhook endpoint {e.id}")
        for e in session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    ]


def secret_box(master_key: str) -> SecretBox:
    return SecretBox(master_key, PURPOSE, "webhook signing secret")


def _context(endpoint_id: int) -> str:
    return f"webhook:{endpoint_id}"


def _target(endpoint: WebhookEndpoint) -> audit.Target:
    return audit.Target("webhook_endpoint", endpoint.id, endpoint.url)


def _bad(path: str, message: str) -> BadRequest:
    return BadRequest(f"{path}: {message}", [FieldError(path, message)])


def create_endpoint(
    session: Session,
    store_id: int,
    url: str,
    events: list[str],
    description: str,
    guard: OutboundGuard,
    box: SecretBox,
    now_ms: int,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it and its signing secret (shown once, kept sealed).

    Raises BadRequest naming the field: a URL Learnloop may not call, an unknown event type.
    """
    guard.check_url(url, "url")
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise _bad("events", f"unknown event {unknown[0]!r}; known: {', '.join(EVENT_TYPES)}")
    if len(description) > 200:
        raise _bad("description", "must be at most 200 characters")
    secret = new_secret()
    endpoint = WebhookEndpoint(
        store_id=store_id,
        url=url,
        description=description.strip(),
        events=",".join(dict.fromkeys(events)),
        secret_sealed="",
        active=True,
        created_ms=now_ms,
    )
    session.add(endpoint)
    session.flush()
    endpoint.secret_sealed = box.seal(secret, _context(endpoint.id))
    audit.record(
        session,
        "webhook_endpoint.created",
        store_id=store_id,
        target=_target(endpoint),
        details={"events": endpoint.events or "all"},
    )
    return endpoint, secret


def get_endpoint(session: Session, store_id: int, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.store_id != store_id:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return endpoint


def list_endpoints(session: Session, store_id: int) -> list[WebhookEndpoint]:
    return list(
        session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.store_id == store_id)
            .order_by(WebhookEndpoint.id)
        )
    )


def set_active(session: Session, endpoint: WebhookEndpoint, active: bool) -> None:
    """Stop (or start again) sending events to an endpoint; events meanwhile are not kept."""
    if endpoint.active == active:
        return
    endpoint.active = active
    audit.record(
        session,
        "webhook_endpoint.enabled" if active else "webhook_endpoint.disabled",
        store_id=endpoint.store_id,
        target=_target(endpoint),
    )


def delete_endpoint(session: Session, endpoint: WebhookEndpoint) -> None:
    store_id, target = endpoint.store_id, _target(endpoint)
    session.delete(endpoint)
    audit.record(session, "webhook_endpoint.deleted", store_id=store_id, target=target)


def person(session: Session, person_id: int) -> dict:
    """A person as events name them: id, name, e-mail address."""
    from lrs.people.models import Person

    found = session.get(Person, person_id)
    return {
        "id": person_id,
        "name": found.name if found else "",
        "email": found.email if found else None,
    }


def emit(session: Session, store_id: int, event_type: str, data: dict, now_ms: int) -> int:
    """Leave the event for every active endpoint that wants it, in the caller's transaction.

    Returns how many endpoints it goes to.
    """
    sent = 0
    for endpoint in session.scalars(
        select(WebhookEndpoint).where(
            WebhookEndpoint.store_id == store_id, WebhookEndpoint.active.is_(True)
        )
    ):
        if not subscribed(endpoint.events, event_type):
            continue
        message_id = "msg_" + uuid.uuid4().hex
        queue.enqueue(
            session,
            store_id,
            WEBHOOK,
            f"webhook:{endpoint.id}:{message_id}",
            {
                "endpoint": endpoint.id,
                "id": message_id,
                "type": event_type,
                "occurred_ms": now_ms,
                "data": data,
            },
            now_ms=now_ms,
        )
        sent += 1
    return sent


# ==== delivery ===================================================================================


@dataclass(frozen=True)
class Sent:
    """One attempt's answer: ``status`` 0 when none came."""

    ok: bool
    status: int
    message: str


def post_event(
    url: str,
    secret: str,
    message_id: str,
    event_type: str,
    occurred_ms: int,
    data: dict,
    now_s: int,
    guard: OutboundGuard,
    limits: Limits,
) -> Sent:
    """Sign and POST one event; never raises for the peer's failures."""
    body = body_of(event_type, occurred_ms, data)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Learnloop-Webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(now_s),
        "webhook-signature": sign(secret, message_id, now_s, body),
    }
    try:
        reply = send(
            guard, limits, "POST", url, name="webhook endpoint", headers=headers, data=body
        )
    except (OutboundFailed, UnsafeUrl) as failure:
        return Sent(False, getattr(failure, "upstream_status", 0), failure.message)
    if 200 <= reply.status < 300:
        return Sent(True, reply.status, f"accepted ({reply.status})")
    return Sent(False, reply.status, f"the endpoint answered {reply.status}")


def deliver(job: queue.ClaimedJob, master_key: str, guard, limits, sessions, clock) -> None:
    """The ``webhook`` job: send one event to one endpoint and log the attempt.

    Raises JobFailed so the worker retries with backoff; after ``ATTEMPTS`` the event is given
    up (``failed`` in the log and the queue).
    """
    payload = job.payload
    with read_transaction(sessions) as session:
        endpoint = session.get(WebhookEndpoint, int(payload.get("endpoint", 0)))
        if endpoint is None or not endpoint.active:
            return
        url = endpoint.url
        secret = secret_box(master_key).open(endpoint.secret_sealed, _context(endpoint.id))
        store_id, endpoint_id = endpoint.store_id, endpoint.id
    now = clock()
    sent = post_event(
        url,
        secret,
        payload["id"],
        payload["type"],
        int(payload["occurred_ms"]),
        payload.get("data") or {},
        now // 1000,
        guard,
        limits,
    )
    last = job.attempts >= ATTEMPTS
    outcome = "delivered" if sent.ok else ("failed" if last else "retrying")
    with write_transaction(sessions) as session:
        deliveries.record(
            session,
            store_id,
            deliveries.WEBHOOK,
            endpoint_id,
            clock(),
            deliveries.Attempt(
                outcome,
                sent.status,
                job.attempts,
                1,
                sent.message + ("; given up" if outcome == "failed" else ""),
                event_id=payload["id"],
                event_type=payload["type"],
            ),
        )
    metrics.safely(lambda m: m.webhook_events.labels(outcome).inc())
    if not sent.ok:
        raise queue.JobFailed(sent.message, permanent=last)


def on_webhook(job: queue.ClaimedJob) -> None:
    """The worker's handler of ``webhook`` jobs, in the app's context."""
    from lrs.runtime import lrs_runtime

    runtime, config = lrs_runtime(), forwarding_config()
    deliver(
        job,
        runtime.instance_secret(),
        config.outbound_guard(),
        config.limits(),
        runtime.sessions,
        runtime.clock,
    )


def test_send(
    sessions, endpoint_id: int, store_id: int, master_key: str, guard, limits, clock
) -> Sent:
    """Send a ``webhook.test`` event now (not queued, not retried) and log the answer."""
    with read_transaction(sessions) as session:
        endpoint = get_endpoint(session, store_id, endpoint_id)
        url = endpoint.url
        secret = secret_box(master_key).open(endpoint.secret_sealed, _context(endpoint.id))
    now = clock()
    message_id = "msg_" + uuid.uuid4().hex
    sent = post_event(
        url, secret, message_id, TEST, now, {"endpoint": endpoint_id}, now // 1000, guard, limits
    )
    with write_transaction(sessions) as session:
        deliveries.record(
            session,
            store_id,
            deliveries.WEBHOOK,
            endpoint_id,
            clock(),
            deliveries.Attempt(
                "delivered" if sent.ok else "failed",
                sent.status,
                1,
                1,
                sent.message,
                event_id=message_id,
                event_type=TEST,
            ),
        )
    return sent
