"""A live Learnloop for the sign-in tests, with helpers to make stores, accounts and settings.

Single sign-on is installed explicitly with the loopback allowance (``allow_http_loopback``),
the way an operator would set ``LEARNLOOP_OIDC_ALLOW_HTTP_LOOPBACK`` for a local provider: the
tests' provider listens on 127.0.0.1 over http, which the outbound guard refuses by default.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from werkzeug.serving import make_server

from directory.sign_in import services as sign_ins
from directory.sign_in.config import OidcConfig
from directory.sign_in.oidc import install as install_sign_in
from learnloop import create_app
from learnloop.cli import upgrade_database
from lrs.db import write_transaction
from lrs.models import Store
from lrs.people.services import create_person
from objectives.accounts import create_account

PASSWORD = "correct-horse-battery-staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    app: object
    base: str
    server: object

    @property
    def sessions(self):
        return self.app.extensions["learnloop"].sessions

    def stop(self) -> None:
        self.server.shutdown()
        self.app.extensions["learnloop"].engine.dispose()


def live_site(tmp_path_factory, allow_loopback: bool = True) -> Site:
    url = f"sqlite:///{tmp_path_factory.mktemp('sign-in') / 'db.sqlite3'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "instance_path": str(tmp_path_factory.mktemp("inst"))})
    install_sign_in(app, OidcConfig(allow_http_loopback=allow_loopback))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    app.extensions["lrs"].public_url = base
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Site(app, base, server)


def add_store(app, name: str) -> int:
    with write_transaction(app.extensions["learnloop"].sessions) as db:
        store = Store(name=name)
        db.add(store)
        db.flush()
        return store.id


def add_account(
    app, store_id: int, email: str, password: str | None = PASSWORD, admin: bool = False
) -> int:
    with write_transaction(app.extensions["learnloop"].sessions) as db:
        person = create_person(db, store_id, email.split("@")[0], email)
        return create_account(db, store_id, email, password, person_id=person.id, is_admin=admin).id


def add_person(app, store_id: int, email: str) -> int:
    with write_transaction(app.extensions["learnloop"].sessions) as db:
        return create_person(db, store_id, email.split("@")[0], email).id


def configure(
    app,
    store_id: int,
    *,
    issuer: str = "",
    client_id: str = "",
    client_secret: str | None = None,
    domains: tuple[str, ...] = (),
    password_enabled: bool = True,
) -> None:
    services = app.extensions["learnloop"]
    with write_transaction(services.sessions) as db:
        sign_ins.save_settings(
            db,
            db.get(Store, store_id),
            password_enabled=password_enabled,
            issuer=issuer,
            client_id=client_id,
            new_client_secret=client_secret,
            domains=list(domains),
            box=sign_ins.SecretBox(services.instance_secret()),
            guard=OidcConfig(allow_http_loopback=True).outbound_guard(),
        )


def csrf(html: str) -> str:
    return CSRF.search(html).group(1)
