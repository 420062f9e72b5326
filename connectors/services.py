"""Connectors, deliveries, identity resolution and imports. Callers own the session.

The statements a connector produces go through ``lrs.api.write_statements`` in the caller's
transaction together with the delivery record, so a delivery is stored whole or not at all,
and a redelivery (same connector, same delivery id) is answered from the record.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connectors import gerrit, github, gitlab
from connectors import profile as p
from connectors.common import Event, Mapped, WebhookRequest, account_agent
from connectors.crypto import SecretBox, new_secret
from connectors.errors import ConnectorNotFound, RowRejected, SecretsUnavailable
from connectors.models import Connector, Delivery
from lrs import audit
from lrs.api import source_principal, write_statements
from lrs.auth import Principal
from lrs.core.agents import ifi_string
from lrs.errors import BadRequest, Conflict, NotFound
from lrs.models import Store
from lrs.people.services import (
    create_person,
    ensure_person,
    find_person,
    get_person,
    identities,
    link_identity,
)

SOURCES = {"github": github, "gitlab": gitlab, "gerrit": gerrit}
DEFAULT_HOME_PAGES = {"github": "https://github.com", "gitlab": "https://gitlab.com"}


# ---- Stores and connectors ---------------------------------------------------------------


def secret_box(secret: str) -> SecretBox:
    """The box sealing connector secrets, keyed like the app's sessions (the instance secret).

    ``LEARNLOOP_SECRET_KEY``, else the key the app keeps in its instance directory (made on
    first use). Several machines serving one database must share LEARNLOOP_SECRET_KEY, or
    each opens only the secrets it sealed (SecretsUnavailable, 503, on the others).
    """
    return SecretBox(secret)


def find_store(session: Session, name: str) -> Store:
    """The store called ``name``; NotFound if there is none (connectors never create stores)."""
    store = session.scalar(select(Store).where(Store.name == name))
    if store is None:
        raise NotFound(f"no store named {name!r}; create it with: learnloop stores create {name}")
    return store


def _context(connector: Connector | ConnectorRef) -> str:
    return f"connector:{connector.id}"


def create_connector(
    session: Session,
    store_id: int,
    kind: str,
    box: SecretBox,
    label: str = "",
    signing_token: str | None = None,
) -> tuple[Connector, str]:
    """Create a connector with a fresh secret; returns it and the secret (shown only now)."""
    if kind not in SOURCES:
        raise BadRequest(f"unknown connector kind {kind!r}; kinds are: {', '.join(SOURCES)}")
    if signing_token and kind != "gitlab":
        raise BadRequest("only GitLab connectors have a signing token")
    connector = Connector(store_id=store_id, kind=kind, label=label, secret="")
    session.add(connector)
    session.flush()
    secret = new_secret()
    connector.secret = box.seal(secret, _context(connector))
    if signing_token:
        connector.signing_token = box.seal(signing_token, _context(connector) + ":signing")
    session.flush()
    audit.record(
        session,
        "connector.created",
        store_id=store_id,
        target=_target(connector),
        details={"kind": kind, "label": label, "signed_by_gitlab": bool(signing_token)},
    )
    return connector, secret


def _target(connector: Connector) -> audit.Target:
    return audit.Target("connector", connector.id, connector.label or connector.kind)


@dataclass(frozen=True)
class ConnectorRef:
    """What receiving needs of a connector, detached from its session."""

    id: int
    store_id: int
    kind: str
    secret: str
    signing_token: str | None

    @classmethod
    def of(cls, connector: Connector) -> ConnectorRef:
        return cls(
            connector.id,
            connector.store_id,
            connector.kind,
            connector.secret,
            connector.signing_token,
        )


def get_connector(
    session: Session, connector_id: int, *, store_id: int | None = None, kind: str | None = None
) -> Connector:
    """The connector ``connector_id``, of ``store_id`` and ``kind`` when given; else 404."""
    connector = session.get(Connector, connector_id)
    if (
        connector is None
        or (store_id is not None and connector.store_id != store_id)
        or (kind is not None and connector.kind != kind)
    ):
        raise ConnectorNotFound(f"no {kind or ''} connector {connector_id}".replace("  ", " "))
    return connector


def list_connectors(session: Session, store_id: int) -> list[Connector]:
    return list(
        session.scalars(
            select(Connector).where(Connector.store_id == store_id).order_by(Connector.id)
        )
    )


def delete_connector(session: Session, store_id: int, connector_id: int) -> None:
    """Delete a connector and its delivery records; its statements stay in the store."""
    connector = get_connector(session, connector_id, store_id=store_id)
    audit.record(
        session,
        "connector.deleted",
        store_id=store_id,
        target=_target(connector),
        details={"kind": connector.kind},
    )
    session.execute(delete(Delivery).where(Delivery.connector_id == connector.id))
    session.delete(connector)
    session.flush()


def rotate_secret(session: Session, store_id: int, connector_id: int, box: SecretBox) -> str:
    """Give a connector a new secret (returned, shown only now); the old one stops working."""
    connector = get_connector(session, connector_id, store_id=store_id)
    secret = new_secret()
    connector.secret = box.seal(secret, _context(connector))
    session.flush()
    audit.record(session, "connector.secret_rotated", store_id=store_id, target=_target(connector))
    return secret


def reseal_secrets(session: Session, old: SecretBox, new: SecretBox) -> tuple[int, int]:
    """Seal every connector's secrets with ``new`` instead of ``old``; (resealed, kept).

    Connectors whose secrets ``new`` already opens are kept as they are, so it can run again.
    Raises SecretsUnavailable naming the connectors that neither key opens, and changes
    nothing then.
    """
    changes, kept, lost = [], 0, []
    for connector in session.scalars(select(Connector).order_by(Connector.id)):
        fields = [("secret", _context(connector))]
        if connector.signing_token:
            fields.append(("signing_token", _context(connector) + ":signing"))
        values = [(name, getattr(connector, name), context) for name, context in fields]
        if all(new.opens(stored, context) for _, stored, context in values):
            kept += 1
        elif all(old.opens(stored, context) for _, stored, context in values):
            changes.append(
                (connector, [(n, old.open(s, context), context) for n, s, context in values])
            )
        else:
            lost.append(str(connector.id))
    if lost:
        raise SecretsUnavailable(
            f"the secrets of connector(s) {', '.join(lost)} open with neither the old nor the "
            "new LEARNLOOP_SECRET_KEY; nothing was changed"
        )
    for connector, opened in changes:
        for name, secret, context in opened:
            setattr(connector, name, new.seal(secret, context))
    session.flush()
    audit.record(
        session,
        "connector.resealed",
        store_id=None,  # under a new instance secret: every organisation's connectors
        target=audit.Target("connector", "", "every connector"),
        details={"resealed": len(changes), "kept": kept},
    )
    return len(changes), kept


def connector_secrets(
    connector: Connector | ConnectorRef, box: SecretBox
) -> tuple[str, str | None]:
    """The connector's secret and GitLab signing token, decrypted for verification."""
    secret = box.open(connector.secret, _context(connector))
    signing = None
    if connector.signing_token:
        signing = box.open(connector.signing_token, _context(connector) + ":signing")
    return secret, signing


def connector_url(public_url: str, connector: Connector) -> str:
    """The webhook URL to configure on the forge."""
    base = (public_url or "http://localhost:8080").rstrip("/")
    return f"{base}/connectors/{connector.kind}/{connector.id}"


def connector_info(connector: Connector, public_url: str) -> dict:
    """A connector as the admin API shows it: never its secret."""
    return {
        "id": connector.id,
        "kind": connector.kind,
        "label": connector.label,
        "url": connector_url(public_url, connector),
        "signed_deliveries": connector.signing_token is not None,
        "created_at": connector.created_at.isoformat() if connector.created_at else None,
    }


# ---- Receiving ---------------------------------------------------------------------------


def verify_and_parse(
    connector: ConnectorRef, request: WebhookRequest, secret: str, signing: str | None
) -> Event:
    """Verify the raw request with the connector's secret, then parse it (in that order)."""
    source = SOURCES[connector.kind]
    if connector.kind == "gitlab":
        gitlab.verify(request, secret, signing)
    else:
        source.verify(request, secret)
    return source.parse(request)


@dataclass
class Outcome:
    """What became of a delivery: stored, ignored (with a note) or duplicate of an earlier one."""

    status: str
    event: str
    delivery_id: str
    statement_ids: list[str] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict:
        out = {
            "status": self.status,
            "event": self.event,
            "delivery": self.delivery_id,
            "statement_ids": self.statement_ids,
        }
        if self.note:
            out["note"] = self.note
        return out


def principal_of(connector: ConnectorRef, public_url: str) -> Principal:
    """The authority the connector's statements carry: ``Learnloop connector:github:12``."""
    home = (public_url or "http://localhost:8080").rstrip("/") + "/"
    return source_principal(connector.store_id, f"connector:{connector.kind}:{connector.id}", home)


def previous_delivery(session: Session, connector_id: int, delivery_id: str) -> Outcome | None:
    """The outcome recorded for this delivery id, if it was received before."""
    row = session.scalar(
        select(Delivery).where(
            Delivery.connector_id == connector_id, Delivery.delivery_id == delivery_id
        )
    )
    if row is None:
        return None
    note = "already received; nothing stored again"
    return Outcome("duplicate", row.event, delivery_id, json.loads(row.statement_ids), note)


def record_event(
    session: Session, connector: ConnectorRef, mapped: Mapped, public_url: str
) -> Outcome:
    """Record a delivery and store its statements, once per (connector, delivery id).

    The delivery row is written first, so a concurrent redelivery waits on its unique key
    and then fails (IntegrityError; the caller answers it from the record). Statements are
    written through the LRS write path; their invalidity (BadRequest) rolls everything back.
    """
    earlier = previous_delivery(session, connector.id, mapped.delivery_id)
    if earlier is not None:
        return earlier
    row = Delivery(
        store_id=connector.store_id,
        connector_id=connector.id,
        delivery_id=mapped.delivery_id,
        event=mapped.event[:100],
        status="stored" if mapped.statements else "ignored",
        note=mapped.note,
    )
    session.add(row)
    session.flush()
    if not mapped.statements:
        return Outcome("ignored", mapped.event, mapped.delivery_id, [], mapped.note)
    statements = resolve_agents(session, connector.store_id, mapped.statements, code_review=True)
    batch = write_statements(session, principal_of(connector, public_url), statements)
    row.statement_ids = json.dumps(batch.ids)
    session.flush()
    return Outcome("stored", mapped.event, mapped.delivery_id, batch.ids, mapped.note)


# ---- Identities --------------------------------------------------------------------------


def _preferred(session: Session, store_id: int, person_id: int) -> dict | None:
    """The identity statements about a person use: an e-mail address, else the oldest."""
    known = identities(session, store_id, person_id)
    for identity in known:
        if "mbox" in identity:
            return identity
    return known[0] if known else None


def resolve_agents(
    session: Session, store_id: int, statements: list[dict], *, code_review: bool = False
) -> list[dict]:
    """Copies of ``statements`` whose actor and context agents are people's preferred identity.

    An agent linked to a person (``lrs.people``) becomes that person's preferred identity
    (their e-mail address, else their oldest identity) named with the person's name, so a
    person's code reviews sit under the same Agent as their LMS work. Unlinked agents are kept
    (the account agent of the forge). For code-review statements whose actor changed, the
    forge account is kept in the ``source-account`` context extension.
    """
    statements = copy.deepcopy(statements)
    cache: dict[str, dict | None] = {}

    def resolve(agent: dict) -> dict | None:
        key = ifi_string(agent)
        if key is None:
            return None
        if key not in cache:
            person = find_person(session, store_id, agent)
            preferred = _preferred(session, store_id, person.id) if person else None
            if preferred is None or ifi_string(preferred) == key:
                cache[key] = None
            else:
                name = person.name or agent.get("name")
                cache[key] = {**preferred, **({"name": name} if name else {})}
        return copy.deepcopy(cache[key])

    for statement in statements:
        original = statement["actor"]
        replacement = resolve(original)
        if replacement is not None:
            statement["actor"] = replacement
            if code_review and "account" in original:
                extensions = statement.setdefault("context", {}).setdefault("extensions", {})
                extensions[p.EXT_SOURCE_ACCOUNT] = dict(original["account"])
        for context_agent in statement.get("context", {}).get("contextAgents", []):
            replacement = resolve(context_agent["agent"])
            if replacement is not None:
                context_agent["agent"] = replacement
    return statements


def identity_agent(kind: str, name: str, home_page: str | None = None) -> dict:
    """The Agent of an identity to link: a forge login, an e-mail address or an account."""
    if kind == "email":
        return {"objectType": "Agent", "mbox": "mailto:" + name.removeprefix("mailto:")}
    home = (home_page or DEFAULT_HOME_PAGES.get(kind) or "").rstrip("/")
    if not home:
        raise BadRequest(f"a {kind} identity needs the home page of its system")
    agent = account_agent(home, name)
    del agent["name"]
    return agent


def link_person(
    session: Session,
    store_id: int,
    *,
    person_id: int | None = None,
    email: str | None = None,
    name: str = "",
    links: list[tuple[str, str, str | None]],
) -> tuple[int, list[dict]]:
    """Attach identities ``(kind, name, home_page)`` to a person; returns its id and identities.

    The person is found by id, or by e-mail address (created with it when unknown). Linking an
    identity again is a no-op; one that belongs to someone else is a Conflict (409).
    """
    if person_id is not None:
        person = get_person(session, store_id, person_id)
    elif email:
        mbox = {"objectType": "Agent", "mbox": "mailto:" + email}
        person = ensure_person(session, store_id, mbox, name=name, source="manual")
    else:
        person = create_person(session, store_id, name)
    if name and not person.name:
        person.name = name
    for kind, login, home_page in links:
        source = kind if kind in SOURCES else "manual"
        link_identity(session, store_id, person, identity_agent(kind, login, home_page), source)
    return person.id, identities(session, store_id, person.id)


def person_info(session: Session, store_id: int, person_id: int) -> dict:
    person = get_person(session, store_id, person_id)
    return {
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "identities": identities(session, store_id, person.id),
    }


# ---- Imports -----------------------------------------------------------------------------


def store_row(
    session: Session, principal: Principal, statements: list[dict], seen: set[str]
) -> str:
    """Store one import row's statements: ``stored`` or ``duplicate``; RowRejected otherwise.

    ``seen`` holds the ids of earlier rows of the same run, so a row repeated within a file
    is a duplicate even in a dry run (whose transactions are rolled back).
    """
    ids = [s["id"] for s in statements]
    if all(i in seen for i in ids):
        return "duplicate"
    resolved = resolve_agents(session, principal.store_id, statements)
    try:
        batch = write_statements(session, principal, resolved)
    except Conflict as exc:
        raise RowRejected(
            f"{exc.message} (the row changed since it was imported; its id is derived from it)"
        ) from None
    except BadRequest as exc:
        raise RowRejected(f"not a valid statement: {exc.message}") from None
    seen.update(ids)
    return "stored" if batch.inserted else "duplicate"
