"""What administrators do with forwarding: destinations, rules, resume, replay, status.

Services take the caller's session and never commit (STYLE 6); each change records its audit
event in the same transaction, and never a secret. Work for the worker is enqueued in the same
transaction too, so a resumed or replayed destination starts sending once the change commits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lrs import audit, queue
from lrs.catalogue import M_, at
from lrs.errors import BadRequest, NotFound
from lrs.forwarding.models import ACTIVE, BASIC, DEAD, OAUTH, PAUSED, Destination, Rule
from lrs.forwarding.rules import SOURCES, RuleSpec
from lrs.forwarding.settings import ForwardingConfig
from lrs.sealing import Sealed, SecretBox
from lrs.sql import run
from schemas.errors import FieldError

#: Kind of the worker's job that sends a destination its next batches.
FORWARD = "forward"
PURPOSE = b"learnloop forwarding destination secret v1"
VERSIONS = ("1.0.3", "2.0.0")
_DOMAIN = re.compile(r"^@?[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})*$", re.I)
_IRI = re.compile(r"^[a-z][a-z0-9+.-]*:\S+$", re.I)


def secret_box(master_key: str) -> SecretBox:
    return SecretBox(master_key, PURPOSE, "forwarding destination secret")


def sealed_values(session: Session) -> list[Sealed]:
    """Every destination's sealed secret, for ``learnloop secrets reseal``."""
    return [
        Sealed(d, "secret_sealed", context_of(d.id), f"forwarding destination {d.id}")
        for d in session.scalars(select(Destination).order_by(Destination.id))
    ]


def context_of(destination_id: int) -> str:
    return f"forward:{destination_id}"


def _bad(path: str, message: str) -> BadRequest:
    return BadRequest(at(path, message), [FieldError(path, message)])


@dataclass(frozen=True)
class NewDestination:
    """What makes a destination; ``secret`` is the Basic secret or the OAuth client secret."""

    name: str
    endpoint: str
    username: str
    secret: str
    auth: str = BASIC
    token_url: str = ""
    scope: str = ""
    version: str = "2.0.0"


def enqueue_forward(session: Session, destination: Destination, now_ms: int, delay_ms: int = 0):
    """Leave the job that sends ``destination`` its next batches."""
    queue.enqueue(
        session,
        destination.store_id,
        FORWARD,
        f"forward:{destination.id}",
        {"destination": destination.id},
        now_ms=now_ms,
        delay_ms=delay_ms,
    )


def _target(destination: Destination) -> audit.Target:
    return audit.Target("forwarding_destination", destination.id, destination.name)


def create_destination(
    session: Session,
    store_id: int,
    new: NewDestination,
    config: ForwardingConfig,
    box: SecretBox,
    now_ms: int,
) -> Destination:
    """Add a destination that starts with the statements stored from now on.

    Raises BadRequest naming the field: a missing name or secret, an unknown auth or version, an
    endpoint or token URL Learnloop may not call (``lrs.outbound``), a name already used.
    """
    name = new.name.strip()
    if not name or len(name) > 200:
        raise _bad("name", M_("must be 1 to 200 characters"))
    if new.auth not in (BASIC, OAUTH):
        raise _bad("auth", M_("must be basic or oauth"))
    if new.version not in VERSIONS:
        raise _bad("version", M_("must be 1.0.3 or 2.0.0"))
    if not new.username.strip():
        raise _bad("username", M_("is required (the key, or the OAuth client id)"))
    if not new.secret:
        raise _bad("secret", M_("is required"))
    guard = config.outbound_guard()
    guard.check_url(new.endpoint, "endpoint")
    if new.auth == OAUTH:
        guard.check_url(new.token_url, "token_url")
    elif new.token_url:
        raise _bad("token_url", M_("is only for OAuth 2.0 destinations (auth oauth)"))
    if session.scalar(
        select(Destination.id).where(Destination.store_id == store_id, Destination.name == name)
    ):
        raise _bad("name", M_("a destination called %(name)s already exists", name=repr(name)))
    last = run(session, "SELECT MAX(seq) FROM statements WHERE store_id = ?", [store_id]).scalar()
    destination = Destination(
        store_id=store_id,
        name=name,
        endpoint=new.endpoint.rstrip("/"),
        auth=new.auth,
        username=new.username.strip(),
        secret_sealed="",
        token_url=new.token_url if new.auth == OAUTH else "",
        scope=new.scope.strip(),
        version=new.version,
        state=ACTIVE,
        cursor_seq=last or 0,
        failures=0,
        next_attempt_ms=0,
        last_error="",
        delivered=0,
        created_ms=now_ms,
    )
    session.add(destination)
    session.flush()
    destination.secret_sealed = box.seal(new.secret, context_of(destination.id))
    audit.record(
        session,
        "forwarding_destination.created",
        store_id=store_id,
        target=_target(destination),
        details={"endpoint": destination.endpoint, "auth": destination.auth},
    )
    return destination


def get_destination(session: Session, store_id: int, destination_id: int) -> Destination:
    destination = session.get(Destination, destination_id)
    if destination is None or destination.store_id != store_id:
        raise NotFound(M_("no forwarding destination %(id)s", id=destination_id))
    return destination


def find_destination(session: Session, store_id: int, name: str) -> Destination:
    destination = session.scalar(
        select(Destination).where(Destination.store_id == store_id, Destination.name == name)
    )
    if destination is None:
        raise NotFound(M_("no forwarding destination called %(name)s", name=repr(name)))
    return destination


def list_destinations(session: Session, store_id: int) -> list[Destination]:
    return list(
        session.scalars(
            select(Destination).where(Destination.store_id == store_id).order_by(Destination.name)
        )
    )


def rules_of(session: Session, destination_id: int) -> list[Rule]:
    return list(
        session.scalars(select(Rule).where(Rule.destination_id == destination_id).order_by(Rule.id))
    )


def spec_of(rule: Rule) -> RuleSpec:
    return RuleSpec(rule.verb, rule.activity_prefix, rule.source, rule.actor_domain)


def add_rule(session: Session, destination: Destination, spec: RuleSpec) -> Rule:
    """Add a filter: from now on only statements that match one of the rules are forwarded.

    Raises BadRequest naming the field: a verb that is not an IRI, an unknown source, a domain
    that is not a domain, or a rule that sets nothing.
    """
    if not any((spec.verb, spec.activity_prefix, spec.source, spec.actor_domain)):
        raise _bad("rule", M_("set at least one of verb, activity_prefix, source, actor_domain"))
    if spec.verb and not _IRI.match(spec.verb):
        raise _bad("verb", M_("must be an IRI, e.g. http://adlnet.gov/expapi/verbs/completed"))
    if spec.activity_prefix and len(spec.activity_prefix) > 2000:
        raise _bad("activity_prefix", M_("must be at most 2000 characters"))
    if spec.source and spec.source not in SOURCES:
        raise _bad("source", M_("must be one of %(choices)s", choices=", ".join(SOURCES)))
    if spec.actor_domain and not _DOMAIN.match(spec.actor_domain):
        raise _bad("actor_domain", M_("must be a domain name, e.g. acme.test"))
    rule = Rule(
        destination_id=destination.id,
        verb=spec.verb,
        activity_prefix=spec.activity_prefix,
        source=spec.source,
        actor_domain=spec.actor_domain.lower().lstrip("@"),
    )
    session.add(rule)
    session.flush()
    audit.record(
        session,
        "forwarding_rule.added",
        store_id=destination.store_id,
        target=_target(destination),
        details={"rule": rule.id, "matches": spec_of(rule).describe()},
    )
    return rule


def remove_rule(session: Session, destination: Destination, rule_id: int) -> None:
    rule = session.get(Rule, rule_id)
    if rule is None or rule.destination_id != destination.id:
        raise NotFound(
            M_(
                "no rule %(rule_id)s on destination %(destination)s",
                rule_id=rule_id,
                destination=repr(destination.name),
            )
        )
    described = spec_of(rule).describe()
    session.delete(rule)
    audit.record(
        session,
        "forwarding_rule.removed",
        store_id=destination.store_id,
        target=_target(destination),
        details={"rule": rule_id, "matches": described},
    )


def resume(session: Session, destination: Destination, now_ms: int) -> None:
    """Start a dead-lettered or paused destination again, from where its cursor stands."""
    previous = destination.state
    _restart(session, destination, now_ms)
    audit.record(
        session,
        "forwarding_destination.resumed",
        store_id=destination.store_id,
        target=_target(destination),
        details={"from": previous},
    )


def _restart(session: Session, destination: Destination, now_ms: int) -> None:
    """Active again, failures forgotten, and a forward job to send from the cursor now."""
    destination.state = ACTIVE
    destination.failures = 0
    destination.next_attempt_ms = 0
    enqueue_forward(session, destination, now_ms)


def pause(session: Session, destination: Destination) -> None:
    """Stop sending until resumed; the cursor stays, so nothing is skipped."""
    previous = destination.state
    destination.state = PAUSED
    audit.record(
        session,
        "forwarding_destination.paused",
        store_id=destination.store_id,
        target=_target(destination),
        details={"from": previous},
    )


def replay(session: Session, destination: Destination, since_ms: int, now_ms: int) -> int:
    """Send again every matching statement stored at or after ``since_ms``; the new cursor.

    The destination keeps statement ids, so statements it already has are not duplicated.
    """
    cursor = (
        run(
            session,
            "SELECT MAX(seq) FROM statements WHERE store_id = ? AND stored_ms < ?",
            [destination.store_id, since_ms],
        ).scalar()
        or 0
    )
    previous = destination.cursor_seq
    destination.cursor_seq = cursor
    _restart(session, destination, now_ms)
    audit.record(
        session,
        "forwarding_destination.replayed",
        store_id=destination.store_id,
        target=_target(destination),
        details={"since_ms": since_ms, "cursor_from": previous, "cursor_to": cursor},
    )
    return cursor


def delete_destination(session: Session, destination: Destination) -> None:
    store_id, target = destination.store_id, _target(destination)
    session.execute(delete(Rule).where(Rule.destination_id == destination.id))
    session.delete(destination)
    audit.record(session, "forwarding_destination.deleted", store_id=store_id, target=target)


@dataclass(frozen=True)
class Backlog:
    """How far behind a destination is: statements after its cursor, the oldest's time."""

    waiting: int
    capped: bool
    oldest_ms: int | None


def backlog(session: Session, destination: Destination, limit: int = 10_000) -> Backlog:
    """Statements stored after the cursor (counted up to ``limit``), matching or not."""
    rows = run(
        session,
        "SELECT seq, stored_ms FROM statements WHERE store_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        [destination.store_id, destination.cursor_seq, limit + 1],
    ).all()
    return Backlog(min(len(rows), limit), len(rows) > limit, rows[0][1] if rows else None)


STATES = (ACTIVE, PAUSED, DEAD)
