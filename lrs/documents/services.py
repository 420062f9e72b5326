"""Reads and writes of documents. Each function takes the caller's Session and never commits.

Writes lock the document's row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's writer already
holds the database lock from BEGIN IMMEDIATE), so a precondition check and the write it guards
cannot interleave with another writer. Two writers creating the same document at once meet the
unique constraint; the loser raises ``ConcurrentWrite`` and its caller retries the transaction,
which then sees the winner's row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer
from sqlalchemy.sql import ColumnElement

from lrs.core import documents as rules
from lrs.core.documents import Conditions, DocumentRequest, Outcome, Scope
from lrs.documents.models import Document
from lrs.errors import NotFound


class ConcurrentWrite(Exception):
    """Another transaction created the same document first; the request may be retried."""


@dataclass(frozen=True)
class StoredDocument:
    """A document as the LRS returns it."""

    content: bytes
    content_type: str
    etag: str
    updated_ms: int


@dataclass(frozen=True)
class DocumentIds:
    """An id list: the ids, oldest change first, and the latest ``updated`` among them."""

    ids: list[str]
    last_modified_ms: int | None


def _in_scope(store_id: int, scope: Scope) -> tuple[ColumnElement[bool], ...]:
    return (
        Document.store_id == store_id,
        Document.kind == scope.kind,
        Document.scope_key == scope.key,
    )


def _find(
    session: Session,
    store_id: int,
    request: DocumentRequest,
    *,
    lock: bool = False,
    content: bool = True,
) -> Document | None:
    """The row of the document a request names; locked for the transaction if ``lock``.

    ``content=False`` leaves the bytes in the database (a PUT or DELETE only needs the ETag).
    """
    query = select(Document).where(
        *_in_scope(store_id, request.scope), Document.document_id == request.document_id
    )
    if not content:
        query = query.options(defer(Document.content))
    if lock:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def get_document(
    session: Session, store_id: int, request: DocumentRequest, conditions: Conditions
) -> tuple[StoredDocument, Outcome]:
    """The document a single GET names, and whether If-None-Match makes it a 304.

    Raises NotFound (404) when there is none, PreconditionFailed (412) when If-Match fails.
    """
    row = _find(session, store_id, request)
    if row is None:
        rules.evaluate("GET", None, conditions)
        raise NotFound(
            f"no {request.resource.name} document with this {request.resource.id_param} exists"
        )
    outcome = rules.evaluate("GET", row.etag, conditions)
    return StoredDocument(row.content, row.content_type, row.etag, row.updated_ms), outcome


def list_document_ids(session: Session, store_id: int, request: DocumentRequest) -> DocumentIds:
    """The ids of the documents in a scope changed after ``since`` (exclusive), if given."""
    query = select(Document.document_id, Document.updated_ms).where(
        *_in_scope(store_id, request.scope)
    )
    if request.since_ms is not None:
        query = query.where(Document.updated_ms > request.since_ms)
    rows = session.execute(query.order_by(Document.updated_ms, Document.document_id)).all()
    last = max((updated for _, updated in rows), default=None)
    return DocumentIds([document_id for document_id, _ in rows], last)


def write_document(
    session: Session,
    store_id: int,
    request: DocumentRequest,
    *,
    version: str,
    method: str,
    content: bytes,
    content_type: str,
    conditions: Conditions,
    clock: Callable[[], int],
) -> None:
    """Store (PUT) or create-or-merge (POST) one document (Communication 2.2-2.7, 3.1).

    Raises PreconditionFailed (412), Conflict (409) or BadRequest (400) as
    ``rules.check_write`` and ``rules.merge`` decide, leaving the stored document unchanged;
    ConcurrentWrite when another transaction created the document meanwhile.
    """
    posted = None
    if method == "POST":
        posted = rules.check_posted(content, content_type, version)
    else:
        rules.check_put(version, content, content_type)
    row = _find(session, store_id, request, lock=True)
    rules.check_write(version, request.scope.kind, method, row.etag if row else None, conditions)
    if row is not None and method == "POST":
        content = rules.merge(row.content, row.content_type, posted, content_type)
    etag = rules.etag_of(content)
    if row is None:
        scope = request.scope
        session.add(
            Document(
                store_id=store_id,
                kind=scope.kind,
                scope_key=scope.key,
                activity_id=scope.activity_id,
                agent_ifi=scope.agent_ifi,
                registration=scope.registration,
                document_id=request.document_id,
                content_type=content_type,
                content=content,
                etag=etag,
                updated_ms=clock(),
            )
        )
        try:
            session.flush()
        except IntegrityError as exc:
            raise ConcurrentWrite() from exc
        return
    row.content = content
    row.content_type = content_type
    row.etag = etag
    row.updated_ms = rules.next_updated_ms(clock(), row.updated_ms)
    session.flush()


def delete_document(
    session: Session,
    store_id: int,
    request: DocumentRequest,
    *,
    version: str,
    conditions: Conditions,
) -> None:
    """Delete one document; deleting one that does not exist is a no-op (CTS XAPI-00285).

    Raises PreconditionFailed (412) when If-Match / If-None-Match fail, deleting nothing.
    """
    row = _find(session, store_id, request, lock=True, content=False)
    rules.check_write(version, request.scope.kind, "DELETE", row.etag if row else None, conditions)
    if row is not None:
        session.delete(row)
        session.flush()


def delete_documents(session: Session, store_id: int, request: DocumentRequest) -> int:
    """Delete every document of a scope (the State's multiple DELETE); returns how many.

    There is no single ETag to hold If-Match / If-None-Match against, so they are not consulted.
    """
    result = session.execute(delete(Document).where(*_in_scope(store_id, request.scope)))
    return result.rowcount or 0
