"""The traffic of ``bench/load.py``: what an LRS behind a company's learning tools receives.

Each simulated user is one client doing, by weight: batch and single statement writes, reads
filtered by agent and by verb, state document writes and reads, signed-in page views and
GitHub webhook deliveries. The credentials, the account, the connector and its secret come
from the environment ``bench/load.py`` sets (LOAD_*), as a user would have them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import re
import uuid

from locust import HttpUser, between, task

KEY = os.environ["LOAD_KEY"]
SECRET = os.environ["LOAD_SECRET"]
STORE = os.environ["LOAD_STORE"]
EMAIL = os.environ["LOAD_EMAIL"]
PASSWORD = os.environ["LOAD_PASSWORD"]
CONNECTOR_PATH = os.environ["LOAD_CONNECTOR_PATH"]
CONNECTOR_SECRET = os.environ["LOAD_CONNECTOR_SECRET"].encode()
REVIEW = json.loads(open(os.environ["LOAD_GITHUB_REVIEW"]).read())
VERSION = {"X-Experience-API-Version": "2.0.0"}
VERBS = [f"http://verbs.example.com/v{n}" for n in range(20)]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def statement(rng: random.Random) -> dict:
    return {
        "actor": {"mbox": f"mailto:learner{rng.randrange(1000)}@example.com"},
        "verb": {"id": rng.choice(VERBS)},
        "object": {"id": f"http://courses.example.com/activities/{rng.randrange(10_000)}"},
        "result": {"score": {"scaled": round(rng.random(), 2)}, "completion": True},
    }


class LearningTools(HttpUser):
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.client.auth = None
        form = self.client.get("/sign-in", name="page: sign-in").text
        self.client.post(
            "/sign-in",
            data={"csrf_token": CSRF.search(form).group(1), "store": STORE, "email": EMAIL,
                  "password": PASSWORD},
            name="page: sign in (POST)", allow_redirects=False,
        )  # fmt: skip

    def xapi(self, method: str, path: str, name: str, **kw):
        return self.client.request(
            method, "/xapi" + path, auth=(KEY, SECRET), headers={**VERSION, **kw.pop("headers",
            {})}, name=name, **kw,
        )  # fmt: skip

    @task(3)
    def batch_write(self) -> None:
        self.xapi("POST", "/statements", "xapi: POST batch of 20",
                  json=[statement(self.rng) for _ in range(20)])  # fmt: skip

    @task(10)
    def single_write(self) -> None:
        self.xapi("POST", "/statements", "xapi: POST one statement", json=statement(self.rng))

    @task(6)
    def read_by_agent(self) -> None:
        agent = json.dumps({"mbox": f"mailto:learner{self.rng.randrange(1000)}@example.com"})
        self.xapi("GET", "/statements", "xapi: GET ?agent=", params={"agent": agent,
                  "limit": "10"})  # fmt: skip

    @task(4)
    def read_by_verb(self) -> None:
        self.xapi("GET", "/statements", "xapi: GET ?verb=",
                  params={"verb": self.rng.choice(VERBS), "limit": "10"})  # fmt: skip

    @task(3)
    def state_document(self) -> None:
        """Read a bookmark, then write it back as xAPI 2.0 requires: with the ETag just read
        (If-Match), or If-None-Match: * when there was none. Another learner's tab writing the
        same document in between gets 412, the protocol working, and is counted as such."""
        params = {
            "activityId": f"http://courses.example.com/activities/{self.rng.randrange(100)}",
            "agent": json.dumps({"mbox": f"mailto:learner{self.rng.randrange(50)}@example.com"}),
            "stateId": "bookmark",
        }
        with self.xapi("GET", "/activities/state", "xapi: GET state", params=params,
                       catch_response=True) as read:  # fmt: skip
            if read.status_code == 404:
                read.success()  # no bookmark yet
        etag = read.headers.get("ETag") if read.status_code == 200 else None
        condition = {"If-Match": etag} if etag else {"If-None-Match": "*"}
        with self.xapi("PUT", "/activities/state", "xapi: PUT state (If-Match)", params=params,
                       json={"page": self.rng.randrange(40)}, headers=condition,
                       catch_response=True) as answer:  # fmt: skip
            if answer.status_code == 412:
                answer.success()  # lost a race with another writer: the client reads again

    @task(2)
    def page_view(self) -> None:
        self.client.get("/admin/statements", name="page: statements (signed in)")

    @task(2)
    def webhook_delivery(self) -> None:
        review = json.loads(json.dumps(REVIEW))
        review["review"]["id"] = self.rng.randrange(1, 2**31)
        body = json.dumps(review).encode()
        signature = "sha256=" + hmac.new(CONNECTOR_SECRET, body, hashlib.sha256).hexdigest()
        self.client.post(
            CONNECTOR_PATH, data=body, name="webhook: GitHub review",
            headers={"Content-Type": "application/json", "X-GitHub-Event": "pull_request_review",
                     "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": signature},
        )  # fmt: skip
