"""Erasing a person (GDPR art. 17) in one transaction, from their inventory.

What goes: their statements (actor or object Agent) with their index rows, learning facts and
the attachments no other statement uses; their State and Agent Profile documents; identities;
accounts with their API tokens and one-time links; their reviews with the objectives and
grants; the reviews they were granted; reporting lines (theirs, and their reports' lines to
them); LTI launches, roster rows, grade deliveries and score marks; their SCIM user; the
person row.

What stays, without them: other people's statements that mention them, with their agent
replaced by a stable pseudonym and their address replaced wherever it appears; index rows are
rewritten so a query by one of their identities finds nothing. Audit rows are legal records and
stay, but the labels and details that named them are replaced by "erased person" (the row's
action, time and actor stay). An ``ErasureRecord`` (and one ``person.erased`` audit event) says
who erased how much, when, with keyed hashes of the identities instead of the identities.

Statements already forwarded to another LRS are not erased there: the erasure names those
destinations (``recipients``, also in the audit event) so the administrator can ask each to
erase them too, as GDPR art. 19 asks of a controller towards every recipient.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from bisect import bisect_right
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from directory.governance.archive import part_counts
from directory.governance.inventory import CHUNK, Inventory, _chunks, inventory
from directory.governance.models import ErasureRecord
from directory.governance.rows import by_seq, delete_statements
from lrs import audit, queue
from lrs.core import jsontext
from lrs.core.agents import IFI_KEYS, ifi_string
from lrs.core.attachments import referenced_hashes
from lrs.core.statements import index_terms
from lrs.forwarding.models import Destination
from lrs.sql import lock_store_for_writing, marks, run, upsert

ERASED = "erased person"


@dataclass(frozen=True)
class Erasure:
    """What an erasure did (or, for a dry run, would do)."""

    person_id: int
    counts: dict[str, int]
    record_id: int | None
    pseudonym: dict
    #: The forwarding destinations already past some of the statements of or about them, by
    #: name, with how many: erasing here does not erase there.
    recipients: dict[str, int] = field(default_factory=dict)


def recipients(session: Session, inv: Inventory) -> dict[str, int]:
    """The destinations whose cursor is past some of their statements, with how many.

    Their own statements and others' naming them; "may have received": a destination's rules
    may have left some out.
    """
    seqs = sorted({*inv.theirs, *inv.mentioning})
    if not seqs:
        return {}
    found = {}
    for name, cursor in session.execute(
        select(Destination.name, Destination.cursor_seq)
        .where(Destination.store_id == inv.store_id)
        .order_by(Destination.name)
    ):
        sent = bisect_right(seqs, cursor)
        if sent:
            found[name] = sent
    return found


def keyed_hash(secret: str, purpose: str, value: str) -> str:
    """HMAC-SHA256 hex of ``value`` under the instance secret, separated by ``purpose``."""
    return hmac.new(secret.encode(), f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def pseudonym(secret: str, public_url: str, store_id: int, person_id: int) -> dict:
    """The stable pseudonymous Agent that replaces an erased person in others' statements.

    One per (store, person), so the statements that named them still name the same someone;
    not reversible without the instance secret, and the person's row is gone anyway.
    """
    home = (public_url.rstrip("/") or "https://learnloop.invalid") + "/erased"
    name = "erased-" + keyed_hash(secret, "pseudonym", f"{store_id}:{person_id}")[:32]
    return {"objectType": "Agent", "account": {"homePage": home, "name": name}}


def identifier_hashes(secret: str, store_id: int, ifis: list[str]) -> list[str]:
    return sorted({keyed_hash(secret, "erased-identity", f"{store_id}:{i}") for i in ifis})


def erasure_of(session: Session, secret: str, store_id: int, agent: dict) -> int | None:
    """The erasure record that removed this Agent from the store, or None (re-import check)."""
    identity = ifi_string(agent)
    if identity is None:
        return None
    wanted = keyed_hash(secret, "erased-identity", f"{store_id}:{identity}")
    rows = run(
        session,
        "SELECT id, identifier_hashes FROM erasure_records WHERE store_id = ? ORDER BY id DESC",
        [store_id],
    ).all()
    return next((row[0] for row in rows if wanted in json.loads(row[1])), None)


def was_erased(session: Session, secret: str, store_id: int, agent: dict) -> bool:
    """Whether an Agent is one an erasure removed from this store (to notice a re-import)."""
    return erasure_of(session, secret, store_id, agent) is not None


def _replace(value, ifis: set[str], needles: list[re.Pattern], agent: dict, name: str):
    """``value`` with every agent of theirs replaced by ``agent``, and their strings by ``name``."""
    if isinstance(value, dict):
        if any(k in value for k in IFI_KEYS) and ifi_string(value) in ifis:
            out = dict(agent)
            if value.get("objectType") == "Group":
                out["objectType"] = "Group"
            return out
        return {k: _replace(v, ifis, needles, agent, name) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, ifis, needles, agent, name) for v in value]
    if isinstance(value, str):
        for needle in needles:
            value = needle.sub(name, value)
        return value
    return value


def pseudonymise(statement: dict, inv: Inventory, agent: dict) -> dict:
    """A statement of someone else with the erased person replaced by the pseudonym."""
    needles = [re.compile(re.escape(n), re.IGNORECASE) for n in inv.needles]
    return _replace(statement, set(inv.ifis), needles, agent, agent["account"]["name"])


def erase_person(
    session: Session,
    store_id: int,
    person_id: int,
    *,
    secret: str,
    public_url: str,
    dry_run: bool = False,
    now_ms: int | None = None,
) -> Erasure:
    """Erase one person in the caller's write transaction; with ``dry_run`` only count.

    Raises NotFound when the store has no such person.
    """
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if not dry_run:
        lock_store_for_writing(session, store_id)  # no statement is written meanwhile
    inv = inventory(session, store_id, person_id)
    agent = pseudonym(secret, public_url, store_id, person_id)
    # Rows of the floors above (kudos, mentoring, …) go with the person row (ON DELETE
    # CASCADE); counted first, so the dry run shows them and the record keeps how many.
    counts = {**inv.counts(), **part_counts(session, store_id, person_id)}
    sent_to = recipients(session, inv)
    if dry_run:
        return Erasure(person_id, counts, None, agent, sent_to)
    _erase_statements(session, inv, agent)
    _delete_rows(session, inv)
    _redact_audit(session, inv)
    _forget_in_inboxes(session, inv)
    actor = audit.current_actor()
    record = ErasureRecord(
        store_id=store_id,
        erased_at_ms=now_ms,
        actor_kind=actor.kind,
        actor_id=actor.id[:200],
        counts=json.dumps(counts, sort_keys=True),
        identifier_hashes=json.dumps(identifier_hashes(secret, store_id, inv.ifis)),
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        "person.erased",
        store_id=store_id,
        target=audit.Target("person", person_id, ERASED),
        details={
            "erasure_record": record.id,
            **counts,
            **({"forwarded_to": ", ".join(sent_to)} if sent_to else {}),
        },
        now_ms=now_ms,
    )
    # Progress is re-read: the person's job finds no one (their objectives went with them),
    # and the statements job lets every consumer read the store again.
    queue.person_changed(session, store_id, person_id, now_ms)
    return Erasure(person_id, counts, record.id, agent, sent_to)


def _erase_statements(session: Session, inv: Inventory, agent: dict) -> None:
    s = inv.store_id
    keys = inv.agent_keys
    # 1. Theirs: remember what they voided and which attachments they used, then delete.
    voided_targets: set[str] = set()
    hashes: set[str] = set()
    for chunk in _chunks(inv.theirs):
        rows = run(
            session,
            f"SELECT seq, stored_ms, payload, voiding, object_ref FROM statements "
            f"WHERE {by_seq(len(chunk))}",
            [*chunk, s],
        ).all()
        for _, _, payload, voiding, object_ref in rows:
            hashes.update(referenced_hashes(json.loads(payload)))
            if voiding and object_ref:
                voided_targets.add(object_ref)
        delete_statements(session, s, [(r[0], r[1], r[2], r[4]) for r in rows], facts=True)
    # 2. Others' statements that mention them: pseudonymised, index terms recomputed.
    for chunk in _chunks(inv.mentioning):
        rows = run(
            session,
            f"SELECT seq, stored_ms, payload FROM statements WHERE {by_seq(len(chunk))}",
            [*chunk, s],
        ).all()
        index_rows = []
        for seq, stored_ms, payload in rows:
            old = json.loads(payload)
            new = pseudonymise(old, inv, agent)
            gone = set(index_terms(old)) - set(index_terms(new))
            if gone:
                run(
                    session,
                    f"DELETE FROM statement_index WHERE store_id = ? AND seq = ? "
                    f"AND key IN ({marks(len(gone))})",
                    [s, seq, *gone],
                )
            run(
                session,
                f"UPDATE statements SET payload = ? WHERE {by_seq(1)}",
                [jsontext.dumps(new), seq, s],
            )
            index_rows.extend(
                {"store_id": s, "key": k, "stored_ms": stored_ms, "seq": seq, "direct": d}
                for k, d in index_terms(new).items()
            )
        from lrs.models import StatementIndex

        upsert(
            session,
            StatementIndex.__table__,
            index_rows,
            ["store_id", "key", "stored_ms", "seq"],
            or_column="direct",
        )
    # 3. Every index row left under one of their keys (inherited through StatementRefs) goes.
    for chunk in _chunks(keys):
        run(
            session,
            f"DELETE FROM statement_index WHERE store_id = ? AND key IN ({marks(len(chunk))})",
            [s, *chunk],
        )
    # 4. A statement they voided is voided no more unless another voiding statement remains.
    for chunk in _chunks(sorted(voided_targets)):
        run(
            session,
            f"UPDATE statements SET voided = ? WHERE store_id = ? "
            f"AND statement_id IN ({marks(len(chunk))}) AND NOT EXISTS (SELECT 1 FROM "
            f"statements v WHERE v.store_id = statements.store_id AND v.voiding = ? "
            f"AND v.object_ref = statements.statement_id)",
            [False, s, *chunk, True],
        )
    # 5. Attachment data no remaining statement references goes too.
    contains = (
        "strpos(payload, ?) > 0"
        if session.get_bind().dialect.name == "postgresql"
        else "instr(payload, ?) > 0"
    )
    for sha2 in sorted(hashes):
        used = run(
            session,
            f"SELECT 1 FROM statements WHERE store_id = ? AND {contains} LIMIT 1",
            [s, sha2],
        ).first()
        if used is None:
            run(session, "DELETE FROM attachments WHERE store_id = ? AND sha2 = ?", [s, sha2])


def _delete_in(session: Session, table: str, column: str, ids: list, store_id=None) -> None:
    where = "" if store_id is None else " AND store_id = ?"
    for chunk in _chunks(ids, CHUNK):
        run(
            session,
            f"DELETE FROM {table} WHERE {column} IN ({marks(len(chunk))}){where}",
            [*chunk, *([] if store_id is None else [store_id])],
        )


def _delete_rows(session: Session, inv: Inventory) -> None:
    s, p = inv.store_id, inv.person_id
    _delete_in(session, "documents", "id", inv.documents, s)
    _delete_in(session, "lti_score_marks", "id", inv.lti_score_marks, s)
    _delete_in(session, "lti_grade_deliveries", "id", inv.lti_grade_deliveries, s)
    _delete_in(session, "lti_memberships", "id", inv.lti_memberships, s)
    _delete_in(session, "lti_launches", "id", inv.lti_launches, s)
    _delete_in(session, "jobs", "id", inv.jobs, s)
    _delete_in(session, "api_tokens", "id", inv.api_tokens)
    _delete_in(session, "account_links", "id", inv.account_links, s)
    _delete_in(session, "accounts", "id", inv.accounts, s)
    _delete_in(session, "objectives", "id", inv.objectives, s)
    _delete_in(session, "review_grants", "review_id", inv.reviews)
    run(session, "DELETE FROM review_grants WHERE person_id = ?", [p])
    _delete_in(session, "reviews", "id", inv.reviews, s)
    run(
        session,
        "DELETE FROM reporting_lines WHERE store_id = ? AND (person_id = ? OR manager_id = ?)",
        [s, p, p],
    )
    run(session, "DELETE FROM scim_group_members WHERE person_id = ?", [p])
    _delete_in(session, "scim_users", "id", inv.scim_users, s)
    _delete_in(session, "identities", "id", inv.identities, s)
    run(session, "DELETE FROM people WHERE store_id = ? AND id = ?", [s, p])


def _forget_in_inboxes(session: Session, inv: Inventory) -> None:
    """Other people's notifications that name them go (their own went with them).

    An inbox row ("Annabel met Python basics", "Annabel gave you kudos") is a message, not a
    record: it is deleted rather than rewritten, found by their name or address as a word.
    """
    found, _ = _rows_naming(session, inv, "notifications", ("title", "data"))
    _delete_in(session, "notifications", "id", sorted(found), inv.store_id)


def _redact_audit(session: Session, inv: Inventory) -> None:
    """Audit rows stay (legal records); what in them named the person is replaced.

    The rows about them (target: the person or one of their accounts) lose their label; any
    row whose actor was one of their accounts keeps the account id but not the address; any
    label or detail holding their name or address has it replaced.
    """
    s = inv.store_id
    accounts = [str(a) for a in inv.accounts]
    run(
        session,
        "UPDATE audit_events SET target_label = ? WHERE store_id = ? "
        "AND target_kind = 'person' AND target_id = ?",
        [ERASED, s, str(inv.person_id)],
    )
    for chunk in _chunks(accounts):
        run(
            session,
            f"UPDATE audit_events SET target_label = ? WHERE store_id = ? "
            f"AND target_kind = 'account' AND target_id IN ({marks(len(chunk))})",
            ["erased account", s, *chunk],
        )
        run(
            session,
            f"UPDATE audit_events SET actor_label = 'account ' || actor_id || ' (erased)' "
            f"WHERE store_id = ? AND actor_kind = 'account' "
            f"AND actor_id IN ({marks(len(chunk))})",
            [s, *chunk],
        )
    found, patterns = _rows_naming(
        session, inv, "audit_events", ("target_label", "actor_label", "details")
    )
    for event_id, cleaned in found.items():
        for pattern in patterns:
            cleaned = [pattern.sub(ERASED, text) for text in cleaned]
        run(
            session,
            "UPDATE audit_events SET target_label = ?, actor_label = ?, details = ? WHERE id = ?",
            [*cleaned, event_id],
        )


def _rows_naming(
    session: Session, inv: Inventory, table: str, columns: tuple[str, ...]
) -> tuple[dict[int, list[str]], list[re.Pattern]]:
    """The store's rows of ``table`` whose ``columns`` hold their name or address as a word.

    Returns {id: the columns' values} and the words' patterns. Words shorter than three
    characters are not searched for (they would match everywhere).
    """
    words = [w for w in (*inv.needles, inv.name) if w and len(w) >= 3]
    patterns = [re.compile(rf"\b{re.escape(w)}\b", re.IGNORECASE) for w in words]
    contains = (
        "strpos(lower({col}), ?) > 0"
        if session.get_bind().dialect.name == "postgresql"
        else "instr(lower({col}), ?) > 0"
    )
    where = " OR ".join(contains.format(col=c) for c in columns)
    found: dict[int, list[str]] = {}
    for word in words:
        for row_id, *values in run(
            session,
            f"SELECT id, {', '.join(columns)} FROM {table} "  # noqa: S608 (our own names)
            f"WHERE store_id = ? AND ({where})",
            [inv.store_id, *[word.lower()] * len(columns)],
        ).all():
            if any(p.search(v or "") for v in values for p in patterns):
                found[row_id] = values
    return found, patterns
