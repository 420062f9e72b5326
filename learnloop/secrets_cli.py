"""``learnloop secrets reseal``: every sealed value moved to a new LEARNLOOP_SECRET_KEY at once.

The LTI tool's keys, connector and sign-in secrets had a command each; forwarding destinations'
secrets, webhook signing secrets and chat hooks' addresses had none, so rotating the key left
them unreadable (forwarding and webhooks stopped with 503s). This one command reseals all six
kinds in one transaction: all of them, or none when some value opens with neither key.
"""

from __future__ import annotations

import os

import click

from lti.cli import OLD_SECRET_KEY


@click.group("secrets")
def secrets_cli() -> None:
    """The values Learnloop keeps sealed with LEARNLOOP_SECRET_KEY (docs/secrets.md)."""


@secrets_cli.command("reseal")
def reseal_command() -> None:
    """Seal every sealed value with a new LEARNLOOP_SECRET_KEY.

    The new key is the configured one; the key the values are sealed with now is read from
    LEARNLOOP_OLD_SECRET_KEY (never from the command line). Values the new key already opens
    are left alone, so it can run again; if a value opens with neither, nothing changes and the
    command says which.
    """
    from connectors import services as connectors
    from directory.sign_in import services as sign_in
    from lrs import audit, sealing, webhooks
    from lrs.db import write_transaction
    from lrs.forwarding import services as forwarding
    from lrs.runtime import for_command
    from lti import keys
    from notifications import services as notifications

    old = os.environ.get(OLD_SECRET_KEY, "")
    if not old:
        raise click.ClickException(
            f"set {OLD_SECRET_KEY} to the sealing key the values are sealed with now"
        )
    runtime = for_command()
    new = runtime.instance_secret()

    def values(sealed_values, box):
        return lambda s: sealing.reseal(sealed_values(s), box(old), box(new))

    kinds = [
        (
            "LTI tool keys",
            "lti_keys",
            lambda s: keys.reseal_keys(s, keys.key_box(old), keys.key_box(new)),
        ),
        (
            "connector secrets",
            "connectors",
            lambda s: connectors.reseal_secrets(
                s, connectors.secret_box(old), connectors.secret_box(new)
            ),
        ),
        (
            "sign-in client secrets",
            "sign_in",
            lambda s: sign_in.reseal_secrets(s, sign_in.SecretBox(old), sign_in.SecretBox(new)),
        ),
        (
            "forwarding destination secrets",
            "forwarding",
            values(forwarding.sealed_values, forwarding.secret_box),
        ),
        (
            "webhook signing secrets",
            "webhooks",
            values(webhooks.sealed_values, webhooks.secret_box),
        ),
        (
            "chat hook addresses",
            "chat_hooks",
            values(notifications.sealed_values, notifications.chat_box),
        ),
    ]
    with write_transaction(runtime.sessions) as session:
        done = [(words, name, *reseal(session)) for words, name, reseal in kinds]
        audit.record(
            session,
            "sealed_values.resealed",
            store_id=None,
            details={name: resealed for _, name, resealed, _ in done},
        )
    for words, _, resealed, kept in done:
        click.echo(f"{words}: {resealed} resealed, {kept} already sealed with the new key")
