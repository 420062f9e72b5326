"""Single sign-on with OpenID Connect, end to end against a real provider (authlib's
authorization server in tests/support/oidc_provider.py) and a live Learnloop: Chromium for
the happy path, requests following the redirects by hand for each refusal."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from joserfc.jwk import RSAKey
from sqlalchemy import text

from directory.sign_in.config import OidcConfig
from directory.sign_in.oidc import Client, ProviderUnavailable, RelyingParty
from lrs.db import read_transaction, write_transaction
from objectives.models import Account
from tests.support import sign_in as support
from tests.support.oidc_provider import OidcProvider

CLIENT_ID, CLIENT_SECRET = "learnloop-acme", "s3cret-of-the-client"


@pytest.fixture(scope="module")
def provider():
    started = OidcProvider().start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory, provider):
    site = support.live_site(tmp_path_factory)
    provider.add_client(CLIENT_ID, CLIENT_SECRET, site.base + "/sign-in/sso/callback")
    acme = support.add_store(site.app, "acme")
    support.add_store(site.app, "other")  # two stores: the organisation is not implied
    support.add_account(site.app, acme, "ann@acme.test")
    support.add_account(site.app, acme, "admin@acme.test", admin=True)
    support.add_person(site.app, acme, "newcomer@acme.test")
    support.configure(
        site.app,
        acme,
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        domains=("acme.test",),
    )
    site.acme = acme
    yield site
    site.stop()


@pytest.fixture(autouse=True)
def _provider_behaves(provider, site):
    with write_transaction(site.sessions) as db:  # each test starts with no failures counted
        db.execute(text("DELETE FROM auth_failures"))
    provider.nonce_override = None
    provider.claims_override = {}
    provider.signing_key = None
    for login, email in [("ann", "ann@acme.test"), ("admin", "admin@acme.test")]:
        provider.add_user(login, email)
    provider.add_user("newcomer", "newcomer@acme.test")
    provider.add_user("stranger", "stranger@acme.test")
    provider.add_user("outsider", "ann@elsewhere.test")
    provider.add_user("unverified", "ann@acme.test", verified=False)
    provider.signed_in = "ann"


def _to_callback(site, provider, browser_session=None):
    """Start single sign-on, let the provider answer, and return (session, callback URL)."""
    http = browser_session or requests.Session()
    start = http.get(site.base + "/s/acme/sign-in/sso", allow_redirects=False)
    assert start.status_code == 302
    authorize = start.headers["Location"]
    assert authorize.startswith(provider.issuer + "/authorize?")
    answer = http.get(authorize, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    callback = answer.headers["Location"]
    assert callback.startswith(site.base + "/sign-in/sso/callback?")
    return http, callback


def _signed_in_as(site, http) -> str | None:
    home = http.get(site.base + "/account/api-token", allow_redirects=False)
    if home.status_code != 200:
        return None
    return "signed in"


def test_single_sign_on_in_chromium_then_an_api_token(site, provider, browser):
    context = browser.new_context()
    page = context.new_page()
    errors = []  # a Content-Security-Policy violation is a console error
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        page.goto(site.base + "/s/acme/sign-in?next=/account/api-token")
        assert page.get_by_label("Organisation").count() == 0
        page.get_by_role("link", name="Sign in with single sign-on").click()
        page.wait_for_url(site.base + "/account/api-token")
        page.get_by_label("What it is for").fill("export script")
        page.get_by_role("button", name="Create a token").click()
        token = page.locator("#token").inner_text()
    finally:
        context.close()
    assert token.startswith("ll_")
    assert errors == []
    reviews = requests.get(site.base + "/api/reviews", headers={"Authorization": f"Bearer {token}"})
    assert reviews.status_code == 200, reviews.text


def test_the_flow_uses_pkce_nonce_and_a_verified_id_token(site, provider):
    http, callback = _to_callback(site, provider)
    start = requests.get(site.base + "/s/acme/sign-in/sso", allow_redirects=False)
    query = parse_qs(urlsplit(start.headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["response_type"] == ["code"]
    assert query["nonce"] and query["state"]
    done = http.get(callback, allow_redirects=False)
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert provider.token_requests[-1]["code_verifier"]
    assert _signed_in_as(site, http)


def test_a_wrong_state_is_refused_before_the_code_is_exchanged(site, provider):
    http, callback = _to_callback(site, provider)
    parts = urlsplit(callback)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged-" + query["state"]
    exchanged = len(provider.token_requests)
    refused = http.get(f"{site.base}{parts.path}?{urlencode(query)}", allow_redirects=False)
    assert refused.status_code == 401
    assert "state does not match" in refused.text
    assert len(provider.token_requests) == exchanged
    assert not _signed_in_as(site, http)


def test_a_wrong_nonce_is_refused(site, provider):
    provider.nonce_override = "a-nonce-from-another-sign-in"
    http, callback = _to_callback(site, provider)
    refused = http.get(callback, allow_redirects=False)
    assert refused.status_code == 401
    assert "nonce" in refused.text
    assert not _signed_in_as(site, http)


@pytest.mark.parametrize(
    "override, check",
    [
        ({"aud": ["another-client"]}, "aud"),
        ({"iss": "https://impostor.example"}, "iss"),
        ({"exp": 1_000_000_000}, "exp"),
    ],
)
def test_an_id_token_for_someone_else_or_expired_is_refused(site, provider, override, check):
    provider.claims_override = override
    http, callback = _to_callback(site, provider)
    refused = http.get(callback, allow_redirects=False)
    assert refused.status_code == 401
    assert f"do not hold: {check}" in refused.text
    assert not _signed_in_as(site, http)


def test_an_id_token_signed_with_another_key_is_refused(site, provider):
    provider.signing_key = RSAKey.generate_key(2048, parameters={"kid": "test-1"})
    http, callback = _to_callback(site, provider)
    refused = http.get(callback, allow_redirects=False)
    assert refused.status_code == 401
    assert "signature does not verify" in refused.text


def test_an_unverified_email_is_refused(site, provider):
    provider.signed_in = "unverified"
    http, callback = _to_callback(site, provider)
    refused = http.get(callback, allow_redirects=False)
    assert refused.status_code == 401
    assert "not verified" in refused.text
    assert not _signed_in_as(site, http)


def test_entra_ids_verified_domain_claim_counts_as_verified(site, provider):
    provider.users["unverified"].pop("email_verified")
    provider.users["unverified"]["xms_edov"] = True
    provider.signed_in = "unverified"
    http, callback = _to_callback(site, provider)
    assert http.get(callback, allow_redirects=False).status_code == 302
    provider.users["unverified"]["xms_edov"] = False
    http, callback = _to_callback(site, provider)
    assert http.get(callback, allow_redirects=False).status_code == 401


def test_an_email_outside_the_allowed_domains_is_refused(site, provider):
    provider.signed_in = "outsider"
    http, callback = _to_callback(site, provider)
    refused = http.get(callback, allow_redirects=False)
    assert refused.status_code == 401
    assert "not an address of this organisation" in refused.text


def test_a_person_without_account_gets_one_and_a_stranger_does_not(site, provider):
    provider.signed_in = "newcomer"
    http, callback = _to_callback(site, provider)
    assert http.get(callback, allow_redirects=False).status_code == 302
    with read_transaction(site.sessions) as db:
        account = db.query(Account).filter_by(email="newcomer@acme.test").one()
        assert account.password_hash is None and account.person_id is not None
    provider.signed_in = "stranger"
    http, callback = _to_callback(site, provider)
    refused = http.get(callback, allow_redirects=False)
    assert refused.status_code == 401
    assert "has no account" in refused.text


def test_a_callback_that_was_not_started_here_is_refused(site):
    answer = requests.get(site.base + "/sign-in/sso/callback?code=x&state=y")
    assert answer.status_code == 400
    assert "not started here" in answer.text


def test_a_replayed_callback_is_refused(site, provider):
    http, callback = _to_callback(site, provider)
    assert http.get(callback, allow_redirects=False).status_code == 302
    again = http.get(callback, allow_redirects=False)
    assert again.status_code == 400


def test_passwords_turned_off_refuse_pages_and_api_tokens_but_not_single_sign_on(site, provider):
    support.configure(
        site.app,
        site.acme,
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        domains=("acme.test",),
        password_enabled=False,
    )
    try:
        http = requests.Session()
        page = http.get(site.base + "/s/acme/sign-in")
        assert 'type="password"' not in page.text
        tried = http.post(
            site.base + "/s/acme/sign-in",
            data={
                "csrf_token": support.csrf(http.get(site.base + "/sign-in").text),
                "email": "ann@acme.test",
                "password": support.PASSWORD,
            },
            allow_redirects=False,
        )
        assert tried.status_code == 403
        api = requests.post(
            site.base + "/api/tokens",
            json={"store": "acme", "email": "ann@acme.test", "password": support.PASSWORD},
        )
        assert api.status_code == 403
        assert "single sign-on" in api.json()["message"]
        http, callback = _to_callback(site, provider)
        assert http.get(callback, allow_redirects=False).status_code == 302
    finally:
        support.configure(
            site.app,
            site.acme,
            issuer=provider.issuer,
            client_id=CLIENT_ID,
            domains=("acme.test",),
        )
    api = requests.post(
        site.base + "/api/tokens",
        json={"store": "acme", "email": "ann@acme.test", "password": support.PASSWORD},
    )
    assert api.status_code == 201, api.text


def test_the_client_secret_is_sealed_at_rest(site):
    with read_transaction(site.sessions) as db:
        stored = db.execute(
            text("SELECT oidc_client_secret FROM sign_in_settings WHERE store_id = :s"),
            {"s": site.acme},
        ).scalar_one()
    assert stored.startswith("v1.") and CLIENT_SECRET not in stored


def test_a_provider_on_loopback_is_refused_unless_allowed(provider):
    party = RelyingParty(OidcConfig())
    with pytest.raises(ProviderUnavailable, match="must use https|points inside"):
        party.begin(Client(provider.issuer, CLIENT_ID, "", "https://learnloop.test/cb"))
    assert OidcConfig.from_env({"LEARNLOOP_OIDC_ALLOW_HTTP_LOOPBACK": "1"}).allow_http_loopback
    assert not OidcConfig.from_env({}).allow_http_loopback


def test_failed_callbacks_are_throttled_per_address(site, provider):
    statuses = []
    for _ in range(11):
        http, callback = _to_callback(site, provider)
        statuses.append(http.get(callback.replace("state=", "state=x"), allow_redirects=False))
    assert statuses[-1].status_code == 429
    assert int(statuses[-1].headers["Retry-After"]) > 0


def test_use_single_sign_on_on_the_shared_page_goes_by_the_email_domain(site, provider):
    http = requests.Session()
    page = http.get(site.base + "/sign-in?next=/team")
    assert 'name="store"' in page.text  # two stores: the field is there, and optional
    answer = http.post(
        site.base + "/sign-in?next=/team",
        data={"csrf_token": support.csrf(page.text), "email": "ann@acme.test", "sso": "1"},
        allow_redirects=False,
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/s/acme/sign-in/sso?next=/team"
    done = http.get(site.base + answer.headers["Location"])  # provider and back, followed
    assert done.url == site.base + "/team" and done.status_code == 200


def test_a_provider_that_cannot_be_reached_is_a_502_page(site):
    broken = support.add_store(site.app, "broken")
    support.configure(
        site.app, broken, issuer="http://127.0.0.1:9", client_id="x", client_secret="y"
    )
    answer = requests.get(site.base + "/s/broken/sign-in/sso", allow_redirects=False)
    assert answer.status_code == 502
    assert "cannot be reached" in answer.text
