"""Letters from notifications and digests: one plain-text and one HTML template per kind.

Templates live in ``notifications/templates/email``: ``<kind>.txt`` and ``<kind>.html``, each
extending a layout that greets the person by name and ends with the links to the page, to the
preferences and to unsubscribe from this kind. HTML is autoescaped; text is not.

A letter is in its recipient's language (``recipient_locale``: the language their account chose,
else English), from the pages' catalogues in ``web/translations`` (babel.cfg extracts these
templates too), dates in its format; the subject of a notification is its title in that
language (``notifications.kinds.title_in``).
"""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_interval
from babel.support import NullTranslations, Translations
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.catalogue import day_in, said
from notifications.kinds import DIGEST, title_in
from notifications.mail import Letter
from notifications.models import Notification
from notifications.services import unsubscribe_token
from objectives.models import Account

SUBJECT_PREFIX = "[Learnloop] "
#: The pages' catalogues (read as files: the web floor is above this one, nothing is imported).
TRANSLATIONS = Path(__file__).resolve().parents[1] / "web" / "translations"
#: The languages a letter can be in (web.i18n.LANGUAGES; Arabic is partial, the rest English).
LANGUAGES = ("en", "de", "fr", "ar")


def recipient_locale(session: Session, person_id: int) -> str:
    """The language a person's letters are in: their account's choice if offered, else English."""
    chosen = session.scalars(
        select(Account.locale)
        .where(Account.person_id == person_id, Account.locale.is_not(None))
        .order_by(Account.id)
    ).first()
    primary = (chosen or "").replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in LANGUAGES else "en"


@cache
def translations(locale: str) -> NullTranslations:
    if locale == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS), [locale])


def date_formatter(locale: str):
    """ISO dates in the letter's language, as the pages write them (``lrs.catalogue.day_in``)."""
    return lambda value: day_in(value, locale)


@cache
def environment(locale: str = "en") -> Environment:
    env = Environment(
        loader=PackageLoader("notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(locale), newstyle=True)
    env.filters["date"] = date_formatter(locale)
    return env


def _links(base_url: str, secret: str, store_id: int, person_id: int, kind: str) -> dict:
    token = unsubscribe_token(secret, store_id, person_id, kind)
    return {
        "preferences_url": f"{base_url}/notifications/preferences",
        "unsubscribe_url": f"{base_url}/unsubscribe/{token}",
    }


def letter(
    kind: str,
    subject: str,
    context: dict,
    *,
    name: str,
    address: str,
    store_id: int,
    person_id: int,
    base_url: str,
    secret: str,
    locale: str = "en",
) -> Letter:
    """Render the kind's two templates for one person, in their language."""
    links = _links(base_url, secret, store_id, person_id, kind)
    values = {
        **context,
        **links,
        "name": name,
        "base_url": base_url,
        "subject": subject,
        "lang": locale,
        "direction": Locale.parse(locale).text_direction,
    }
    env = environment(locale)
    return Letter(
        to_name=name,
        to_address=address,
        subject=SUBJECT_PREFIX + subject,
        text=env.get_template(f"email/{kind}.txt").render(values),
        html=env.get_template(f"email/{kind}.html").render(values),
        unsubscribe_url=links["unsubscribe_url"],
    )


def notification_letter(
    row: Notification, name: str, address: str, base_url: str, secret: str, locale: str = "en"
) -> Letter:
    """The e-mail of one notification (sent immediately)."""
    data = json.loads(row.data)
    subject = title_in(row.title, data, translations(locale).gettext, date_formatter(locale))
    return letter(
        row.kind,
        subject,
        {"data": data, "url": base_url + row.link},
        name=name,
        address=address,
        store_id=row.store_id,
        person_id=row.person_id,
        base_url=base_url,
        secret=secret,
        locale=locale,
    )


def period_in(digest, locale: str) -> str:
    """The digest's week in the letter's language (English: ``24 Nov – 1 Dec 2026``)."""
    if locale == "en" or digest.since is None or digest.until is None:
        return digest.period
    return format_interval(digest.since, digest.until, "yMMMd", locale=locale)


def digest_letter(
    digest,
    name: str,
    address: str,
    store_id: int,
    person_id: int,
    base_url: str,
    secret: str,
    locale: str = "en",
) -> Letter:
    """The weekly digest of one person (``notifications.digest.Digest``)."""
    gettext, date = translations(locale).gettext, date_formatter(locale)
    digest = dataclasses.replace(
        digest,
        period=period_in(digest, locale),
        team_progress=[
            dataclasses.replace(line, text=said(line.text, gettext))
            for line in digest.team_progress
        ],
        held=[
            dataclasses.replace(line, text=title_in(line.text, line.data, gettext, date))
            if line.data is not None
            else line
            for line in digest.held
        ],
    )
    return letter(
        DIGEST,
        gettext("Your week in Learnloop, %(period)s") % {"period": digest.period},
        {"digest": digest},
        name=name,
        address=address,
        store_id=store_id,
        person_id=person_id,
        base_url=base_url,
        secret=secret,
        locale=locale,
    )
