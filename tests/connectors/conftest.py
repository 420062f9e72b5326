"""Fixtures of the connector tests: recorded payloads, a store with an admin credential."""

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from lrs.auth import Authenticator
from lrs.db import read_transaction
from tests.conftest import XapiClient, make_credential

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_path(source: str, name: str) -> Path:
    return FIXTURES / source / f"{name}.json"


def load_fixture(source: str, name: str) -> dict:
    """A recorded payload: ``tests/connectors/fixtures/<source>/<name>.json``."""
    return json.loads(fixture_path(source, name).read_text(encoding="utf-8"))


def fixture_names(source: str) -> list[str]:
    return sorted(p.stem for p in (FIXTURES / source).glob("*.json"))


@dataclass
class Store:
    """A fresh store (tenant) with a credential of scope ``all``."""

    app: object
    name: str
    id: int
    key: str
    secret: str

    @property
    def xapi(self) -> XapiClient:
        return XapiClient(self.app, self.key, self.secret)

    @property
    def admin_headers(self) -> dict:
        token = base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        return {"Authorization": "Basic " + token}

    @property
    def sessions(self):
        return self.app.extensions["learnloop"].sessions


@pytest.fixture
def store(app) -> Store:
    name, key, secret = make_credential(app)
    with read_transaction(app.extensions["learnloop"].sessions) as session:
        token = base64.b64encode(f"{key}:{secret}".encode()).decode()
        principal = Authenticator().authenticate(session, "Basic " + token)
    return Store(app, name, principal.store_id, key, secret)
