"""What the LRS needs at run time, built once by the service shell and shared by requests.

The shell (``learnloop.services``) builds an ``LrsRuntime`` from its configuration and installs
it on the app; the packages above the LRS (LTI, connectors, objectives, pages) reach the
database and the authenticator through ``lrs_runtime()`` in a request, or ``for_command()`` in
a ``learnloop`` command, so none of them needs to know where configuration comes from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from lrs.auth import Authenticator, Principal, require
from lrs.db import read_transaction
from lrs.throttle import Throttle

if TYPE_CHECKING:  # the statement views read the runtime; only the type is needed here
    from lrs.statements.canonical import SeenDefinitions

EXTENSION = "lrs"
#: Where the shell's command group keeps the factory of the command's runtime (``ctx.meta``).
COMMAND_RUNTIME = "learnloop.lrs_runtime"


@dataclass
class LrsRuntime:
    """The database, the credential cache and the clock, plus the two settings others read.

    ``public_url`` is the externally visible base URL ("" = the request's host);
    ``instance_secret()`` is the key that signs sessions and seals connector secrets (made on
    first use when the shell has none configured, hence a function).
    """

    engine: Engine
    sessions: sessionmaker[Session]
    authenticator: Authenticator
    clock: Callable[[], int]
    seen_definitions: SeenDefinitions
    public_url: str
    instance_secret: Callable[[], str]
    #: Failed credential checks across workers (``lrs.throttle``); None: unthrottled.
    throttle: Throttle | None = None
    #: Sessions on a read replica for the statement query path (``lrs.replica``); None: none.
    replica_sessions: sessionmaker[Session] | None = None


def install(app: Flask, runtime: LrsRuntime) -> None:
    """Make ``runtime`` the LRS runtime of ``app``."""
    app.extensions[EXTENSION] = runtime


def lrs_runtime() -> LrsRuntime:
    """The LRS runtime of the current app."""
    return current_app.extensions[EXTENSION]


def for_command() -> LrsRuntime:
    """The LRS runtime of the running ``learnloop`` command, built by the shell on first use."""
    return click.get_current_context().meta[COMMAND_RUNTIME]()


def current_principal(*scopes: str) -> Principal:
    """Authenticate the current Flask request with HTTP Basic and require one of ``scopes``.

    For Learnloop's own APIs outside /xapi (administration of connectors, LTI registrations):
    a credential with scope ``all`` administers its own store and nothing else.
    """
    from flask import g, request

    principal = g.get("principal")
    if principal is None:
        runtime = lrs_runtime()
        with read_transaction(runtime.sessions) as session:
            principal = runtime.authenticator.authenticate(
                session, request.headers.get("Authorization"), address=request.remote_addr
            )
        g.principal = principal
    require(principal, *(scopes or ("all",)))
    return principal
