"""Pure rules of the Document Resources (Communication 2.2-2.7, 3.1, 3.2; 9274.1.1 §4.1.4)."""

import hashlib
import json

import pytest

from lrs.core import documents as rules
from lrs.core.documents import (
    ACTIVITY_PROFILE,
    ACTIVITY_PROFILE_RESOURCE,
    AGENT_PROFILE,
    AGENT_PROFILE_RESOURCE,
    ANY,
    STATE,
    STATE_RESOURCE,
    Conditions,
    EntityTag,
    Outcome,
    Scope,
)
from lrs.errors import BadRequest, Conflict, PreconditionFailed

V1, V2 = "1.0.3", "2.0.0"
ACTIVITY = "http://www.example.com/activityId/hashset"
AGENT = {"objectType": "Agent", "account": {"homePage": "http://www.example.com", "name": "Rick"}}
REGISTRATION = "c8e5d0e8-7b3a-4d57-8a2b-3b8d7d6f9f01"
ETAG = rules.etag_of(b'{"a":1}')
OTHER = rules.etag_of(b'{"a":2}')


def params(**values):
    """Query parameters as Flask's ``to_dict(flat=False)`` gives them."""
    return {k: v if isinstance(v, list) else [v] for k, v in values.items()}


def state(method="GET", version=V2, **values):
    base = {"activityId": ACTIVITY, "agent": json.dumps(AGENT), "stateId": "s1"}
    base.update(values)
    base = {k: v for k, v in base.items() if v is not None}
    return rules.parse_request(STATE_RESOURCE, method, params(**base), version)


class TestParseRequest:
    def test_a_state_request_names_its_scope_and_id(self):
        parsed = state(registration=REGISTRATION.upper())
        assert parsed.document_id == "s1"
        assert parsed.scope == Scope(
            STATE, ACTIVITY, "account|http://www.example.com|Rick", REGISTRATION
        )

    def test_scopes_differ_by_registration_and_kind(self):
        # A State with a registration lives apart from one without (Communication 2.3).
        with_reg = state(registration=REGISTRATION).scope.key
        without = state().scope.key
        assert with_reg != without
        assert len(without) == 64
        assert Scope(ACTIVITY_PROFILE, ACTIVITY).key != Scope(STATE, ACTIVITY).key

    def test_an_identified_group_scopes_like_an_agent_with_the_same_ifi(self):
        # Communication 2.6 note: an Identified Group's identifier may be used as the Agent.
        group = {"objectType": "Group", "mbox": "mailto:team@example.com"}
        agent = {"mbox": "mailto:team@example.com"}
        parse = rules.parse_request
        a = parse(AGENT_PROFILE_RESOURCE, "GET", params(agent=json.dumps(group)), V2)
        b = parse(AGENT_PROFILE_RESOURCE, "GET", params(agent=json.dumps(agent)), V2)
        assert a.scope == b.scope

    @pytest.mark.parametrize(
        ("method", "missing"),
        [
            ("PUT", "activityId"),  # XAPI-00210
            ("POST", "activityId"),  # XAPI-00209
            ("GET", "activityId"),  # XAPI-00208
            ("DELETE", "activityId"),  # XAPI-00207
            ("PUT", "agent"),  # XAPI-00215
            ("POST", "agent"),  # XAPI-00214
            ("GET", "agent"),  # XAPI-00213
            ("DELETE", "agent"),  # XAPI-00212
            ("PUT", "stateId"),  # XAPI-00206
            ("POST", "stateId"),  # XAPI-00211
        ],
    )
    def test_a_missing_required_state_parameter_is_a_400(self, method, missing):
        with pytest.raises(BadRequest) as err:
            state(method, **{missing: None})
        assert err.value.errors[0].path == missing
        assert err.value.errors[0].message == "required"

    @pytest.mark.parametrize("method", ["GET", "DELETE"])
    def test_the_state_id_is_optional_for_get_and_delete(self, method):
        # XAPI-00193 (id list), XAPI-00194 (multiple DELETE).
        assert state(method, stateId=None).document_id is None

    @pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
    @pytest.mark.parametrize("resource", [ACTIVITY_PROFILE_RESOURCE, AGENT_PROFILE_RESOURCE])
    def test_a_profile_write_needs_its_profile_id(self, resource, method):
        # XAPI-00265/00266/00267, XAPI-00300/00301/00302: no multiple DELETE on profiles.
        if resource is ACTIVITY_PROFILE_RESOURCE:
            scope = {"activityId": ACTIVITY}
        else:
            scope = {"agent": json.dumps(AGENT)}
        with pytest.raises(BadRequest) as err:
            rules.parse_request(resource, method, params(**scope), V2)
        assert err.value.errors[0].path == "profileId"

    @pytest.mark.parametrize(
        "name", ["bogus", "ActivityId", "stateid", "profileId", "Registration", "activity"]
    )
    def test_unknown_or_miscased_parameters_are_a_400(self, name):
        # Communication 3.2: unrecognised parameters, and those matching only in case, are 400.
        with pytest.raises(BadRequest) as err:
            state(**{name: "x"})
        assert err.value.errors == [rules.FieldError(name, "unknown parameter")]

    @pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
    def test_since_belongs_to_get_only(self, method):
        # XAPI-00205 / XAPI-00223: there is no since on a DELETE (nor on writes).
        with pytest.raises(BadRequest) as err:
            state(method, since="2020-01-01T00:00:00Z")
        assert err.value.errors[0].path == "since"

    def test_since_with_an_id_is_accepted_and_parsed(self):
        # CTS note on XAPI-00192: no requirement to react to since with a stateId.
        assert state(since="2020-01-01T00:00:00.500Z").since_ms == 1577836800500

    @pytest.mark.parametrize("value", ["not a timestamp", "true", "2020-01-01T00:00:00-00:00"])
    def test_a_since_that_is_not_a_timestamp_is_a_400(self, value):
        # XAPI-00204, XAPI-00260, XAPI-00295.
        with pytest.raises(BadRequest) as err:
            state(stateId=None, since=value)
        assert err.value.errors[0].path == "since"

    @pytest.mark.parametrize(
        "agent",
        [
            "not JSON",  # XAPI-00199
            "true",  # XAPI-00196/00197/00198
            json.dumps({"mbox": "ann@example.com"}),  # not a mailto IRI
            json.dumps({"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}),
            json.dumps({"mbox": "mailto:a@example.com", "openid": "http://a.example.com"}),
        ],
    )
    def test_an_agent_that_is_not_an_agent_or_identified_group_is_a_400(self, agent):
        with pytest.raises(BadRequest) as err:
            state(agent=agent)
        assert err.value.errors[0].path.startswith("agent")

    @pytest.mark.parametrize(
        "registration", ["true", "not-a-uuid", "c8e5d0e87b3a4d578a2b3b8d7d6f9f01"]
    )
    def test_a_registration_that_is_not_a_uuid_is_a_400(self, registration):
        # XAPI-00200..00203.
        with pytest.raises(BadRequest) as err:
            state(registration=registration)
        assert err.value.errors[0].path == "registration"

    def test_an_activity_id_that_is_not_an_iri_is_a_400(self):
        with pytest.raises(BadRequest) as err:
            state(activityId="not an iri")
        assert err.value.errors[0].path == "activityId"

    def test_a_parameter_given_twice_is_a_400(self):
        with pytest.raises(BadRequest) as err:
            rules.parse_request(
                STATE_RESOURCE,
                "GET",
                {**params(agent=json.dumps(AGENT)), "activityId": [ACTIVITY, ACTIVITY]},
                V2,
            )
        assert err.value.errors[0].path == "activityId"

    def test_document_ids_are_opaque_but_not_empty_nor_huge(self):
        assert state(stateId="a b/c?é").document_id == "a b/c?é"
        with pytest.raises(BadRequest):
            state(stateId="")
        with pytest.raises(BadRequest):
            state(stateId="é" * (rules.MAX_ID_BYTES // 2 + 1))


class TestEtags:
    def test_the_etag_is_the_quoted_lower_case_sha1_of_the_content(self):
        # Communication 3.1 (XAPI-00322): SHA-1 hex of the contents, enclosed in quotes.
        assert ETAG == '"' + hashlib.sha1(b'{"a":1}').hexdigest() + '"'

    @pytest.mark.parametrize(
        ("header", "tags"),
        [
            ("*", ANY),
            (' "a" ', [EntityTag("a")]),
            ('"a", W/"b",  "c,d"', [EntityTag("a"), EntityTag("b", True), EntityTag("c,d")]),
            ("abc", [EntityTag("abc")]),
            ("", None),
            (None, None),
        ],
    )
    def test_if_match_lists_are_parsed(self, header, tags):
        if header == "":
            assert Conditions(if_match=header).if_match is None
            return
        assert rules.parse_etags(header) == tags

    def test_a_header_that_is_not_a_tag_list_is_a_400(self):
        with pytest.raises(BadRequest):
            rules.parse_etags(",,", "If-None-Match")


class TestEvaluate:
    def test_if_match_passes_on_the_current_etag_in_a_list_or_star(self):
        for header in (ETAG, f'"x", {ETAG}', "*"):
            assert rules.evaluate("PUT", ETAG, Conditions(if_match=header)) is Outcome.PROCEED

    @pytest.mark.parametrize(
        ("current", "header"), [(ETAG, OTHER), (ETAG, f"W/{ETAG}"), (None, "*")]
    )
    def test_if_match_fails_with_412(self, current, header):
        # Communication 3.1; 9274.1.1 §4.1.4 (delta C3): a weak tag never matches If-Match.
        with pytest.raises(PreconditionFailed):
            rules.evaluate("PUT", current, Conditions(if_match=header))

    @pytest.mark.parametrize("header", ["*", ETAG, f"W/{ETAG}", f'"x", {ETAG}'])
    def test_if_none_match_fails_with_412_on_writes_and_304_on_reads(self, header):
        conditions = Conditions(if_none_match=header)
        with pytest.raises(PreconditionFailed):
            rules.evaluate("PUT", ETAG, conditions)
        assert rules.evaluate("GET", ETAG, conditions) is Outcome.NOT_MODIFIED

    def test_if_none_match_passes_when_nothing_matches(self):
        assert rules.evaluate("PUT", None, Conditions(if_none_match="*")) is Outcome.PROCEED
        assert rules.evaluate("PUT", ETAG, Conditions(if_none_match=OTHER)) is Outcome.PROCEED


class TestCheckWrite:
    """The concurrency matrix: version x resource x header x document existence."""

    @pytest.mark.parametrize("version", [V1, V2])
    @pytest.mark.parametrize("kind", [STATE, ACTIVITY_PROFILE, AGENT_PROFILE])
    @pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
    def test_a_wrong_if_match_is_412_everywhere(self, version, kind, method):
        # Communication 3.1; 9274.1.1 §4.1.4, delta C3.
        with pytest.raises(PreconditionFailed):
            rules.check_write(version, kind, method, ETAG, Conditions(if_match=OTHER))

    @pytest.mark.parametrize("version", [V1, V2])
    @pytest.mark.parametrize("kind", [STATE, ACTIVITY_PROFILE, AGENT_PROFILE])
    def test_if_none_match_star_on_an_existing_document_is_412(self, version, kind):
        # Communication 3.1 MUST for PUT; kept for 2.0 (delta C6).
        with pytest.raises(PreconditionFailed):
            rules.check_write(version, kind, "PUT", ETAG, Conditions(if_none_match="*"))
        rules.check_write(version, kind, "PUT", None, Conditions(if_none_match="*"))

    @pytest.mark.parametrize(
        ("version", "kind", "exists", "error"),
        [
            # 1.0.3: the State permits header-less writes (Communication 3.1 client rules).
            (V1, STATE, True, None),
            (V1, STATE, False, None),
            # 1.0.3 profiles: 409 on an existing document, 400 on a new one (XAPI-00273).
            (V1, ACTIVITY_PROFILE, True, Conflict),
            (V1, ACTIVITY_PROFILE, False, BadRequest),
            (V1, AGENT_PROFILE, True, Conflict),
            (V1, AGENT_PROFILE, False, BadRequest),
            # 2.0.0: 409 on an existing document for all three (C4); a new one is created (C5).
            (V2, STATE, True, Conflict),
            (V2, STATE, False, None),
            (V2, ACTIVITY_PROFILE, True, Conflict),
            (V2, ACTIVITY_PROFILE, False, None),
            (V2, AGENT_PROFILE, True, Conflict),
            (V2, AGENT_PROFILE, False, None),
        ],
    )
    def test_a_header_less_put(self, version, kind, exists, error):
        current = ETAG if exists else None
        if error is None:
            rules.check_write(version, kind, "PUT", current, Conditions())
            return
        with pytest.raises(error) as err:
            rules.check_write(version, kind, "PUT", current, Conditions())
        if error is Conflict:
            assert "If-Match" in err.value.message and "GET" in err.value.message

    @pytest.mark.parametrize("version", [V1, V2])
    @pytest.mark.parametrize("kind", [STATE, ACTIVITY_PROFILE, AGENT_PROFILE])
    @pytest.mark.parametrize("method", ["POST", "DELETE"])
    def test_header_less_post_and_delete_proceed(self, version, kind, method):
        # Delta C5: the CTS expects 204 for header-less POST/DELETE on all three resources.
        rules.check_write(version, kind, method, ETAG, Conditions())
        rules.check_write(version, kind, method, None, Conditions())


class TestMerge:
    def test_top_level_properties_are_replaced_whole(self):
        # Communication 2.2 merge; XAPI-00183, XAPI-00184.
        stored = json.dumps({"car": {"make": "Ford", "model": "Escape"}, "driver": "Dale"})
        posted = {"car": {"make": "Dodge"}, "series": "nextel"}
        merged = rules.merge(stored.encode(), "application/json", posted, "application/json")
        assert json.loads(merged) == {
            "car": {"make": "Dodge"},
            "driver": "Dale",
            "series": "nextel",
        }

    def test_non_ascii_survives_the_merge_as_utf8(self):
        merged = rules.merge(
            b'{"a":"\xc3\xa9"}', "application/json", {"b": "ü"}, "application/json"
        )
        assert merged.decode("utf-8") == '{"a":"é","b":"ü"}'

    @pytest.mark.parametrize(
        ("stored", "stored_type", "posted", "posted_type"),
        [
            (b'{"a":1}', "application/json", None, "text/plain"),  # XAPI-00229 case 1
            (b"/ asdf / undefined", "application/octet-stream", {"a": 1}, "application/json"),
            (b"[1, 2]", "application/json", {"a": 1}, "application/json"),  # not an object
            (b"{", "application/json", {"a": 1}, "application/json"),  # not JSON
        ],
    )
    def test_a_merge_needs_two_json_objects(self, stored, stored_type, posted, posted_type):
        # Communication 2.2: 400 when either document is not application/json or not an object.
        with pytest.raises(BadRequest):
            rules.merge(stored, stored_type, posted, posted_type)

    @pytest.mark.parametrize(
        "body", [b'{"a":1}{', b"[1]", b"", b'"text"', b'{"a": NaN}', b"\xff\xfe"]
    )
    def test_a_posted_json_document_must_be_an_object(self, body):
        # XAPI-00314 / XAPI-00235: invalid JSON under application/json is a 400, new or not.
        with pytest.raises(BadRequest):
            rules.check_posted(body, "application/json; charset=utf-8")

    def test_a_posted_document_of_another_type_is_not_parsed(self):
        assert rules.check_posted(b"abcdefg", "not/json") is None
        assert rules.check_posted(b'{"a":1}', "Application/JSON") == {"a": 1}

    def test_a_put_declared_json_must_be_json_in_1_0_3_only(self):
        # Communication 3.2 SHOULD* (content type must match the content); dropped in 2.0 (C16).
        with pytest.raises(BadRequest):
            rules.check_put(V1, b"{not json", "application/json")
        rules.check_put(V2, b"{not json", "application/json")
        rules.check_put(V1, b"\x00\x01", "application/octet-stream")
        rules.check_put(V1, b"[1, 2]", "application/json")


def test_updated_always_advances():
    # Last-Modified and since must see every change, even when the clock stands still or steps
    # back (9274.1.1 §4.1.6.2, delta C7).
    assert rules.next_updated_ms(1000, None) == 1000
    assert rules.next_updated_ms(1000, 1000) == 1001
    assert rules.next_updated_ms(900, 1000) == 1001
    assert rules.next_updated_ms(5000, 1000) == 5000
