"""Badges: criteria in the objectives' engine, awarded once per person with a signed credential.

A badge's criteria are ``objectives.criteria.Criterion`` values combined by the same rules
(all, any, k of n) and counted by the same SQL over ``learning_facts``
(``objectives.progress``), over all time unless a criterion has its own window. Awards are made
by the worker (``recognition.tasks``), never by a read.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs import api, audit
from lrs.catalogue import M_, at
from lrs.errors import Conflict, FieldError
from lrs.models import Store
from lrs.people.models import Person
from lrs.people.services import identities
from lrs.sealing import SecretBox
from objectives import progress as pg
from objectives.criteria import Criterion, ObjectiveProgress, combine
from objectives.errors import Hidden
from objectives.services import criteria_for_storage, criterion_description
from recognition import credentials as vc
from recognition import statements as st
from recognition.events import BadgeEarned
from recognition.models import Badge, BadgeAward
from recognition.runtime import announce

#: Badges count over all time; a criterion's own window still applies.
ALL_TIME = (0, 2**62)
EVIDENCE = 5


def define(session: Session, store_id: int, data: dict, now_ms: int) -> Badge:
    """A new badge from validated data (``schemas.recognition.BadgeSchema``); 409 on its name."""
    taken = session.scalar(
        select(Badge.id).where(Badge.store_id == store_id, Badge.name == data["name"])
    )
    if taken is not None:
        exists = M_("a badge called %(name)s exists", name=repr(data["name"]))
        raise Conflict(
            at("name", exists),
            [FieldError("name", M_("taken"))],
        )
    badge = Badge(
        store_id=store_id,
        name=data["name"],
        description=data.get("description", ""),
        rule=data.get("rule", "all"),
        k=data.get("k"),
        criteria=criteria_for_storage(data["criteria"]),
        active=True,
        created_ms=now_ms,
    )
    session.add(badge)
    session.flush()
    audit.record(
        session,
        "badge.created",
        store_id=store_id,
        target=audit.Target("badge", badge.id, badge.name),
        details={"rule": badge.rule, "criteria": len(data["criteria"])},
    )
    return badge


def list_badges(session: Session, store_id: int) -> list[Badge]:
    return list(
        session.scalars(select(Badge).where(Badge.store_id == store_id).order_by(Badge.name))
    )


def get_badge(session: Session, store_id: int, badge_id: int) -> Badge:
    badge = session.get(Badge, badge_id)
    if badge is None or badge.store_id != store_id:
        raise Hidden(M_("no badge %(id)s", id=badge_id))
    return badge


def criteria_words(badge: Badge) -> list[str]:
    return [criterion_description(c) for c in json.loads(badge.criteria)]


def measure(
    session: Session, badge: Badge, keys: list[int], evidence: int = 0
) -> ObjectiveProgress:
    """How far a person (their identities' keys) is on the badge's criteria."""
    criteria = [Criterion.from_dict(c) for c in json.loads(badge.criteria)]
    counted = [
        pg.count_criterion(session, badge.store_id, keys, c, ALL_TIME, evidence) for c in criteria
    ]
    return combine(badge.rule, badge.k, counted)


def awards_of(session: Session, store_id: int, person_id: int) -> list[tuple[BadgeAward, Badge]]:
    return list(
        session.execute(
            select(BadgeAward, Badge)
            .join(Badge, Badge.id == BadgeAward.badge_id)
            .where(BadgeAward.store_id == store_id, BadgeAward.person_id == person_id)
            .order_by(BadgeAward.awarded_ms.desc())
        ).all()
    )


def ever_awarded(session: Session, badge_id: int) -> bool:
    """Whether a credential names this badge (only those are published as achievements)."""
    return (
        session.scalar(select(BadgeAward.id).where(BadgeAward.badge_id == badge_id).limit(1))
        is not None
    )


def get_award(session: Session, store_id: int, award_id: int) -> tuple[BadgeAward, Badge]:
    row = session.execute(
        select(BadgeAward, Badge)
        .join(Badge, Badge.id == BadgeAward.badge_id)
        .where(BadgeAward.id == award_id, BadgeAward.store_id == store_id)
    ).first()
    if row is None:
        raise Hidden(M_("no badge award %(id)s", id=award_id))
    return row[0], row[1]


def evaluate(
    session: Session,
    store_id: int,
    person_ids: list[int],
    base_url: str,
    now_ms: int,
    box: SecretBox,
    badges: list[Badge] | None = None,
) -> list[BadgeAward]:
    """Award every active badge these people now meet and do not hold yet; the new awards.

    Runs in the worker's write transaction, under the store's badge cursor lock, so two workers
    never award one badge twice (the unique constraint would refuse it anyway).
    """
    badges = [b for b in (badges or list_badges(session, store_id)) if b.active]
    if not badges or not person_ids:
        return []
    held = set(
        session.execute(
            select(BadgeAward.badge_id, BadgeAward.person_id).where(
                BadgeAward.store_id == store_id, BadgeAward.person_id.in_(person_ids)
            )
        ).all()
    )
    made = []
    for person_id in person_ids:
        person = session.get(Person, person_id)
        if person is None or person.deactivated_at is not None:
            continue
        agents = identities(session, store_id, person_id)
        keys = pg.actor_keys(agents)
        for badge in badges:
            if (badge.id, person_id) in held:
                continue
            if measure(session, badge, keys).met:
                progress = measure(session, badge, keys, EVIDENCE)
                made.append(
                    award(session, badge, person, agents, keys, progress, base_url, now_ms, box)
                )
    return made


def award(
    session: Session,
    badge: Badge,
    person: Person,
    agents: list[dict],
    keys: list[int],
    progress: ObjectiveProgress,
    base_url: str,
    now_ms: int,
    box: SecretBox,
) -> BadgeAward:
    """Record a met badge: its statement (dated by the deciding statement), credential, event."""
    at_ms = pg.deciding_ms(session, badge, keys, ALL_TIME) or now_ms  # type: ignore[arg-type]
    statement_id = st.award_statement_id(badge.store_id, badge.id, person.id)
    earner = st.preferred_agent(agents)
    statement = st.badge_statement(
        statement_id=statement_id,
        earner=earner,
        badge_id=badge.id,
        name=badge.name,
        description=badge.description,
        base_url=base_url,
        at=dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC),
    )
    principal = api.source_principal(badge.store_id, "recognition", base_url.rstrip("/") + "/")
    api.write_statements(session, principal, [statement])
    store = session.get(Store, badge.store_id)
    evidence = [e for c in progress.criteria for e in c.evidence]
    unsigned = vc.credential(
        base_url=base_url,
        store_id=badge.store_id,
        store_name=store.name if store else "",
        credential_id=f"urn:uuid:{statement_id}",
        badge_achievement=vc.achievement(base_url, badge, criteria_words(badge)),
        email=person.email,
        awarded_ms=at_ms,
        evidence=evidence,
    )
    row = BadgeAward(
        store_id=badge.store_id,
        badge_id=badge.id,
        person_id=person.id,
        awarded_ms=at_ms,
        statement_id=statement_id,
        credential=vc.sign(session, badge.store_id, unsigned, now_ms, box),
    )
    session.add(row)
    session.flush()
    announce(
        session,
        BadgeEarned(badge.store_id, row.id, badge.id, badge.name, person.id, statement_id, at_ms),
    )
    return row
