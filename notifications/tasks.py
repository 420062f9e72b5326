"""The worker's jobs of the notifications: tell people, e-mail them, post to chat, schedule.

``notify`` (``lrs.queue.NOTIFY``): resolve an event into notices, put each in its person's
inbox and, by their preference, leave an ``email`` job (immediately) or hold it for the digest;
leave a ``chat`` job for each opted-in team the event is about. One write transaction: the inbox
rows and the jobs commit together, so a retried event never tells anyone twice.

``email``: build one message (a notification), or the digests of up to ``DIGEST_BATCH``
people, hand them to the SMTP server, log each (``deliveries``, channel ``email``); retried
with backoff.

``digest`` and ``review_due`` are per store and leave their own next run (a week, a day later);
the first ``notify`` of a store schedules them. Their times come from the runtime's clock, so
tests move the clock instead of waiting.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

from flask import current_app
from sqlalchemy.orm import Session

from lrs import deliveries, queue
from lrs.db import read_transaction, write_transaction
from lrs.forwarding.settings import forwarding_config
from lrs.people.models import Person
from lrs.runtime import lrs_runtime
from notifications import chat, digest, kinds, render, services
from notifications.mail import Mailer, SendFailed, build_message
from notifications.models import Notification
from notifications.settings import MailConfig, mail_config

EMAIL = "email"
DIGEST = "digest"
REVIEW_DUE = "review_due"
#: The e-mail channel of the delivery log.
CHANNEL = "email"
ATTEMPTS = 8
#: Digests sent by one e-mail job: one claim and one log transaction for this many messages.
DIGEST_BATCH = 50
WEEK_MS = 7 * 24 * 3600 * 1000
MAILER = "notifications.mailer"
_mailer_lock = threading.Lock()


def schedule(session: Session, store_id: int, config: MailConfig, now_ms: int) -> None:
    """Leave the store's weekly digest and daily due scan unless they are pending already."""
    digest_at = config.next_digest_ms(now_ms)
    queue.enqueue(
        session,
        store_id,
        DIGEST,
        f"digest:{store_id}",
        {"since": digest_at - WEEK_MS},
        now_ms=now_ms,
        delay_ms=digest_at - now_ms,
    )
    due_at = config.next_daily_ms(now_ms)
    queue.enqueue(
        session, store_id, REVIEW_DUE, f"due:{store_id}", now_ms=now_ms, delay_ms=due_at - now_ms
    )


def tell(session: Session, store_id: int, payload: dict, config: MailConfig, now_ms: int) -> int:
    """Resolve one event and tell its people (inbox, e-mail jobs, chat jobs); how many told."""
    told = 0
    for notice in kinds.resolve(session, store_id, payload):
        mode = services.mode_of(session, notice.person_id, notice.kind)
        held = mode == "digest" and config.configured
        row_id = services.add(session, store_id, notice, held, now_ms)
        if row_id is None:
            continue
        told += 1
        if mode == "immediately" and config.configured:
            queue.enqueue(
                session,
                store_id,
                EMAIL,
                f"email:{row_id}",
                {"notification": row_id},
                now_ms=now_ms,
            )
    news = kinds.team_news(session, store_id, payload)
    if news is not None:
        managers = kinds.managers_of(session, store_id, news.person_id)
        base = lrs_runtime().public_url.rstrip("/")
        for hook in services.hooks_for(session, store_id, managers):
            chat.enqueue_post(session, hook, payload["event"], news.text, base + news.link, now_ms)
    return told


def on_notify(job: queue.ClaimedJob) -> None:
    runtime, config = lrs_runtime(), mail_config()
    now = runtime.clock()
    with write_transaction(runtime.sessions) as session:
        tell(session, job.store_id, job.payload, config, now)
        schedule(session, job.store_id, config, now)


def on_review_due(job: queue.ClaimedJob) -> None:
    """Tell the people of reviews due within ``due_days`` (once per review); again tomorrow."""
    runtime, config = lrs_runtime(), mail_config()
    now = runtime.clock()
    today = dt.datetime.fromtimestamp(now / 1000, dt.UTC).date()
    with write_transaction(runtime.sessions) as session:
        for review_id in kinds.reviews_due(session, job.store_id, today, config.due_days):
            tell(session, job.store_id, {"event": "review.due", "review": review_id}, config, now)
        due_at = config.next_daily_ms(now)
        queue.enqueue(
            session,
            job.store_id,
            REVIEW_DUE,
            f"due:{job.store_id}",
            now_ms=now,
            delay_ms=due_at - now,
        )


def on_digest(job: queue.ClaimedJob) -> None:
    """Leave one digest e-mail per reader of the store; then the next digest, a week later.

    A digest asked for now (``learnloop notifications digest``) has ``once`` and leaves none.
    """
    runtime, config = lrs_runtime(), mail_config()
    now = runtime.clock()
    since = int(job.payload.get("since") or now - WEEK_MS)
    with write_transaction(runtime.sessions) as session:
        if config.configured:
            digest.take_held(session, job.store_id, now)
            readers = digest.recipients(session, job.store_id)
            for i in range(0, len(readers), DIGEST_BATCH):
                batch = readers[i : i + DIGEST_BATCH]
                queue.enqueue(
                    session,
                    job.store_id,
                    EMAIL,
                    f"digest:{batch[0]}:{now}",
                    {"people": batch, "since": since, "until": now},
                    now_ms=now,
                )
        if not job.payload.get("once"):
            digest_at = config.next_digest_ms(now)
            queue.enqueue(
                session,
                job.store_id,
                DIGEST,
                f"digest:{job.store_id}",
                {"since": now},
                now_ms=now,
                delay_ms=digest_at - now,
                replace=True,
            )


def digest_now(session: Session, store_id: int, now_ms: int, since_ms: int | None = None) -> None:
    """Leave a digest of the last week (or since ``since_ms``) to go out now, once."""
    queue.enqueue(
        session,
        store_id,
        DIGEST,
        f"digest-now:{store_id}:{uuid.uuid4().hex}",
        {"since": since_ms or now_ms - WEEK_MS, "once": True},
        now_ms=now_ms,
    )


def mailer() -> Mailer:
    """The process's SMTP connection (one per app, opened on first use)."""
    app = current_app._get_current_object()
    with _mailer_lock:
        found = app.extensions.get(MAILER)
        if found is None or found.config != mail_config():
            if found is not None:  # the settings changed: the old connection goes
                found.close()
            found = app.extensions[MAILER] = Mailer(mail_config())
        return found


def _attempt(person_id: int, kind: str, message, failure, attempt: int, last: bool):
    """The delivery log's row of one message handed over (or not)."""
    outcome = "delivered" if failure is None else ("failed" if last else "retrying")
    return person_id, deliveries.Attempt(
        outcome,
        250 if failure is None else failure.status,
        attempt,
        1,
        "accepted by the SMTP server"
        if failure is None
        else failure.message + ("; given up" if last else ""),
        event_id=str(message["Message-ID"])[:100],
        event_type=kind,
    )


def _log(runtime, store_id: int, attempts: list) -> None:
    if not attempts:
        return
    with write_transaction(runtime.sessions) as session:
        for person_id, attempt in attempts:
            deliveries.record(session, store_id, CHANNEL, person_id, runtime.clock(), attempt)


def _reader(session: Session, person_id: int, kind: str) -> Person | None:
    """The person, when they are active, have an address and did not turn the kind off."""
    person = session.get(Person, person_id)
    if person is None or person.deactivated_at is not None or not person.email:
        return None
    if services.mode_of(session, person_id, kind) == "off":
        return None
    return person


def on_email(job: queue.ClaimedJob) -> None:
    """Send one notification's e-mail, or a batch of digests; log every message handed over.

    A notification that fails is retried by the queue (JobFailed, with backoff). A batch of
    digests goes on after a recipient refused for good (5xx); on a failure that may pass it
    stops and leaves the rest of the batch as a new job after the backoff, up to ``ATTEMPTS``.
    """
    runtime, config = lrs_runtime(), mail_config()
    if not config.configured:
        return
    if "notification" not in job.payload:
        return _send_digests(job, runtime, config)
    base, secret = runtime.public_url.rstrip("/"), runtime.instance_secret()
    with read_transaction(runtime.sessions) as session:
        row = session.get(Notification, int(job.payload["notification"]))
        person = row and _reader(session, row.person_id, row.kind)
        if person is None:
            return
        letter = render.notification_letter(
            row,
            person.name or person.email,
            person.email,
            base,
            secret,
            render.recipient_locale(session, person.id),
        )
        kind, person_id = row.kind, row.person_id
    message = build_message(letter, config.from_address)
    try:
        mailer().send(message)
        failure = None
    except SendFailed as error:
        failure = error
    last = failure is not None and (failure.permanent or job.attempts >= ATTEMPTS)
    _log(runtime, job.store_id, [_attempt(person_id, kind, message, failure, job.attempts, last)])
    if failure is not None:
        raise queue.JobFailed(failure.message, permanent=last)


def _send_digests(job: queue.ClaimedJob, runtime, config: MailConfig) -> None:
    payload = job.payload
    people = [int(p) for p in payload["people"]]
    since, until = int(payload["since"]), int(payload["until"])
    attempt = int(payload.get("attempt", 1))
    base, secret = runtime.public_url.rstrip("/"), runtime.instance_secret()
    logged, left = [], []
    for index, person_id in enumerate(people):
        with read_transaction(runtime.sessions) as session:
            person = _reader(session, person_id, kinds.DIGEST)
            if person is None:
                continue
            content = digest.build(session, job.store_id, person_id, since, until, config.due_days)
            if content.empty:
                continue
            letter = render.digest_letter(
                content,
                person.name or person.email,
                person.email,
                job.store_id,
                person_id,
                base,
                secret,
                render.recipient_locale(session, person_id),
            )
        message = build_message(letter, config.from_address)
        try:
            mailer().send(message)
            failure = None
        except SendFailed as error:
            failure = error
        last = failure is not None and (failure.permanent or attempt >= ATTEMPTS)
        logged.append(_attempt(person_id, kinds.DIGEST, message, failure, attempt, last))
        if failure is not None and not failure.permanent:
            left = [] if last else people[index:]
            break
    _log(runtime, job.store_id, logged)
    if left:
        now = runtime.clock()
        with write_transaction(runtime.sessions) as session:
            queue.enqueue(
                session,
                job.store_id,
                EMAIL,
                f"digest:{left[0]}:{until}:{attempt + 1}",
                {**payload, "people": left, "attempt": attempt + 1},
                now_ms=now,
                delay_ms=queue.backoff_ms(attempt),
            )


def on_chat(job: queue.ClaimedJob) -> None:
    runtime, settings = lrs_runtime(), forwarding_config()
    chat.deliver(
        job,
        runtime.instance_secret(),
        settings.outbound_guard(),
        settings.limits(),
        runtime.sessions,
        runtime.clock,
    )


#: The worker's handlers by job kind (registered by the shell in ``learnloop.app``).
TASKS = {
    queue.NOTIFY: on_notify,
    EMAIL: on_email,
    DIGEST: on_digest,
    REVIEW_DUE: on_review_due,
    chat.CHAT: on_chat,
}
