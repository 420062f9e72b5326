"""Journeys 4 and 5, Connect code review and Bring micro-learning: "real review events arrive
and the team's code-review objectives move"; "an admin imports a badge platform's export; 'N
badges in trail X' objectives move".

Everything goes through what an admin and a forge use: `learnloop connectors create`,
`learnloop people link`, signed webhook deliveries over HTTP, `learnloop import microlearning`
with an export file, and /api to watch the sample organisation's objectives. The IRIs the test
checks come from the served code-review profile and /api/vocabulary, never from the code: if the
sample's objectives and the connectors spoke two vocabularies, these objectives would not move.
"""

import copy
import datetime as dt
import hashlib
import hmac
import json
import re
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.journeys.support import Api, printed_admin

DATABASES = ("sqlite", "postgresql")  # each test runs on both (tests/journeys/conftest.py)
RECORDED = Path(__file__).parents[1] / "connectors" / "fixtures"  # real forge payloads
CODE_REVIEW_OBJECTIVE = "Give 15 code reviews with comments"
BADGE_OBJECTIVE = "Earn 3 badges in the Cloud trail"
BADGE_PLATFORM = "https://trailhead.example.com"
GITLAB_SITE = "http://example.com"  # the self-managed GitLab of the recorded payloads


@pytest.fixture(scope="module")
def admin(demo):
    api = Api(demo.base_url, demo.printed.organisation, printed_admin(demo), demo.printed.password)
    yield api
    api.close()


def person(admin, first_name):
    """A person of the organisation as /api/people lists them (name, e-mail, identities)."""
    [found] = [p for p in admin.get("/api/people").json() if p["name"].split()[0] == first_name]
    return found


def sample_objective(admin, title, someone):
    """The objective called ``title`` on the current review of ``someone`` (from /api)."""
    today = dt.date.today().isoformat()
    cycles = admin.get("/api/cycles").json()
    [current] = [c for c in cycles if c["starts_on"] <= today <= c["ends_on"]]
    for row in admin.get(f"/api/cycles/{current['id']}/team").json():
        if row["person"]["id"] == someone["id"]:
            [objective] = [o for o in row["objectives"] if o["title"] == title]
            return objective
    raise AssertionError(f"{someone['name']} has no review in the current cycle")


def count(admin, objective):
    """The objective's count once every statement stored so far has been counted."""
    deadline = time.monotonic() + 10
    while True:
        progress = admin.get(f"/api/objectives/{objective['id']}/progress").json()
        if not progress["progress"]["uncounted_statements"] or time.monotonic() > deadline:
            return progress["criteria"][0]["count"]
        time.sleep(0.1)


def wait_for_count(admin, objective, expected, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if count(admin, objective) == expected:
            return True
        time.sleep(0.1)
    return count(admin, objective) == expected


def now_iso(offset_minutes=0):
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=offset_minutes)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ---- journey 4: code review ------------------------------------------------------------


def create_connector(demo, kind):
    """`learnloop connectors create` prints the webhook URL and the secret, shown once."""
    printed = demo.learnloop(
        "connectors", "create", "--store", demo.printed.organisation, "--kind", kind
    )
    url = re.search(r"(http://\S+/connectors/\S+)", printed).group(1)
    secret = re.search(r"secret:\s+(\S+)", printed).group(1)
    return url, secret


def github_review(login, pull, body, submitted_at):
    """A GitHub pull_request_review delivery as GitHub sends it, for this reviewer and PR."""
    payload = json.loads((RECORDED / "github" / "pull_request_review.commented.json").read_text())
    payload = copy.deepcopy(payload)
    payload["review"]["user"]["login"] = login
    payload["review"]["id"] = int(uuid.uuid4().int % 10**9)
    payload["review"]["body"] = body
    payload["review"]["submitted_at"] = submitted_at
    payload["pull_request"]["number"] = pull
    payload["pull_request"]["html_url"] = f"https://github.com/acme/app/pull/{pull}"
    return json.dumps(payload).encode()


def deliver_github(url, secret, body):
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return requests.post(
        url,
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request_review",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature,
        },
        timeout=10,
    )


def test_signed_github_reviews_move_the_sample_code_review_objective(demo, admin):
    ann = person(admin, "Ann")
    objective = sample_objective(admin, CODE_REVIEW_OBJECTIVE, ann)
    [criterion] = objective["criteria"]
    profile = requests.get(demo.base_url + "/profiles/code-review", timeout=10).json()
    concepts = {c["id"] for c in profile["concepts"]}
    assert criterion["definition"]["activity_type"] in concepts  # one vocabulary
    before = count(admin, objective)

    url, secret = create_connector(demo, "github")
    demo.learnloop(
        "people",
        "link",
        "--store",
        demo.printed.organisation,
        "--email",
        ann["email"],
        "--github",
        "ann-codes",
    )
    for n in range(2):
        body = github_review("ann-codes", 7000 + n, "Looks good; one question inline.", now_iso(n))
        answer = deliver_github(url, secret, body)
        assert answer.status_code == 202, answer.text

    assert wait_for_count(admin, objective, before + 2)
    forged = deliver_github(url, "not-the-secret", github_review("ann-codes", 7100, "x", now_iso()))
    assert forged.status_code == 401


def gitlab_note(username, mr, text, created_at):
    """A GitLab "Note Hook" on a merge request, as GitLab sends it."""
    payload = json.loads((RECORDED / "gitlab" / "note.merge_request.json").read_text())
    payload["user"]["username"] = username
    payload["object_attributes"]["id"] = int(uuid.uuid4().int % 10**9)
    payload["object_attributes"]["note"] = text
    payload["object_attributes"]["created_at"] = created_at
    project = payload["project"]["web_url"]
    payload["object_attributes"]["url"] = f"{project}/-/merge_requests/{mr}#note_1"
    payload["merge_request"]["iid"] = mr
    payload["merge_request"]["url"] = f"{project}/-/merge_requests/{mr}"
    return json.dumps(payload).encode()


def gerrit_comment(username, change, text, created_on):
    """A Gerrit webhooks-plugin ``comment-added`` event (a comment without a vote)."""
    payload = json.loads((RECORDED / "gerrit" / "comment-added.comment.json").read_text())
    payload["author"]["username"] = username
    payload["author"]["email"] = f"{username}@gerrit.example.com"
    payload["comment"] = f"Patch Set 2:\n\n{text}"
    payload["eventCreatedOn"] = created_on
    payload["change"]["number"] = change
    payload["change"]["url"] = f"https://review.example.com/c/tools/linter/+/{change}"
    payload["change"]["id"] = f"I{uuid.uuid4().hex}"
    payload["changeKey"]["id"] = payload["change"]["id"]
    return json.dumps(payload).encode()


def test_gitlab_and_gerrit_comments_move_it_too(demo, admin):
    chen = person(admin, "Chen")
    objective = sample_objective(admin, CODE_REVIEW_OBJECTIVE, chen)
    before = count(admin, objective)
    gitlab_url, gitlab_secret = create_connector(demo, "gitlab")
    gerrit_url, gerrit_secret = create_connector(demo, "gerrit")
    demo.learnloop(
        "people",
        "link",
        "--store",
        demo.printed.organisation,
        "--email",
        chen["email"],
        "--gitlab",
        "chen-gl",
        "--gitlab-url",
        GITLAB_SITE,
        "--gerrit",
        "chen-gr",
        "--gerrit-url",
        "https://review.example.com",
    )
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    answer = requests.post(
        gitlab_url,
        data=gitlab_note(
            "chen-gl",
            4242,
            "Please add a test for the empty case.",
            when.strftime("%Y-%m-%d %H:%M:%S UTC"),
        ),
        headers={
            "Content-Type": "application/json",
            "X-Gitlab-Event": "Note Hook",
            "X-Gitlab-Token": gitlab_secret,
            "X-Gitlab-Event-UUID": str(uuid.uuid4()),
        },
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    answer = requests.post(
        gerrit_url,
        params={"token": gerrit_secret},  # the webhooks plugin puts the secret in the URL
        data=gerrit_comment(
            "chen-gr", 54321, "Why not reuse the tokenizer here?", int(when.timestamp()) + 60
        ),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text

    assert wait_for_count(admin, objective, before + 2)


# ---- journey 5: micro-learning -----------------------------------------------------------


def test_an_imported_badge_export_moves_the_trail_objective(demo, admin, tmp_path):
    ben = person(admin, "Ben")
    objective = sample_objective(admin, BADGE_OBJECTIVE, ben)
    [criterion] = objective["criteria"]
    vocabulary = requests.get(demo.base_url + "/api/vocabulary", timeout=10).json()
    badge_type = {t["name"]: t["id"] for t in vocabulary["activity_types"]}["badge"]
    assert criterion["definition"]["activity_type"] == badge_type
    [trail] = criterion["definition"]["parent_ids"]
    assert trail.startswith(BADGE_PLATFORM + "/trails/")
    before = count(admin, objective)

    export = tmp_path / "badges.csv"
    rows = ["id,event,email,name,timestamp,item_id,item_name,parent_id,parent_name"]
    for n in range(2):
        rows.append(
            f"row-{n},badge_earned,{ben['email']},Ben,{now_iso(n)},"
            f"journey-badge-{n},Journey badge {n},{trail.rsplit('/', 1)[-1]},Cloud"
        )
    export.write_text("\n".join(rows) + "\n")
    printed = demo.learnloop(
        "import",
        "microlearning",
        str(export),
        "--store",
        demo.printed.organisation,
        "--platform",
        BADGE_PLATFORM,
    )
    assert "2 stored" in printed or re.search(r"stored\D+2", printed), printed

    assert wait_for_count(admin, objective, before + 2)
