"""``learnloop lti``: register platforms, rotate the tool's keys, make registration links."""

from __future__ import annotations

import os

import click

from lrs.cli_params import NON_NEGATIVE_DAYS, POSITIVE_DAYS, URL

#: Where ``reseal-keys`` reads the sealing key the keys are sealed with now (never argv).
OLD_SECRET_KEY = "LEARNLOOP_OLD_SECRET_KEY"  # noqa: S105 (the name of a variable)


def _sessions():
    """The command's engine and sessions, opened by the shell from its configuration."""
    from lrs.runtime import for_command

    runtime = for_command()
    return runtime.engine, runtime.sessions


def _now_ms() -> int:
    from lrs.statements.write import now_ms

    return now_ms()


@click.group("lti")
def lti_group() -> None:
    """The LTI 1.3 tool: platform registrations and the tool's signing keys."""


@lti_group.command("register")
@click.option("--store", "store_name", required=True, help="Store the platform's data goes to.")
@click.option("--issuer", required=True, type=URL, help="The platform's iss (Moodle: its wwwroot).")
@click.option("--client-id", required=True, help="The client id the platform assigned.")
@click.option(
    "--deployment-id", "deployment_ids", multiple=True, help="Allowed deployment id; repeatable."
)
@click.option("--login-url", required=True, type=URL, help="OIDC authorization endpoint.")
@click.option("--token-url", required=True, type=URL, help="OAuth2 token endpoint.")
@click.option("--keyset-url", required=True, type=URL, help="The platform's JWKS URL.")
@click.option("--audience", default=None, help="Client assertion aud, if not the token URL.")
@click.option("--name", default="", help="A name to show for the platform.")
def register(
    store_name, issuer, client_id, deployment_ids, login_url, token_url, keyset_url, audience, name
) -> None:
    """Register a platform (keyed by issuer and client id) for a store."""
    from lrs.auth import require_store
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lti.config import LtiConfig
    from lti.registrations import RegistrationData, check_registration_urls, create_registration
    from lti.runtime import build_runtime

    data = RegistrationData(
        issuer=issuer,
        client_id=client_id,
        auth_login_url=login_url,
        auth_token_url=token_url,
        key_set_url=keyset_url,
        deployment_ids=list(deployment_ids),
        auth_audience=audience,
        name=name,
    )
    engine, sessions = _sessions()
    try:
        runtime = build_runtime(LtiConfig.from_env())
        check_registration_urls(data, runtime)
        runtime.http.check(issuer, "issuer")
        with write_transaction(sessions) as session:
            store = require_store(session, store_name)
            registration = create_registration(session, store.id, data, source="cli")
            click.echo(f"registration {registration.id}: {issuer} client {client_id}")
            click.echo("deployments: " + (", ".join(deployment_ids) or "none yet"))
    except LrsError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.dispose()


@lti_group.command("rotate-keys")
@click.option(
    "--grace-days",
    type=NON_NEGATIVE_DAYS,
    default=None,
    help="Days the retired key stays published (default: LEARNLOOP_LTI_KEY_GRACE_SECONDS).",
)
def rotate_keys(grace_days: float | None) -> None:
    """Sign with a new tool key; keep the old one in /lti/jwks for the grace period."""
    from lrs.db import write_transaction
    from lrs.runtime import for_command
    from lti.config import LtiConfig
    from lti.keys import key_box, seal_plaintext_keys
    from lti.keys import rotate_keys as rotate

    config = LtiConfig.from_env()
    grace = int(grace_days * 86400) if grace_days is not None else config.key_grace_seconds
    engine, sessions = _sessions()
    try:
        box = key_box(for_command().instance_secret())
        with write_transaction(sessions) as session:
            seal_plaintext_keys(session, box)
            key, retired = rotate(session, _now_ms(), grace, box)
            click.echo(f"signing key: {key.kid}")
            for kid in retired:
                click.echo(f"retired (published {grace / 86400:g} more days): {kid}")
    finally:
        engine.dispose()


@lti_group.command("reseal-keys")
def reseal_keys() -> None:
    """Seal the tool's private keys with a new LEARNLOOP_SECRET_KEY (see docs/secrets.md).

    The new key is the configured one (LEARNLOOP_SECRET_KEY, else the instance's key file);
    the key they are sealed with now is read from LEARNLOOP_OLD_SECRET_KEY. Keys the new key
    already opens are left alone, so it can run again; if a key opens with neither, nothing
    changes and the command says which.
    """
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.runtime import for_command
    from lti.keys import key_box
    from lti.keys import reseal_keys as reseal

    old = os.environ.get(OLD_SECRET_KEY, "")
    if not old:
        raise click.ClickException(
            f"set {OLD_SECRET_KEY} to the sealing key the tool's keys are sealed with now"
        )
    engine, sessions = _sessions()
    try:
        new = key_box(for_command().instance_secret())
        with write_transaction(sessions) as session:
            resealed, kept = reseal(session, key_box(old), new)
        click.echo(f"LTI tool keys resealed: {resealed}; already sealed with the new key: {kept}")
    except LrsError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.dispose()


@lti_group.command("invite")
@click.option("--store", "store_name", required=True, help="Store the registration belongs to.")
@click.option(
    "--base-url",
    default=None,
    type=URL,
    help="The tool's public URL (default: LEARNLOOP_PUBLIC_URL).",
)
@click.option("--days", type=POSITIVE_DAYS, default=None, help="Days the link stays valid.")
def invite(store_name: str, base_url: str | None, days: float | None) -> None:
    """Print a single-use LTI Dynamic Registration URL to paste into an LMS."""
    from lrs.auth import require_store
    from lrs.db import write_transaction
    from lrs.errors import LrsError
    from lrs.runtime import for_command
    from lti.config import LtiConfig
    from lti.registrations import create_invite

    base = (base_url or for_command().public_url or "").rstrip("/")
    if not base:
        raise click.ClickException("give --base-url or set LEARNLOOP_PUBLIC_URL")
    ttl = int(days * 86400) if days else LtiConfig.from_env().invite_seconds
    engine, sessions = _sessions()
    try:
        with write_transaction(sessions) as session:
            store = require_store(session, store_name)
            token = create_invite(session, store.id, _now_ms(), ttl)
        click.echo(f"{base}/lti/register?invite={token}")
    except LrsError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        engine.dispose()
