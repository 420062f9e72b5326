"""Letters from notifications and digests: one plain-text and one HTML template per kind.

Templates live in ``notifications/templates/email``: ``<kind>.txt`` and ``<kind>.html``, each
extending a layout that greets the person by name and ends with the links to the page, to the
preferences and to unsubscribe from this kind. HTML is autoescaped; text is not.
"""

from __future__ import annotations

import json
from functools import cache

from jinja2 import Environment, PackageLoader, select_autoescape

from notifications.kinds import DIGEST
from notifications.mail import Letter
from notifications.models import Notification
from notifications.services import unsubscribe_token

SUBJECT_PREFIX = "[Learnloop] "


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


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
) -> Letter:
    """Render the kind's two templates for one person."""
    links = _links(base_url, secret, store_id, person_id, kind)
    values = {**context, **links, "name": name, "base_url": base_url, "subject": subject}
    env = environment()
    return Letter(
        to_name=name,
        to_address=address,
        subject=SUBJECT_PREFIX + subject,
        text=env.get_template(f"email/{kind}.txt").render(values),
        html=env.get_template(f"email/{kind}.html").render(values),
        unsubscribe_url=links["unsubscribe_url"],
    )


def notification_letter(
    row: Notification, name: str, address: str, base_url: str, secret: str
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
    )


def digest_letter(
    digest, name: str, address: str, store_id: int, person_id: int, base_url: str, secret: str
) -> Letter:
    """The weekly digest of one person (``notifications.digest.Digest``)."""
    return letter(
        DIGEST,
        f"Your week in Learnloop, {digest.period}",
        {"digest": digest},
        name=name,
        address=address,
        store_id=store_id,
        person_id=person_id,
        base_url=base_url,
        secret=secret,
    )
