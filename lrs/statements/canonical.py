"""Canonical Activity definitions, merged from the statements that define each Activity.

xAPI 1.0.3 Communication 2.5 lets the LRS keep one canonical definition per Activity id; we merge:
later definitions override earlier ones property by property, and language maps and extensions
merge key by key, so a statement in one language never erases another language.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.core.statements import PreparedStatement
from lrs.models import Activity
from lrs.sql import marks, run

ACTIVITIES = Activity.__table__
_MERGED_MAPS = ("name", "description", "extensions")


def merge_definition(old: dict, new: dict) -> dict:
    """``new`` over ``old``; language maps and extensions merge key by key."""
    merged = dict(old)
    for key, value in new.items():
        if key in _MERGED_MAPS and isinstance(value, dict) and isinstance(old.get(key), dict):
            merged[key] = {**old[key], **value}
        else:
            merged[key] = value
    return merged


class SeenDefinitions:
    """Remembers, per process, the last definition this process merged for each Activity.

    Most statements repeat the definition their Activity already has; skipping those saves a
    read of the canonical row on the write path. Bounded; cleared when full.
    """

    def __init__(self, size: int = 50_000) -> None:
        self._size = size
        self._seen: dict[tuple[int, str], dict] = {}

    def unchanged(self, store_id: int, activity_id: str, definition: dict) -> bool:
        return self._seen.get((store_id, activity_id)) == definition

    def remember(self, store_id: int, activity_id: str, definition: dict) -> None:
        if len(self._seen) >= self._size:
            self._seen.clear()
        self._seen[(store_id, activity_id)] = definition


def merge_definitions(
    session: Session,
    store_id: int,
    prepared: list[PreparedStatement],
    seen: SeenDefinitions | None = None,
) -> None:
    """Fold the definitions of a batch into the canonical store; writes only what changed."""
    incoming: dict[str, dict] = {}
    for p in prepared:
        for activity in p.activities:
            current = incoming.get(activity["id"], {})
            incoming[activity["id"]] = merge_definition(current, activity["definition"])
    if seen is not None:
        incoming = {a: d for a, d in incoming.items() if not seen.unchanged(store_id, a, d)}
    if not incoming:
        return
    ids = list(incoming)
    stored = {
        activity_id: json.loads(definition)
        for activity_id, definition in run(
            session,
            f"SELECT activity_id, definition FROM activities WHERE store_id = ? "
            f"AND activity_id IN ({marks(len(ids))})",
            [store_id, *ids],
        )
    }
    rows = []
    for activity_id, definition in incoming.items():
        old = stored.get(activity_id)
        merged = merge_definition(old, definition) if old else definition
        if merged != old:
            rows.append(
                (
                    store_id,
                    activity_id,
                    json.dumps(merged, separators=(",", ":"), ensure_ascii=False),
                )
            )
    if rows:
        mark = "?" if session.connection().dialect.paramstyle == "qmark" else "%s"
        session.connection().exec_driver_sql(
            "INSERT INTO activities (store_id, activity_id, definition) "
            f"VALUES ({mark}, {mark}, {mark}) ON CONFLICT (store_id, activity_id) "
            "DO UPDATE SET definition = excluded.definition",
            rows,
        )
    if seen is not None:
        for activity_id, definition in incoming.items():
            seen.remember(store_id, activity_id, definition)


def canonical_definitions(
    session: Session, store_id: int, activity_ids: set[str]
) -> dict[str, dict]:
    """The canonical definitions of these Activities (absent ids are not in the result)."""
    if not activity_ids:
        return {}
    return {
        activity_id: json.loads(definition)
        for activity_id, definition in session.execute(
            select(ACTIVITIES.c.activity_id, ACTIVITIES.c.definition).where(
                ACTIVITIES.c.store_id == store_id, ACTIVITIES.c.activity_id.in_(activity_ids)
            )
        )
    }
