"""The events recognition announces to its listeners (``runtime.RecognitionRuntime``)."""

from __future__ import annotations

from dataclasses import dataclass

KUDOS_RECEIVED = "kudos.received"
BADGE_EARNED = "badge.earned"


@dataclass(frozen=True)
class KudosReceived:
    """A colleague gave ``receiver_id`` points, with a message; ``statement_id`` records it."""

    store_id: int
    gift_id: int
    giver_id: int
    receiver_id: int
    points: int
    message: str
    statement_id: str
    at_ms: int
    kind: str = KUDOS_RECEIVED


@dataclass(frozen=True)
class BadgeEarned:
    """``person_id`` earned ``badge_id`` (once); ``award_id`` holds the signed credential."""

    store_id: int
    award_id: int
    badge_id: int
    badge_name: str
    person_id: int
    statement_id: str
    at_ms: int
    kind: str = BADGE_EARNED
