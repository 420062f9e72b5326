"""The State, Activity Profile and Agent Profile Resources over HTTP, on SQLite and PostgreSQL.

xAPI 1.0.3 Communication 1.1, 2.2, 2.3, 2.6, 2.7, 3.1, 3.2 and 9274.1.1 §4.1.4, §4.1.6.2/5/6 (the
2.0 delta C2-C7, C14, C16); requirement ids are the ADL conformance suite's. Each test gets its
own store; assertions check the response, then what is stored.
"""

import hashlib
import json
import threading
import uuid
from urllib.parse import urlencode

import pytest

from tests.conftest import XapiClient, make_credential

V1, V2 = "1.0.3", "2.0.0"
VERSIONS = [V1, V2]
ACTIVITY = "http://www.example.com/activityId/hashset"
AGENT = {
    "objectType": "Agent",
    "account": {"homePage": "http://www.example.com/agentId/1", "name": "Rick James"},
}
STATE = "/activities/state"
ACTIVITY_PROFILE = "/activities/profile"
AGENT_PROFILE = "/agents/profile"
RESOURCES = [STATE, ACTIVITY_PROFILE, AGENT_PROFILE]
CREATE = {"If-None-Match": "*"}  # creates a document under every version's rules


def scope_of(path, **extra):
    """The scope parameters of a resource (no document id)."""
    if path == STATE:
        base = {"activityId": ACTIVITY, "agent": json.dumps(AGENT)}
    elif path == ACTIVITY_PROFILE:
        base = {"activityId": ACTIVITY}
    else:
        base = {"agent": json.dumps(AGENT)}
    base.update(extra)
    return {k: v for k, v in base.items() if v is not None}


def id_param(path):
    return "stateId" if path == STATE else "profileId"


def doc_params(path, doc_id=None, **extra):
    """Parameters naming one document (a fresh id unless given)."""
    return scope_of(path, **{id_param(path): doc_id or str(uuid.uuid4())}, **extra)


def sha1_etag(content):
    return '"' + hashlib.sha1(content).hexdigest() + '"'


def get(lrs, path, params, **kw):
    return lrs.get(path, query_string=params, **kw)


def stored_json(lrs, path, params, **kw):
    response = get(lrs, path, params, **kw)
    assert response.status_code == 200, response.get_json()
    return json.loads(response.data)


def error(response, status):
    """The JSON error body of a 4xx, after checking its status (README: every 4xx is JSON)."""
    assert response.status_code == status, (response.status_code, response.data)
    body = response.get_json()
    assert body["status"] == status
    assert body["message"]
    return body


@pytest.fixture
def clock(app, monkeypatch):
    """Control the LRS clock: ``clock.now`` is the time in ms the next write is stamped with."""

    class Clock:
        now = 1_800_000_000_000

        def __call__(self):
            return self.now

    fake = Clock()
    monkeypatch.setattr(app.extensions["learnloop"], "clock", fake)
    return fake


class TestSingleDocument:
    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    def test_any_content_comes_back_byte_exact_with_its_type(self, lrs, path, version):
        # Communication 2.2: "contents: arbitrary binary data"; XAPI-00188, 00190, 00273, 00287.
        params = doc_params(path)
        content = bytes(range(256)) * 4
        response = lrs.put(
            path,
            query_string=params,
            data=content,
            headers={**CREATE, "Content-Type": "image/png"},
            version=version,
        )
        assert response.status_code == 204, response.data
        assert response.data == b""

        response = get(lrs, path, params, version=version)
        assert response.status_code == 200
        assert response.data == content
        assert response.headers["Content-Type"] == "image/png"
        # Communication 3.1 / XAPI-00322: a quoted SHA-1 hex ETag (delta C2: quoted in 2.0).
        assert response.headers["ETag"] == sha1_etag(content)
        assert response.headers["Last-Modified"].endswith(" GMT")
        assert response.headers["X-Experience-API-Version"] == version

    @pytest.mark.parametrize("path", RESOURCES)
    def test_a_content_type_with_parameters_is_kept_as_sent(self, lrs, path):
        params = doc_params(path)
        body = '{"name":"Zoë"}'.encode()
        headers = {**CREATE, "Content-Type": "application/json; charset=utf-8"}
        assert lrs.put(path, query_string=params, data=body, headers=headers).status_code == 204
        response = get(lrs, path, params)
        assert response.data == body
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"

    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    def test_head_answers_like_get_without_a_body(self, lrs, path, version):
        # Communication 1.1 (XAPI-00125, XAPI-00126); delta C14.
        params = doc_params(path)
        assert (
            lrs.post(path, query_string=params, json={"a": 1}, version=version).status_code == 204
        )
        got = get(lrs, path, params, version=version)
        head = lrs.head(path, query_string=params, version=version)
        assert head.status_code == 200
        assert head.data == b""
        for name in ("ETag", "Last-Modified", "Content-Type", "X-Experience-API-Version"):
            assert head.headers[name] == got.headers[name]

        listing = lrs.head(path, query_string=scope_of(path), version=version)
        assert listing.status_code == 200
        assert listing.data == b""
        assert listing.headers["ETag"] == get(lrs, path, scope_of(path)).headers["ETag"]

    @pytest.mark.parametrize("path", RESOURCES)
    def test_a_missing_document_is_404(self, lrs, path):
        # Communication 3.2: 404 for a request targeting a specific document.
        error(get(lrs, path, doc_params(path)), 404)
        assert lrs.head(path, query_string=doc_params(path)).status_code == 404

    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    def test_post_creates_a_missing_document(self, lrs, path, version):
        # XAPI-00233, XAPI-00280, XAPI-00310: a POST to a new id is treated as a PUT.
        params = doc_params(path)
        document = {"name": "x", "location": {"name": "y"}}
        assert (
            lrs.post(path, query_string=params, json=document, version=version).status_code == 204
        )
        assert stored_json(lrs, path, params) == document

    @pytest.mark.parametrize("path", RESOURCES)
    def test_post_of_a_non_json_document_creates_it_as_sent(self, lrs, path):
        params = doc_params(path)
        headers = {"Content-Type": "text/plain"}
        assert lrs.post(path, query_string=params, data=b"abc", headers=headers).status_code == 204
        response = get(lrs, path, params)
        assert (response.data, response.headers["Content-Type"]) == (b"abc", "text/plain")

    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    def test_post_merges_top_level_properties(self, lrs, path, version):
        # Communication 2.2 JSON procedure; XAPI-00183, 00184, 00234, 00279, 00308.
        params = doc_params(path)
        first = {"car": {"make": "Ford", "model": "Escape"}, "driver": "Dale", "seat": 1}
        second = {"car": {"make": "Dodge"}, "driver": "Jeff", "series": {"nascar": "nextel"}}
        assert lrs.post(path, query_string=params, json=first, version=version).status_code == 204
        assert lrs.post(path, query_string=params, json=second, version=version).status_code == 204
        response = get(lrs, path, params)
        assert json.loads(response.data) == {
            "car": {"make": "Dodge"},
            "driver": "Jeff",
            "seat": 1,
            "series": {"nascar": "nextel"},
        }
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["ETag"] == sha1_etag(response.data)

    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            (b"abcdefg", "not/json"),  # XAPI-00229 case 1, XAPI-00281
            (b"abc", "application/x-www-form-urlencoded"),  # XAPI-00232, XAPI-00309
            (b"\x00\x01", "application/octet-stream"),  # XAPI-00278, XAPI-00313
            (b'{"a": 1}{', "application/json"),  # XAPI-00229 case 3
            (b"[1, 2]", "application/json"),  # JSON, but not an object
        ],
    )
    def test_post_onto_json_needs_a_json_object(self, lrs, path, version, body, content_type):
        # Communication 2.2: 400 and no change when the posted document cannot be merged.
        params = doc_params(path)
        original = {"keep": "me"}
        assert lrs.post(path, query_string=params, json=original).status_code == 204
        response = lrs.post(
            path,
            query_string=params,
            data=body,
            headers={"Content-Type": content_type},
            version=version,
        )
        error(response, 400)
        assert stored_json(lrs, path, params) == original

    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    def test_post_onto_a_non_json_document_is_400(self, lrs, path, version):
        # XAPI-00229 case 2 (existing document not application/json); XAPI-00278, XAPI-00313.
        params = doc_params(path)
        original = b"/ asdf / undefined"
        headers = {**CREATE, "Content-Type": "application/octet-stream"}
        assert lrs.put(path, query_string=params, data=original, headers=headers).status_code == 204
        response = lrs.post(path, query_string=params, json={"a": 1}, version=version)
        body = error(response, 400)
        assert "application/json" in body["message"]
        stored = get(lrs, path, params)
        assert (stored.data, stored.headers["Content-Type"]) == (
            original,
            "application/octet-stream",
        )

    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    def test_post_of_invalid_json_is_400_and_stores_nothing(self, lrs, path, version):
        # XAPI-00314 (and XAPI-00235/00284): invalid JSON under application/json -> 400.
        params = doc_params(path)
        response = lrs.post(
            path,
            query_string=params,
            data=b'{"name": "x"}[',
            headers={"Content-Type": "application/json"},
            version=version,
        )
        error(response, 400)
        error(get(lrs, path, params), 404)

    @pytest.mark.parametrize("path", RESOURCES)
    def test_put_declared_json_must_be_json_under_1_0_3_but_not_2_0(self, lrs, path):
        # Communication 3.2 SHOULD* (content must match its type); removed in 9274.1.1 (C16).
        params = doc_params(path)
        headers = {**CREATE, "Content-Type": "application/json"}
        response = lrs.put(path, query_string=params, data=b"{nope", headers=headers, version=V1)
        error(response, 400)
        error(get(lrs, path, params), 404)
        response = lrs.put(path, query_string=params, data=b"{nope", headers=headers, version=V2)
        assert response.status_code == 204
        assert get(lrs, path, params).data == b"{nope"

    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    def test_delete_removes_one_document(self, lrs, path, version):
        # XAPI-00187, XAPI-00191, XAPI-00216, XAPI-00271, XAPI-00285.
        params, other = doc_params(path), doc_params(path)
        for p in (params, other):
            assert lrs.post(path, query_string=p, json={"a": 1}).status_code == 204
        response = lrs.delete(path, query_string=params, version=version)
        assert response.status_code == 204
        assert response.data == b""
        error(get(lrs, path, params), 404)
        assert stored_json(lrs, path, other) == {"a": 1}

    @pytest.mark.parametrize("path", RESOURCES)
    def test_deleting_a_missing_document_is_204(self, lrs, path):
        # XAPI-00285: the CTS deletes a never-stored Activity Profile and expects 204.
        assert lrs.delete(path, query_string=doc_params(path)).status_code == 204


class TestIdLists:
    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    def test_ids_since_a_timestamp(self, lrs, path, version, clock):
        # XAPI-00193, 00195, 00221, 00268, 00270, 00275, 00289, 00294: ids changed after since
        # (exclusive); Communication 2.2 Last-Modified of the most recent one (1.0.3 SHOULD*).
        clock.now = 1_800_000_000_000  # 2027-01-15T08:00:00Z
        old, new = doc_params(path, "old"), doc_params(path, "new")
        assert lrs.post(path, query_string=old, json={"a": 1}).status_code == 204
        clock.now += 5000
        assert lrs.post(path, query_string=new, json={"a": 1}).status_code == 204

        everything = get(lrs, path, scope_of(path), version=version)
        assert everything.status_code == 200
        assert everything.headers["Content-Type"] == "application/json"
        assert json.loads(everything.data) == ["old", "new"]
        assert everything.headers["Last-Modified"] == "Fri, 15 Jan 2027 08:00:05 GMT"
        assert everything.headers["ETag"] == sha1_etag(everything.data)

        def since(value):
            return stored_json(lrs, path, scope_of(path, since=value), version=version)

        assert since("2027-01-15T08:00:00Z") == ["new"]  # exclusive
        assert since("2027-01-15T07:59:59.999Z") == ["old", "new"]
        assert since("2027-01-15T09:00:04+01:00") == ["new"]
        assert since("2027-01-15T08:00:05Z") == []
        empty = get(lrs, path, scope_of(path, since="2027-01-15T08:00:05Z"), version=version)
        assert "Last-Modified" not in empty.headers

    @pytest.mark.parametrize("path", RESOURCES)
    def test_since_does_not_filter_a_single_document(self, lrs, path):
        # CTS note on XAPI-00192: no requirement to react to since when an id is given.
        params = doc_params(path)
        assert lrs.post(path, query_string=params, json={"a": 1}).status_code == 204
        assert stored_json(lrs, path, {**params, "since": "2999-01-01T00:00:00Z"}) == {"a": 1}

    @pytest.mark.parametrize("path", RESOURCES)
    def test_an_update_moves_a_document_past_since(self, lrs, path, clock):
        params = doc_params(path, "doc")
        assert lrs.post(path, query_string=params, json={"a": 1}).status_code == 204
        clock.now += 60_000
        assert lrs.post(path, query_string=params, json={"b": 2}).status_code == 204
        after_first = "2027-01-15T08:00:30Z"
        assert stored_json(lrs, path, scope_of(path, since=after_first)) == ["doc"]

    @pytest.mark.parametrize("path", RESOURCES)
    def test_an_empty_scope_lists_nothing(self, lrs, path):
        response = get(lrs, path, scope_of(path))
        assert response.status_code == 200
        assert json.loads(response.data) == []

    def test_profile_lists_are_scoped_by_activity_or_agent(self, lrs):
        other_activity = {"activityId": "http://example.com/other"}
        other_agent = {"agent": json.dumps({"mbox": "mailto:other@example.com"})}
        for params in (other_activity, other_agent):
            path = ACTIVITY_PROFILE if "activityId" in params else AGENT_PROFILE
            assert (
                lrs.post(path, query_string={**params, "profileId": "p"}, json={}).status_code
                == 204
            )
            assert stored_json(lrs, path, scope_of(path)) == []
            assert stored_json(lrs, path, params) == ["p"]

    def test_state_lists_are_scoped_by_activity_agent_and_registration(self, lrs):
        # Communication 2.3: ids "for this context (Activity + Agent [+ registration])"; a
        # request without registration addresses the states stored without one.
        registration = str(uuid.uuid4())
        plain = doc_params(STATE, "plain")
        registered = doc_params(STATE, "registered", registration=registration)
        other_agent = doc_params(STATE, "other", agent=json.dumps({"mbox": "mailto:o@example.com"}))
        for params in (plain, registered, other_agent):
            assert lrs.post(STATE, query_string=params, json={}).status_code == 204
        assert stored_json(lrs, STATE, scope_of(STATE)) == ["plain"]
        assert stored_json(lrs, STATE, scope_of(STATE, registration=registration)) == ["registered"]
        # The registration identifies the document (XAPI-00218..00220, 00227).
        error(get(lrs, STATE, doc_params(STATE, "registered")), 404)
        assert stored_json(lrs, STATE, registered) == {}

    @pytest.mark.parametrize("version", VERSIONS)
    def test_state_delete_without_id_clears_the_context_only(self, lrs, version):
        # XAPI-00194: DELETE without stateId deletes the states of that context.
        registration = str(uuid.uuid4())
        plain = [doc_params(STATE, f"s{n}") for n in range(3)]
        registered = doc_params(STATE, "r", registration=registration)
        elsewhere = doc_params(STATE, "e", activityId="http://example.com/elsewhere")
        for params in (*plain, registered, elsewhere):
            assert lrs.post(STATE, query_string=params, json={"a": 1}).status_code == 204

        response = lrs.delete(STATE, query_string=scope_of(STATE), version=version)
        assert response.status_code == 204
        assert stored_json(lrs, STATE, scope_of(STATE)) == []
        assert stored_json(lrs, STATE, registered) == {"a": 1}
        assert stored_json(lrs, STATE, elsewhere) == {"a": 1}

        response = lrs.delete(
            STATE, query_string=scope_of(STATE, registration=registration), version=version
        )
        assert response.status_code == 204
        error(get(lrs, STATE, registered), 404)


class TestParameters:
    @pytest.mark.parametrize("method", ["get", "put", "post", "delete"])
    @pytest.mark.parametrize(
        ("path", "missing"),
        [
            (STATE, "activityId"),  # XAPI-00207..00210
            (STATE, "agent"),  # XAPI-00212..00215
            (ACTIVITY_PROFILE, "activityId"),  # XAPI-00296..00299
            (AGENT_PROFILE, "agent"),  # XAPI-00261..00264
        ],
    )
    def test_a_missing_scope_parameter_is_400(self, lrs, method, path, missing):
        params = doc_params(path)
        del params[missing]
        kwargs = {"json": {"a": 1}, "headers": CREATE} if method in ("put", "post") else {}
        body = error(getattr(lrs, method)(path, query_string=params, **kwargs), 400)
        assert body["errors"][0]["path"] == missing

    @pytest.mark.parametrize("method", ["put", "post"])
    @pytest.mark.parametrize("path", RESOURCES)
    def test_a_write_without_a_document_id_is_400(self, lrs, method, path):
        # XAPI-00206, 00211, 00266, 00267, 00301, 00302.
        response = getattr(lrs, method)(
            path, query_string=scope_of(path), json={"a": 1}, headers=CREATE
        )
        assert error(response, 400)["errors"][0]["path"] == id_param(path)

    @pytest.mark.parametrize("path", [ACTIVITY_PROFILE, AGENT_PROFILE])
    def test_a_profile_delete_without_profile_id_is_400(self, lrs, path):
        # XAPI-00265, XAPI-00300: only the State has a multiple DELETE.
        assert lrs.post(path, query_string=doc_params(path, "p"), json={}).status_code == 204
        error(lrs.delete(path, query_string=scope_of(path)), 400)
        assert stored_json(lrs, path, scope_of(path)) == ["p"]

    @pytest.mark.parametrize("method", ["get", "put", "post", "delete"])
    @pytest.mark.parametrize("path", [STATE, AGENT_PROFILE])
    @pytest.mark.parametrize(
        "agent",
        [
            "not JSON",
            "true",
            json.dumps({"mbox": "someone@example.com"}),
            json.dumps({"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}),
        ],
    )
    def test_an_invalid_agent_is_400(self, lrs, method, path, agent):
        # XAPI-00196..00199 (State), XAPI-00255..00258 (Agent Profile): not an Agent or
        # Identified Group as JSON.
        params = doc_params(path, agent=agent)
        kwargs = {"json": {"a": 1}, "headers": CREATE} if method in ("put", "post") else {}
        body = error(getattr(lrs, method)(path, query_string=params, **kwargs), 400)
        assert body["errors"][0]["path"].startswith("agent")

    def test_a_broken_agent_encoding_is_400(self, lrs):
        # XAPI-00235, XAPI-00284: the agent parameter's JSON is broken in the URL.
        agent = json.dumps(AGENT).replace(":", '"', 1)
        for path in (STATE, AGENT_PROFILE):
            params = doc_params(path, agent=agent)
            error(lrs.post(path, query_string=params, json={"a": 1}), 400)

    @pytest.mark.parametrize("path", [STATE, AGENT_PROFILE])
    def test_an_identified_group_is_a_valid_agent(self, lrs, path):
        group = json.dumps({"objectType": "Group", "mbox": "mailto:team@example.com"})
        params = doc_params(path, agent=group)
        assert lrs.post(path, query_string=params, json={"a": 1}).status_code == 204
        assert stored_json(lrs, path, params) == {"a": 1}

    @pytest.mark.parametrize("method", ["get", "put", "post", "delete"])
    def test_a_registration_that_is_not_a_uuid_is_400(self, lrs, method):
        # XAPI-00200..00203.
        params = doc_params(STATE, registration="true")
        kwargs = {"json": {"a": 1}} if method in ("put", "post") else {}
        body = error(getattr(lrs, method)(STATE, query_string=params, **kwargs), 400)
        assert body["errors"][0]["path"] == "registration"

    @pytest.mark.parametrize("path", [STATE, ACTIVITY_PROFILE])
    def test_an_activity_id_that_is_not_an_iri_is_400(self, lrs, path):
        params = doc_params(path, activityId="not an IRI")
        assert error(get(lrs, path, params), 400)["errors"][0]["path"] == "activityId"

    @pytest.mark.parametrize("path", RESOURCES)
    @pytest.mark.parametrize("value", ["not a timestamp", "true"])
    def test_a_since_that_is_not_a_timestamp_is_400(self, lrs, path, value):
        # XAPI-00204, XAPI-00260, XAPI-00295.
        body = error(get(lrs, path, scope_of(path, since=value)), 400)
        assert body["errors"][0]["path"] == "since"

    @pytest.mark.parametrize("path", RESOURCES)
    @pytest.mark.parametrize("name", ["bogus", "StateId", "ProfileId", "activityid", "Agent"])
    def test_unknown_or_miscased_parameters_are_400(self, lrs, path, name):
        # Communication 3.2 (both versions, delta C16).
        params = {**doc_params(path), name: "x"}
        body = error(get(lrs, path, params), 400)
        assert {"path": name, "message": "unknown parameter"} in body["errors"]

    def test_since_on_a_delete_is_400(self, lrs):
        # XAPI-00205/00223: since is not a parameter of the State DELETE.
        params = doc_params(STATE)
        assert lrs.post(STATE, query_string=params, json={}).status_code == 204
        error(lrs.delete(STATE, query_string=scope_of(STATE, since="2020-01-01T00:00:00Z")), 400)
        assert stored_json(lrs, STATE, params) == {}

    def test_a_parameter_given_twice_is_400(self, lrs):
        query = [("activityId", ACTIVITY), ("activityId", ACTIVITY), ("stateId", "s")]
        query.append(("agent", json.dumps(AGENT)))
        body = error(lrs.get(STATE, query_string=urlencode(query)), 400)
        assert body["errors"][0]["path"] == "activityId"

    def test_document_ids_are_opaque_strings(self, lrs):
        for doc_id in ("a b/c?d&e=f", "Zoë 🚀", "x" * 1000):
            params = doc_params(STATE, doc_id)
            assert lrs.post(STATE, query_string=params, json={"id": doc_id}).status_code == 204
            assert stored_json(lrs, STATE, params) == {"id": doc_id}
        assert set(stored_json(lrs, STATE, scope_of(STATE))) == {
            "a b/c?d&e=f",
            "Zoë 🚀",
            "x" * 1000,
        }
        error(lrs.post(STATE, query_string=doc_params(STATE, "x" * 1025), json={}), 400)


class TestConcurrency:
    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    @pytest.mark.parametrize("method", ["put", "post", "delete"])
    def test_a_stale_if_match_is_412_and_changes_nothing(self, lrs, version, path, method):
        # Communication 3.1 (PUT MUST, POST/DELETE SHOULD*); 9274.1.1 §4.1.4, delta C3.
        params = doc_params(path)
        original = {"name": "original"}
        assert lrs.post(path, query_string=params, json=original).status_code == 204
        kwargs = {"json": {"name": "changed"}} if method != "delete" else {}
        for stale in ('"1234"', '"1111111111111111111111111111111111111111"', '"a", "b"'):
            response = getattr(lrs, method)(
                path, query_string=params, headers={"If-Match": stale}, version=version, **kwargs
            )
            error(response, 412)
            assert stored_json(lrs, path, params) == original

    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    @pytest.mark.parametrize("method", ["put", "post", "delete"])
    def test_the_current_etag_lets_the_write_through(self, lrs, version, path, method):
        # Communication 3.1; delta C3: matching ETag -> 204 and the change is applied.
        params = doc_params(path)
        assert lrs.post(path, query_string=params, json={"name": "a", "k": 1}).status_code == 204
        etag = get(lrs, path, params).headers["ETag"]
        kwargs = {"json": {"name": "b"}} if method != "delete" else {}
        response = getattr(lrs, method)(
            path,
            query_string=params,
            headers={"If-Match": f'"nope", {etag}'},
            version=version,
            **kwargs,
        )
        assert response.status_code == 204, response.data
        if method == "delete":
            error(get(lrs, path, params), 404)
        else:
            expected = {"name": "b"} if method == "put" else {"name": "b", "k": 1}
            assert stored_json(lrs, path, params) == expected

    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    def test_if_match_star_needs_an_existing_document(self, lrs, version, path):
        params = doc_params(path)
        headers = {"If-Match": "*"}
        error(lrs.put(path, query_string=params, json={}, headers=headers, version=version), 412)
        error(get(lrs, path, params), 404)
        assert lrs.post(path, query_string=params, json={"a": 1}).status_code == 204
        response = lrs.put(
            path, query_string=params, json={"b": 2}, headers=headers, version=version
        )
        assert response.status_code == 204
        assert stored_json(lrs, path, params) == {"b": 2}

    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    def test_if_none_match_star_creates_only(self, lrs, version, path):
        # Communication 3.1 MUST for PUT (XAPI-00322 CTS "rejects if a document already
        # exists"); kept for 2.0 (delta C6).
        params = doc_params(path)
        first = lrs.put(path, query_string=params, json={"n": 1}, headers=CREATE, version=version)
        assert first.status_code == 204
        again = lrs.put(path, query_string=params, json={"n": 2}, headers=CREATE, version=version)
        error(again, 412)
        posted = lrs.post(path, query_string=params, json={"n": 3}, headers=CREATE, version=version)
        error(posted, 412)
        assert stored_json(lrs, path, params) == {"n": 1}

    @pytest.mark.parametrize("path", RESOURCES)
    def test_if_none_match_with_the_current_etag_is_412_on_writes_and_304_on_get(self, lrs, path):
        params = doc_params(path)
        assert lrs.post(path, query_string=params, json={"n": 1}).status_code == 204
        etag = get(lrs, path, params).headers["ETag"]
        error(lrs.put(path, query_string=params, json={}, headers={"If-None-Match": etag}), 412)
        cached = get(lrs, path, params, headers={"If-None-Match": etag})
        assert cached.status_code == 304
        assert cached.data == b""
        assert cached.headers["ETag"] == etag
        assert get(lrs, path, params, headers={"If-None-Match": '"other"'}).status_code == 200

    @pytest.mark.parametrize("path", RESOURCES)
    def test_id_lists_answer_conditional_gets_too(self, lrs, path):
        assert lrs.post(path, query_string=doc_params(path, "a"), json={}).status_code == 204
        etag = get(lrs, path, scope_of(path)).headers["ETag"]
        assert get(lrs, path, scope_of(path), headers={"If-None-Match": etag}).status_code == 304
        error(get(lrs, path, scope_of(path), headers={"If-Match": '"stale"'}), 412)
        assert lrs.post(path, query_string=doc_params(path, "b"), json={}).status_code == 204
        changed = get(lrs, path, scope_of(path), headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert sorted(json.loads(changed.data)) == ["a", "b"]

    @pytest.mark.parametrize(
        ("version", "path", "status"),
        [
            (V1, STATE, 204),  # 1.0.3: State writes need no concurrency header
            (V1, ACTIVITY_PROFILE, 409),  # Communication 3.1 (CTS "Return 409 conflict")
            (V1, AGENT_PROFILE, 409),
            (V2, STATE, 409),  # 9274.1.1 §4.1.4, delta C4: now the State too
            (V2, ACTIVITY_PROFILE, 409),
            (V2, AGENT_PROFILE, 409),
        ],
    )
    def test_a_header_less_put_on_an_existing_document(self, lrs, version, path, status):
        params = doc_params(path)
        assert lrs.post(path, query_string=params, json={"n": 1}).status_code == 204
        response = lrs.put(path, query_string=params, json={"n": 2}, version=version)
        if status == 204:
            assert response.status_code == 204
            assert stored_json(lrs, path, params) == {"n": 2}
            return
        body = error(response, 409)
        # "MUST return a response explaining": check the resource, then set If-Match.
        assert "If-Match" in body["message"] and "GET" in body["message"]
        assert stored_json(lrs, path, params) == {"n": 1}

    @pytest.mark.parametrize(
        ("version", "path", "status"),
        [
            (V1, STATE, 204),  # XAPI-00190: header-less State PUT
            (V1, ACTIVITY_PROFILE, 400),  # CTS 2.7 "fails without ETag header"
            (V1, AGENT_PROFILE, 400),  # XAPI-00273 "without an ETag header returns an error"
            (V2, STATE, 204),  # delta C5: 2.0 creates a new document without headers
            (V2, ACTIVITY_PROFILE, 204),
            (V2, AGENT_PROFILE, 204),
        ],
    )
    def test_a_header_less_put_of_a_new_document(self, lrs, version, path, status):
        params = doc_params(path)
        response = lrs.put(path, query_string=params, json={"n": 1}, version=version)
        if status == 204:
            assert response.status_code == 204
            assert stored_json(lrs, path, params) == {"n": 1}
        else:
            assert "If-None-Match" in error(response, 400)["message"]
            error(get(lrs, path, params), 404)

    @pytest.mark.parametrize("version", VERSIONS)
    @pytest.mark.parametrize("path", RESOURCES)
    def test_last_modified_advances_with_every_change(self, lrs, version, path, clock):
        # Communication 2.2 Last-Modified; 9274.1.1 SHALL, delta C7 (the CTS waits 1.5 s).
        params = doc_params(path)
        assert lrs.post(path, query_string=params, json={"a": 1}).status_code == 204
        before = get(lrs, path, params, version=version).headers["Last-Modified"]
        assert before == "Fri, 15 Jan 2027 08:00:00 GMT"
        clock.now += 1500
        assert (
            lrs.post(path, query_string=params, json={"b": 2}, version=version).status_code == 204
        )
        after = get(lrs, path, params, version=version).headers["Last-Modified"]
        assert after == "Fri, 15 Jan 2027 08:00:01 GMT"

    @pytest.mark.parametrize("path", RESOURCES)
    def test_concurrent_creates_store_one_document(self, lrs, path):
        # DESIGN: the database enforces uniqueness; racing If-None-Match: * creates give one
        # 204 and 412s, never a 500 or two rows.
        params = doc_params(path)
        barrier = threading.Barrier(6)
        results = []

        def create(n):
            client = XapiClient(lrs.app, lrs.key, lrs.secret)
            barrier.wait()
            response = client.put(path, query_string=params, json={"n": n}, headers=CREATE)
            results.append(response.status_code)

        threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [204] + [412] * 5
        winner = stored_json(lrs, path, params)
        assert winner["n"] in range(6)
        assert stored_json(lrs, path, scope_of(path)) == [params[id_param(path)]]

    @pytest.mark.parametrize("path", RESOURCES)
    def test_concurrent_if_match_updates_let_one_through(self, lrs, path):
        params = doc_params(path)
        assert lrs.post(path, query_string=params, json={"n": -1}).status_code == 204
        etag = get(lrs, path, params).headers["ETag"]
        barrier = threading.Barrier(6)
        results = []

        def update(n):
            client = XapiClient(lrs.app, lrs.key, lrs.secret)
            barrier.wait()
            headers = {"If-Match": etag}
            response = client.put(path, query_string=params, json={"n": n}, headers=headers)
            results.append(response.status_code)

        threads = [threading.Thread(target=update, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [204] + [412] * 5


class TestScopesAndStores:
    @pytest.mark.parametrize(
        ("scopes", "state_read", "state_write", "profile_read", "profile_write"),
        [
            (["state"], 200, 204, 403, 403),
            (["profile"], 403, 403, 200, 204),
            (["all/read"], 200, 403, 200, 403),
            (["all"], 200, 204, 200, 204),
            (["statements/write", "statements/read", "define"], 403, 403, 403, 403),
        ],
    )
    def test_scopes(self, app, scopes, state_read, state_write, profile_read, profile_write):
        # Communication 4.2: state and profile read/write their documents; all/read reads all.
        _, key, secret = make_credential(app, scopes=scopes)
        client = XapiClient(app, key, secret)
        expected = {STATE: (state_read, state_write)}
        expected[ACTIVITY_PROFILE] = expected[AGENT_PROFILE] = (profile_read, profile_write)
        for path, (read, write) in expected.items():
            params = doc_params(path)
            for method in ("put", "post", "delete"):
                kwargs = {"put": {"json": {}, "headers": CREATE}, "post": {"json": {}}}
                kwargs = kwargs.get(method, {})
                response = getattr(client, method)(path, query_string=params, **kwargs)
                assert response.status_code == write, (path, method)
                if write == 403:
                    assert error(response, 403)["code"] == "forbidden"
            assert get(client, path, scope_of(path)).status_code == read
            assert client.head(path, query_string=scope_of(path)).status_code == read

    @pytest.mark.parametrize("path", RESOURCES)
    def test_stores_never_see_each_others_documents(self, app, lrs, path):
        # DESIGN: every row belongs to a store; every query filters by it.
        _, key, secret = make_credential(app)
        other = XapiClient(app, key, secret)
        params = doc_params(path, "shared-id")
        assert lrs.post(path, query_string=params, json={"store": "one"}).status_code == 204
        error(get(other, path, params), 404)
        assert stored_json(other, path, scope_of(path)) == []
        # The same id in the other store is its own document.
        assert other.post(path, query_string=params, json={"store": "two"}).status_code == 204
        assert stored_json(lrs, path, params) == {"store": "one"}
        assert other.delete(path, query_string=params).status_code == 204
        if path == STATE:
            assert other.delete(path, query_string=scope_of(path)).status_code == 204
        assert stored_json(lrs, path, params) == {"store": "one"}
        assert stored_json(other, path, scope_of(path)) == []


class TestAlternateRequestSyntax:
    def test_documents_through_the_alternate_syntax_of_1_0_3(self, lrs):
        # Communication 1.3: a form POST with method=PUT stands for the PUT (1.0.3 only; 2.0
        # dropped the syntax, delta C1).
        params = doc_params(ACTIVITY_PROFILE)
        form = {
            **params,
            "content": json.dumps({"via": "form"}),
            "If-None-Match": "*",
            "X-Experience-API-Version": V1,
            "Authorization": lrs.headers()["Authorization"],
        }
        response = lrs.client.post(
            "/xapi/activities/profile?method=PUT",
            data=urlencode(form),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 204, response.data
        assert stored_json(lrs, ACTIVITY_PROFILE, params, version=V1) == {"via": "form"}
        form["X-Experience-API-Version"] = V2
        response = lrs.client.post(
            "/xapi/activities/profile?method=PUT",
            data=urlencode(form),
            content_type="application/x-www-form-urlencoded",
        )
        error(response, 400)


class TestLimits:
    def test_a_document_over_the_size_limit_is_413(self, app):
        # Communication 3.2: 413 for a document larger than the LRS accepts.
        from learnloop import create_app

        url = app.extensions["learnloop"].config.database_url
        small = create_app({"database_url": url, "max_request_bytes": 1000})
        try:
            _, key, secret = make_credential(small)
            client = XapiClient(small, key, secret)
            params = doc_params(STATE)
            response = client.put(STATE, query_string=params, data=b"x" * 1001)
            assert error(response, 413)["code"] == "payload_too_large"
            error(get(client, STATE, params), 404)
            assert client.put(STATE, query_string=params, data=b"x" * 1000).status_code == 204
        finally:
            small.extensions["learnloop"].engine.dispose()
