"""Per-app objects of recognition: the listeners of its events, built in ``create_app``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy.orm import Session

from recognition.events import BadgeEarned, KudosReceived

EXTENSION = "recognition"


@dataclass
class RecognitionRuntime:
    """Extension points: listeners called in the transaction that records the event."""

    on_kudos_received: list[Callable[[Session, KudosReceived], None]] = field(default_factory=list)
    on_badge_earned: list[Callable[[Session, BadgeEarned], None]] = field(default_factory=list)


def install(app: Flask) -> RecognitionRuntime:
    runtime = RecognitionRuntime()
    app.extensions[EXTENSION] = runtime
    return runtime


def recognition_runtime() -> RecognitionRuntime:
    """The app's runtime; a bare one outside an app built by ``create_app`` (commands, tests)."""
    return current_app.extensions.get(EXTENSION) or RecognitionRuntime()


def announce(session: Session, event: KudosReceived | BadgeEarned) -> None:
    """Call the listeners of ``event`` in the caller's write transaction."""
    runtime = recognition_runtime()
    listeners = (
        runtime.on_kudos_received if isinstance(event, KudosReceived) else runtime.on_badge_earned
    )
    for listener in listeners:
        listener(session, event)
