"""The code-review and micro-learning xAPI Profiles: valid JSON-LD, complete, served as such.

pyld never goes to the network: its document loader serves the xAPI Profiles context
(``https://w3id.org/xapi/profiles/context``) from ``fixtures/xapi-profiles-context.jsonld``,
which holds the published context's term definitions for every term our profiles use. A term
missing from it would be dropped by expansion, which the round trip below detects.
"""

import json
import re

import pytest
from pyld import jsonld

from connectors import profile as p
from lrs import vocabulary
from tests.connectors.conftest import FIXTURES

CONTEXT = json.loads((FIXTURES / "xapi-profiles-context.jsonld").read_text())
NAMES = sorted(p.PROFILE_FILES)
VERSIONS = {
    "code-review": p.CODE_REVIEW_V1,
    "micro-learning": p.MICRO_LEARNING_V1,
    "recognition": f"{vocabulary.RECOGNITION}/v1",
    "feedback": f"{vocabulary.FEEDBACK}/v1",
}
IRIS = {
    "code-review": p.CODE_REVIEW,
    "micro-learning": p.MICRO_LEARNING,
    "recognition": vocabulary.RECOGNITION,
    "feedback": vocabulary.FEEDBACK,
}


def offline_loader(url, options=None):
    if url != p.PROFILE_CONTEXT:
        raise jsonld.JsonLdError(f"no network in tests: {url}", "loading document failed")
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": CONTEXT,
    }


OPTIONS = {"documentLoader": offline_loader}


@pytest.mark.parametrize("name", NAMES)
def test_the_profile_expands_as_json_ld_and_compacts_back_unchanged(name):
    document = p.profile_document(name)
    expanded = jsonld.expand(document, OPTIONS)
    assert expanded and expanded[0]["@id"] == IRIS[name]
    assert expanded[0]["@type"] == ["https://w3id.org/xapi/profiles/ontology#Profile"]
    compacted = jsonld.compact(expanded, p.PROFILE_CONTEXT, OPTIONS)
    assert compacted == document  # nothing was dropped or reinterpreted


@pytest.mark.parametrize("name", NAMES)
def test_every_concept_and_template_is_in_the_current_version_with_labels(name):
    document = p.profile_document(name)
    assert [v["id"] for v in document["versions"]] == [VERSIONS[name]]
    for node in document["concepts"] + document["templates"]:
        assert node["id"].startswith(IRIS[name] + "/"), node["id"]
        assert node["inScheme"] == VERSIONS[name]
        assert node["prefLabel"]["en"] and node["definition"]["en"]
    ids = [node["id"] for node in document["concepts"] + document["templates"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", NAMES)
def test_extension_schemas_are_json_schema_text(name):
    for concept in p.profile_document(name)["concepts"]:
        if concept["type"].endswith("Extension"):
            assert json.loads(concept["inlineSchema"])["type"]


def test_every_minted_iri_the_code_uses_is_a_concept_of_its_profile():
    minted = {
        value
        for key, value in vars(vocabulary).items()
        if key.isupper()
        and isinstance(value, str)
        and value.startswith(vocabulary.PROFILES + "/")
        and value
        not in (
            vocabulary.CODE_REVIEW,
            vocabulary.MICRO_LEARNING,
            vocabulary.RECOGNITION,
            vocabulary.FEEDBACK,
        )
    }
    concepts = {c["id"] for name in NAMES for c in p.profile_document(name)["concepts"]}
    assert minted and minted <= concepts, minted - concepts


def test_the_served_profiles_and_the_vocabulary_name_the_same_iris():
    """Each IRI a profile document names is written once, in lrs.vocabulary: the profile's own
    IRI, every concept it mints (and of the vocabulary's kind), every registry verb and activity
    type its templates reuse, every extension its rules locate."""
    defined = {
        value for key, value in vars(vocabulary).items() if key.isupper() and isinstance(value, str)
    }
    verbs = {t.iri for t in vocabulary.VERBS}
    types = {t.iri for t in vocabulary.ACTIVITY_TYPES} | {
        vocabulary.ROLE_AUTHOR,
        vocabulary.ROLE_GIVER,
        vocabulary.ROLE_MENTOR,
        vocabulary.ROLE_MENTEE,
    }
    served = vocabulary.as_json()["profiles"]
    assert sorted(served) == NAMES
    for name in NAMES:
        document = p.profile_document(name)
        assert document["id"] == served[name]
        for concept in document["concepts"]:
            assert concept["id"] in defined, concept["id"]
            kind = {"Verb": verbs, "ActivityType": types}.get(concept["type"], defined)
            assert concept["id"] in kind, (concept["type"], concept["id"])
        template_verbs, template_types = p.vocabulary(name)
        assert template_verbs <= verbs, template_verbs - verbs
        assert template_types <= types, template_types - types
        located = {
            iri
            for template in document["templates"]
            for rule in template.get("rules", [])
            for iri in re.findall(r"\['([^']+)'\]", rule["location"])
        }
        assert located <= defined, located - defined


def test_registry_terms_are_reused_not_minted():
    verbs, _ = p.vocabulary("code-review")
    assert {p.REVIEWED, p.APPROVED, p.COMMENTED, p.AUTHORED} <= verbs
    minted_verbs = {
        c["id"] for c in p.profile_document("code-review")["concepts"] if c["type"] == "Verb"
    }
    assert minted_verbs == {p.REQUESTED_CHANGES, p.MERGED}
    assert not [c for c in p.profile_document("micro-learning")["concepts"] if c["type"] == "Verb"]


def test_templates_reference_templates_of_the_profile():
    document = p.profile_document("code-review")
    templates = {t["id"] for t in document["templates"]}
    for template in document["templates"]:
        for ref in template.get("contextStatementRefTemplate", []):
            assert ref in templates


@pytest.mark.parametrize("name", NAMES)
def test_the_profile_is_served_as_json_ld(app, name):
    response = app.test_client().get(f"/profiles/{name}")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    assert response.get_json(force=True) == p.profile_document(name)


def test_an_unknown_profile_is_a_json_404(app):
    response = app.test_client().get("/profiles/cooking")
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"
