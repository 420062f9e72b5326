"""Hostile id_tokens at /lti/launch are refused as invalid tokens (4xx pages), never a 500.

Issue 13: JSON nested a thousand levels deep in the id_token, before any signature is
checked; an ``exp`` (or ``iat``, ``nbf``) of 2^63 and more in a correctly signed token; and
claims that are not JSON: NaN, duplicates, NUL. On SQLite and PostgreSQL.
"""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.lti.support import ISSUER, b64
from tests.lti.support import launch_claims as claims_of

DEEP = '{"a":' * 1000 + "1" + "}" * 1000


def reason(response):
    match = re.search(r'data-code="([a-z_]+)"', response.get_data(as_text=True))
    return match.group(1) if match else None


def login(client, platform):
    response = client.get(
        "/lti/login",
        query_string={
            "iss": ISSUER,
            "login_hint": "7",
            "target_link_uri": "http://localhost/lti/launch",
            "client_id": platform.client_id,
            "lti_deployment_id": "1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    sent = parse_qs(urlsplit(response.headers["Location"]).query)
    return sent["state"][0], sent["nonce"][0]


def forged(header: str, payload: str) -> str:
    """A compact JWS of raw JSON texts with a signature that is never looked at."""
    return f"{b64(header.encode())}.{b64(payload.encode())}.{b64(b'not-a-signature')}"


def statements(platform):
    return platform.xapi.get("/statements").get_json()["statements"]


@pytest.mark.parametrize(
    "header, payload, problem",
    [
        ('{"alg":"RS256","kid":"k"}', DEEP, "payload: JSON nested deeper than 64 levels"),
        (DEEP, '{"iss":"x"}', "header: JSON nested deeper than 64 levels"),
        ('{"alg":"RS256","kid":"k"}', '{"iss":"x","exp":NaN}', "payload.exp: not a finite"),
        ('{"alg":"RS256","kid":"k"}', '{"exp":1,"exp":2}', 'duplicate key "exp" in payload'),
        ('{"alg":"RS256","alg":"none"}', '{"iss":"x"}', 'duplicate key "alg" in header'),
        ('{"alg":"RS256","kid":"k"}', '{"name":"a\\u0000"}', "payload.name: must not contain"),
    ],
)
def test_an_id_token_that_is_not_strict_json_is_a_malformed_token(
    app, platform, header, payload, problem
):
    client = app.test_client()
    state, _ = login(client, platform)
    response = client.post(
        "/lti/launch", data={"id_token": forged(header, payload), "state": state}
    )
    assert response.status_code == 400
    assert reason(response) == "malformed_token"
    assert problem in response.get_data(as_text=True).replace("&#34;", '"')
    assert statements(platform) == []


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize("value", [2**63, 2**64, 10**30, -1])
def test_a_signed_token_with_a_time_no_token_can_mean_is_an_invalid_claim(
    app, platform, platform_keys, claim, value
):
    client = app.test_client()
    state, nonce = login(client, platform)
    token = platform_keys.sign(claims_of(nonce=nonce, aud=platform.client_id, **{claim: value}))
    response = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:500]
    assert reason(response) == "invalid_claim"
    assert claim in response.get_data(as_text=True)
    assert statements(platform) == []


def test_a_token_valid_until_the_year_9999_still_launches(app, platform, platform_keys):
    client = app.test_client()
    state, nonce = login(client, platform)
    claims = claims_of(nonce=nonce, aud=platform.client_id, exp=253_402_300_799)
    response = client.post(
        "/lti/launch", data={"id_token": platform_keys.sign(claims), "state": state}
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert json.dumps(statements(platform))  # the launch was stored


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000 + b"]" * 1000,
        b'{"access_token": NaN}',
        b'{"access_token": "a", "access_token": "b"}',
        b'{"access_token": "a\\u0000"}',
        b"\xff\xfe",
    ],
)
def test_a_platform_answer_that_is_not_strict_json_is_a_platform_error(body):
    """Issue 13: the platforms' answers (registration, AGS, NRPS, token) are read with the
    strict reader too: a hostile platform gets a PlatformServiceError, never a 500."""
    from lti.errors import PlatformServiceError
    from lti.outbound import Answer

    with pytest.raises(PlatformServiceError, match="token answer is not JSON we accept"):
        Answer(200, {}, body, "token").json()
