"""`learnloop stores|people|accounts|cycles|reviews`: the organisation's set-up for scripting."""

import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from learnloop.cli import main
from lrs.db import read_transaction
from lrs.models import Store
from objectives.models import Account, Review

CSV = """email,name,manager_email,github
boss@acme.test,Boss,,boss-gh
mia@acme.test,Mia,boss@acme.test,
ann@acme.test,Ann,mia@acme.test,ann-gh
bob@acme.test,Bob,mia@acme.test,ann-gh
cy@acme.test,Cy,nobody@acme.test,
boss@acme.test,Twice,,
not-an-address,Bad,,
xa@acme.test,X,ya@acme.test,
ya@acme.test,Y,xa@acme.test,
"""


@pytest.fixture
def cli(backend, app):
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(
            main,
            [str(a) for a in args],
            input=input,
            env={"LEARNLOOP_DATABASE_URL": backend, "LEARNLOOP_PUBLIC_URL": "https://ll.example"},
        )

    return run


@pytest.fixture
def store(cli):
    name = "acme-" + uuid.uuid4().hex[:8]
    assert cli("stores", "create", name).exit_code == 0
    return name


def test_an_unknown_store_is_an_error_never_a_new_store(app, cli):
    for args in (
        ("people", "list"),
        ("accounts", "list"),
        ("cycles", "list"),
        ("lti", "invite", "--base-url", "https://ll.example"),
    ):
        result = cli(*args, "--store", "typo-store")
        assert result.exit_code == 1, result.output
        assert "no organisation (store) called 'typo-store'" in result.output
        assert "Traceback" not in result.output
    created = cli("accounts", "create", "--store", "typo-store", "--email", "a@b.test",
                  input="long-enough-pw-1\nlong-enough-pw-1\n")  # fmt: skip
    assert created.exit_code == 1 and "typo-store" in created.output
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        assert db.scalar(select(Store).where(Store.name == "typo-store")) is None


def test_creating_a_store_twice_is_refused(cli, store):
    again = cli("stores", "create", store)
    assert again.exit_code == 1 and "already exists" in again.output


def test_import_reports_every_row_and_is_idempotent(app, cli, store, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    dry = cli("people", "import", path, "--store", store, "--dry-run")
    assert dry.exit_code == 2, dry.output
    assert "dry run: would be 3 created, 0 updated, 0 unchanged, 6 rejected" in dry.output
    assert cli("people", "list", "--store", store).output == ""  # nothing written
    done = cli("people", "import", path, "--store", store)
    assert done.exit_code == 2
    lines = done.output.splitlines()
    assert "row 5: bob@acme.test rejected: github 'ann-gh' is also on row 4" in lines
    assert (
        "row 6: cy@acme.test rejected: manager_email: nobody@acme.test is neither in the file "
        "nor in Learnloop" in lines
    )
    assert "row 7: boss@acme.test rejected: email: already on row 2" in lines
    assert "row 8: not-an-address rejected: email: not an e-mail address" in lines
    assert any(
        line.startswith("row 10: ya@acme.test rejected:") and "loop" in line for line in lines
    )
    assert lines[-1] == "3 created, 0 updated, 0 unchanged, 6 rejected"
    again = cli("people", "import", path, "--store", store)
    assert again.output.splitlines()[-1] == "0 created, 0 updated, 3 unchanged, 6 rejected"
    listed = cli("people", "list", "--store", store).output.splitlines()
    assert "ann@acme.test\tAnn\tmia@acme.test\tactive" in listed
    assert "mia@acme.test\tMia\tboss@acme.test\tactive" in listed

    moved = tmp_path / "moved.csv"
    moved.write_text("email,name,manager_email\nann@acme.test,Ann Lee,boss@acme.test\n")
    update = cli("people", "import", moved, "--store", store)
    assert update.exit_code == 0, update.output
    assert update.output.splitlines() == [
        "row 2: ann@acme.test updated: name 'Ann' → 'Ann Lee'; manager mia@acme.test → "
        "boss@acme.test",
        "0 created, 1 updated, 0 unchanged, 0 rejected",
    ]


def test_cycles_and_the_reviews_of_a_team(app, cli, store, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    cli("people", "import", path, "--store", store)
    opened = cli("cycles", "create", "--store", store, "--name", "2027 H1",
                 "--starts", "2027-01-01", "--ends", "2027-06-30")  # fmt: skip
    assert opened.exit_code == 0, opened.output
    backwards = cli("cycles", "create", "--store", store, "--name", "Oops",
                    "--starts", "2027-06-01", "--ends", "2027-01-01")  # fmt: skip
    assert backwards.exit_code == 1
    assert backwards.output == "Error: ends_on: the last day is before the first day\n"
    made = cli(
        "reviews", "create", "--store", store, "--cycle", "2027 H1", "--team", "boss@acme.test"
    )
    assert made.output.startswith("2 reviews created, 0 already there"), made.output
    again = cli(
        "reviews", "create", "--store", store, "--cycle", "2027 H1", "--team", "boss@acme.test"
    )
    assert again.output.startswith("0 reviews created, 2 already there")
    nobody = cli("reviews", "create", "--store", store, "--cycle", "2027 H1", "--team", "x@y.test")
    assert nobody.exit_code == 1 and "nobody has the email x@y.test" in nobody.output
    assert cli("cycles", "close", "--store", store, "--name", "2027 H1").exit_code == 0
    assert (
        "2027 H1\t2027-01-01\t2027-06-30\tclosed" in cli("cycles", "list", "--store", store).output
    )
    closed = cli(
        "reviews", "create", "--store", store, "--cycle", "2027 H1", "--team", "mia@acme.test"
    )
    assert closed.exit_code == 1 and "is closed" in closed.output
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        store_id = db.scalar(select(Store.id).where(Store.name == store))
        assert len(db.scalars(select(Review).where(Review.store_id == store_id)).all()) == 2


def test_accounts_invite_list_reset_and_disable(app, cli, store, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    cli("people", "import", path, "--store", store)
    invited = cli("accounts", "invite", "--store", store, "--email", "Mia@acme.test")
    assert invited.exit_code == 0, invited.output
    assert invited.output.splitlines()[1].startswith("https://ll.example/welcome/")
    unknown = cli("accounts", "invite", "--store", store, "--email", "new@acme.test")
    assert unknown.exit_code == 1 and "write their name" in unknown.output
    twice = cli("accounts", "invite", "--store", store, "--email", "mia@acme.test")
    assert twice.exit_code == 1 and "already has an account" in twice.output
    assert "mia@acme.test\tMia\tmember\tinvited" in cli("accounts", "list", "--store", store).output
    typed = cli("accounts", "reset-password", "--store", store, "--email", "mia@acme.test",
                "--password", input="a-new-long-password\na-new-long-password\n")  # fmt: skip
    assert typed.exit_code == 0, typed.output
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        epoch = db.scalar(select(Account.session_epoch).where(Account.email == "mia@acme.test"))
    link = cli("accounts", "reset-password", "--store", store, "--email", "mia@acme.test")
    assert "/welcome/" in link.output
    disabled = cli("accounts", "disable", "--store", store, "--email", "mia@acme.test")
    assert disabled.output == "mia@acme.test disabled; its sign-ins have ended\n"
    assert (
        "mia@acme.test\tMia\tmember\tdisabled" in cli("accounts", "list", "--store", store).output
    )
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        account = db.scalar(select(Account).where(Account.email == "mia@acme.test"))
        assert account.session_epoch == epoch + 2 and account.disabled_at is not None
    missing = cli("accounts", "disable", "--store", store, "--email", "zed@acme.test")
    assert missing.output == "Error: no account for zed@acme.test\n" and missing.exit_code == 1


def test_import_finds_a_person_by_an_email_identity(app, cli, store, tmp_path):
    """Someone known from an LMS or an xAPI tool under a second address is not created twice."""
    from lrs.db import write_transaction
    from lrs.people.models import Person
    from lrs.people.services import create_person, link_identity

    with write_transaction(app.extensions["learnloop"].sessions) as db:
        store_id = db.scalar(select(Store.id).where(Store.name == store))
        person = create_person(db, store_id, "Ann from the LMS", None)
        link_identity(db, store_id, person, {"mbox": "mailto:ann@acme.test"}, "lti")
    path = tmp_path / "people.csv"
    path.write_text("email,name\nANN@acme.test,Ann Lee\n")
    done = cli("people", "import", path, "--store", store)
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "row 2: ann@acme.test updated: name 'Ann from the LMS' → 'Ann Lee'",
        "0 created, 1 updated, 0 unchanged, 0 rejected",
    ]
    with read_transaction(app.extensions["learnloop"].sessions) as db:
        people = db.scalars(select(Person).where(Person.store_id == store_id)).all()
        assert [(p.name, p.email) for p in people] == [("Ann Lee", "ann@acme.test")]
