"""``learnloop sign-in``: the settings page's equivalent for scripts, and re-sealing."""

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from learnloop.cli import main, upgrade_database
from lrs.db import make_session_factory, write_transaction
from lrs.models import Store


@pytest.fixture
def cli(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade_database(url)
    engine = create_engine(url)
    with write_transaction(make_session_factory(engine)) as db:
        db.add(Store(name="acme"))
    runner = CliRunner()

    def run(*args, key="first-sealing-key", old=None, stdin=None):
        env = {"LEARNLOOP_DATABASE_URL": url, "LEARNLOOP_SECRET_KEY": key}
        if old:
            env["LEARNLOOP_OLD_SECRET_KEY"] = old
        return runner.invoke(main, list(args), env=env, input=stdin)

    run.engine = engine
    yield run
    engine.dispose()


def _stored(engine) -> str:
    with engine.connect() as connection:
        return connection.execute(text("SELECT oidc_client_secret FROM sign_in_settings")).scalar()


def test_set_show_and_reseal(cli):
    done = cli(
        "sign-in", "set", "--store", "acme", "--issuer", "https://idp.example.com",
        "--client-id", "learnloop", "--client-secret-stdin", "--domains", "example.com",
        stdin="the-client-secret\n",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "single sign-on on (https://idp.example.com)" in done.output
    shown = cli("sign-in", "show", "--store", "acme")
    assert "stored, sealed" in shown.output and "the-client-secret" not in shown.output
    sealed = _stored(cli.engine)
    assert sealed.startswith("v1.") and "the-client-secret" not in sealed
    off = cli("sign-in", "set", "--store", "acme", "--no-passwords")
    assert off.exit_code == 0 and "passwords off" in off.output
    refused = cli("sign-in", "reseal-secrets", key="second-sealing-key")
    assert refused.exit_code != 0 and "LEARNLOOP_OLD_SECRET_KEY" in refused.output
    moved = cli("sign-in", "reseal-secrets", key="second-sealing-key", old="first-sealing-key")
    assert moved.exit_code == 0 and "resealed: 1" in moved.output
    assert _stored(cli.engine) != sealed


def test_unknown_store_and_bad_settings_are_errors(cli):
    unknown = cli("sign-in", "show", "--store", "nope")
    assert unknown.exit_code != 0 and "no organisation (store) called 'nope'" in unknown.output
    bad = cli("sign-in", "set", "--store", "acme", "--no-passwords")
    assert bad.exit_code != 0 and "nobody can sign in" in bad.output
