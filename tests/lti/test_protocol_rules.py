"""The pure LTI rules: login, outbound URLs, AGS, NRPS, Dynamic Registration, Deep Linking,
statements, roles, settings and the caches. No Flask, no database, no network."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest

from lrs.errors import ConfigError
from lti import ags, dynreg, nrps, oidc
from lti import claims as c
from lti import deep_linking as dl
from lti import statements as st
from lti.config import LtiConfig
from lti.errors import (
    DeepLinkingRejected,
    DynamicRegistrationFailed,
    ForeignTargetLink,
    InvalidScore,
    JwksUnavailable,
    MissingLoginParameter,
    PlatformServiceError,
    UnsafeUrl,
)
from lti.outbound import Answer, JwksCache, TokenCache
from schemas.xapi import validate_statements
from tests.lti.support import ISSUER, launch_claims

# ---- OIDC login ---------------------------------------------------------------------------------


def test_login_parameters_need_iss_login_hint_and_target_link_uri():
    for missing in ("iss", "login_hint", "target_link_uri"):
        params = {"iss": ISSUER, "login_hint": "7", "target_link_uri": "https://t/lti/launch"}
        del params[missing]
        with pytest.raises(MissingLoginParameter) as raised:
            oidc.parse_login(params)
        assert raised.value.errors[0].path == missing


def test_a_storage_target_that_is_not_a_frame_name_is_ignored():
    base = {"iss": ISSUER, "login_hint": "7", "target_link_uri": "https://t/x"}
    assert oidc.parse_login({**base, "lti_storage_target": "_parent"}).lti_storage_target == (
        "_parent"
    )
    assert oidc.parse_login({**base, "lti_storage_target": "a'b"}).lti_storage_target is None


def test_the_authentication_request_keeps_the_endpoint_query_and_sets_every_parameter():
    url = oidc.authentication_url(
        "https://lms.example/auth.php?tenant=4&state=stale",
        client_id="cid",
        redirect_uri="https://tool/lti/launch",
        login_hint="7",
        lti_message_hint="opaque",
        state="S",
        nonce="N",
    )
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query == {
        "tenant": "4",
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": "cid",
        "redirect_uri": "https://tool/lti/launch",
        "login_hint": "7",
        "state": "S",
        "nonce": "N",
        "lti_message_hint": "opaque",
    }


def test_target_link_uri_must_be_on_the_tool():
    oidc.check_target_link_uri("https://tool.example:443/lti/launch", ("https://tool.example",))
    for target in ("https://evil.example/lti", "http://tool.example/lti", "javascript:alert(1)"):
        with pytest.raises(ForeignTargetLink):
            oidc.check_target_link_uri(target, ("https://tool.example",))


def test_state_cookies_are_per_login_and_secrets_are_fresh():
    a, b = oidc.new_secret(), oidc.new_secret()
    assert a != b and len(a) >= 43
    assert oidc.state_cookie_name(a) != oidc.state_cookie_name(b)


# ---- outbound URL policy ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://lms.example/jwks",
        "ftp://lms.example/jwks",
        "https://10.0.0.5/jwks",
        "https://127.0.0.1/jwks",
        "https://[::1]/jwks",
        "https://169.254.169.254/latest/meta-data",
        "https://user:pw@lms.example/jwks",
        "https:///nohost",
        "",
    ],
)
def test_unsafe_platform_urls_are_refused(url):
    with pytest.raises(UnsafeUrl):
        guard().check_url(url, "key_set_url")


def guard(loopback=False):
    """The tool's guard as configured, with a resolver that knows two names (no DNS)."""

    def resolve(host, port):
        return ["127.0.0.1", "::1"] if host == "localhost" else ["93.184.216.34"]

    return LtiConfig(allow_http_loopback=loopback).outbound_guard(resolve)


def test_https_hosts_pass_and_loopback_http_only_with_the_override():
    assert guard().check_url("https://moodle.example.edu/mod/lti/certs.php", "key_set_url")
    with pytest.raises(UnsafeUrl):
        guard().check_url("http://127.0.0.1:8000/jwks", "key_set_url")
    assert guard(loopback=True).check_url("http://127.0.0.1:8000/jwks", "key_set_url")
    assert guard(loopback=True).check_url("http://localhost:8000/jwks", "key_set_url")
    with pytest.raises(UnsafeUrl):
        guard(loopback=True).check_url("http://10.1.1.1/jwks", "key_set_url")


# ---- AGS ----------------------------------------------------------------------------------------


def test_scores_and_results_urls_go_before_the_query_string():
    moodle = "https://moodle.example/mod/lti/services.php/2/lineitems/7/lineitem?type_id=1"
    assert ags.service_url(moodle, "scores") == (
        "https://moodle.example/mod/lti/services.php/2/lineitems/7/lineitem/scores?type_id=1"
    )
    assert ags.service_url("https://canvas.example/api/lti/li/3/", "results") == (
        "https://canvas.example/api/lti/li/3/results"
    )


@pytest.mark.parametrize(
    "header, rel, url",
    [
        ('<https://a/p2>; rel="next"', "next", "https://a/p2"),
        ("<https://a/p2>; rel=next", "next", "https://a/p2"),
        ('<https://a/p1>; rel="first", <https://a/p3>; rel="next"', "next", "https://a/p3"),
        ('<https://a/d?since=4>; rel="differences"', "differences", "https://a/d?since=4"),
        ('<https://a/x>; rel="next last"', "last", "https://a/x"),
        ('<https://a/x>; title="Next Page"; rel="NEXT"', "next", "https://a/x"),
    ],
)
def test_link_headers_are_parsed_like_rfc_8288(header, rel, url):
    assert ags.parse_links(header)[rel] == url


def test_no_link_header_means_no_next_page():
    assert ags.parse_links(None) == {} and ags.parse_links("garbage") == {}


def test_score_timestamps_strictly_increase():
    assert ags.next_timestamp(None, 1000) == 1000
    assert ags.next_timestamp(999, 1000) == 1000
    assert ags.next_timestamp(1000, 1000) == 1001
    assert ags.next_timestamp(5000, 1000) == 5001  # the clock went back


def test_a_score_payload_has_an_iso_timestamp_with_offset():
    payload = ags.score_payload(
        user_id="7",
        score_given=8,
        score_maximum=10,
        activity_progress="Completed",
        grading_progress="FullyGraded",
        timestamp_ms=1_700_000_000_123,
        comment="well done",
        submitted_at=dt.datetime(2023, 11, 14, 22, 13, tzinfo=dt.UTC),
    )
    assert payload == {
        "userId": "7",
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": "2023-11-14T22:13:20.123Z",
        "scoreGiven": 8,
        "scoreMaximum": 10,
        "comment": "well done",
        "submission": {"submittedAt": "2023-11-14T22:13:00.000Z"},
    }


@pytest.mark.parametrize(
    "changes",
    [
        {"activity_progress": "Done"},
        {"grading_progress": "Graded"},
        {"score_given": -1},
        {"score_maximum": 0},
        {"score_given": float("nan")},
        {"score_maximum": None},
        {"user_id": ""},
    ],
)
def test_invalid_scores_are_refused_before_sending(changes):
    args = {
        "user_id": "7",
        "score_given": 1,
        "score_maximum": 2,
        "activity_progress": "Completed",
        "grading_progress": "FullyGraded",
        "timestamp_ms": 0,
    }
    with pytest.raises(InvalidScore):
        ags.score_payload(**{**args, **changes})


def test_line_items_match_on_the_given_filters_only():
    item = {"resourceId": "r", "tag": "t", "resourceLinkId": "l"}
    assert ags.matches(item) and ags.matches(item, resource_id="r", tag="t")
    assert not ags.matches(item, tag="other")


# ---- NRPS ---------------------------------------------------------------------------------------


def test_membership_pages_keep_usable_members_and_normalize_roles():
    context, members = nrps.parse_page(
        {
            "id": "https://lms/memberships",
            "context": {"id": "c1"},
            "members": [
                {"user_id": "1", "roles": ["Learner"], "email": "a@example.com", "name": "A"},
                {"user_id": 2, "roles": [c.INSTRUCTOR], "status": "Inactive",
                 "given_name": "B", "family_name": "C", "email": "not an email"},
                {"roles": ["Learner"]},
                "junk",
            ],
        }
    )  # fmt: skip
    assert context == {"id": "c1"}
    assert [(m.user_id, m.status) for m in members] == [("1", "Active"), ("2", "Inactive")]
    assert members[0].roles == (c.LEARNER,)
    assert members[1].display_name == "B C" and members[1].email is None


def test_a_membership_answer_without_members_is_a_platform_error():
    with pytest.raises(PlatformServiceError):
        nrps.parse_page({"context": {}})


# ---- Dynamic Registration -----------------------------------------------------------------------

MOODLE_CONFIG = {
    "issuer": "https://moodle.example.edu",
    "authorization_endpoint": "https://moodle.example.edu/mod/lti/auth.php",
    "token_endpoint": "https://moodle.example.edu/mod/lti/token.php",
    "jwks_uri": "https://moodle.example.edu/mod/lti/certs.php",
    "registration_endpoint": "https://moodle.example.edu/mod/lti/openid-registration.php",
    "scopes_supported": ["openid", ags.SCOPE_SCORE, ags.SCOPE_LINEITEM, nrps.SCOPE],
    "token_endpoint_auth_methods_supported": ["private_key_jwt"],
    "id_token_signing_alg_values_supported": ["RS256"],
    dynreg.PLATFORM_CONFIGURATION: {
        "product_family_code": "moodle",
        "version": "4.3",
        "messages_supported": [
            {"type": "LtiResourceLinkRequest"},
            {"type": "LtiDeepLinkingRequest"},
        ],
    },
}


def test_a_moodle_configuration_gives_a_registration_request_moodle_accepts():
    url = "https://moodle.example.edu/mod/lti/openid-configuration.php"
    platform = dynreg.check_configuration(url, MOODLE_CONFIG)
    request = dynreg.registration_request("https://tool.example:8443/", platform, "Learnloop")
    tool = request[dynreg.TOOL_CONFIGURATION]
    assert tool["domain"] == "tool.example:8443"
    assert tool["target_link_uri"] == "https://tool.example:8443/lti/launch"
    assert request["redirect_uris"] == ["https://tool.example:8443/lti/launch"]
    assert request["token_endpoint_auth_method"] == "private_key_jwt"
    assert "id_token" in request["response_types"]
    assert request["jwks_uri"] == "https://tool.example:8443/lti/jwks"
    assert request["initiate_login_uri"] == "https://tool.example:8443/lti/login"
    assert set(request["scope"].split()) == {ags.SCOPE_SCORE, ags.SCOPE_LINEITEM, nrps.SCOPE}
    assert tool["messages"][0]["type"] == "LtiDeepLinkingRequest"


@pytest.mark.parametrize(
    "change",
    [
        {"issuer": "https://elsewhere.example"},
        {"token_endpoint_auth_methods_supported": ["client_secret_basic"]},
        {"id_token_signing_alg_values_supported": ["HS256"]},
        {dynreg.PLATFORM_CONFIGURATION: None},
        {"registration_endpoint": None},
    ],
)
def test_unusable_platform_configurations_are_refused(change):
    config = {k: v for k, v in {**MOODLE_CONFIG, **change}.items() if v is not None}
    with pytest.raises(DynamicRegistrationFailed):
        dynreg.check_configuration("https://moodle.example.edu/x", config)


def test_the_registration_answer_gives_client_and_deployment():
    body = {"client_id": "abc", dynreg.TOOL_CONFIGURATION: {"deployment_id": 3}}
    assert dynreg.parse_registration_response(body) == ("abc", "3")
    assert dynreg.parse_registration_response({"client_id": "abc"}) == ("abc", None)
    with pytest.raises(DynamicRegistrationFailed):
        dynreg.parse_registration_response({"error": "invalid"})


# ---- Deep Linking -------------------------------------------------------------------------------

PLACEMENT = dl.Placement("activity", "https://x/act", "Act", custom={"a": "1", "empty": ""})


def test_a_graded_content_item_carries_a_line_item_and_drops_empty_custom_values():
    item = dl.content_item(PLACEMENT, "https://tool/lti/launch", True, 25)
    assert item == {
        "type": "ltiResourceLink",
        "title": "Act",
        "url": "https://tool/lti/launch",
        "custom": {"a": "1"},
        "lineItem": {
            "scoreMaximum": 25,
            "label": "Act",
            "resourceId": "https://x/act",
            "tag": "learnloop:activity",
        },
    }
    assert "lineItem" not in dl.content_item(PLACEMENT, "https://tool/lti/launch", False, 25)


@pytest.mark.parametrize(
    "settings, count, graded",
    [
        ({"accept_types": ["link", "file"]}, 1, False),
        ({"accept_types": ["ltiResourceLink"], "accept_multiple": False}, 2, False),
        ({"accept_types": ["ltiResourceLink"], "accept_lineitem": False}, 1, True),
    ],
)
def test_what_the_platform_does_not_accept_is_refused(settings, count, graded):
    with pytest.raises(DeepLinkingRejected):
        dl.check_acceptable(settings, count, graded)


def test_the_response_claims_echo_data_and_name_the_deployment():
    claims = dl.response_claims(
        client_id="cid",
        platform_issuer=ISSUER,
        deployment_id="1",
        settings={"data": {"x": 1}},
        items=[],
        nonce="n",
        now=100,
    )
    assert claims["iss"] == "cid" and claims["aud"] == ISSUER and claims["exp"] == 400
    assert claims[c.MESSAGE_TYPE] == "LtiDeepLinkingResponse"
    assert claims[c.DL_DATA] == {"x": 1} and claims[c.DEPLOYMENT_ID] == "1"


# ---- statements ---------------------------------------------------------------------------------


def _message(**overrides):
    return c.LaunchMessage(launch_claims(**overrides))


@pytest.mark.parametrize(
    "message",
    [
        _message(),
        _message(context=None, name=None, tool_platform=None),
        _message(
            message_type=c.DEEP_LINKING_REQUEST,
            resource_link=None,
            dl_settings={"deep_link_return_url": "https://x", "accept_types": []},
        ),
        _message(resource_link={"id": "a b/c?d", "title": "Spaces & slashes"}),
    ],
)
def test_launch_statements_are_valid_xapi_2(message):
    statement = st.launch_statement(message, placed_activity="https://x/act")
    validate_statements([statement], "2.0.0")
    validate_statements([statement], "1.0.3")


def test_statement_ids_follow_the_nonce_and_registrations_the_enrolment():
    a = st.launch_statement(_message(nonce="n1"))
    again = st.launch_statement(_message(nonce="n1"))
    b = st.launch_statement(_message(nonce="n2"))
    other_course = st.launch_statement(_message(nonce="n3", context={"id": "course-10"}))
    assert a == again
    assert a["id"] != b["id"]
    assert a["context"]["registration"] == b["context"]["registration"]
    assert a["context"]["registration"] != other_course["context"]["registration"]


def test_activity_ids_escape_platform_identifiers():
    assert st.resource_link_iri("https://lms/", "1:abc", "a/b c") == (
        "https://lms/lti/deployment/1%3Aabc/resource-link/a%2Fb%20c"
    )


# ---- roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, full",
    [
        ("Learner", c.LEARNER),
        ("Instructor", c.INSTRUCTOR),
        ("urn:lti:role:ims/lis/Learner", c.LEARNER),
        ("urn:lti:role:ims/lis/Instructor/TeachingAssistant", c.TEACHING_ASSISTANT),
        ("urn:lti:instrole:ims/lis/Administrator", c.INSTITUTION_ADMINISTRATOR),
        ("urn:lti:sysrole:ims/lis/Administrator", c.SYSTEM_ADMINISTRATOR),
        ("http://example.com/custom#Role", "http://example.com/custom#Role"),
    ],
)
def test_roles_are_normalized_to_lis_v2_uris(role, full):
    assert c.normalize_role(role) == full


# ---- settings -----------------------------------------------------------------------------------


def test_settings_come_from_the_environment_and_bad_values_name_the_variable():
    config = LtiConfig.from_env(
        {"LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK": "yes", "LEARNLOOP_LTI_LEEWAY_SECONDS": "30"}
    )
    assert config.allow_http_loopback is True and config.leeway_seconds == 30
    assert LtiConfig.from_env({}).allow_http_loopback is False
    for name, value in (
        ("LEARNLOOP_LTI_LEEWAY_SECONDS", "soon"),
        ("LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK", "maybe"),
        ("LEARNLOOP_LTI_READ_TIMEOUT", "0"),
        ("LEARNLOOP_LTI_TOTAL_TIMEOUT", "-1"),
        ("LEARNLOOP_LTI_ALLOWED_NETWORKS", "intranet"),
    ):
        with pytest.raises(ConfigError) as raised:
            LtiConfig.from_env({name: value})
        assert name in str(raised.value) and value not in str(raised.value)


# ---- caches -------------------------------------------------------------------------------------


class FakeHttp:
    def __init__(self, bodies):
        self.bodies = list(bodies)
        self.calls = 0

    def request(self, method, url, **kwargs):
        self.calls += 1
        body = self.bodies.pop(0) if len(self.bodies) > 1 else self.bodies[0]
        if isinstance(body, int):
            return Answer(body, {}, b"", "key set")
        import json

        return Answer(200, {}, json.dumps(body).encode(), "key set")


def _jwk(kid):
    return {"kty": "RSA", "kid": kid, "n": "x", "e": "AQAB"}


def test_the_key_set_is_cached_refetched_on_unknown_kid_but_not_hammered():
    now = [0.0]
    http = FakeHttp([{"keys": [_jwk("a")]}, {"keys": [_jwk("a"), _jwk("b")]}])
    cache = JwksCache(http, ttl=600, min_refetch=5, clock=lambda: now[0])
    assert cache.key("u", "a", False)["kid"] == "a"
    assert cache.key("u", "a", False) and http.calls == 1
    assert cache.key("u", "b", True) is None and http.calls == 1  # too soon after the fetch
    now[0] = 10
    assert cache.key("u", "b", True)["kid"] == "b" and http.calls == 2
    now[0] = 700
    cache.key("u", "a", False)
    assert http.calls == 3  # stale after the ttl


@pytest.mark.parametrize("body", [500, {"nokeys": []}, {"keys": "x"}])
def test_an_unusable_key_set_is_jwks_unavailable(body):
    cache = JwksCache(FakeHttp([body]), ttl=600, min_refetch=5)
    with pytest.raises(JwksUnavailable):
        cache.key("u", "a", False)


def test_tokens_are_cached_per_scope_set_until_shortly_before_expiry():
    now = [0.0]
    tokens = TokenCache(clock=lambda: now[0])
    tokens.put(1, frozenset({"a", "b"}), "T", 3600)
    assert tokens.get(1, frozenset({"b", "a"})) == "T"
    assert tokens.get(1, frozenset({"a"})) is None and tokens.get(2, frozenset({"a", "b"})) is None
    now[0] = 3600 - 29
    assert tokens.get(1, frozenset({"a", "b"})) is None
