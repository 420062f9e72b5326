"""Text the pages' catalogues hold, written below the web floor.

Lower floors keep some English text in data (a notification's title, a squad check's
indicators, a criterion's words) and say why they refuse a request (an error's message). ``N_``
marks the first for pybabel; ``M_`` makes the second a ``Message``: the English text, as the
JSON API and the logs use it, that remembers its catalogue text and values, so a page can say it
in the reader's language (``web.i18n.say``). babel.cfg names the modules that use them.
"""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date


def N_(message: str) -> str:
    """The message itself: the mark is for extraction; translation happens where it is shown."""
    return message


class Message(str):
    """English text (a ``str``, usable as one) with its catalogue ``msgid`` and ``values``.

    Anything built from it (``f"{path}: {message}"``) is plain English text again; only the
    message itself can be translated.
    """

    msgid: str
    values: dict

    def __new__(cls, msgid: str, **values) -> Message:
        text = super().__new__(cls, msgid % values if values else msgid)
        text.msgid, text.values = msgid, values
        return text

    def __reduce__(self):
        return str, (str(self),)


def M_(msgid: str, **values) -> Message:
    """A message for the catalogue (``%(name)s`` placeholders filled from ``values``)."""
    return Message(msgid, **values)


def said(text, gettext):
    """``text`` in the language ``gettext`` translates to.

    A ``Message`` is translated, with its values that are messages; other text stays as it is.
    """
    if not isinstance(text, Message):
        return text
    values = {name: said(value, gettext) for name, value in text.values.items()}
    translated = gettext(text.msgid)
    return translated % values if values else translated


#: How a refusal names its field (``title: write a title``); pages split it again
#: (``web.i18n.field_and_words``) to show the message next to its field.
AT = N_("%(path)s: %(message)s")


def at(path: str, message: str) -> Message:
    """``path: message``, as a refusal names its field.

    The path is the field's name in the API; the message (an ``M_``) stays a value the pages
    translate.
    """
    return M_(AT, path=path, message=message)


def day_in(value, locale: str, form: str = "medium") -> str:
    """An ISO date or timestamp (or a date) in ``locale``'s format; English keeps ISO dates.

    "en" names no region, and 2026-12-02 reads the same in London and in Boston. Other text
    (a cycle's name where a digest line has no date) is shown unchanged; None as "".
    """
    if isinstance(value, str):
        try:
            value = (
                dt.date.fromisoformat(value)
                if len(value) == 10
                else dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
            )
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat() if locale == "en" else format_date(value, form, locale=locale)
    return "" if value is None else str(value)
