"""``learnloop credentials``: the LRS's own commands, added to ``learnloop`` by the shell."""

from __future__ import annotations

import click

from lrs.cli_params import SECRET


@click.group("credentials")
def credentials() -> None:
    """XAPI credentials (HTTP Basic key and secret)."""


@credentials.command("create")
@click.option("--store", "store_name", required=True, help="Store (tenant) name.")
@click.option(
    "--create-store",
    "--new-store",
    "new_store",
    is_flag=True,
    help="Create the store if it does not exist (without it, an unknown store is an error).",
)
@click.option(
    "--scope", "scopes", multiple=True, help="xAPI scope; repeat for several. Default: all."
)
@click.option("--key", default=None, help="Key to use (default: random).")
@click.option(
    "--secret", default=None, type=SECRET, help="Secret to use (default: random, 32 characters)."
)
@click.option("--label", default="", help="A name for the credential, shown as the authority name.")
def credentials_create(store_name, new_store, scopes, key, secret, label) -> None:
    """Create a credential in a store and print its key and secret (shown only now)."""
    from lrs.auth import create_credential, require_store
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.runtime import for_command

    runtime = for_command()
    try:
        with write_transaction(runtime.sessions) as session:
            if not new_store:
                try:
                    require_store(session, store_name)  # a typo must not start an empty store
                except LrsError as exc:
                    raise click.ClickException(
                        f"{exc.message}, or add --create-store to this command"
                    ) from None
            credential, plain = create_credential(
                session,
                store_name,
                list(scopes) or None,
                key,
                secret,
                label,
                home_page=runtime.public_url.rstrip("/") + "/",
            )
            click.echo(f"store:  {store_name}")
            click.echo(f"key:    {credential.key}")
            click.echo(f"secret: {plain}")
            click.echo(f"scopes: {credential.scopes}")
    except LrsError as exc:
        raise click.ClickException(exc.message) from None
