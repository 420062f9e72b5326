"""From a signed GitHub webhook to a met objective in a review: connectors → LRS → objectives.

ann's GitHub login is linked to her; two signed review deliveries arrive; her objective "give
two code reviews with comments" is met and its satisfied statement is stored.
"""

import base64
import copy
import json

from connectors import github
from connectors.profile import PULL_REQUEST
from lrs.auth import create_credential
from lrs.db import write_transaction
from lrs.models import Store
from lrs.vocabulary import REVIEWED
from tests.connectors.conftest import load_fixture
from tests.support.worker import drain


def admin_headers(org):
    with write_transaction(org.app.extensions["learnloop"].sessions) as session:
        store = session.get(Store, org.store_id)
        credential, secret = create_credential(session, store.name, ["all"])
        key = credential.key
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


def review_delivery(number: int, day: int) -> bytes:
    payload = copy.deepcopy(load_fixture("github", "pull_request_review.commented"))
    payload["review"]["id"] = 1000 + number
    payload["review"]["body"] = "Consider extracting this into a function."
    payload["review"]["submitted_at"] = f"2026-03-{day:02d}T10:00:00Z"
    payload["pull_request"]["number"] = number
    payload["pull_request"]["html_url"] = f"https://github.com/acme/app/pull/{number}"
    return json.dumps(payload).encode()


def test_two_signed_reviews_meet_the_code_review_objective(org):
    client = org.app.test_client()
    headers = admin_headers(org)
    connector = client.post(
        "/api/admin/connectors", json={"kind": "github"}, headers=headers
    ).get_json()
    login = load_fixture("github", "pull_request_review.commented")["review"]["user"]["login"]
    linked = client.post(
        "/api/admin/people/links",
        headers=headers,
        json={
            "person": {"id": org.people["ann"]},
            "identities": [{"kind": "github", "name": login}],
        },
    )
    assert linked.status_code == 200, linked.get_json()
    objective = (
        org.client("maya")
        .post(
            f"/reviews/{org.reviews['ann']}/objectives",
            json={
                "title": "Give two code reviews with comments",
                "criteria": [
                    {
                        "verbs": [REVIEWED],
                        "activity_type": PULL_REQUEST,
                        "source": "code_review",
                        "with_response": True,
                        "min_count": 2,
                    }
                ],
            },
        )
        .get_json()["id"]
    )

    for n, day in ((11, 2), (12, 5)):
        body = review_delivery(n, day)
        response = client.post(
            f"/connectors/github/{connector['id']}",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request_review",
                "X-GitHub-Delivery": f"delivery-{n}",
                "X-Hub-Signature-256": github.signature(body, connector["secret"]),
            },
        )
        assert response.status_code == 202, response.get_json()

    drain(org.app)  # the worker beside the server counts them
    progress = org.client("ann").get(f"/objectives/{objective}/progress").get_json()
    assert progress["criteria"][0]["count"] == 2
    assert progress["met"] is True
    assert progress["satisfied_statement_id"]
