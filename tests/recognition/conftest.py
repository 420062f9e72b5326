"""Recognition's tests run in the objectives' organisation (tests/objectives/conftest.py).

admin (no person)        maya (manager) ── ann, ben          nick (manager) ── cora
"""

import datetime as dt
import json
import re
import uuid

from pyld import jsonld

from connectors import profile as p
from lrs.auth import create_credential
from lrs.db import write_transaction
from lrs.models import Store
from recognition import kudos
from tests.conftest import XapiClient
from tests.connectors.test_profile import OPTIONS
from tests.objectives.conftest import org  # noqa: F401  (the fixture)
from tests.support.worker import drain

#: 2026-03-02T10:00:00Z: inside the organisation's review cycle (2026 H1).
MARCH = int(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC).timestamp() * 1000)


def give(company, giver, receiver, points=5, reason="help", now_ms=MARCH, message="thanks!"):
    """A gift as the API makes it, at ``now_ms``; the worker then counts it."""
    sessions = company.app.extensions["learnloop"].sessions
    with company.app.app_context(), write_transaction(sessions) as session:
        gift = kudos.give(
            session,
            company.store_id,
            company.people[giver],
            company.people[receiver],
            points,
            message,
            reason,
            None,
            "http://localhost",
            now_ms,
        )
    drain(company.app)
    return gift


def xapi_client(company) -> XapiClient:
    """A credential of the organisation's store, to read its statements as any client would."""
    sessions = company.app.extensions["learnloop"].sessions
    with write_transaction(sessions) as session:
        store = session.get(Store, company.store_id)
        key, secret = f"k-{uuid.uuid4().hex[:10]}", "s-" + uuid.uuid4().hex
        create_credential(session, store.name, ["all"], key, secret)
    return XapiClient(company.app, key, secret)


def statement(company, statement_id: str) -> dict:
    response = xapi_client(company).get("/statements", query_string={"statementId": statement_id})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# ---- Statements against the recognition profile's templates ---------------------------------


def profile_templates() -> dict[str, dict]:
    """The recognition profile's templates, read through pyld (expanded, then compacted back
    into the xAPI Profiles context): what the profile says, not what we think it says."""
    expanded = jsonld.expand(p.profile_document("recognition"), OPTIONS)
    compacted = jsonld.compact(expanded, p.PROFILE_CONTEXT, OPTIONS)
    return {t["id"].rsplit("/", 1)[-1]: t for t in compacted["templates"]}


def _locate(document, location: str) -> list:
    """The values a Profile rule's JSONPath location (``$.a.b[*].c``, ``['iri']``) selects."""
    steps = re.findall(r"\.([A-Za-z]+)|\['([^']+)'\]|(\[\*\])", location.removeprefix("$"))
    values = [document]
    for name, quoted, star in steps:
        found = []
        for value in values:
            if star:
                found.extend(value if isinstance(value, list) else [])
            elif isinstance(value, dict) and (name or quoted) in value:
                found.append(value[name or quoted])
        values = found
    return values


def conforms(statement: dict, template: dict) -> list[str]:
    """What in ``statement`` breaks ``template`` (xAPI Profiles 1.0, part 2 §9.3); [] if none."""
    problems = []
    if statement["verb"]["id"] != template["verb"]:
        problems.append(f"verb {statement['verb']['id']}")
    kind = statement["object"].get("definition", {}).get("type")
    if kind != template["objectActivityType"]:
        problems.append(f"object type {kind}")
    for rule in template.get("rules", []):
        values = _locate(statement, rule["location"])
        if rule.get("presence") == "included" and not values:
            problems.append(f"{rule['location']} missing")
        if "any" in rule and not set(json.dumps(v) for v in values) & {
            json.dumps(v) for v in rule["any"]
        }:
            problems.append(f"{rule['location']} has none of {rule['any']}")
    return problems


PASSWORD = "a-long-enough-password"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def pages_client(company, who):
    """A test client signed in to the pages as ``who`` (their account gets a password)."""
    from lrs.auth import hash_secret
    from objectives.models import Account

    sessions = company.app.extensions["learnloop"].sessions
    email = f"{who}@example.com"
    with write_transaction(sessions) as session:
        account = session.query(Account).filter_by(store_id=company.store_id, email=email).one()
        account.password_hash = hash_secret(PASSWORD)
        store = session.get(Store, company.store_id).name
    client = company.app.test_client()
    form = client.get("/sign-in").get_data(as_text=True)
    answer = client.post(
        "/sign-in",
        data={
            "csrf_token": CSRF.search(form).group(1),
            "store": store,
            "email": email,
            "password": PASSWORD,
        },
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def csrf(page_html: str) -> str:
    return CSRF.search(page_html).group(1)
