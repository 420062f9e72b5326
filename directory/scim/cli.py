"""``learnloop scim token create|list|revoke``: SCIM bearer tokens, for administrators."""

from __future__ import annotations

import datetime as dt

import click


@click.group("scim")
def scim_cli() -> None:
    """SCIM 2.0 provisioning by an identity provider (Okta, Entra ID): /scim/v2/."""


@scim_cli.group("token")
def token_cli() -> None:
    """Bearer tokens an identity provider provisions one store with."""


def _store_id(session, store_name: str) -> int:
    from lrs.auth import require_store

    return require_store(session, store_name).id


@token_cli.command("create")
@click.option("--store", "store_name", required=True, help="The organisation (store) to provision.")
@click.option("--name", default="", help="What the token is for, e.g. Okta or Entra ID.")
def token_create(store_name: str, name: str) -> None:
    """Make a token and print it with the SCIM base URL (the token is shown only now)."""
    from directory.scim.tokens import create_token
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.runtime import for_command

    runtime = for_command()
    try:
        with write_transaction(runtime.sessions) as session:
            _store_id(session, store_name)  # the store's name, or how to create it
            issued = create_token(session, store_name, name)
    except LrsError as exc:
        raise click.ClickException(exc.message) from None
    base = (runtime.public_url.rstrip("/") or "http://HOST") + "/scim/v2"
    click.echo(f"store:    {issued.store}")
    click.echo(f"token id: {issued.id}")
    click.echo(f"base URL: {base}")
    click.echo(f"token:    {issued.token}")


@token_cli.command("list")
@click.option("--store", "store_name", required=True)
def token_list(store_name: str) -> None:
    """The store's tokens: id, name, made, last write, revoked (never the token itself)."""
    from directory.scim.tokens import list_tokens
    from lrs.db import read_transaction
    from lrs.runtime import for_command

    with read_transaction(for_command().sessions) as session:
        for row in list_tokens(session, _store_id(session, store_name)):
            click.echo(
                "\t".join(
                    [
                        str(row.id),
                        row.name or "-",
                        f"made {row.created_at:%Y-%m-%d %H:%M}",
                        f"used {row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "unused",
                        "revoked" if row.revoked_at else "active",
                    ]
                )
            )


@token_cli.command("revoke")
@click.option("--store", "store_name", required=True)
@click.argument("token_id", type=int)
def token_revoke(store_name: str, token_id: int) -> None:
    """Revoke a token: the identity provider using it is refused from now on."""
    from directory.scim.tokens import revoke_token
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.runtime import for_command

    runtime = for_command()
    now = dt.datetime.fromtimestamp(runtime.clock() / 1000, dt.UTC)
    try:
        with write_transaction(runtime.sessions) as session:
            revoke_token(session, _store_id(session, store_name), token_id, now)
    except LrsError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"token {token_id} revoked")
