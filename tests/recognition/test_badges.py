"""Badges: awarded once by the worker after the last qualifying statement, as a statement of the
recognition profile and as an Open Badges 3.0 credential anyone can verify with the JWKS."""

import json

import jwt
import pytest

from lrs import vocabulary as v
from lrs.db import write_transaction
from recognition import credentials as vc
from tests.recognition.conftest import conforms, give, profile_templates, statement
from tests.support.worker import drain

KUDOS_TWICE = {
    "name": "Appreciated",
    "description": "Received kudos twice",
    "criteria": [{"verbs": [v.RECEIVED], "activity_type": v.KUDOS, "min_count": 2}],
}


def awards(org, who):
    response = org.client(who).get(f"/people/{org.people[who]}/badges")
    assert response.status_code == 200
    return response.get_json()


def test_a_badge_is_awarded_once_after_the_last_qualifying_statement(org):
    admin = org.client("admin")
    created = admin.post("/badges", json=KUDOS_TWICE)
    assert created.status_code == 201, created.get_json()
    give(org, "ben", "ann")
    assert awards(org, "ann") == []
    last = give(org, "maya", "ann")
    (award,) = awards(org, "ann")
    assert award["badge"]["name"] == "Appreciated"
    earned = statement(org, award["statement_id"])
    assert conforms(earned, profile_templates()["badge-earned"]) == []
    assert earned["timestamp"] == statement(org, last.statement_id)["timestamp"]
    give(org, "cora", "ann")
    drain(org.app)
    assert len(awards(org, "ann")) == 1  # once
    assert org.client("ben").get(f"/people/{org.people['ann']}/badges").status_code == 404


def test_a_new_badge_is_awarded_to_those_who_already_meet_it(org):
    give(org, "ben", "cora")
    give(org, "ann", "cora")
    assert org.client("admin").post("/badges", json=KUDOS_TWICE).status_code == 201
    drain(org.app)
    assert [a["badge"]["name"] for a in awards(org, "cora")] == ["Appreciated"]


def test_only_badges_and_issuers_that_issued_a_credential_are_published(org):
    created = org.client("admin").post("/badges", json=KUDOS_TWICE).get_json()
    client = org.app.test_client()
    nobody_holds_it = client.get(f"/badges/{created['id']}")
    assert nobody_holds_it.status_code == 404 and nobody_holds_it.get_json()["message"]
    assert client.get(f"/badges/issuers/{org.store_id}").status_code == 404
    assert client.get(f"/badges/issuers/{org.store_id}/jwks.json").get_json() == {"keys": []}


def test_badge_definitions_are_admins_and_validated_like_objectives(org):
    assert org.client("maya").post("/badges", json=KUDOS_TWICE).status_code == 403
    bad = org.client("admin").post("/badges", json={**KUDOS_TWICE, "criteria": [{}]})
    assert bad.status_code == 400 and bad.get_json()["errors"][0]["path"].startswith("criteria")
    assert org.client("admin").post("/badges", json=KUDOS_TWICE).status_code == 201
    again = org.client("admin").post("/badges", json=KUDOS_TWICE)
    assert again.status_code == 409 and again.get_json()["errors"][0]["path"] == "name"


@pytest.fixture
def credential(org):
    assert org.client("admin").post("/badges", json=KUDOS_TWICE).status_code == 201
    give(org, "ben", "ann")
    give(org, "maya", "ann")
    (award,) = awards(org, "ann")
    detail = org.client("ann").get(f"/badge-awards/{award['id']}")
    assert detail.status_code == 200
    return detail.get_json()


def test_the_credential_verifies_with_the_published_keys_only(org, credential):
    client = org.app.test_client()
    jwks_url = credential["credential_jwks"]
    assert jwks_url.startswith("http://localhost/badges/issuers/")
    keys = client.get(jwks_url.removeprefix("http://localhost")).get_json()
    header = jwt.get_unverified_header(credential["credential"])
    (jwk,) = [k for k in keys["keys"] if k["kid"] == header["kid"]]
    public = jwt.PyJWK(jwk).key
    claims = jwt.decode(credential["credential"], public, algorithms=["RS256"])
    vc = claims["vc"]
    assert "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json" in vc["@context"]
    assert vc["type"] == ["VerifiableCredential", "AchievementCredential"]
    assert claims["iss"] == vc["issuer"]["id"] and claims["jti"] == vc["id"]
    achievement = vc["credentialSubject"]["achievement"]
    assert achievement["name"] == "Appreciated" and achievement["criteria"]["narrative"]
    identity = vc["credentialSubject"]["identifier"][0]
    assert identity["hashed"] and "ann@example.com" not in str(vc)
    served = client.get(achievement["id"].removeprefix("http://localhost")).get_json()
    assert served["name"] == "Appreciated"
    issuer = client.get(vc["issuer"]["id"].removeprefix("http://localhost")).get_json()
    assert issuer["type"] == ["Profile"]


def test_a_tampered_credential_fails_verification(org, credential):
    keys = (
        org.app.test_client()
        .get(credential["credential_jwks"].removeprefix("http://localhost"))
        .get_json()
    )
    public = jwt.PyJWK(keys["keys"][0]).key
    header, payload, signature = credential["credential"].split(".")
    claims = credential["credential_claims"]
    claims["vc"]["credentialSubject"]["achievement"]["name"] = "Reviewer of the year"
    forged = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{header}.{forged}.{signature}", public, algorithms=["RS256"])


def test_after_the_secret_key_changes_a_new_key_signs_and_old_credentials_still_verify(org):
    sessions = org.app.extensions["learnloop"].sessions
    claims = {"vc": {"id": "urn:uuid:1", "issuer": {"id": "http://localhost/i"}}}
    with write_transaction(sessions) as session:
        old = vc.sign(session, org.store_id, claims["vc"], 1_000, vc.key_box("a" * 32))
        new = vc.sign(session, org.store_id, claims["vc"], 2_000, vc.key_box("b" * 32))
        keys = vc.published_keys(session, org.store_id)["keys"]
    kids = {jwt.get_unverified_header(token)["kid"] for token in (old, new)}
    assert len(kids) == 2 and {k["kid"] for k in keys} == kids
    for token in (old, new):
        (jwk,) = [k for k in keys if k["kid"] == jwt.get_unverified_header(token)["kid"]]
        assert jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"])["jti"] == "urn:uuid:1"


def test_an_identity_linked_later_earns_the_badge_its_earlier_statements_meet(org):
    from lrs.people.models import Person
    from lrs.people.services import link_identity

    alias = {"mbox": "mailto:ann.okafor@old-company.example"}
    course = {"verbs": [v.COMPLETED], "activity_ids": ["http://example.com/courses/security"]}
    org.client("admin").post("/badges", json={"name": "Secure", "criteria": [course]})
    org.write(
        [
            {
                "actor": alias,
                "verb": {"id": v.COMPLETED},
                "object": {"id": "http://example.com/courses/security"},
            }
        ]
    )
    assert awards(org, "ann") == []
    with write_transaction(org.app.extensions["learnloop"].sessions) as session:
        link_identity(session, org.store_id, session.get(Person, org.people["ann"]), alias)
    drain(org.app)
    assert [a["badge"]["name"] for a in awards(org, "ann")] == ["Secure"]
