"""The inbox, each person's preferences, the signed unsubscribe token, and the teams' chat hooks.

The caller owns the session (``with write_transaction(...)``); nothing here commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from lrs import audit
from lrs.catalogue import M_, at
from lrs.errors import BadRequest, NotFound
from lrs.outbound import OutboundGuard
from lrs.people.models import Person
from lrs.sealing import Sealed, SecretBox
from notifications.kinds import DIGEST, KINDS, MODES, Notice
from notifications.models import ChatHook, Notification, Preference
from schemas.errors import FieldError

INBOX_PAGE = 50
FLAVORS = {"slack": "Slack", "teams": "Microsoft Teams"}
CHAT_PURPOSE = b"learnloop chat webhook url v1"


# ==== the inbox ==================================================================================


def add(session: Session, store_id: int, notice: Notice, held: bool, now_ms: int) -> int | None:
    """Put a notice in its person's inbox; None when the same event was noticed already."""
    if notice.dedupe and session.scalar(
        select(Notification.id).where(
            Notification.store_id == store_id,
            Notification.person_id == notice.person_id,
            Notification.dedupe == notice.dedupe,
        )
    ):
        return None
    row = Notification(
        store_id=store_id,
        person_id=notice.person_id,
        kind=notice.kind,
        title=notice.title[:400],
        data=json.dumps(notice.stored_data, ensure_ascii=False),
        link=notice.link[:500],
        dedupe=notice.dedupe,
        created_ms=now_ms,
        held=held,
    )
    session.add(row)
    session.flush()
    return row.id


def unread(session: Session, store_id: int, person_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.store_id == store_id,
            Notification.person_id == person_id,
            Notification.read_ms.is_(None),
        )
    )


def inbox(
    session: Session, store_id: int, person_id: int, before: int | None = None
) -> list[Notification]:
    """The newest ``INBOX_PAGE`` notifications (before id ``before``), newest first."""
    query = select(Notification).where(
        Notification.store_id == store_id, Notification.person_id == person_id
    )
    if before is not None:
        query = query.where(Notification.id < before)
    return list(session.scalars(query.order_by(Notification.id.desc()).limit(INBOX_PAGE)))


def mark_read(
    session: Session, store_id: int, person_id: int, now_ms: int, ids: list[int] | None = None
) -> int:
    """Mark these notifications (None: all) of the person read; returns how many changed."""
    query = update(Notification).where(
        Notification.store_id == store_id,
        Notification.person_id == person_id,
        Notification.read_ms.is_(None),
    )
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    return session.execute(query.values(read_ms=now_ms)).rowcount


# ==== preferences ================================================================================


def modes_of(session: Session, person_id: int) -> dict[str, str]:
    """The person's e-mail mode for every kind (their choice, else the kind's default)."""
    chosen = dict(
        session.execute(
            select(Preference.kind, Preference.mode).where(Preference.person_id == person_id)
        ).all()
    )
    return {name: chosen.get(name, kind.default) for name, kind in KINDS.items()}


def mode_of(session: Session, person_id: int, kind: str) -> str:
    row = session.get(Preference, (person_id, kind))
    return row.mode if row else KINDS[kind].default if kind in KINDS else "off"


def allowed_modes(kind: str) -> tuple[str, ...]:
    return (DIGEST, "off") if kind == DIGEST else MODES


def set_mode(
    session: Session, store_id: int, person_id: int, kind: str, mode: str, now_ms: int
) -> None:
    """Choose how the person hears of a kind. BadRequest names an unknown kind or mode."""
    if kind not in KINDS:
        unknown = M_("unknown kind %(kind)s", kind=repr(kind))
        raise BadRequest(at("kind", unknown), [FieldError("kind", M_("unknown kind"))])
    if mode not in allowed_modes(kind):
        raise _bad(kind, M_("choose %(choices)s", choices=", ".join(allowed_modes(kind))))
    row = session.get(Preference, (person_id, kind))
    if row is None:
        session.add(
            Preference(
                person_id=person_id, kind=kind, store_id=store_id, mode=mode, updated_ms=now_ms
            )
        )
    else:
        row.mode, row.updated_ms = mode, now_ms
    session.flush()


# ==== the signed one-click unsubscribe ===========================================================


@dataclass(frozen=True)
class Unsubscribe:
    store_id: int
    person_id: int
    kind: str


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="learnloop notifications unsubscribe v1")


def unsubscribe_token(secret: str, store_id: int, person_id: int, kind: str) -> str:
    """The token of the link that turns one kind off for one person (no expiry: old mail works)."""
    return _serializer(secret).dumps([store_id, person_id, kind])


def read_unsubscribe(secret: str, token: str) -> Unsubscribe:
    """The token's person and kind; NotFound for a token Learnloop did not sign."""
    try:
        store_id, person_id, kind = _serializer(secret).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise NotFound(M_("this unsubscribe link is not valid")) from None
    if kind not in KINDS:
        raise NotFound(M_("this unsubscribe link is not valid"))
    return Unsubscribe(int(store_id), int(person_id), kind)


def unsubscribe(session: Session, token: Unsubscribe, now_ms: int) -> Person:
    """Turn the token's kind off for its person; returns the person."""
    person = session.get(Person, token.person_id)
    if person is None or person.store_id != token.store_id:
        raise NotFound(M_("this unsubscribe link is not valid"))
    set_mode(session, token.store_id, token.person_id, token.kind, "off", now_ms)
    return person


# ==== the teams' chat hooks ======================================================================


def sealed_values(session: Session) -> list[Sealed]:
    """Every chat hook's sealed address, for ``learnloop secrets reseal``."""
    return [
        Sealed(h, "url_sealed", f"chat:{h.id}", f"chat hook {h.id}")
        for h in session.scalars(select(ChatHook).order_by(ChatHook.id))
    ]


def chat_box(master_key: str) -> SecretBox:
    return SecretBox(master_key, CHAT_PURPOSE, "chat webhook URL")


def _bad(path: str, message: str) -> BadRequest:
    return BadRequest(at(path, message), [FieldError(path, message)])


def add_chat_hook(
    session: Session,
    store_id: int,
    manager_id: int,
    flavor: str,
    url: str,
    guard: OutboundGuard,
    box: SecretBox,
    now_ms: int,
) -> ChatHook:
    """Opt a manager's team in to chat: a Slack or Teams incoming webhook (admins)."""
    if flavor not in FLAVORS:
        *others, last = FLAVORS
        raise _bad(
            "flavor", M_("choose %(choices)s or %(last)s", choices=", ".join(others), last=last)
        )
    manager = session.get(Person, manager_id)
    if manager is None or manager.store_id != store_id:
        raise _bad("manager", M_("pick a manager of this organisation"))
    guard.check_url(url, "url")
    if session.scalar(
        select(ChatHook.id).where(
            ChatHook.store_id == store_id,
            ChatHook.manager_id == manager_id,
            ChatHook.flavor == flavor,
        )
    ):
        already = M_(
            "%(manager)s's team has a %(flavor)s hook already",
            manager=manager.name,
            flavor=FLAVORS[flavor],
        )
        raise _bad("manager", already)
    hook = ChatHook(
        store_id=store_id,
        manager_id=manager_id,
        flavor=flavor,
        url_sealed="",
        url_host=urlsplit(url).hostname or "",
        active=True,
        created_ms=now_ms,
    )
    session.add(hook)
    session.flush()
    hook.url_sealed = box.seal(url, f"chat:{hook.id}")
    audit.record(
        session,
        "chat_hook.created",
        store_id=store_id,
        target=audit.Target("chat_hook", hook.id, f"{FLAVORS[flavor]} of {manager.name}'s team"),
    )
    return hook


def chat_hooks(session: Session, store_id: int) -> list[tuple[ChatHook, str]]:
    """The store's hooks with their team's manager's name."""
    return list(
        session.execute(
            select(ChatHook, Person.name)
            .join(Person, Person.id == ChatHook.manager_id)
            .where(ChatHook.store_id == store_id)
            .order_by(Person.name, ChatHook.id)
        ).all()
    )


def remove_chat_hook(session: Session, store_id: int, hook_id: int) -> None:
    hook = session.get(ChatHook, hook_id)
    if hook is None or hook.store_id != store_id:
        raise NotFound(M_("no chat hook %(id)s", id=hook_id))
    session.delete(hook)
    audit.record(
        session,
        "chat_hook.deleted",
        store_id=store_id,
        target=audit.Target("chat_hook", hook_id, ""),
    )


def hooks_for(session: Session, store_id: int, manager_ids: list[int]) -> list[ChatHook]:
    """The active hooks of the teams these managers lead."""
    if not manager_ids:
        return []
    return list(
        session.scalars(
            select(ChatHook).where(
                ChatHook.store_id == store_id,
                ChatHook.manager_id.in_(manager_ids),
                ChatHook.active.is_(True),
            )
        )
    )
