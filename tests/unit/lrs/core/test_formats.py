"""format=ids and format=canonical with Accept-Language (Communication 2.1.3; delta C10)."""

from lrs.core.formats import as_canonical, as_ids, parse_accept_language, pick_language

STATEMENT = {
    "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0",
    "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
    "verb": {
        "id": "http://x/verbs/did",
        "display": {"en-US": "did", "en-GB": "did (GB)", "fr": "a fait"},
    },
    "object": {
        "objectType": "SubStatement",
        "actor": {
            "objectType": "Group",
            "name": "G",
            "mbox": "mailto:g@example.com",
            "member": [{"mbox": "mailto:m@example.com", "name": "M"}],
        },
        "verb": {"id": "http://x/verbs/will", "display": {"en-US": "will"}},
        "object": {
            "objectType": "Activity",
            "id": "http://x/act",
            "definition": {"name": {"en-US": "Act", "en-GB": "Act (GB)"}},
        },
    },
    "context": {
        "contextActivities": {
            "parent": [{"id": "http://x/parent", "definition": {"name": {"fr": "P"}}}]
        }
    },
}


def test_ids_keeps_only_identifiers():
    # CTS 2.0 XAPI-00171: verb and activity one key, identified group objectType + IFI.
    out = as_ids(STATEMENT)
    assert out["actor"] == {"objectType": "Agent", "mbox": "mailto:ann@example.com"}
    assert out["verb"] == {"id": "http://x/verbs/did"}
    assert out["object"]["actor"] == {"objectType": "Group", "mbox": "mailto:g@example.com"}
    assert out["object"]["object"] == {"id": "http://x/act"}
    assert out["object"]["verb"] == {"id": "http://x/verbs/will"}
    assert out["context"]["contextActivities"]["parent"] == [{"id": "http://x/parent"}]


def test_ids_keeps_anonymous_group_members_reduced():
    statement = dict(
        STATEMENT,
        actor={
            "objectType": "Group",
            "name": "anon",
            "member": [{"name": "M", "mbox": "mailto:m@example.com"}],
        },
    )
    assert as_ids(statement)["actor"] == {
        "objectType": "Group",
        "member": [{"mbox": "mailto:m@example.com"}],
    }


def test_canonical_uses_the_canonical_definition_and_one_language_per_map():
    canonical = {
        "http://x/act": {
            "name": {"en-US": "Act", "en-GB": "Act (GB)", "de": "Akt"},
            "description": {"en-US": "d"},
        }
    }
    out = as_canonical(STATEMENT, canonical.get, ["en-GB"])
    assert out["verb"]["display"] == {"en-GB": "did (GB)"}
    assert out["object"]["object"]["definition"] == {
        "name": {"en-GB": "Act (GB)"},
        "description": {"en-US": "d"},
    }
    # agents stay as received in canonical format
    assert out["actor"] == STATEMENT["actor"]


def test_accept_language_quality_order():
    assert parse_accept_language("fr;q=0.5, en-GB, de;q=0.8") == ["en-GB", "de", "fr"]
    assert parse_accept_language(None) == []
    assert parse_accept_language("en;q=0") == []


def test_pick_language_prefers_exact_then_prefix_then_first():
    lm = {"en-US": "a", "fr-CA": "b"}
    assert pick_language(lm, ["fr-CA"]) == {"fr-CA": "b"}
    assert pick_language(lm, ["fr"]) == {"fr-CA": "b"}
    assert pick_language(lm, ["de"]) == {"en-US": "a"}
    assert pick_language(lm, []) == {"en-US": "a"}
