"""The pages' languages: which locale a request is served in, and Babel's formats for it.

The locale is, in this order: the LTI launch's ``launch_presentation.locale`` (inside an LMS the
learner's LMS language wins), the account's own choice (``Account.locale``, on the preferences
page), the browser's ``Accept-Language``, then English. ``<html lang dir>`` follow it, dates and
numbers are formatted by Babel for it, and xAPI language maps are read in it
(``lti.statements.VIEWER_LANGUAGES``).

Catalogues live in ``web/translations`` (``babel.cfg``, ``scripts/translations``); English is
the source language, German and French are complete, Arabic is partial (right-to-left).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from babel import Locale
from flask import Flask, g, request
from flask_babel import (
    Babel,
    format_datetime,
    format_decimal,
    format_percent,
    get_locale,
    gettext,
)
from flask_babel import lazy_gettext as _l

from lrs.catalogue import AT, Message, day_in, said
from lti.statements import VIEWER_LANGUAGES

TRANSLATIONS = Path(__file__).parent / "translations"
#: The languages the pages are offered in, the source language first.
LANGUAGES = ("en", "de", "fr", "ar")
#: The names a person picks their language by (each in its own language).
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "ar": "العربية"}


#: The words the pages name a statement's source and a review's status by.
SOURCE_NAMES = {
    "lms": _l("lms"),
    "code_review": _l("code review"),
    "microlearning": _l("microlearning"),
    "xapi": _l("xapi"),
}
#: The headings a source of learning goes by (``lrs.vocabulary.SOURCE_LABELS``).
SOURCE_LABELS = {
    "lms": _l("LMS"),
    "code_review": _l("Code review"),
    "microlearning": _l("Micro-learning"),
    "xapi": _l("xAPI"),
    "objectives": "Learnloop",
}
REVIEW_STATUSES = {
    "draft": _l("draft"),
    "in_progress": _l("in progress"),
    "submitted": _l("submitted"),
    "closed": _l("closed"),
}

#: A health check's answers as the form offers them.
ANSWER_WORDS = {
    "green": _l("green"),
    "amber": _l("amber"),
    "red": _l("red"),
    "better": _l("better"),
    "same": _l("same"),
    "worse": _l("worse"),
}


def supported(tag: str | None) -> str | None:
    """The offered language a BCP 47 or POSIX tag (``de-DE``, ``fr_CA``, ``DE``) means, if any."""
    if not tag or not isinstance(tag, str):
        return None
    primary = tag.replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in LANGUAGES else None


def select_locale() -> str:
    """Babel's locale selector: the launch's locale, the account's, Accept-Language, English."""
    for chosen in (g.get("launch_locale"), g.get("account_locale")):
        if supported(chosen):
            return supported(chosen)
    best = request.accept_languages.best_match(LANGUAGES) if request else None
    return best or "en"


def init_app(app: Flask) -> None:
    """Babel on the app: the pages' catalogues, the locale selector, the template filters."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters["date"] = date_filter
    app.jinja_env.filters["number"] = number_filter
    app.jinja_env.filters["moment"] = moment_filter
    app.jinja_env.filters["percent"] = percent_filter
    app.jinja_env.filters["say"] = say
    app.jinja_env.filters["term"] = term_filter
    app.jinja_env.globals["text_direction"] = text_direction
    app.jinja_env.globals["html_lang"] = html_lang
    app.jinja_env.globals["source_names"] = SOURCE_NAMES
    app.jinja_env.globals["source_labels"] = SOURCE_LABELS
    app.jinja_env.globals["review_statuses"] = REVIEW_STATUSES
    app.jinja_env.globals["answer_words"] = ANSWER_WORDS
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES
    app.jinja_env.globals["account_language"] = lambda: g.get("account_locale")
    app.before_request(_viewer_languages)
    app.after_request(_language_headers)


def _viewer_languages() -> None:
    """Language maps follow the request's languages (refined once the locale is known).

    Every request but the LRS's sets it, so nothing carries over from an earlier request
    served by the same thread; the statement resources never read it.
    """
    if request.path.startswith("/xapi/"):
        return
    VIEWER_LANGUAGES.set(tuple(lang for lang, _ in request.accept_languages))


#: The answers whose words follow the request's language: pages, the /api's JSON, CSV exports.
WORDED = ("text/html", "text/plain", "text/csv", "application/json")


def _language_headers(response):
    """A page or /api answer says its language, and that it varies with ``Accept-Language``.

    So no shared cache serves one reader's language to another. The LRS (``/xapi``) answers
    with what was stored, in every language it holds, and static files are the same for
    everyone: neither is marked.
    """
    if request.path.startswith("/xapi/") or (request.endpoint or "").endswith("static"):
        return response
    if response.mimetype in WORDED:
        response.vary.add("Accept-Language")
        if not response.content_language:
            response.content_language.add(html_lang())
    return response


def use_locale_for_names() -> None:
    """Once the viewer is known, the page's locale leads the choice in every language map."""
    locale = str(get_locale() or "en")
    launch = g.get("launch_locale")
    first = (launch,) if isinstance(launch, str) and supported(launch) == locale else ()
    VIEWER_LANGUAGES.set((*first, locale, *(lang for lang, _ in request.accept_languages)))


def html_lang() -> str:
    return str(get_locale() or "en").replace("_", "-")


def text_direction() -> str:
    return Locale.parse(str(get_locale() or "en")).text_direction


def date_filter(value, form: str = "medium") -> str:
    """An ISO date or timestamp (or a date) in the page's format (``lrs.catalogue.day_in``)."""
    return day_in(value, str(get_locale() or "en"), form)


def moment_filter(ms: int | None) -> str:
    """A moment (ms since the epoch) in the locale's format, in UTC, which it says.

    English keeps the house's ``2026-12-02 15:04:05 UTC``.
    """
    if not ms:
        return "—"
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    if str(get_locale() or "en") == "en":
        return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    return format_datetime(moment, "medium", rebase=False) + " UTC"


def say(text):
    """A service's message in the page's language.

    A ``lrs.catalogue.Message`` (what ``M_`` made) is translated, and so are its values that
    are messages; any other text is shown as it is.
    """
    return said(text, gettext)


def field_and_words(text) -> tuple[str, str]:
    """A refusal's ``field: words`` as the field's name and the words in the page's language.

    The field is "" when the message names none (then the words are the whole message).
    """
    if isinstance(text, Message) and text.msgid == AT:
        return str(text.values["path"]), say(text.values["message"])
    field, colon, words = str(text).partition(": ")
    return (field, words) if colon else ("", say(text))


def term_filter(name) -> str:
    """A name of Learnloop's vocabulary in the page's language.

    ``lrs.vocabulary``'s names ("completed", "pull request") are in the catalogue; any other
    text (a statement's own display, already in the viewer's language) is shown unchanged.
    """
    return gettext(name) if isinstance(name, str) and name else name


def percent_filter(share) -> str:
    """A share (0.25) as the locale writes a percentage (``25%``, ``25 %``)."""
    return "" if share is None else format_percent(share)


def number_filter(value) -> str:
    """A number with the locale's separators (``1,234.5``, ``1.234,5``)."""
    if value is None:
        return ""
    return format_decimal(value)
