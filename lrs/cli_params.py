"""The kinds of value commands take, checked the same way in every command.

An email is an email in ``accounts create`` and in ``reviews create``; a URL must be http(s)
with a host wherever an LMS or a forge is named; a secret someone chooses is long enough to
resist guessing; a duration is positive. Click reports a bad value in one line, naming the
option, before any database is opened.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import click

from schemas.fields import EMAIL_ADDRESS_RE

#: Chosen secrets (API secrets, webhook tokens): random ones are 32 characters or more.
MIN_SECRET_LENGTH = 16
#: Account passwords, as the pages require.
MIN_PASSWORD_LENGTH = 12


class EmailAddress(click.ParamType):
    """An email address, returned in lower case."""

    name = "email"

    def convert(self, value, param, ctx):
        email = str(value).strip().lower().removeprefix("mailto:")
        if not EMAIL_ADDRESS_RE.match(email) or len(email) > 320:
            self.fail(f"{value!r} is not an email address; write one like ann@example.com")
        return email


class HttpUrl(click.ParamType):
    """An absolute http:// or https:// URL with a host; ``https_only`` refuses http://."""

    name = "url"

    def __init__(self, https_only: bool = False, allow_empty: bool = False) -> None:
        self.https_only = https_only
        self.allow_empty = allow_empty

    def convert(self, value, param, ctx):
        text = str(value).strip()
        if not text and self.allow_empty:
            return text
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 (raises on a port that is not a number)
        except ValueError:
            parts = None
        schemes = ("https",) if self.https_only else ("http", "https")
        if parts is None or parts.scheme not in schemes or not parts.hostname:
            example = "https://lms.example.com/path"
            self.fail(f"{value!r} is not a URL; write one like {example}")
        return text


class Secret(click.ParamType):
    """A secret a person chooses: at least ``min_length`` characters, not one repeated."""

    name = "secret"

    def __init__(self, min_length: int = MIN_SECRET_LENGTH, what: str = "secret") -> None:
        self.min_length = min_length
        self.what = what

    def convert(self, value, param, ctx):
        text = str(value)
        if len(text) < self.min_length or len(set(text)) < 4:
            self.fail(
                f"the {self.what} must be at least {self.min_length} characters and not one "
                "character repeated; leave it out to get a random one"
                if self.what != "password"
                else f"the password must be at least {self.min_length} characters"
            )
        return text


EMAIL = EmailAddress()
URL = HttpUrl()
#: A URL, or nothing to switch the thing off (``sign-in set --issuer ""``).
URL_OR_EMPTY = HttpUrl(allow_empty=True)
SECRET = Secret()
PASSWORD = Secret(MIN_PASSWORD_LENGTH, "password")
#: Durations and counts that only make sense above zero.
POSITIVE_SECONDS = click.FloatRange(min=0, min_open=True)
POSITIVE_DAYS = click.FloatRange(min=0, min_open=True)
NON_NEGATIVE_DAYS = click.FloatRange(min=0)
POSITIVE_INT = click.IntRange(min=1)
PORT = click.IntRange(1, 65535)
