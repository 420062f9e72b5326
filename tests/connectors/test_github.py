"""GitHub: signature verification and the mapping of every captured event (pure, no database).

Fixtures follow the documented example payloads (docs.github.com "Webhook events and
payloads", the Codertocat/Hello-World examples), trimmed to the fields a receiver sees.
"""

import json
from urllib.parse import urlencode

import pytest

from connectors import github
from connectors import profile as p
from connectors.common import WebhookRequest
from connectors.errors import MalformedPayload, SignatureInvalid
from tests.connectors.conftest import fixture_names, fixture_path, load_fixture
from tests.connectors.contract import SECRET, WebhookContractTests

PR_URL = "https://github.com/Codertocat/Hello-World/pull/2"
REPO_URL = "https://github.com/Codertocat/Hello-World"


def signed_request(name, body=None, secret=SECRET, delivery="delivery-1"):
    """The request GitHub would send for fixture ``name`` (event from the file name)."""
    body = fixture_path("github", name).read_bytes() if body is None else body
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": name.split(".")[0],
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": github.signature(body, secret),
        "User-Agent": "GitHub-Hookshot/044aadd",
    }
    return WebhookRequest.of(headers, body)


def mapped(name, delivery="delivery-1"):
    return github.map_event(github.parse(signed_request(name, delivery=delivery)))


class TestGitHubContract(WebhookContractTests):
    source = "github"
    module = github
    required_path = ("pull_request_review.approved", "review.user.login")

    def fixture_names(self):
        return fixture_names("github")

    def request(self, name, body=None, secret=SECRET, delivery="delivery-1"):
        return signed_request(name, body, secret, delivery)

    def unsigned(self, request):
        headers = {k: v for k, v in request.headers.items() if k != "x-hub-signature-256"}
        return WebhookRequest.of(headers, request.body)


class TestSignature:
    def test_githubs_published_test_vector(self):
        # docs.github.com, "Validating webhook deliveries": the documented example.
        assert github.signature(b"Hello, World!", "It's a Secret to Everybody") == (
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        )

    def test_the_test_vector_verifies_and_a_changed_digit_does_not(self):
        good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        request = WebhookRequest.of({"X-Hub-Signature-256": good}, b"Hello, World!")
        github.verify(request, "It's a Secret to Everybody")
        bad = WebhookRequest.of({"X-Hub-Signature-256": good[:-1] + "8"}, b"Hello, World!")
        with pytest.raises(SignatureInvalid):
            github.verify(bad, "It's a Secret to Everybody")

    def test_header_names_ignore_case(self):
        request = signed_request("ping")
        lowered = WebhookRequest.of(
            {k.upper(): v for k, v in request.headers.items()}, request.body
        )
        github.verify(lowered, SECRET)

    def test_the_sha1_header_alone_is_not_accepted(self):
        request = WebhookRequest.of({"X-Hub-Signature": "sha1=0000"}, b"{}")
        with pytest.raises(SignatureInvalid, match="X-Hub-Signature-256"):
            github.verify(request, SECRET)


class TestParse:
    def test_form_encoded_deliveries_carry_the_json_in_payload(self):
        payload = fixture_path("github", "pull_request.opened").read_text()
        body = urlencode({"payload": payload}).encode()
        headers = dict(signed_request("pull_request.opened", body=body).headers)
        headers["content-type"] = "application/x-www-form-urlencoded"
        event = github.parse(WebhookRequest.of(headers, body))
        assert event.payload == json.loads(payload)

    @pytest.mark.parametrize("header", ["X-GitHub-Event", "X-GitHub-Delivery"])
    def test_missing_event_headers_are_malformed(self, header):
        request = signed_request("ping")
        headers = {k: v for k, v in request.headers.items() if k != header.lower()}
        with pytest.raises(MalformedPayload, match=header):
            github.parse(WebhookRequest.of(headers, request.body))


class TestMapping:
    def test_an_approving_review_is_reviewed_then_approved(self):
        result = mapped("pull_request_review.approved")
        reviewed, approved = result.statements
        octocat = {
            "objectType": "Agent",
            "name": "octocat",
            "account": {"homePage": "https://github.com", "name": "octocat"},
        }
        assert reviewed["actor"] == approved["actor"] == octocat
        assert [reviewed["verb"]["id"], approved["verb"]["id"]] == [p.REVIEWED, p.APPROVED]
        assert reviewed["object"] == {
            "objectType": "Activity",
            "id": PR_URL,
            "definition": {
                "type": p.PULL_REQUEST,
                "name": {"en": "Codertocat/Hello-World#2: Update the README with new information."},
            },
        }
        assert reviewed["result"] == {
            "success": True,
            "extensions": {
                p.EXT_VERDICT: "approved",
                p.EXT_BODY_LENGTH: len("Looks great, thanks for the clear description!"),
                p.EXT_REVIEW_LATENCY: 3600,
            },
        }
        assert approved["result"] == {"success": True}
        assert approved["context"]["statement"] == {
            "objectType": "StatementRef",
            "id": reviewed["id"],
        }
        context = reviewed["context"]
        assert context["platform"] == "GitHub"
        assert context["contextActivities"]["grouping"][0]["id"] == REPO_URL
        assert context["contextActivities"]["grouping"][0]["definition"]["type"] == p.REPOSITORY
        assert context["contextAgents"] == [
            {
                "objectType": "contextAgent",
                "agent": {
                    "objectType": "Agent",
                    "name": "Codertocat",
                    "account": {"homePage": "https://github.com", "name": "Codertocat"},
                },
                "relevantTypes": [p.ROLE_AUTHOR],
            }
        ]
        assert reviewed["timestamp"] == "2019-05-15T16:20:33Z"

    def test_a_review_requesting_changes_fails(self):
        reviewed, verdict = mapped("pull_request_review.changes_requested").statements
        assert verdict["verb"]["id"] == p.REQUESTED_CHANGES
        assert reviewed["result"]["success"] is False and verdict["result"] == {"success": False}
        assert reviewed["result"]["extensions"][p.EXT_VERDICT] == "changes-requested"

    def test_a_commented_review_is_reviewed_only_without_success(self):
        (reviewed,) = mapped("pull_request_review.commented").statements
        assert reviewed["verb"]["id"] == p.REVIEWED
        assert "success" not in reviewed["result"]
        assert reviewed["result"]["extensions"][p.EXT_BODY_LENGTH] == 0  # body: null
        assert reviewed["result"]["extensions"][p.EXT_REVIEW_LATENCY] == 5

    def test_a_review_comment_is_commented_with_the_comment_as_other_context(self):
        (statement,) = mapped("pull_request_review_comment.created").statements
        assert statement["verb"] == {"id": p.COMMENTED, "display": {"en": "commented"}}
        assert statement["object"]["id"] == PR_URL
        (comment,) = statement["context"]["contextActivities"]["other"]
        assert comment["id"] == f"{PR_URL}#discussion_r284312630"
        assert comment["definition"]["type"] == p.REVIEW_COMMENT
        assert statement["result"] == {
            "extensions": {p.EXT_BODY_LENGTH: len("Maybe you should use more emoji on this line.")}
        }
        assert "Maybe" not in json.dumps(statement)  # the text itself is not recorded

    def test_a_conversation_comment_on_a_pull_request_is_commented(self):
        (statement,) = mapped("issue_comment.created").statements
        assert statement["verb"]["id"] == p.COMMENTED
        assert statement["object"]["id"] == PR_URL
        assert statement["actor"]["account"]["name"] == "octocat"
        assert statement["timestamp"] == "2019-05-15T15:20:21Z"

    def test_a_comment_on_an_issue_is_ignored(self):
        result = mapped("issue_comment.on_issue")
        assert result.statements == [] and "issue" in result.note

    def test_an_opened_pull_request_is_authored_with_its_size(self):
        (statement,) = mapped("pull_request.opened").statements
        assert statement["verb"]["id"] == p.AUTHORED
        assert statement["actor"]["account"]["name"] == "Codertocat"
        assert "contextAgents" not in statement["context"]  # the actor is the author
        assert statement["context"]["extensions"] == {p.EXT_LINES_CHANGED: 2, p.EXT_FILES: 1}
        assert statement["timestamp"] == "2019-05-15T15:20:33Z"

    def test_a_merged_pull_request_is_merged_by_the_merger_for_the_author(self):
        (statement,) = mapped("pull_request.closed_merged").statements
        assert statement["verb"]["id"] == p.MERGED
        assert statement["actor"]["account"]["name"] == "octocat"
        author = statement["context"]["contextAgents"][0]["agent"]
        assert author["account"]["name"] == "Codertocat"
        assert statement["context"]["extensions"] == {p.EXT_LINES_CHANGED: 15, p.EXT_FILES: 2}
        assert statement["timestamp"] == "2019-05-15T17:00:00Z"

    @pytest.mark.parametrize(
        ("name", "note"),
        [
            ("pull_request.closed_unmerged", "without merging"),
            ("pull_request_review.dismissed", "dismissed"),
            ("ping", "secret matches"),
        ],
    )
    def test_ignored_events_say_why(self, name, note):
        result = mapped(name)
        assert result.statements == [] and note in result.note

    def test_unknown_events_are_ignored(self):
        event = github.parse(signed_request("ping"))
        event = type(event)(event.source, "star", "d", event.payload)
        assert "star" in github.map_event(event).note

    def test_bot_reviews_are_ignored(self):
        payload = load_fixture("github", "pull_request_review.approved")
        payload["review"]["user"]["type"] = "Bot"
        body = json.dumps(payload).encode()
        result = github.map_event(github.parse(signed_request("pull_request_review", body=body)))
        assert result.statements == [] and "bot" in result.note

    def test_a_non_url_pull_request_is_malformed(self):
        payload = load_fixture("github", "pull_request.opened")
        payload["pull_request"]["html_url"] = "not a url"
        body = json.dumps(payload).encode()
        with pytest.raises(MalformedPayload) as raised:
            github.map_event(github.parse(signed_request("pull_request", body=body)))
        assert raised.value.errors[0].path == "pull_request.html_url"

    def test_a_wrongly_typed_field_is_malformed(self):
        payload = load_fixture("github", "pull_request.opened")
        payload["pull_request"]["number"] = "two"
        body = json.dumps(payload).encode()
        with pytest.raises(MalformedPayload, match="pull_request.number: must be a number"):
            github.map_event(github.parse(signed_request("pull_request", body=body)))


class TestStoredDeliveries:
    def test_githubs_delivery_api_shape(self):
        payload = load_fixture("github", "pull_request.opened")
        item = {
            "id": 12345678,
            "guid": "0b989ba4-242f-11e5-81e1-c7b6966d2516",
            "delivered_at": "2019-05-15T15:20:34Z",
            "redelivery": False,
            "event": "pull_request",
            "action": "opened",
            "request": {"headers": {"X-GitHub-Event": "pull_request"}, "payload": payload},
        }
        event = github.stored_delivery(item)
        assert (event.name, event.delivery_id) == (
            "pull_request",
            "0b989ba4-242f-11e5-81e1-c7b6966d2516",
        )
        assert event.payload == payload

    def test_the_headers_shape(self):
        payload = load_fixture("github", "ping")
        item = {
            "headers": {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-1"},
            "payload": payload,
        }
        assert github.stored_delivery(item).delivery_id == "d-1"

    @pytest.mark.parametrize(
        ("item", "path"),
        [
            ({"event": "ping", "payload": {}}, "guid"),
            ({"guid": "g", "payload": {}}, "event"),
            ({"guid": "g", "event": "ping", "payload": [1]}, "payload"),
        ],
    )
    def test_incomplete_deliveries_are_malformed(self, item, path):
        with pytest.raises(MalformedPayload) as raised:
            github.stored_delivery(item)
        assert raised.value.errors[0].path == path
