"""Negotiation of the xAPI version of a request (xAPI 1.0.3 Communication 3.3; 9274.1.1 §4.1.7).

Learnloop is a conformant 1.0.3 LRS and a conformant 2.0.0 LRS behind one endpoint: each request
is served by the rules of the version its ``X-Experience-API-Version`` header names.
"""

from __future__ import annotations

import re

V103 = "1.0.3"
V200 = "2.0.0"
SUPPORTED = (V103, V200)

_V1 = re.compile(r"^1\.0(\.\d+)?$")
_V2 = re.compile(r"^2\.0(\.\d+)?$")


class UnsupportedVersion(ValueError):
    """The header is absent or names a version Learnloop does not serve."""


def negotiate(header: str | None) -> str:
    """Return the version that serves a request with this header value.

    ``1.0``, ``1.0.0``–``1.0.x`` are served as 1.0.3 (clients such as TinCanJS still send 1.0.2);
    ``2.0`` and ``2.0.x`` as 2.0.0. Raises UnsupportedVersion otherwise, a missing header included.
    """
    if header is None or not header.strip():
        raise UnsupportedVersion("the X-Experience-API-Version header is required")
    value = header.strip()
    if _V1.match(value):
        return V103
    if _V2.match(value):
        return V200
    raise UnsupportedVersion(
        f"X-Experience-API-Version {value!r} is not supported; use 1.0.3 or 2.0.0"
    )


def default_statement_version(version: str) -> str:
    """The ``version`` property the LRS sets when a statement has none (9274.1.1 §4.2.4.3)."""
    return "2.0.0" if version == V200 else "1.0.0"
