"""Connector secrets at rest: sealed with AES-GCM under the app key, bound to their connector."""

import pytest

from connectors.crypto import SecretBox, new_secret
from connectors.errors import SecretsUnavailable


def test_a_sealed_secret_opens_with_the_same_key_and_context():
    box = SecretBox("master key of this installation")
    secret = new_secret()
    sealed = box.seal(secret, "connector:1")
    assert secret not in sealed and sealed.startswith("v1.")
    assert box.open(sealed, "connector:1") == secret
    assert SecretBox("master key of this installation").open(sealed, "connector:1") == secret


def test_sealing_twice_gives_different_texts():
    box = SecretBox("k")
    assert box.seal("s", "c") != box.seal("s", "c")


@pytest.mark.parametrize(
    ("key", "context", "stored"),
    [
        ("another key", "connector:1", None),  # LEARNLOOP_SECRET_KEY changed
        ("master", "connector:2", None),  # copied onto another connector
        ("master", "connector:1", "plain-text"),  # not sealed at all
    ],
)
def test_what_cannot_be_opened_is_a_503_naming_the_setting(key, context, stored):
    sealed = stored or SecretBox("master").seal("s", "connector:1")
    with pytest.raises(SecretsUnavailable) as raised:
        SecretBox(key).open(sealed, context)
    assert raised.value.status == 503 and "LEARNLOOP_SECRET_KEY" in raised.value.message


def test_without_a_key_nothing_is_sealed():
    with pytest.raises(SecretsUnavailable, match="LEARNLOOP_SECRET_KEY"):
        SecretBox("")


def test_new_secrets_are_long_and_url_safe():
    secret = new_secret()
    assert len(secret) >= 43 and secret.replace("-", "").replace("_", "").isalnum()
