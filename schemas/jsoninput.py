"""The one reader of JSON from outside: request bodies, parameters, tokens, peers' answers.

What Python's parsers accept is not always JSON, and some JSON cannot be held safely. This
reader refuses, with a 400 that says what and where (``statement.result.score.raw: not a
finite number``):

* ``NaN``, ``Infinity``, ``-Infinity`` and numbers beyond a double (``1e400``): not JSON numbers
  (RFC 8259 §6). Python reads them as floats that serialise as ``null``, so the stored statement
  would differ from the one sent and an identical resend would be a 409.
* nesting deeper than :data:`MAX_DEPTH`: nothing downstream (validation, comparison,
  serialisation) then recurses without bound.
* duplicate keys (RFC 8259 §4; xAPI 2.0 requires rejecting them), unless the caller accepts
  them: xAPI 1.0.3 bodies, for conformance, where the last value wins.
* NUL characters (U+0000) and lone surrogates in any string or key: PostgreSQL text cannot hold
  the one and UTF-8 cannot encode the other, so they are refused on every database alike.
* more than ``max_bytes`` of text (413).

Integers of any size are kept exactly.

Fast path: orjson parses (it refuses non-finite numbers, lone surrogates and raw control
characters itself) and one walk over the containers measures the depth and counts the keys;
the raw text tells whether a NUL or a duplicate key can be present at all. Anything doubtful
takes the exact path: the standard library's parser with hooks, then a walk that finds the
first defect in document order and its path.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from schemas.errors import BadRequest, FieldError, PayloadTooLarge

#: Deepest nesting of arrays and objects accepted. A statement needs about ten levels; the rest
#: is room for extensions.
MAX_DEPTH = 64
#: Largest JSON text accepted when the caller gives no tighter bound (request bodies are bounded
#: before this by the configured maximum request size).
MAX_BYTES = 50 * 1024 * 1024

# orjson reads integers of 2**64 and more as floats; any float this large may have been one.
_BIG = float(2**63)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_SURROGATE = re.compile("[\ud800-\udfff]")
# A key ends with a quote and a colon; inside strings the pattern can only follow an escaped
# quote, so its count is an upper bound of the keys in the text.
_KEY_END_TEXT = re.compile(r'"[ \t\n\r]*:')
_KEY_END_BYTES = re.compile(rb'"[ \t\n\r]*:')


class JsonInputError(BadRequest):
    """The input is not JSON this service accepts; the message names what and where (400)."""

    def __init__(self, path: str, problem: str, message: str | None = None) -> None:
        path = path or "body"  # the value itself, when the caller gave it no name
        super().__init__(message or f"{path}: {problem}", [FieldError(path, problem)])
        self.path = path
        self.problem = problem


def read_json(
    data: bytes | bytearray | memoryview | str,
    *,
    root: str = "",
    list_root: str | None = None,
    unique_keys: bool = True,
    max_depth: int = MAX_DEPTH,
    max_bytes: int = MAX_BYTES,
) -> Any:
    """Parse ``data`` as strict JSON (see the module); JsonInputError (400) naming the place.

    :param root: the name of the value in error paths (``statement``, ``agent``); by default
        paths are relative, as marshmallow's are (``criteria[0].title``), and the value itself
        is ``body``.
    :param list_root: the name of a top-level array, whose items are then ``list_root[i]``
        (``statements``); defaults to ``root``.
    :param unique_keys: refuse duplicate keys (default); False keeps the last value of each.
    :raise PayloadTooLarge: (413) when ``data`` is longer than ``max_bytes``.
    """
    if isinstance(data, memoryview):
        data = data.tobytes()
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"{root}: JSON larger than {max_bytes} bytes",
            [FieldError(root, f"larger than {max_bytes} bytes")],
        )
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _exact(data, root, list_root, unique_keys, max_depth)
    keys = _measure(value, max_depth)
    if (
        keys < 0
        or (b"\\u0000" in data if isinstance(data, bytes | bytearray) else "\\u0000" in data)
        or (unique_keys and keys and keys < _key_ends(data))
    ):
        return _exact(data, root, list_root, unique_keys, max_depth)
    return value


def find_nul(value: Any, root: str = "") -> str | None:
    """The path of the first string or key holding a NUL character in parsed JSON, or None.

    For values that did not come through :func:`read_json` (statements a component builds).
    """
    found = _first_defect(value, _Hooks(False), None, only_nul=True)
    return None if found is None else _format(root, None, found[0])


# ---------------------------------------------------------------------------------------------
# Fast path
# ---------------------------------------------------------------------------------------------


def _measure(node: Any, limit: int, depth: int = 1) -> int:
    """The number of keys in ``node``, or -1 when the exact path must decide.

    -1: deeper than ``limit``, or holding a float that orjson may have made of a big integer.
    Recursive (at most ``limit`` frames): a third faster than an explicit stack.
    """
    kind = type(node)
    if kind is dict:
        keys = len(node)
        children: Any = node.values()
    elif kind is list:
        keys = 0
        children = node
    else:
        return -1 if kind is float and (node >= _BIG or node <= -_BIG) else 0
    if depth > limit:
        return -1
    for child in children:
        kind = type(child)
        if kind is dict or kind is list:
            inner = _measure(child, limit, depth + 1)
            if inner < 0:
                return -1
            keys += inner
        elif kind is float and (child >= _BIG or child <= -_BIG):
            return -1
    return keys


def _key_ends(data: bytes | bytearray | str) -> int:
    pattern = _KEY_END_TEXT if isinstance(data, str) else _KEY_END_BYTES
    return len(pattern.findall(data))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# Exact path
# ---------------------------------------------------------------------------------------------


class _NonFinite:
    """Stands in for NaN, ±Infinity and overflowing numbers until the walk reports them."""


_NON_FINITE = _NonFinite()


class _Hooks:
    """The standard parser's hooks for one parse: they remember the first duplicate key."""

    def __init__(self, unique_keys: bool) -> None:
        self.unique_keys = unique_keys
        self.duplicate: tuple[dict, str] | None = None

    def constant(self, _name: str) -> _NonFinite:
        return _NON_FINITE

    def number(self, text: str) -> float | _NonFinite:
        number = float(text)
        return number if number - number == 0 else _NON_FINITE

    def pairs(self, pairs: list[tuple[str, Any]]) -> dict:
        obj = dict(pairs)
        if len(obj) != len(pairs) and self.duplicate is None:
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    self.duplicate = (obj, key)
                    break
                seen.add(key)
        return obj


def _exact(
    data: bytes | bytearray | str,
    root: str,
    list_root: str | None,
    unique_keys: bool,
    max_depth: int,
) -> Any:
    where = root
    if isinstance(data, bytes | bytearray):
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonInputError(where, f"is not UTF-8 (byte {exc.start})") from None
    data = data.removeprefix("\ufeff")  # a byte order mark is tolerated, as before
    hooks = _Hooks(unique_keys)
    try:
        value = json.loads(
            data,
            parse_constant=hooks.constant,
            parse_float=hooks.number,
            object_pairs_hook=hooks.pairs if unique_keys else None,
        )
    except RecursionError:  # deeper than Python's recursion limit: where is beyond saying
        if list_root and data.lstrip().startswith("["):
            where = list_root
        raise _too_deep(where, max_depth) from None
    except json.JSONDecodeError as exc:
        raise JsonInputError(where, f"is not valid JSON: {exc}") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise JsonInputError(where, f"is not JSON this service reads: {exc}") from None
    found = _first_defect(value, hooks, max_depth)
    if found is None:
        return value
    parts, problem = found
    if problem == "deep":
        # Reported at the top (or the item of a top-level array), not 64 keys down.
        top = parts[:1] if type(value) is list and (root or list_root) else []
        raise _too_deep(_format(root, list_root, top), max_depth)
    path = _format(root, list_root, parts) or "body"
    if problem.startswith("duplicate key"):
        raise JsonInputError(path, problem, f"{problem} in {path}")
    raise JsonInputError(path, problem)


def _too_deep(path: str, max_depth: int) -> JsonInputError:
    return JsonInputError(path, f"JSON nested deeper than {max_depth} levels")


def _first_defect(
    value: Any, hooks: _Hooks, max_depth: int | None, only_nul: bool = False
) -> tuple[list, str] | None:
    """The path (a list of keys and indexes) and problem of the first defect, depth first.

    ``max_depth`` None: depth is not checked.
    """
    duplicate = hooks.duplicate
    stack: list[tuple[Any, list, int]] = [(value, [], 0)]
    while stack:
        node, parts, depth = stack.pop()
        kind = type(node)
        if kind is dict or kind is list:
            if max_depth is not None and depth >= max_depth:
                return parts, "deep"
            if kind is dict:
                if duplicate is not None and node is duplicate[0]:
                    return parts, f'duplicate key "{_printable(duplicate[1])}"'
                for key in node:
                    problem = _text_problem(key, only_nul)
                    if problem:
                        return parts, f"a key {problem}"
                items: Any = node.items()
            else:
                items = enumerate(node)
            stack.extend((child, [*parts, k], depth + 1) for k, child in reversed(list(items)))
        elif kind is str:
            problem = _text_problem(node, only_nul)
            if problem:
                return parts, problem
        elif node is _NON_FINITE:
            return parts, "not a finite number"
    return None


def _text_problem(text: str, only_nul: bool) -> str | None:
    if "\x00" in text:
        return "must not contain NUL characters (U+0000)"
    if not only_nul and _SURROGATE.search(text):
        return "is not valid Unicode (a lone surrogate)"
    return None


def _printable(key: str) -> str:
    return json.dumps(key)[1:-1]


def _format(root: str, list_root: str | None, parts: list) -> str:
    """``statement.result.score.raw``, ``statements[2].actor``, ``ext["http://x.org/a"]``."""
    path = root
    if parts and isinstance(parts[0], int):
        path = list_root or root
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _IDENTIFIER.match(part):
            path = f"{path}.{part}" if path else part
        else:
            path += f"[{json.dumps(part, ensure_ascii=False)}]"
    return path
