"""What every request's input is held to before a route sees it, app-wide, in one place.

* JSON that routes read through Flask (``request.get_json``: the ``/api`` bodies, the admin
  APIs, ``POST /api/tokens``) goes through ``schemas.jsoninput.read_json``: bounded depth and
  size, finite numbers, no duplicate keys, no NUL. Routes that read raw bytes (statements,
  documents, webhooks, id_tokens) call the same reader themselves, with their own names.
* ``<int:…>`` in any route is a row id of ASCII digits no larger than ``MAX_ID``; a larger one
  names no row, so it matches no route (404, whatever the method) instead of reaching the
  database.
* No query parameter, path, or form field of the pages holds a NUL character (400 naming it):
  PostgreSQL cannot compare text with one. Other form bodies are left unread here.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import BaseConverter, ValidationError

from lrs.errors import BadRequest, FieldError
from schemas.fields import MAX_ID, id_parameter
from schemas.jsoninput import read_json

#: Blueprints whose form fields are checked here: the pages'. (The LTI launch checks its own
#: fields and answers in the LMS's frame; documents and webhooks read their bytes as sent.)
FORM_BLUEPRINTS = ("web",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
NUL = "\x00"


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading bodies with the strict reader (errors are 400s naming the place)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:  # noqa: D102
        if kwargs:  # Flask's own callers with hooks (the signed session cookie)
            return super().loads(s, **kwargs)
        return read_json(s)  # paths as marshmallow's: ``title``; the whole value is ``body``


def digits_up_to(limit: int) -> str:
    """A regular expression of the ASCII digit strings (leading zeros too) worth at most ``limit``.

    The route itself then refuses a larger id, so no method matches it: 2^31 in
    ``PATCH /api/reviews/<id>`` is a 404 like in GET, not a 405 listing the GET route's methods.
    """
    text = str(limit)
    shorter = f"[0-9]{{1,{len(text) - 1}}}" if len(text) > 1 else None
    same_length = [
        text[:i] + f"[0-{int(text[i]) - 1}]" + f"[0-9]{{{len(text) - i - 1}}}"
        for i in range(len(text))
        if text[i] != "0"
    ]
    return "(?:" + "|".join([*filter(None, [shorter]), *same_length, text]) + ")"


class IdConverter(BaseConverter):
    """``<int:name>``: a row id, 0 to ``MAX_ID``, in ASCII digits."""

    regex = digits_up_to(MAX_ID)
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:  # noqa: D102
        try:
            return id_parameter(value)
        except ValueError:
            raise ValidationError() from None

    def to_url(self, value: Any) -> str:  # noqa: D102
        return str(int(value))


def search_text(name: str, value: str, limit: int = 200) -> str:
    """A query parameter of words to search for, stripped; BadRequest when it is not one.

    At most ``limit`` characters and no control characters, as the OpenAPI document declares
    (``objectives.openapi._words``).
    """
    if len(value) > limit:
        raise BadRequest(f"{name}: at most {limit} characters", [FieldError(name, "too long")])
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        message = "must not contain control characters"
        raise BadRequest(f"{name}: {message}", [FieldError(name, message)])
    return value.strip()


def refuse_nul() -> None:
    """BadRequest naming the first parameter, path or form field that holds a NUL character."""
    if NUL in request.path:
        raise _nul("path")
    for name, value in request.args.items(multi=True):
        if NUL in name or NUL in value:
            raise _nul(name.replace(NUL, "\\u0000"))
    if request.blueprint in FORM_BLUEPRINTS and request.mimetype in FORM_TYPES:
        for name, value in request.form.items(multi=True):
            if NUL in name or NUL in value:
                raise _nul(name.replace(NUL, "\\u0000"))


def _nul(where: str) -> BadRequest:
    problem = "must not contain NUL characters (U+0000)"
    return BadRequest(f"{where}: {problem}", [FieldError(where, problem)])


def install(app: Flask) -> None:
    """Install the JSON provider, the id converter and the NUL check; before any blueprint."""
    app.json = StrictJSONProvider(app)
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul)
