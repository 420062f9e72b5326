"""Journey 9, Feed and govern data: OAuth 2.0 in, forwarding out, export and erasure.

An external learning platform sends statements with OAuth 2.0 client credentials (a real
client: authlib's), finding the token endpoint in the server's published metadata. The admin
forwards the completions to the company's warehouse LRS (a second Learnloop). They hand a
person their data and export the store's statements. Then an erasure request removes the
person everywhere in Learnloop. Everything goes through the command line, HTTP and what they
print; nothing is imported from the code under test.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session

from tests.journeys.support import Api, Demo, free_port, printed_admin

DATABASES = ("sqlite", "postgresql")
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"  # ADL's registry, as the platform sends
EXPERIENCED = "http://adlnet.gov/expapi/verbs/experienced"
VERSION = {"X-Experience-API-Version": "2.0.0"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    """The company's warehouse LRS: another Learnloop on this machine."""
    server = Demo(tmp_path_factory.mktemp("warehouse") / "instance", free_port())
    try:
        yield server.start()
    finally:
        server.stop()


def statement(email: str, verb: str, course: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "mbox": f"mailto:{email}"},
        "verb": {"id": verb},
        "object": {"id": f"https://platform.example.com/courses/{course}"},
    }


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def signed_in(demo, email: str) -> requests.Session:
    session = requests.Session()
    form = session.get(demo.printed.sign_in_url, timeout=10).text
    answer = session.post(demo.printed.sign_in_url, data={
        "csrf_token": csrf(form), "store": demo.printed.organisation, "email": email,
        "password": demo.printed.password}, timeout=10)  # fmt: skip
    assert answer.status_code == 200 and "/sign-in" not in answer.url, answer.text[:300]
    return session


def wait_for(predicate, seconds: float = 45, what: str = ""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"not within {seconds} s: {what}")


def test_feed_forward_export_and_erase(demo, warehouse):
    printed = demo.printed
    admin = Api(demo.base_url, printed.organisation, printed_admin(demo), printed.password)
    people = admin.get("/api/people").json()
    learner = next(p for p in people if p.get("email") and p["email"] not in printed.accounts)
    email = learner["email"]

    # The admin gives the platform a credential; the platform finds the token endpoint.
    made = demo.learnloop("credentials", "create", "--store", printed.organisation,
                          "--label", "Learning platform", "--scope", "statements/write",
                          "--scope", "statements/read")  # fmt: skip
    key = re.search(r"^key:\s+(\S+)", made, re.M).group(1)
    secret = re.search(r"^secret:\s+(\S+)", made, re.M).group(1)
    metadata = requests.get(demo.base_url + "/.well-known/oauth-authorization-server", timeout=10)
    assert metadata.status_code == 200
    platform = OAuth2Session(key, secret, scope="statements/write statements/read")
    token = platform.fetch_token(metadata.json()["token_endpoint"],
                                 grant_type="client_credentials")  # fmt: skip
    assert token["token_type"].lower() == "bearer"

    # The admin forwards completions to the warehouse (on the admin page: the demo forwards
    # to a Learnloop beside it on loopback), before the platform sends anything.
    wh = warehouse.printed
    pages = signed_in(demo, printed_admin(demo))
    form = pages.get(demo.base_url + "/admin/forwarding", timeout=10).text
    added = pages.post(demo.base_url + "/admin/forwarding", data={
        "csrf_token": csrf(form), "action": "create", "name": "warehouse",
        "endpoint": wh.xapi_endpoint.rstrip("/"), "auth": "basic", "username": wh.key,
        "secret": wh.secret, "version": "2.0.0"}, timeout=10)  # fmt: skip
    assert added.status_code == 200, added.text
    destination = re.search(r'name="destination_id" value="(\d+)"', added.text).group(1)
    ruled = pages.post(demo.base_url + "/admin/forwarding", data={
        "csrf_token": csrf(added.text), "action": "add_rule", "destination_id": destination,
        "verb": COMPLETED, "activity_prefix": "", "source": "", "actor_domain": ""},
        timeout=10)  # fmt: skip
    assert ruled.status_code == 200, ruled.text
    assert COMPLETED in ruled.text

    sent = [statement(email, COMPLETED, n) for n in range(3)]
    sent += [statement(email, EXPERIENCED, n) for n in range(2)]
    answer = platform.post(demo.base_url + "/xapi/statements", json=sent, headers=VERSION,
                           timeout=10)  # fmt: skip
    assert answer.status_code == 200, answer.text
    mine = platform.get(demo.base_url + "/xapi/statements",
                        params={"agent": json.dumps({"mbox": f"mailto:{email}"})},
                        headers=VERSION, timeout=10)  # fmt: skip
    assert {s["id"] for s in sent} <= {s["id"] for s in mine.json()["statements"]}

    # The completions reach the warehouse within seconds; the rest do not.
    def in_warehouse():
        got = requests.get(
            wh.xapi_endpoint + "statements", auth=(wh.key, wh.secret), headers=VERSION,
            params={"agent": json.dumps({"mbox": f"mailto:{email}"})}, timeout=10,
        )  # fmt: skip
        ids = {s["id"] for s in got.json()["statements"]}
        return ids if {s["id"] for s in sent[:3]} <= ids else None

    arrived = wait_for(in_warehouse, what="the completions in the warehouse")
    assert not {s["id"] for s in sent[3:]} & arrived
    listed = demo.learnloop("forwarding", "list", "--store", printed.organisation)
    assert "warehouse" in listed

    # The person asks for their data: the admin downloads their archive.
    archive = admin.get(f"/api/people/{learner['id']}/archive")
    assert archive.status_code == 200, archive.text
    held = json.dumps(archive.json())
    assert all(s["id"] in held for s in sent)
    # The store's statements, exported for the company's analysts.
    exported = demo.learnloop("statements", "export", "--store", printed.organisation,
                              "--agent", email)  # fmt: skip
    ids = {json.loads(line)["id"] for line in exported.splitlines() if line.strip()}
    assert {s["id"] for s in sent} <= ids

    # An erasure request: first what would go, then the erasure, then nothing is left.
    dry = demo.learnloop("people", "erase", "--store", printed.organisation, "--email", email,
                         "--dry-run")  # fmt: skip
    assert "statement" in dry
    # Erasing here does not erase what the warehouse received: both the command and the
    # erase page name it, so the admin can ask it to erase them too (GDPR art. 19).
    assert "forwarded before to warehouse" in dry
    page = pages.get(demo.base_url + f"/admin/people/{learner['id']}/erase", timeout=10).text
    elsewhere = page[page.index('id="sent-elsewhere"') :]
    assert "<td>warehouse</td>" in elsewhere[: elsewhere.index("</section>")]
    demo.learnloop("people", "erase", "--store", printed.organisation, "--email", email)
    after = platform.get(demo.base_url + "/xapi/statements",
                         params={"agent": json.dumps({"mbox": f"mailto:{email}"})},
                         headers=VERSION, timeout=10)  # fmt: skip
    assert after.status_code == 200 and after.json()["statements"] == []
    for statement_sent in sent:
        gone = platform.get(demo.base_url + "/xapi/statements",
                            params={"statementId": statement_sent["id"]}, headers=VERSION,
                            timeout=10)  # fmt: skip
        assert gone.status_code == 404
    assert admin.get(f"/api/people/{learner['id']}").status_code == 404
    assert email not in json.dumps(admin.get("/api/people").json())
    exported = demo.learnloop("statements", "export", "--store", printed.organisation)
    assert email not in exported
    audit = demo.learnloop("audit", "list", "--store", printed.organisation, "--format", "jsonl")
    assert "person.erased" in audit and email not in audit
    [erased] = [json.loads(line) for line in audit.splitlines() if "person.erased" in line]
    assert "warehouse" in json.dumps(erased)
    admin.close()
