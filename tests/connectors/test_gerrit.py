"""Gerrit: the shared secret and the mapping of webhooks-plugin (stream-events) JSON events.

Fixtures follow Gerrit's documented event shapes (``cmd-stream-events``: comment-added with
approvals and oldValue, change-merged, patchset-created with kind and sizes).
"""

import json

import pytest

from connectors import gerrit
from connectors import profile as p
from connectors.common import WebhookRequest
from connectors.errors import MalformedPayload, SignatureInvalid
from tests.connectors.conftest import fixture_names, fixture_path, load_fixture
from tests.connectors.contract import SECRET, WebhookContractTests

CHANGE_URL = "https://review.example.com/c/tools/linter/+/12345"


def gerrit_request(name, body=None, secret=SECRET):
    body = fixture_path("gerrit", name).read_bytes() if body is None else body
    return WebhookRequest.of({"Content-Type": "application/json"}, body, {"token": secret})


def mapped(name):
    return gerrit.map_event(gerrit.parse(gerrit_request(name)))


class TestGerritContract(WebhookContractTests):
    source = "gerrit"
    module = gerrit
    required_path = ("comment-added.plus2", "author.username")
    signs_body = False  # the plugin cannot sign: a shared secret authenticates the sender

    def fixture_names(self):
        return fixture_names("gerrit")

    def request(self, name, body=None, secret=SECRET, delivery="delivery-1"):
        return gerrit_request(name, body, secret)

    def unsigned(self, request):
        return WebhookRequest.of(request.headers, request.body, {})

    def test_contract_a_missing_actor_is_malformed_with_its_path(self):
        # Without a username Gerrit accounts fall back to e-mail; without both, malformed.
        payload = load_fixture("gerrit", "comment-added.plus2")
        del payload["author"]["username"], payload["author"]["email"]
        event = gerrit.parse(gerrit_request("x", body=json.dumps(payload).encode()))
        with pytest.raises(MalformedPayload) as raised:
            gerrit.map_event(event)
        assert raised.value.errors[0].path == "author"


class TestSecret:
    @pytest.mark.parametrize(
        "headers",
        [{"Authorization": f"Bearer {SECRET}"}, {"X-Gerrit-Token": SECRET}],
    )
    def test_a_proxy_may_send_the_secret_as_a_header(self, headers):
        gerrit.verify(WebhookRequest.of(headers, b"{}"), SECRET)

    def test_a_wrong_token_is_rejected(self):
        with pytest.raises(SignatureInvalid, match="does not match"):
            gerrit.verify(WebhookRequest.of({}, b"{}", {"token": "nope"}), SECRET)


class TestDeliveryId:
    def test_retries_of_an_event_have_one_id_and_other_events_another(self):
        plus2 = gerrit.parse(gerrit_request("comment-added.plus2")).delivery_id
        assert plus2 == gerrit.parse(gerrit_request("comment-added.plus2")).delivery_id
        assert plus2 == "comment-added:tools/linter~12345:2:1700003600:bob"
        assert plus2 != gerrit.parse(gerrit_request("comment-added.minus1")).delivery_id


class TestMapping:
    def test_a_plus_two_is_reviewed_and_approved_with_the_vote_as_score(self):
        reviewed, approved = mapped("comment-added.plus2").statements
        assert [reviewed["verb"]["id"], approved["verb"]["id"]] == [p.REVIEWED, p.APPROVED]
        assert reviewed["actor"] == {
            "objectType": "Agent",
            "name": "Bob Reviewer",
            "account": {"homePage": "https://review.example.com", "name": "bob"},
        }
        assert reviewed["result"]["score"] == {"raw": 2, "min": -2, "max": 2}
        assert approved["result"] == {"success": True, "score": {"raw": 2, "min": -2, "max": 2}}
        # The header "Patch Set 2: Code-Review+2" is Gerrit's, not the reviewer's words.
        assert reviewed["result"]["extensions"][p.EXT_BODY_LENGTH] == len(
            "Looks good to me, thanks!"
        )
        assert reviewed["result"]["extensions"][p.EXT_REVIEW_LATENCY] == 3600
        assert reviewed["object"]["id"] == CHANGE_URL
        repository = reviewed["context"]["contextActivities"]["grouping"][0]
        assert repository["id"] == "https://review.example.com/admin/repos/tools%2Flinter"
        assert reviewed["context"]["extensions"] == {p.EXT_LINES_CHANGED: 13}
        author = reviewed["context"]["contextAgents"][0]["agent"]
        assert author["account"]["name"] == "ann"
        assert reviewed["timestamp"] == "2023-11-14T23:13:20Z"

    def test_a_minus_one_requests_changes(self):
        reviewed, verdict = mapped("comment-added.minus1").statements
        assert verdict["verb"]["id"] == p.REQUESTED_CHANGES
        assert verdict["result"] == {"success": False, "score": {"raw": -1, "min": -2, "max": 2}}

    def test_a_comment_that_keeps_the_vote_is_commented(self):
        (statement,) = mapped("comment-added.comment").statements
        assert statement["verb"]["id"] == p.COMMENTED
        assert statement["actor"]["account"]["name"] == "carol"
        assert "other" not in statement["context"]["contextActivities"]

    def test_a_vote_on_verified_only_is_ignored(self):
        result = mapped("comment-added.verified-only")
        assert result.statements == [] and "Code-Review" in result.note

    def test_change_merged_is_merged_by_the_submitter(self):
        (statement,) = mapped("change-merged").statements
        assert statement["verb"]["id"] == p.MERGED
        assert statement["actor"]["account"]["name"] == "carol"
        assert statement["context"]["contextAgents"][0]["agent"]["account"]["name"] == "ann"

    def test_the_first_patch_set_is_authored_and_a_reworked_one_revised(self):
        (first,) = mapped("patchset-created.first").statements
        (rework,) = mapped("patchset-created.rework").statements
        assert first["verb"]["id"] == p.AUTHORED and "contextAgents" not in first["context"]
        assert rework["verb"]["id"] == p.REVISED
        assert first["actor"]["account"]["name"] == rework["actor"]["account"]["name"] == "ann"

    @pytest.mark.parametrize(
        ("name", "note"),
        [("patchset-created.rebase", "TRIVIAL_REBASE"), ("ref-updated", "ref-updated")],
    )
    def test_ignored_events_say_why(self, name, note):
        result = mapped(name)
        assert result.statements == [] and note in result.note

    def test_an_account_without_username_is_identified_by_email(self):
        payload = load_fixture("gerrit", "comment-added.plus2")
        del payload["author"]["username"]
        event = gerrit.parse(gerrit_request("x", body=json.dumps(payload).encode()))
        actor = gerrit.map_event(event).statements[0]["actor"]
        assert actor == {
            "objectType": "Agent",
            "mbox": "mailto:bob@example.com",
            "name": "Bob Reviewer",
        }

    def test_an_event_without_type_is_malformed(self):
        with pytest.raises(MalformedPayload, match="type: is required"):
            gerrit.parse(gerrit_request("x", body=b'{"change": {}}'))

    def test_a_non_numeric_vote_is_malformed(self):
        payload = load_fixture("gerrit", "comment-added.plus2")
        payload["approvals"][0]["value"] = "lots"
        event = gerrit.parse(gerrit_request("x", body=json.dumps(payload).encode()))
        with pytest.raises(MalformedPayload) as raised:
            gerrit.map_event(event)
        assert raised.value.errors[0].path == "approvals[0].value"


def test_an_impossible_event_time_is_malformed():
    payload = load_fixture("gerrit", "change-merged")
    payload["eventCreatedOn"] = 10**20
    event = gerrit.parse(gerrit_request("x", body=json.dumps(payload).encode()))
    with pytest.raises(MalformedPayload) as raised:
        gerrit.map_event(event)
    assert raised.value.errors[0].path == "eventCreatedOn"
