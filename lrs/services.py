"""The composition root's container: what the app factory builds once and requests share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lrs.auth import Authenticator
from lrs.config import Config
from lrs.statements.canonical import SeenDefinitions


@dataclass
class Services:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    authenticator: Authenticator
    clock: Callable[[], int]
    seen_definitions: SeenDefinitions


def services() -> Services:
    """The services of the current app."""
    return current_app.extensions["learnloop"]
