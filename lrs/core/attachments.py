"""Matching attachment parts to the Attachment objects of statements (Data 2.4.11, Comm. 1.5.2).

Parts are matched by the SHA-2 of their content, and only so. Every Attachment without a
``fileUrl`` needs a part; every part needs an Attachment; declared hashes must be right.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from lrs.core.multipart import Part
from lrs.errors import BadRequest, FieldError

SIGNATURE_USAGE = "http://adlnet.gov/expapi/attachments/signature"
_HASHES = {56: hashlib.sha224, 64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


@dataclass(frozen=True)
class AttachmentData:
    """The bytes of one attachment, keyed by the SHA-2 the statement declares."""

    sha2: str
    content_type: str
    content: memoryview


def sha2_of(content: bytes | memoryview, declared: str) -> str:
    """The hex digest of ``content`` with the SHA-2 variant the declared hash's length implies."""
    algorithm = _HASHES.get(len(declared))
    if algorithm is None:
        return ""
    return algorithm(content).hexdigest()


def _fail(path: str, message: str) -> BadRequest:
    return BadRequest(f"{path}: {message}" if path else message, [FieldError(path, message)])


def attachments_of(statements: list[dict], paths: list[str]):
    """(path, attachment) for every Attachment of every statement, in order."""
    for statement, path in zip(statements, paths, strict=True):
        for j, attachment in enumerate(statement.get("attachments") or ()):
            yield f"{path}.attachments[{j}]", attachment


def require_file_urls(statements: list[dict], paths: list[str]) -> None:
    """application/json requests: every Attachment must carry a fileUrl (Comm. 1.5.2)."""
    for path, attachment in attachments_of(statements, paths):
        if not attachment.get("fileUrl"):
            raise _fail(
                path,
                "has no fileUrl, so its data must be sent as a part of a multipart/mixed request",
            )


def match_parts(
    statements: list[dict], paths: list[str], parts: list[Part]
) -> dict[str, AttachmentData]:
    """Check the attachment parts of a multipart request against the statements.

    Returns the data by declared sha2. Raises BadRequest for a part without
    X-Experience-API-Hash or without ``Content-Transfer-Encoding: binary``, a part whose content
    does not hash to its header, a part no Attachment declares, or an Attachment without
    fileUrl whose part is missing.
    """
    received: dict[str, AttachmentData] = {}
    for n, part in enumerate(parts, start=1):
        where = f"part {n + 1}"
        declared = part.headers.get("x-experience-api-hash", "").strip().lower()
        if not declared:
            raise _fail("", f"{where} has no X-Experience-API-Hash header")
        encoding = part.headers.get("content-transfer-encoding", "").strip().lower()
        if encoding != "binary":
            raise _fail("", f"{where} must have Content-Transfer-Encoding: binary")
        if sha2_of(part.content, declared) != declared:
            raise _fail("", f"{where}: X-Experience-API-Hash does not match its content")
        received[declared] = AttachmentData(declared, part.content_type, part.content)
    declared_hashes = set()
    for path, attachment in attachments_of(statements, paths):
        sha2 = attachment["sha2"].lower()
        declared_hashes.add(sha2)
        if sha2 not in received and not attachment.get("fileUrl"):
            raise _fail(path, "has no fileUrl and no part carries data with its sha2")
        if sha2 in received and attachment["usageType"] != SIGNATURE_USAGE:
            data = received[sha2]
            if not data.content_type:
                received[sha2] = AttachmentData(sha2, attachment["contentType"], data.content)
    extra = set(received) - declared_hashes
    if extra:
        raise _fail(
            "", f"the request has a part that no Attachment declares (sha2 {sorted(extra)[0]})"
        )
    return received


def referenced_hashes(statement: dict) -> list[str]:
    """The sha2 of every Attachment of a stored statement (for attachments=true responses)."""
    return [a["sha2"].lower() for a in statement.get("attachments") or ()]
