"""``multipart/mixed`` statement requests and responses (Communication 1.5.2; RFC 2046 §5.1).

Parts are memoryviews into the request body, so an attachment is held in memory once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from lrs.errors import BadRequest


@dataclass
class Part:
    """One body part: lower-cased header names and the raw content."""

    headers: dict[str, str]
    content: memoryview

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def boundary_of(content_type_header: str) -> str:
    """The boundary parameter of a multipart Content-Type; BadRequest if there is none."""
    for param in content_type_header.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            if value:
                return value
    raise BadRequest("a multipart/mixed request needs a boundary parameter in its Content-Type")


def parse(body: bytes, boundary: str) -> list[Part]:
    """Split a multipart body into parts; BadRequest when its structure is broken."""
    view = memoryview(body)
    delimiter = b"--" + boundary.encode("latin-1")
    if body.startswith(delimiter):
        position = 0
    else:
        position = body.find(b"\r\n" + delimiter)
        if position < 0:
            raise BadRequest("the multipart body does not contain its boundary")
        position += 2
    parts: list[Part] = []
    while True:
        position += len(delimiter)
        if body[position : position + 2] == b"--":
            break
        line_end = body.find(b"\r\n", position)
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise BadRequest("a multipart boundary line is malformed")
        start = line_end + 2
        end = body.find(b"\r\n" + delimiter, start)
        if end < 0:
            raise BadRequest("the multipart body is not closed by its boundary")
        parts.append(_part(view[start:end]))
        position = end + 2
    if not parts:
        raise BadRequest("the multipart body has no parts")
    return parts


def _part(raw: memoryview) -> Part:
    if raw[:2] == b"\r\n":
        return Part({}, raw[2:])
    head_end = bytes(raw[:65536]).find(b"\r\n\r\n")
    if head_end < 0:
        raise BadRequest("a multipart part has no blank line after its headers")
    headers: dict[str, str] = {}
    for line in bytes(raw[:head_end]).decode("latin-1").split("\r\n"):
        name, colon, value = line.partition(":")
        if not colon:
            raise BadRequest(f"malformed multipart header line {line[:60]!r}")
        headers[name.strip().lower()] = value.strip()
    return Part(headers, raw[head_end + 4 :])


def build(first: str, attachments: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/mixed response: JSON first, then each (content type, sha2, bytes) part."""
    boundary = "learnloop-" + uuid.uuid4().hex
    chunks = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        first.encode(),
    ]
    for content_type, sha2, content in attachments:
        chunks.append(
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\nX-Experience-API-Hash: {sha2}\r\n\r\n".encode()
        )
        chunks.append(content)
    chunks.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(chunks), f'multipart/mixed; boundary="{boundary}"'
