"""Letters from notifications and digests: one plain-text and one HTML template per kind.

Templates live in ``notifications/templates/email``: ``<kind>.txt`` and ``<kind>.html``, each
extending a layout that greets the person by name and ends with the links to the page, to the
preferences and to unsubscribe from this kind. HTML is autoescaped; text is not.

A letter is in its recipient's language (``recipient_locale``: the language their account chose,
else English), from the pages' catalogues in ``web/translations`` (babel.cfg extracts these
templates too). The subject of a notification is its inbox title, stored in English when the
notice was made, so it stays English; the digest's subject and every body are translated.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from babel import Locale
from babel.support import NullTranslations, Translations
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.kinds import DIGEST
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
    return letter(
        row.kind,
        row.title,
        {"data": json.loads(row.data), "url": base_url + row.link},
        name=name,
        address=address,
        store_id=row.store_id,
        person_id=row.person_id,
        base_url=base_url,
        secret=secret,
        locale=locale,
    )


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
    return letter(
        DIGEST,
        translations(locale).gettext("Your week in Learnloop, %(period)s")
        % {"period": digest.period},
        {"digest": digest},
        name=name,
        address=address,
        store_id=store_id,
        person_id=person_id,
        base_url=base_url,
        secret=secret,
        locale=locale,
    )
