"""The LRS core's public functions for the other packages (LTI, connectors, objectives).

They write through the same path as ``POST /xapi/statements`` (validation, conflict rules,
voiding, index terms) and read through the same query path, so every source of statements
obeys the same rules. Callers own the transaction (``lrs.db.write_transaction``).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from lrs.auth import Principal
from lrs.core.statements import authority_key
from lrs.core.versions import V200
from lrs.errors import invalid
from lrs.statements.write import StoredBatch, store_statements

SCOPES_OF_SOURCES = frozenset({"all"})


def source_principal(
    store_id: int, source: str, home_page: str = "https://learnloop.invalid/"
) -> Principal:
    """The principal a Learnloop component writes as: its name becomes the statement authority.

    ``source`` names the component (``lti``, ``connector:github:12``, ``objectives``), so a
    reader can tell which part of Learnloop asserted a statement.
    """
    authority = {
        "objectType": "Agent",
        "name": f"Learnloop {source}",
        "account": {"homePage": home_page, "name": f"learnloop:{source}"},
    }
    return Principal(
        store_id=store_id,
        credential_id=0,
        key=f"learnloop:{source}",
        scopes=SCOPES_OF_SOURCES,
        authority=authority,
        authority_key=authority_key(authority),
    )


def write_statements(
    session: Session, principal: Principal, statements: list[dict], version: str = V200
) -> StoredBatch:
    """Validate and store statements in the caller's write transaction; ids in order.

    Raises BadRequest (with the path of each defect) for invalid statements and
    StatementConflict for a stored id with different content; identical resends are no-ops, so
    deterministic ids make retries and redeliveries idempotent.
    """
    from schemas.xapi import StatementValidationError, validate_statements

    try:
        validated = validate_statements(statements, version)
    except StatementValidationError as exc:
        raise invalid(exc.errors) from None
    return store_statements(session, principal, validated, version)
