"""The worker's side of forwarding: fan a stored batch out to destinations, then send.

``fan_out`` runs on every ``statements`` job (the shell calls it before the objectives'
handler): one ``forward`` job per active destination of the store, coalesced while pending.
``forward`` sends a destination its next batches after its cursor, in stored order, with no
lock held while it waits for the destination; the cursor moves only when the destination
accepted the batch, and only if nobody moved it meanwhile (a replay wins over a send that was
in flight). Only one worker sends to a destination at a time: a second one finds the first's
claimed job and comes back later. A failure plans the next attempt with exponential backoff on
the destination row itself, not by failing the job: the pending ``forward`` job that a new
batch of statements leaves then waits for that moment instead of hammering a destination that
is down, and after ``max_failures`` failures in a row the destination is dead-lettered until an
administrator resumes it.
"""

from __future__ import annotations

import json
import logging
import time

from flask import current_app
from sqlalchemy import select

from lrs import deliveries, metrics
from lrs.db import read_transaction, write_transaction
from lrs.forwarding.client import Result, Target, TokenCache, deliver
from lrs.forwarding.models import ACTIVE, DEAD, Destination, Rule
from lrs.forwarding.rules import selected
from lrs.forwarding.services import (
    FORWARD,
    context_of,
    enqueue_forward,
    secret_box,
    spec_of,
)
from lrs.forwarding.settings import forwarding_config
from lrs.queue import ClaimedJob
from lrs.runtime import lrs_runtime
from lrs.sql import run
from lrs.statements.read import attachment_parts

log = logging.getLogger("learnloop.forwarding")
TOKENS = "lrs.forwarding.tokens"


def token_cache() -> TokenCache:
    """The app's OAuth token cache (made on first use)."""
    return current_app.extensions.setdefault(TOKENS, TokenCache())


def fan_out(job: ClaimedJob) -> None:
    """Leave a ``forward`` job for each active destination of the job's store."""
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as session:
        ids = list(
            session.scalars(
                select(Destination.id).where(
                    Destination.store_id == job.store_id, Destination.state == ACTIVE
                )
            )
        )
    if not ids:
        return
    now = runtime.clock()
    with write_transaction(runtime.sessions) as session:
        for destination in session.scalars(select(Destination).where(Destination.id.in_(ids))):
            enqueue_forward(session, destination, now)


def fan_out_then(handler):
    """The ``statements`` handler: forwarding's fan-out, then ``handler`` (the objectives')."""

    def on_statements(job: ClaimedJob) -> None:
        fan_out(job)
        handler(job)

    return on_statements


def forward(job: ClaimedJob) -> None:
    """Send one destination its next batches until it is caught up, fails, or time is up."""
    runtime = lrs_runtime()
    config = forwarding_config()
    guard, limits = config.outbound_guard(), config.limits()
    destination_id = int(job.payload.get("destination", 0))
    started = time.monotonic()
    if _another_sender(runtime, job):
        # Another worker (PostgreSQL: any number share the queue) is sending to this
        # destination: two senders would only send batches twice. Come back after it.
        with write_transaction(runtime.sessions) as session:
            destination = session.get(Destination, destination_id)
            if destination is not None and destination.state == ACTIVE:
                enqueue_forward(session, destination, runtime.clock(), SENDER_WAIT_MS)
        return
    while True:
        now = runtime.clock()
        with read_transaction(runtime.sessions) as session:
            destination = session.get(Destination, destination_id)
            if destination is None or destination.state != ACTIVE:
                return
            if destination.next_attempt_ms > now:  # backing off: come back then
                break
            rules = [
                spec_of(r)
                for r in session.scalars(select(Rule).where(Rule.destination_id == destination_id))
            ]
            cursor, store_id = destination.cursor_seq, destination.store_id
            rows = run(
                session,
                "SELECT seq, payload FROM statements WHERE store_id = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                # without rules every statement goes: read no more than one batch
                [destination.store_id, cursor, config.scan_size if rules else config.batch_size],
            ).all()
            target = Target(
                destination.id,
                destination.endpoint,
                destination.version,
                destination.auth,
                destination.username,
                secret_box(runtime.instance_secret()).open(
                    destination.secret_sealed, context_of(destination.id)
                ),
                destination.token_url,
                destination.scope,
            )
        if not rows:
            return
        batch: list[dict] = []
        first = last = None
        scanned_to = rows[-1][0]
        for seq, payload in rows:
            statement = json.loads(payload)
            if selected(rules, statement):
                if len(batch) == config.batch_size:
                    scanned_to = last
                    break
                batch.append(statement)
                first = seq if first is None else first
                last = seq
        if not batch:
            _advance(runtime, destination_id, cursor, scanned_to, None, None)
            continue
        result = deliver(
            target, batch, guard, limits, token_cache(), _parts(runtime, store_id, batch)
        )
        if result.delivered:
            _count(len(batch), "delivered")
            sent = (first, last, len(batch))
            moved = _advance(runtime, destination_id, cursor, scanned_to, result, sent)
            if not moved:
                continue  # replayed meanwhile: carry on from the new cursor
        else:
            _count(len(batch), "failed")
            _failed(runtime, config, destination_id, result, (first, last, len(batch)))
            return
        if time.monotonic() - started > config.job_seconds:
            break
    with write_transaction(runtime.sessions) as session:
        destination = session.get(Destination, destination_id)
        if destination is not None and destination.state == ACTIVE:
            enqueue_forward(
                session,
                destination,
                runtime.clock(),
                max(0, destination.next_attempt_ms - runtime.clock()),
            )


def _parts(runtime, store_id: int, batch: list[dict]) -> dict | None:
    """The attachment data the batch's statements reference, by sha2; None when there is none."""
    if not any(s.get("attachments") for s in batch):
        return None
    with read_transaction(runtime.sessions) as session:
        found = attachment_parts(session, store_id, [json.dumps(s) for s in batch])
    return {sha2: (content_type, sha2, content) for content_type, sha2, content in found}


#: How long a forward job waits when another worker is sending to the same destination.
SENDER_WAIT_MS = 1_000


def _another_sender(runtime, job: ClaimedJob) -> bool:
    """Whether another claimed forward job of the same destination still holds its lease."""
    with read_transaction(runtime.sessions) as session:
        return bool(
            run(
                session,
                "SELECT 1 FROM jobs WHERE kind = ? AND key = ? AND state = 'running' "
                "AND id <> ? AND locked_until_ms > ?",
                [job.kind, job.key, job.id, runtime.clock()],
            ).first()
        )


def _advance(runtime, destination_id, cursor, to_seq, result: Result | None, sent) -> bool:
    """Move the cursor from ``cursor`` to ``to_seq`` unless it moved meanwhile; log a delivery."""
    now = runtime.clock()
    with write_transaction(runtime.sessions) as session:
        moved = run(
            session,
            "UPDATE forward_destinations SET cursor_seq = ?, failures = 0, last_error = '', "
            "next_attempt_ms = 0, delivered = delivered + ? WHERE id = ? AND cursor_seq = ?",
            [to_seq, sent[2] if sent else 0, destination_id, cursor],
        ).rowcount
        if result is not None:
            destination = session.get(Destination, destination_id)
            if destination is not None:
                deliveries.record(
                    session,
                    destination.store_id,
                    deliveries.FORWARD,
                    destination_id,
                    now,
                    deliveries.Attempt(
                        "delivered",
                        result.status,
                        1,
                        sent[2],
                        result.message
                        + ("" if moved else "; the cursor was moved meanwhile (replay)"),
                        first_seq=sent[0],
                        last_seq=sent[1],
                    ),
                )
    return bool(moved)


def _failed(runtime, config, destination_id: int, result: Result, sent) -> None:
    """Count the failure; plan the next attempt, or dead-letter the destination."""
    now = runtime.clock()
    with write_transaction(runtime.sessions) as session:
        destination = session.get(Destination, destination_id)
        if destination is None:
            return
        destination.failures += 1
        destination.last_error = result.message[:2000]
        dead = result.permanent or destination.failures >= config.max_failures
        if dead:
            destination.state = DEAD
            message = (
                f"{result.message}; forwarding stopped after {destination.failures} "
                "failures in a row until an administrator resumes it"
            )
        else:
            wait = config.backoff_ms(destination.failures)
            destination.next_attempt_ms = now + wait
            enqueue_forward(session, destination, now, wait)
            message = f"{result.message}; next attempt in {wait / 1000:g} s"
        deliveries.record(
            session,
            destination.store_id,
            deliveries.FORWARD,
            destination_id,
            now,
            deliveries.Attempt(
                DEAD if dead else "retrying",
                result.status,
                destination.failures,
                sent[2],
                message,
                first_seq=sent[0],
                last_seq=sent[1],
            ),
        )
    log.warning("forwarding destination %s: %s", destination_id, message)


def _count(statements: int, result: str) -> None:
    metrics.safely(lambda m: m.forwarded.labels(result).inc(statements))


__all__ = ["FORWARD", "fan_out", "fan_out_then", "forward"]
