"""The hook for other features: listeners hear of kudos received and badges earned, in the
transaction that records them (so a job they enqueue commits with the event or not at all)."""

import pytest

from lrs.sql import run
from recognition.events import BadgeEarned, KudosReceived
from recognition.runtime import EXTENSION
from tests.recognition.conftest import give
from tests.recognition.test_badges import KUDOS_TWICE

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # not about the DB


def test_listeners_hear_kudos_and_badges_inside_the_recording_transaction(org):
    runtime = org.app.extensions[EXTENSION]
    heard = []

    def listener(session, event):
        # the gift's (or award's) own row is visible: same transaction
        table = "kudos_gifts" if isinstance(event, KudosReceived) else "badge_awards"
        key = event.gift_id if isinstance(event, KudosReceived) else event.award_id
        assert run(session, f"SELECT 1 FROM {table} WHERE id = ?", [key]).scalar() == 1
        heard.append(event)

    runtime.on_kudos_received.append(listener)
    runtime.on_badge_earned.append(listener)
    try:
        assert org.client("admin").post("/badges", json=KUDOS_TWICE).status_code == 201
        give(org, "ben", "ann", 3)
        give(org, "maya", "ann", 4)
    finally:
        runtime.on_kudos_received.remove(listener)
        runtime.on_badge_earned.remove(listener)
    gifts = [e for e in heard if isinstance(e, KudosReceived)]
    assert [(g.receiver_id, g.points) for g in gifts] == [
        (org.people["ann"], 3),
        (org.people["ann"], 4),
    ]
    (earned,) = [e for e in heard if isinstance(e, BadgeEarned)]
    assert (earned.person_id, earned.badge_name, earned.kind) == (
        org.people["ann"],
        "Appreciated",
        "badge.earned",
    )
