"""OIDC login and launch through the HTTP endpoints, on SQLite and PostgreSQL.

Covers the state binding (cookie, platform storage), each rejection as a 4xx page with its
reason, and what an accepted launch stores: the statement through the LRS write path and the
person with both identities. Tokens here are hand-signed so each can break one rule; the
end-to-end flow from a third-party platform library is in test_platform_integration.py.
"""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from lrs import vocabulary as v
from lrs.db import read_transaction, write_transaction
from lrs.people import services as people
from lti import claims as c
from lti import statements as st
from lti.models import LoginState
from tests.lti.conftest import register_platform
from tests.lti.support import ISSUER, PlatformKeys, unsigned
from tests.lti.support import launch_claims as claims_of

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)", re.I)


class Flow:
    """A browser (the test client) going through login and launch for one registration."""

    def __init__(self, app, platform, keys):
        self.app, self.platform, self.keys = app, platform, keys
        self.client = app.test_client()

    def login(self, method="GET", **params):
        query = {
            "iss": ISSUER,
            "login_hint": "7",
            "target_link_uri": "http://localhost/lti/launch",
            "client_id": self.platform.client_id,
            "lti_message_hint": "rl-42",
            "lti_deployment_id": "1",
        }
        query.update(params)
        query = {k: v for k, v in query.items() if v is not None}
        if method == "POST":
            response = self.client.post("/lti/login", data=query)
        else:
            response = self.client.get("/lti/login", query_string=query)
        state = nonce = None
        if response.status_code == 302:
            sent = parse_qs(urlsplit(response.headers["Location"]).query)
            state, nonce = sent["state"][0], sent["nonce"][0]
        return response, state, nonce

    def launch(self, token, state, client=None, headers=None, **form):
        return (client or self.client).post(
            "/lti/launch", data={"id_token": token, "state": state, **form}, headers=headers
        )

    def token(self, nonce, **overrides):
        overrides.setdefault("aud", self.platform.client_id)
        return self.keys.sign(claims_of(nonce=nonce, **overrides))


@pytest.fixture
def flow(app, platform, platform_keys):
    return Flow(app, platform, platform_keys)


def reason(response):
    match = re.search(r'data-code="([a-z_]+)"', response.get_data(as_text=True))
    return match.group(1) if match else None


def statements(platform):
    return platform.xapi.get("/statements").get_json()["statements"]


# ---- login ----------------------------------------------------------------------------------


def test_login_redirects_to_the_platform_with_the_oidc_parameters_and_binds_the_state(flow):
    response, state, nonce = flow.login()
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (ISSUER + "/mod/lti/auth.php")
    sent = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert sent["scope"] == "openid" and sent["response_type"] == "id_token"
    assert sent["response_mode"] == "form_post" and sent["prompt"] == "none"
    assert sent["redirect_uri"] == "http://localhost/lti/launch"
    assert sent["login_hint"] == "7" and sent["lti_message_hint"] == "rl-42"
    assert sent["client_id"] == flow.platform.client_id
    assert state and nonce and state != nonce
    cookie = response.headers["Set-Cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/lti/"):
        assert attribute in cookie


def test_login_by_post_works_like_get(flow):
    response, state, _ = flow.login(method="POST")
    assert response.status_code == 302 and state


@pytest.mark.parametrize(
    "params, status, code",
    [
        ({"iss": "https://unknown.example"}, 400, "unknown_registration"),
        ({"client_id": "not-registered"}, 400, "unknown_registration"),
        ({"login_hint": None}, 400, "missing_login_parameter"),
        ({"target_link_uri": None}, 400, "missing_login_parameter"),
        ({"target_link_uri": "https://evil.example/x"}, 400, "foreign_target_link_uri"),
        ({"lti_deployment_id": "99"}, 400, "unknown_deployment"),
    ],
)
def test_a_bad_login_is_a_4xx_page_with_its_reason(flow, params, status, code):
    response, _, _ = flow.login(**params)
    assert response.status_code == status
    assert reason(response) == code
    assert "Set-Cookie" not in response.headers


def test_one_issuer_with_several_clients_needs_the_client_id(app, flow, jwks_server):
    register_platform(app, jwks_server["url"])  # a second client of the same issuer
    response, _, _ = flow.login(client_id=None)
    assert response.status_code == 400 and reason(response) == "ambiguous_registration"


# ---- a good launch --------------------------------------------------------------------------


def test_a_learner_launch_is_stored_as_a_launched_statement_and_one_person(app, flow):
    _, state, nonce = flow.login()
    response = flow.launch(flow.token(nonce), state)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    assert "Secure coding basics" in page and "Recent learning" in page
    assert not INLINE_SCRIPT.search(page)
    csp = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors {ISSUER}" in csp and "script-src 'self'" in csp
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert any("Max-Age=0" in h or "expires=Thu, 01 Jan 1970" in h
               for h in response.headers.getlist("Set-Cookie"))  # fmt: skip

    [statement] = statements(flow.platform)
    assert statement["id"] == st.launch_statement_id(ISSUER, nonce)
    assert statement["verb"]["id"] == v.LAUNCHED
    assert statement["actor"] == {
        "objectType": "Agent",
        "name": "Ann Learner",
        "account": {"homePage": ISSUER, "name": "moodle-user-7"},
    }
    assert statement["object"]["id"] == f"{ISSUER}/lti/deployment/1/resource-link/rl-42"
    assert statement["object"]["definition"]["name"] == {"und": "Secure coding basics"}
    context = statement["context"]
    assert context["contextActivities"]["parent"][0]["id"] == (
        f"{ISSUER}/lti/deployment/1/context/course-9"
    )
    assert context["contextActivities"]["grouping"][0]["id"] == ISSUER
    assert context["registration"] == st.registration_uuid(ISSUER, "1", "course-9", "moodle-user-7")
    assert context["extensions"][c.ROLES] == [c.LEARNER]
    assert statement["authority"]["account"]["name"] == "learnloop:lti"

    sessions = app.extensions["learnloop"].sessions
    store_id = flow.platform.store_id
    with read_transaction(sessions) as session:
        by_account = people.find_person(session, store_id, st.lms_agent(ISSUER, "moodle-user-7"))
        by_email = people.find_person(session, store_id, st.email_agent("ann@example.com"))
        assert by_account is not None and by_account.id == by_email.id
        assert by_account.name == "Ann Learner"


def test_the_same_learner_in_the_same_course_keeps_one_registration(flow):
    for _ in range(2):
        _, state, nonce = flow.login()
        assert flow.launch(flow.token(nonce), state).status_code == 200
    first, second = statements(flow.platform)
    assert first["id"] != second["id"]
    assert first["context"]["registration"] == second["context"]["registration"]
    sessions = {s["context"]["extensions"][st.CMI5_SESSION_ID] for s in (first, second)}
    assert len(sessions) == 2


def test_an_email_known_from_elsewhere_gains_the_lms_account(app, flow):
    sessions = app.extensions["learnloop"].sessions
    with write_transaction(sessions) as session:
        known = people.ensure_person(
            session, flow.platform.store_id, st.email_agent("ann@example.com"), name="Ann"
        )
        people.link_identity(
            session,
            flow.platform.store_id,
            known,
            {"account": {"homePage": "https://github.com", "name": "ann"}},
        )
    _, state, nonce = flow.login()
    assert flow.launch(flow.token(nonce), state).status_code == 200
    with read_transaction(sessions) as session:
        person = people.find_person(
            session, flow.platform.store_id, st.lms_agent(ISSUER, "moodle-user-7")
        )
        assert person.id == known.id
        assert len(people.identities(session, flow.platform.store_id, person.id)) == 3


def test_the_launch_token_reopens_the_page_and_a_forged_one_is_refused(flow):
    _, state, nonce = flow.login()
    page = flow.launch(flow.token(nonce), state).get_data(as_text=True)
    token = re.search(r"/lti/home\?lt=([^\"&]+)", page).group(1)
    fresh = flow.app.test_client()  # no cookies at all: the token is the session
    assert fresh.get(f"/lti/home?lt={token}").status_code == 200
    forged = fresh.get(f"/lti/home?lt={token[:-4]}AAAA")
    assert forged.status_code == 401 and reason(forged) == "launch_token_invalid"
    assert reason(fresh.get("/lti/home")) == "launch_token_invalid"


def test_a_launch_token_signed_before_a_key_rotation_still_opens(app, flow):
    from lti import keys

    _, state, nonce = flow.login()
    page = flow.launch(flow.token(nonce), state).get_data(as_text=True)
    token = re.search(r"/lti/home\?lt=([^\"&]+)", page).group(1)
    with write_transaction(app.extensions["learnloop"].sessions) as session:
        rt = app.extensions["lti"]
        keys.rotate_keys(session, rt.now(), grace_seconds=600, box=rt.key_box())
    assert app.test_client().get(f"/lti/home?lt={token}").status_code == 200


# ---- replays and state binding ----------------------------------------------------------------


def test_a_resubmitted_launch_is_refused_and_stores_nothing_more(flow):
    _, state, nonce = flow.login()
    token = flow.token(nonce)
    assert flow.launch(token, state).status_code == 200
    again = flow.launch(token, state)
    assert again.status_code == 401 and reason(again) == "state_reused"
    assert len(statements(flow.platform)) == 1


def test_a_replayed_id_token_in_a_new_login_is_a_replayed_nonce(flow):
    _, state, nonce = flow.login()
    token = flow.token(nonce)
    assert flow.launch(token, state).status_code == 200
    _, new_state, _ = flow.login()
    replay = flow.launch(token, new_state)
    assert replay.status_code == 401 and reason(replay) == "nonce_replayed"
    assert len(statements(flow.platform)) == 1


def test_a_launch_without_the_state_cookie_is_not_bound(app, flow):
    _, state, nonce = flow.login()
    response = flow.launch(flow.token(nonce), state, client=app.test_client())
    assert response.status_code == 401 and reason(response) == "state_not_bound"
    assert "new window" in response.get_data(as_text=True)


def test_a_launch_with_another_state_cookie_value_is_a_mismatch(app, flow):
    _, state, nonce = flow.login()
    other = app.test_client()
    from lti.oidc import state_cookie_name

    other.set_cookie(state_cookie_name(state), "something-else", path="/lti/")
    response = flow.launch(flow.token(nonce), state, client=other)
    assert response.status_code == 401 and reason(response) == "state_mismatch"


def test_unknown_and_expired_states(app, flow):
    unknown = flow.launch(flow.token("x"), "never-issued")
    assert unknown.status_code == 400 and reason(unknown) == "unknown_state"
    _, state, nonce = flow.login()
    with write_transaction(app.extensions["learnloop"].sessions) as session:
        session.execute(update(LoginState).where(LoginState.state == state).values(expires_ms=1))
    expired = flow.launch(flow.token(nonce), state)
    assert expired.status_code == 401 and reason(expired) == "state_expired"


# ---- every token rule through the endpoint ------------------------------------------------------


def _bad_tokens(keys, nonce, client_id):
    now = int(time.time())

    def launch_claims(**overrides):
        overrides.setdefault("aud", client_id)
        return claims_of(**overrides)

    good = launch_claims(nonce=nonce, now=now)
    other = PlatformKeys(kid=keys.kid)
    return {
        "missing_kid": keys.sign(good, header={"alg": "RS256"}),
        "unknown_kid": keys.sign(good, header={"alg": "RS256", "kid": "rotated-away"}),
        "unsupported_alg": unsigned(good, keys.kid),
        "bad_signature": other.sign(good),
        "wrong_issuer": keys.sign(launch_claims(nonce=nonce, iss="https://other.example")),
        "wrong_audience": keys.sign(launch_claims(nonce=nonce, aud="someone-else")),
        "token_expired": keys.sign(launch_claims(nonce=nonce, now=now - 3600)),
        "nonce_mismatch": keys.sign(launch_claims(nonce="not-the-login-nonce")),
        "unsupported_lti_version": keys.sign(launch_claims(nonce=nonce, version="1.1")),
        "unsupported_message_type": keys.sign(launch_claims(nonce=nonce, message_type=None)),
        "unknown_deployment": keys.sign(launch_claims(nonce=nonce, deployment_id="99")),
        "missing_claim": keys.sign(launch_claims(nonce=nonce, roles=None)),
        "malformed_token": "not-a-jwt",
    }


@pytest.mark.parametrize(
    "code",
    [
        "missing_kid", "unknown_kid", "unsupported_alg", "bad_signature", "wrong_issuer",
        "wrong_audience", "token_expired", "nonce_mismatch", "unsupported_lti_version",
        "unsupported_message_type", "unknown_deployment", "missing_claim", "malformed_token",
    ],
)  # fmt: skip
def test_each_bad_id_token_is_a_4xx_page_with_its_reason_and_stores_nothing(flow, code):
    _, state, nonce = flow.login()
    response = flow.launch(_bad_tokens(flow.keys, nonce, flow.platform.client_id)[code], state)
    assert 400 <= response.status_code < 500
    assert reason(response) == code
    assert not INLINE_SCRIPT.search(response.get_data(as_text=True))
    assert statements(flow.platform) == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": 123},
        {"iat": "now"},
        {"exp": None},
        {"ags": {"lineitems": {"x": 1}, "scope": []}},
        {"ags": {"scope": [1]}},
        {"nrps": {"context_memberships_url": 5}},
        {"name": "N" * 1000, "email": "a@" + "b" * 400},
        {"context": ["course"]},
        {"context": {"id": "c" * 300}},
        {"custom": {"a": {"b": 1}}},
        {"tool_platform": {"name": 5}},
        {"roles": [1, 2]},
        {"resource_link": {"id": 42}},
        {"sub": "s" * 300},
        {"given_name": {"x": 1}, "name": None},
        {"launch_presentation": {"return_url": "javascript:alert(1)"}},
    ],
)
def test_odd_claim_values_are_a_4xx_or_a_page_never_a_500(flow, overrides):
    _, state, nonce = flow.login()
    response = flow.launch(flow.token(nonce, **overrides), state)
    assert response.status_code < 500, response.get_data(as_text=True)
    assert "javascript:" not in response.get_data(as_text=True)


def test_a_rejection_is_json_when_the_client_asks_for_it(flow):
    _, state, _ = flow.login()
    response = flow.launch("not-a-jwt", state, headers={"Accept": "application/json"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "malformed_token" and body["status"] == 400 and body["message"]


def test_a_rejection_is_logged_without_the_token(flow, caplog):
    _, state, nonce = flow.login()
    token = flow.token(nonce, aud="someone-else")
    with caplog.at_level("INFO", logger="learnloop.lti"):
        flow.launch(token, state)
    assert "wrong_audience" in caplog.text
    assert token not in caplog.text and token.split(".")[1] not in caplog.text


@pytest.mark.parametrize(
    "form, code",
    [
        ({}, "missing_launch_parameter"),
        ({"id_token": "x.y.z"}, "missing_launch_parameter"),
        ({"error": "login_required", "error_description": "no session"}, "platform_error"),
        ({"id_token": "\x00" * 10, "state": "\x00"}, "unknown_state"),
    ],
)
def test_malformed_launch_posts_are_4xx_never_500(app, form, code):
    response = app.test_client().post("/lti/launch", data=form)
    assert 400 <= response.status_code < 500 and reason(response) == code


def test_get_on_the_launch_url_is_a_clear_4xx(app):
    response = app.test_client().get("/lti/launch")
    assert response.status_code == 400 and reason(response) == "missing_launch_parameter"


def test_an_unreachable_platform_key_set_is_a_502_page(app, platform_keys):
    platform = register_platform(app, "http://127.0.0.1:9/jwks")  # discard port: refused
    flow = Flow(app, platform, platform_keys)
    _, state, nonce = flow.login()
    response = flow.launch(flow.token(nonce), state)
    assert response.status_code == 502 and reason(response) == "jwks_unavailable"


def test_the_platform_key_set_is_cached_between_launches(flow, jwks_server):
    _, state, nonce = flow.login()
    assert flow.launch(flow.token(nonce), state).status_code == 200
    before = jwks_server["fetches"]
    _, state, nonce = flow.login()
    assert flow.launch(flow.token(nonce), state).status_code == 200
    assert jwks_server["fetches"] == before


# ---- platform storage (cookies blocked in the LMS iframe) -------------------------------------


def test_platform_storage_flow_binds_the_state_without_any_cookie(app, flow):
    response, _, _ = flow.login(lti_storage_target="post_message_forwarding")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert not INLINE_SCRIPT.search(page)
    assert '<script src="/lti/static/platform-storage.js"' in page
    assert 'data-target="post_message_forwarding"' in page
    assert f'data-platform-origin="{ISSUER}"' in page
    next_url = re.search(r'data-next="([^"]+)"', page).group(1).replace("&amp;", "&")
    sent = parse_qs(urlsplit(next_url).query)
    state, nonce = sent["state"][0], sent["nonce"][0]
    assert f'data-state="{state}"' in page

    cookieless = app.test_client()  # the browser dropped the third-party cookie
    token = flow.token(nonce)
    check = flow.launch(token, state, client=cookieless)
    assert check.status_code == 200
    check_page = check.get_data(as_text=True)
    assert 'data-mode="get"' in check_page and 'name="lti_storage_state"' in check_page
    assert statements(flow.platform) == []  # nothing accepted before the storage check

    wrong = flow.launch(token, state, client=cookieless, lti_storage_state="forged")
    assert wrong.status_code == 401 and reason(wrong) == "state_mismatch"
    accepted = flow.launch(token, state, client=cookieless, lti_storage_state=state)
    assert accepted.status_code == 200 and "Recent learning" in accepted.get_data(as_text=True)
    assert len(statements(flow.platform)) == 1


def test_storage_is_not_a_way_around_a_missing_cookie_when_the_platform_offered_none(app, flow):
    _, state, nonce = flow.login()
    response = flow.launch(
        flow.token(nonce), state, client=app.test_client(), lti_storage_state=state
    )
    assert response.status_code == 401 and reason(response) == "state_not_bound"


# ---- deep linking (hand-signed request; the platform library's view is in the integration) ----


def _deep_linking_page(flow, roles=(c.INSTRUCTOR,)):
    _, state, nonce = flow.login()
    settings = {
        "deep_link_return_url": "https://platform.example.edu/dl/return?sesskey=abc",
        "accept_types": ["ltiResourceLink"],
        "data": "opaque-123",
    }
    response = flow.launch(
        flow.token(
            nonce,
            message_type=c.DEEP_LINKING_REQUEST,
            resource_link=None,
            dl_settings=settings,
            roles=list(roles),
        ),
        state,
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    return re.search(r'name="lt" value="([^"]+)"', page).group(1)


def test_an_instructor_places_any_activity_by_its_iri(app, flow):
    from joserfc import jwt
    from joserfc.jwk import KeySet

    token = _deep_linking_page(flow)
    response = app.test_client().post(
        "/lti/deep-link",
        data={"lt": token, "activity_id": "https://example.com/act/1", "title": "Act one",
              "graded": "on", "score_maximum": "20"},
    )  # fmt: skip
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'action="https://platform.example.edu/dl/return?sesskey=abc"' in page
    assert '<script src="/lti/static/autosubmit.js"></script>' in page
    assert (
        "form-action 'self' https://platform.example.edu;"
        in (response.headers["Content-Security-Policy"])
    )
    signed = re.search(r'name="JWT" value="([^"]+)"', page).group(1)
    keys = KeySet.import_key_set(app.test_client().get("/lti/jwks").get_json())
    claims = jwt.decode(signed, keys, algorithms=["RS256"]).claims
    assert claims["iss"] == flow.platform.client_id and claims["aud"] == ISSUER
    assert claims[c.MESSAGE_TYPE] == "LtiDeepLinkingResponse" and claims[c.DL_DATA] == "opaque-123"
    assert claims[c.DEPLOYMENT_ID] == "1" and claims["exp"] > claims["iat"]
    [item] = claims[c.DL_CONTENT_ITEMS]
    assert item["custom"] == {st.CUSTOM_ACTIVITY: "https://example.com/act/1"}
    assert item["lineItem"]["scoreMaximum"] == 20 and item["title"] == "Act one"


@pytest.mark.parametrize(
    "fields, status, code",
    [
        ({"activity_id": "not an iri"}, 400, "deep_linking_rejected"),
        ({"activity_id": "https://x/a", "graded": "on", "score_maximum": "lots"}, 400,
         "deep_linking_rejected"),
        ({"activity_id": "https://x/a", "graded": "on", "score_maximum": "0"}, 400,
         "deep_linking_rejected"),
        ({"choice": "unknown-kind:1"}, 400, "deep_linking_rejected"),
        ({}, 400, "deep_linking_rejected"),
    ],
)  # fmt: skip
def test_an_unusable_selection_is_a_4xx_page(app, flow, fields, status, code):
    token = _deep_linking_page(flow)
    response = app.test_client().post("/lti/deep-link", data={"lt": token, **fields})
    assert response.status_code == status and reason(response) == code


def test_a_learner_cannot_place_content(app, flow):
    token = _deep_linking_page(flow, roles=(c.LEARNER,))
    response = app.test_client().post(
        "/lti/deep-link", data={"lt": token, "activity_id": "https://x/a"}
    )
    assert response.status_code == 403 and reason(response) == "not_allowed"
