"""``learnloop secrets reseal`` (docs/secrets.md): after a new LEARNLOOP_SECRET_KEY, every
sealed value opens with it — forwarding destinations' secrets, webhook signing secrets and chat
hooks' addresses included, which no command resealed before — in one transaction; a value that
opens with neither key changes nothing, and a second run keeps what is already resealed."""

import pytest
from click.testing import CliRunner

from learnloop.cli import main, upgrade_database
from lrs import webhooks
from lrs.auth import get_or_create_store
from lrs.db import make_engine, make_session_factory, write_transaction
from lrs.forwarding import services as forwarding
from lrs.forwarding.models import Destination
from lrs.people.services import ensure_person
from notifications import services as notifications
from notifications.models import ChatHook
from tests.support.databases import fresh_database

SECRETS = {
    "forwarding": "destination secret",
    "webhook": "whsec_c2lnbmluZyBzZWNyZXQ=",
    "chat": "https://hooks.slack.com/services/T0/B0/secret",
}


@pytest.fixture
def sealed(request, backend, tmp_path):
    """A destination, an endpoint and a chat hook, each sealed with "old key"."""
    with fresh_database(request, backend, tmp_path) as url:
        upgrade_database(url)
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with write_transaction(sessions) as session:
            store = get_or_create_store(session, "reseal-all")
            maya = ensure_person(session, store.id, {"mbox": "mailto:maya@example.com"})
            destination = Destination(
                store_id=store.id, name="warehouse", endpoint="https://lrs.example.com/xapi",
                auth="basic", username="key", secret_sealed="", created_ms=0,
            )  # fmt: skip
            endpoint = webhooks.WebhookEndpoint(
                store_id=store.id, url="https://hooks.example.com", secret_sealed="", created_ms=0
            )
            hook = ChatHook(
                store_id=store.id, manager_id=maya.id, flavor="slack", url_sealed="",
                url_host="hooks.slack.com", created_ms=0,
            )  # fmt: skip
            session.add_all([destination, endpoint, hook])
            session.flush()
            for value, secret, box in zip(
                opened_values(session), SECRETS.values(), boxes("old key"), strict=True
            ):
                setattr(value.row, value.attribute, box.seal(secret, value.context))
        yield url, sessions
        engine.dispose()


def boxes(key: str):
    return [forwarding.secret_box(key), webhooks.secret_box(key), notifications.chat_box(key)]


def opened_values(session):
    return [
        *forwarding.sealed_values(session),
        *webhooks.sealed_values(session),
        *notifications.sealed_values(session),
    ]


def opened_with(sessions, key: str) -> list[str | None]:
    with write_transaction(sessions) as session:
        return [
            box.open(getattr(v.row, v.attribute), v.context) if box.opens(
                getattr(v.row, v.attribute), v.context
            ) else None
            for v, box in zip(opened_values(session), boxes(key), strict=True)
        ]  # fmt: skip


def reseal(url: str, new: str, old: str):
    env = {"LEARNLOOP_DATABASE_URL": url, "LEARNLOOP_SECRET_KEY": new,
           "LEARNLOOP_OLD_SECRET_KEY": old}  # fmt: skip
    return CliRunner().invoke(main, ["secrets", "reseal"], env=env)


def test_every_sealed_value_opens_with_the_new_key_after_one_command(sealed):
    url, sessions = sealed
    done = reseal(url, "new key", "old key")
    assert done.exit_code == 0, done.output
    assert "forwarding destination secrets: 1 resealed, 0 already" in done.output
    assert "webhook signing secrets: 1 resealed" in done.output
    assert "chat hook addresses: 1 resealed" in done.output
    assert opened_with(sessions, "new key") == list(SECRETS.values())
    assert opened_with(sessions, "old key") == [None, None, None]
    again = reseal(url, "new key", "a key long gone")
    assert again.exit_code == 0, again.output
    assert "chat hook addresses: 0 resealed, 1 already sealed with the new key" in again.output


def test_a_value_neither_key_opens_changes_nothing_and_is_named(sealed):
    url, sessions = sealed
    lost = reseal(url, "newest key", "not the key")
    assert lost.exit_code == 1
    assert "forwarding destination" in lost.output and "open with neither" in lost.output
    assert opened_with(sessions, "old key") == list(SECRETS.values())


def test_without_the_old_key_it_says_what_to_set(sealed):
    url, _ = sealed
    env = {"LEARNLOOP_DATABASE_URL": url, "LEARNLOOP_SECRET_KEY": "new key"}
    refused = CliRunner().invoke(main, ["secrets", "reseal"], env=env)
    assert refused.exit_code == 1 and "LEARNLOOP_OLD_SECRET_KEY" in refused.output
