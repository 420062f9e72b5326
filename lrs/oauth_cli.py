"""``learnloop oauth revoke-tokens``: end every OAuth 2.0 token of a credential at once.

For when a client's tokens must stop working now but its key and secret may stay (a token
leaked into a log elsewhere, a provider rotated): the credential can buy new tokens at once.
Revoking the credential itself (``/admin``) ends its tokens too.
"""

from __future__ import annotations

import click


@click.group("oauth")
def oauth_cli() -> None:
    """OAuth 2.0 access tokens of xAPI credentials (POST /oauth/token)."""


@oauth_cli.command("revoke-tokens")
@click.option("--store", "store_name", required=True, help="The organisation (store).")
@click.option("--key", required=True, help="The credential's key (its OAuth client_id).")
def revoke_tokens(store_name: str, key: str) -> None:
    """Revoke every live token of a credential; its key and secret keep working."""
    from lrs.auth import require_store
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.oauth import revoke_credential_tokens
    from lrs.runtime import for_command

    runtime = for_command()
    try:
        with write_transaction(runtime.sessions) as session:
            store = require_store(session, store_name)
            credential, count = revoke_credential_tokens(session, store.id, key, runtime.clock())
    except LrsError as exc:
        raise click.ClickException(exc.message) from None
    runtime.authenticator.forget()
    click.echo(f"revoked {count} token{'' if count == 1 else 's'} of credential {credential.key}")
