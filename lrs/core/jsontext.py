"""JSON in and out of the hot paths: orjson where it can, the standard library where it cannot.

orjson parses and serialises several times faster, but refuses integers beyond 64 bits, which
JSON allows (an extension value may hold one); those documents go through ``json`` instead.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON; ValueError (with the standard library's message) when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        if isinstance(data, memoryview):
            data = data.tobytes()
        return json.loads(data)


def dumps(value: Any) -> str:
    """Compact JSON text, non-ASCII characters kept as they are."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
