"""GitLab: secret token, signing-token HMAC and the mapping of merge request and note events.

Fixtures follow GitLab's documented example payloads ("Webhook events": Merge request events,
Comment events), including the older ``2015-05-17 18:21:36 UTC`` time format.
"""

import base64
import json

import pytest

from connectors import gitlab
from connectors import profile as p
from connectors.common import WebhookRequest
from connectors.errors import MalformedPayload, SignatureInvalid
from tests.connectors.conftest import fixture_names, fixture_path, load_fixture
from tests.connectors.contract import SECRET, WebhookContractTests

SIGNING = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
NOW = 1_700_000_000
EVENT_HEADERS = {"merge_request": "Merge Request Hook", "note": "Note Hook"}


def gitlab_request(name, body=None, secret=SECRET, delivery="delivery-1", signing=SIGNING):
    body = fixture_path("gitlab", name).read_bytes() if body is None else body
    headers = {
        "Content-Type": "application/json",
        "X-Gitlab-Event": EVENT_HEADERS[name.split(".")[0]],
        "X-Gitlab-Token": secret,
        "Idempotency-Key": delivery,
        "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e",
    }
    if signing:
        headers["webhook-id"] = delivery
        headers["webhook-timestamp"] = str(NOW)
        headers["webhook-signature"] = gitlab.signing_signature(delivery, str(NOW), body, signing)
    return WebhookRequest.of(headers, body, received_at=NOW + 2)


def mapped(name):
    return gitlab.map_event(gitlab.parse(gitlab_request(name)))


class TestGitLabContract(WebhookContractTests):
    source = "gitlab"
    module = gitlab
    required_path = ("merge_request.approval", "user.username")

    def fixture_names(self):
        return fixture_names("gitlab")

    def request(self, name, body=None, secret=SECRET, delivery="delivery-1"):
        return gitlab_request(name, body, secret, delivery)

    def verify(self, request, secret=SECRET):
        gitlab.verify(request, secret, SIGNING)

    def unsigned(self, request):
        drop = {"x-gitlab-token", "webhook-signature"}
        headers = {k: v for k, v in request.headers.items() if k not in drop}
        return WebhookRequest.of(headers, request.body, received_at=request.received_at)


class TestVerification:
    def test_the_token_alone_suffices_without_a_signing_token(self):
        gitlab.verify(gitlab_request("note.merge_request", signing=None), SECRET)

    def test_a_wrong_token_is_rejected_even_with_a_good_signature(self):
        request = gitlab_request("note.merge_request", secret="wrong")
        with pytest.raises(SignatureInvalid, match="X-Gitlab-Token"):
            gitlab.verify(request, SECRET, SIGNING)

    def test_with_a_signing_token_unsigned_deliveries_are_rejected(self):
        request = gitlab_request("note.merge_request", signing=None)
        with pytest.raises(SignatureInvalid, match="signed deliveries"):
            gitlab.verify(request, SECRET, SIGNING)

    def test_an_old_signed_delivery_is_a_replay(self):
        request = gitlab_request("note.merge_request")
        late = WebhookRequest.of(request.headers, request.body, received_at=NOW + 301)
        with pytest.raises(SignatureInvalid, match="five minutes"):
            gitlab.verify(late, SECRET, SIGNING)

    def test_a_signature_under_another_signing_token_is_rejected(self):
        other = "whsec_" + base64.b64encode(b"another key, another key, 32 b!").decode()
        request = gitlab_request("note.merge_request", signing=other)
        with pytest.raises(SignatureInvalid, match="webhook-signature"):
            gitlab.verify(request, SECRET, SIGNING)

    def test_any_of_several_signatures_may_match(self):
        request = gitlab_request("note.merge_request")
        headers = dict(request.headers)
        headers["webhook-signature"] = "v1,AAAA " + headers["webhook-signature"]
        gitlab.verify(WebhookRequest.of(headers, request.body, received_at=NOW), SECRET, SIGNING)


class TestDeliveryId:
    def test_the_idempotency_key_names_the_delivery(self):
        assert gitlab.parse(gitlab_request("note.merge_request", delivery="k-9")).delivery_id == (
            "k-9"
        )

    def test_without_keys_retries_are_recognised_by_their_body(self):
        request = gitlab_request("note.merge_request", signing=None)
        headers = {k: v for k, v in request.headers.items() if k != "idempotency-key"}
        bare = WebhookRequest.of(headers, request.body)
        assert gitlab.parse(bare).delivery_id == gitlab.parse(bare).delivery_id
        assert gitlab.parse(bare).delivery_id.startswith("sha256:")


class TestMapping:
    def test_an_opened_merge_request_is_authored(self):
        (statement,) = mapped("merge_request.open").statements
        assert statement["verb"]["id"] == p.AUTHORED
        assert statement["actor"] == {
            "objectType": "Agent",
            "name": "Administrator",
            "account": {"homePage": "http://example.com", "name": "root"},
        }
        assert (
            statement["object"]["id"]
            == "http://example.com/gitlabhq/gitlab-test/-/merge_requests/1"
        )
        assert statement["object"]["definition"]["name"] == {
            "en": "gitlabhq/gitlab-test!1: MS-Viewport"
        }
        grouping = statement["context"]["contextActivities"]["grouping"][0]
        assert grouping["id"] == "http://example.com/gitlabhq/gitlab-test"
        assert statement["context"]["platform"] == "GitLab"
        assert statement["timestamp"] == "2013-12-03T17:23:34Z"

    def test_an_approval_is_reviewed_then_approved_by_the_approver(self):
        reviewed, approved = mapped("merge_request.approval").statements
        assert [reviewed["verb"]["id"], approved["verb"]["id"]] == [p.REVIEWED, p.APPROVED]
        assert reviewed["actor"]["account"]["name"] == "user1"
        assert reviewed["result"]["success"] is True
        assert reviewed["result"]["extensions"][p.EXT_REVIEW_LATENCY] == 15 * 3600 + 51 * 60 + 26
        assert reviewed["timestamp"] == "2013-12-04T09:15:00Z"

    def test_fully_approved_is_not_counted_twice(self):
        result = mapped("merge_request.approved")
        assert result.statements == [] and "approval" in result.note

    def test_a_merge_is_merged_by_the_user(self):
        (statement,) = mapped("merge_request.merge").statements
        assert statement["verb"]["id"] == p.MERGED
        assert statement["actor"]["account"]["name"] == "root"

    def test_a_note_on_a_merge_request_is_commented(self):
        (statement,) = mapped("note.merge_request").statements
        assert statement["verb"]["id"] == p.COMMENTED
        assert statement["actor"]["account"] == {"homePage": "http://example.com", "name": "user1"}
        mr = "http://example.com/gitlab-org/gitlab-test/-/merge_requests/1"
        assert statement["object"]["id"] == mr  # from the note's URL: the payload has none
        assert statement["context"]["contextActivities"]["other"][0]["id"] == f"{mr}#note_1244"
        assert statement["result"]["extensions"] == {p.EXT_BODY_LENGTH: len("This MR needs work.")}
        assert statement["timestamp"] == "2015-05-17T18:21:36Z"  # "2015-05-17 18:21:36 UTC"

    @pytest.mark.parametrize(
        ("name", "note"),
        [
            ("note.issue", "other than a merge request"),
            ("note.system", "system notes"),
            ("merge_request.close", "'close'"),
        ],
    )
    def test_ignored_events_say_why(self, name, note):
        result = mapped(name)
        assert result.statements == [] and note in result.note

    def test_a_bad_time_is_malformed_with_its_path(self):
        payload = load_fixture("gitlab", "merge_request.open")
        payload["object_attributes"]["created_at"] = "yesterday"
        body = json.dumps(payload).encode()
        with pytest.raises(MalformedPayload) as raised:
            gitlab.map_event(gitlab.parse(gitlab_request("merge_request.open", body=body)))
        assert raised.value.errors[0].path == "object_attributes.created_at"
