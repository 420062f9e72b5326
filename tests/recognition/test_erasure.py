"""Erasing a person takes their recognition with them and leaves no name in others' kudos."""

from directory.governance.erasure import erase_person
from lrs.db import read_transaction, write_transaction
from recognition import kudos
from tests.recognition.conftest import give, statement


def test_an_erased_giver_leaves_no_trace_in_the_kudos_others_received(org):
    received = give(org, "ben", "ann", 10, reason="mentoring")
    give(org, "ann", "ben", 5)
    sessions = org.app.extensions["learnloop"].sessions
    with org.app.app_context(), write_transaction(sessions) as session:
        erase_person(
            session,
            org.store_id,
            org.people["ben"],
            secret="s" * 32,
            public_url="http://localhost",
        )
    kept = statement(org, received.statement_id)  # ann's statement stays, ben pseudonymised
    assert "ben@example.com" not in str(kept) and "Ben" not in str(kept)
    with read_transaction(sessions) as session:
        assert kudos.wallet_of(session, org.people["ann"]).received == 10  # points stay
        assert kudos.gifts(session, org.store_id, org.people["ann"], "received") == []
        assert kudos.wallet_of(session, org.people["ben"]).received == 0


def test_the_dry_run_counts_the_kudos_and_wallet_an_erasure_takes_with_the_person(org):
    """The erase page's "what goes" (and the erasure record) count recognition's rows too:
    they go with the person row, so the administrator sees them before confirming."""
    give(org, "ben", "cora", 3)
    give(org, "cora", "ben", 4)
    sessions = org.app.extensions["learnloop"].sessions
    with org.app.app_context(), read_transaction(sessions) as session:
        dry = erase_person(
            session,
            org.store_id,
            org.people["cora"],
            secret="s" * 32,
            public_url="http://localhost",
            dry_run=True,
        )
    assert dry.counts["kudos"] == 2 and dry.counts["kudos_wallet"] == 1
    assert dry.counts["badges"] == 0 and dry.counts["mentoring"] == 0
