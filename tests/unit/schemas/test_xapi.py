"""Rules of xAPI statement validation, each case citing the requirement it checks.

``Data x.y`` = xAPI 1.0.3 Part Two (xAPI-Data.md) section; ``XAPI-000nn`` = requirement id of the
ADL LRS conformance test suite; ``D``/``V`` = section of the 2.0 delta (xapi-2.0-delta.md).
Cases run under both versions unless they name one. The CTS statements themselves are replayed in
test_xapi_cts.py and the real-world corpus in test_xapi_corpus.py.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lrs import vocabulary as v
from schemas.fields import flatten_messages
from schemas.xapi import (
    VERSIONS,
    AgentSchema,
    StatementValidationError,
    statement_schema,
    validate_activity_id,
    validate_agent,
    validate_statement,
    validate_statements,
)

V103, V200 = VERSIONS
AGENT = {"objectType": "Agent", "name": "xAPI mbox", "mbox": "mailto:xapi@adlnet.gov"}
VERB = {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}}
ACTIVITY = {"objectType": "Activity", "id": "http://www.example.com/meetings/occurances/34534"}
VOIDED = {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}}
REF = {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}
UUID = "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
SHA1 = "cd9b00a5611f94eaa7b1661edab976068e364975"
SHA256 = "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a"
ATTACHMENT = {
    "usageType": "http://example.com/attachment-usage/test",
    "display": {"en-US": "A test attachment"},
    "contentType": "text/plain; charset=ascii",
    "length": 27,
    "sha2": SHA256,
}
ACCOUNT = {"homePage": "http://www.example.com", "name": "xAPI account name"}
MISSING = object()

IFIS = "mbox, mbox_sha1sum, openid, account"
IFI_RULE = f"an Agent must have exactly one of {IFIS}"
GROUP_IFI_RULE = f"an identified Group must have exactly one of {IFIS}"
OBJECT_TYPES = "must be one of: Activity, Agent, Group, StatementRef, SubStatement"
INTERACTION_TYPES = (
    "must be one of: true-false, choice, fill-in, long-fill-in, matching, performance, "
    "sequencing, likert, numeric, other"
)


def stmt(**changes: Any) -> dict:
    """A minimal valid statement with top-level properties replaced, added or (MISSING) removed."""
    statement = {"actor": AGENT, "verb": VERB, "object": ACTIVITY}
    statement.update(changes)
    return copy.deepcopy({k: v for k, v in statement.items() if v is not MISSING})


def sub(**changes: Any) -> dict:
    """A minimal valid SubStatement, changed like :func:`stmt`."""
    return stmt(objectType="SubStatement", **changes)


def errors_of(statement: Any, version: str) -> list[tuple[str, str]]:
    try:
        validate_statements(statement, version)
    except StatementValidationError as exc:
        return exc.errors
    return []


def case(case_id: str, statement: dict, *expected: tuple[str, str], versions=VERSIONS):
    return [
        pytest.param(statement, version, list(expected), id=f"{case_id} [{version}]")
        for version in versions
    ]


VALID = [
    # Data 2.4: the simplest statement; optional objectType, display, everything else.
    *case("Data 2.4 minimal statement", stmt()),
    *case("Data 2.4.4 object without objectType is an Activity", stmt(object={"id": "urn:x:1"})),
    *case("Data 2.4.2.1 XAPI-00034 agent by account", stmt(actor={"account": ACCOUNT})),
    *case("Data 2.4.2.1 agent by mbox_sha1sum", stmt(actor={"mbox_sha1sum": SHA1.upper()})),
    *case("Data 2.4.2.1 agent by openid", stmt(actor={"openid": "http://openid.example.org/1"})),
    *case(
        "Data 2.4.2.2 XAPI-00037 identified group without member",
        stmt(actor={"objectType": "Group", "mbox": "mailto:team@example.com"}),
    ),
    *case(
        "Data 2.4.2.2 XAPI-00035 anonymous group with members",
        stmt(actor={"objectType": "Group", "member": [AGENT, {"account": ACCOUNT}]}),
    ),
    *case(
        "Data 2.2 empty objects are only a SHOULD NOT", stmt(object={**ACTIVITY, "definition": {}})
    ),
    *case(
        "Data 4.1 XAPI-00119 extension values may be null",
        stmt(result={"extensions": {"urn:x": None}}),
    ),
    *case("Data 4.1 XAPI-00119 empty extensions", stmt(context={"extensions": {}})),
    *case("Data 2.4.4.3 XAPI-00072 upper-case UUID", stmt(object={**REF, "id": UUID.upper()})),
    *case("Data 2.3.2 XAPI-00017 voiding statement", stmt(verb=VOIDED, object=REF)),
    *case(
        "Data 2.4.4.3 voided verb in a SubStatement with a StatementRef",
        stmt(object=sub(verb=VOIDED, object=REF)),
    ),
    *case(
        "Data 2.4.6 XAPI-00084 revision with an Activity without objectType",
        stmt(object={"id": "urn:x:1"}, context={"revision": "1", "platform": "web"}),
    ),
    *case(
        "Data 2.4.6.2 single Activity as a contextActivities value",
        stmt(context={"contextActivities": {"parent": ACTIVITY, "other": []}}),
    ),
    *case(
        "Data 2.4.5.1 XAPI-00080..83 score at its bounds",
        stmt(result={"score": {"scaled": -1, "raw": 0, "min": 0, "max": 0.5}}),
    ),
    *case("Data 2.4.7 D9 future timestamp", stmt(timestamp="2099-01-01T00:00:00Z")),
    *case("Data 2.4.8 XAPI-00097 stored is accepted", stmt(stored="2011-07-15T00:00:00.000Z")),
    *case("Data 4.6 D10 duration beyond 0.01 s", stmt(result={"duration": "P1DT12H36M0.12567S"})),
    *case("Data 2.4.10 XAPI-00101 version 1.0", stmt(version="1.0")),
    *case("Data 2.4.10 XAPI-00101 version 1.0.9", stmt(version="1.0.9")),
    *case(
        "Data 2.4.11 attachment without fileUrl (multipart is the transport's concern)",
        stmt(attachments=[ATTACHMENT]),
    ),
    *case(
        "Data 2.6 signature attachment",
        stmt(
            attachments=[
                {
                    **ATTACHMENT,
                    "usageType": "http://adlnet.gov/expapi/attachments/signature",
                    "contentType": "application/octet-stream",
                }
            ]
        ),
    ),
    *case(
        "Data 2.4.4.1 interaction activity with its component list",
        stmt(
            object={
                **ACTIVITY,
                "definition": {
                    "interactionType": "likert",
                    "correctResponsesPattern": ["likert_3"],
                    "scale": [{"id": "likert_0"}, {"id": "likert_3", "description": {"en": "x"}}],
                },
            }
        ),
    ),
    *case("Data 2.4.4.3 SubStatement with attachments", stmt(object=sub(attachments=[ATTACHMENT]))),
    *case(
        "Data 4.2 XAPI-00013 language tags",
        stmt(verb={**VERB, "display": {"zh-Hant-TW": "x", "sr-Latn-RS": "y", "es-419": "z"}}),
    ),
    # 2.0.0 only.
    *case("V4 XAPI-00332 version 2.0.0", stmt(version="2.0.0"), versions=[V200]),
    *case(
        "D6 space between date and time",
        stmt(timestamp="2013-05-18 05:32:34.804Z"),
        versions=[V200],
    ),
    *case(
        "D1 contextAgents",
        stmt(
            context={
                "contextAgents": [
                    {"objectType": "contextAgent", "agent": AGENT},
                    {"objectType": "contextAgent", "agent": AGENT, "relevantTypes": ["urn:x"]},
                ]
            }
        ),
        versions=[V200],
    ),
    *case(
        "D2 contextGroups (identified and anonymous) in a SubStatement",
        stmt(
            object=sub(
                context={
                    "contextGroups": [
                        {
                            "objectType": "contextGroup",
                            "group": {"objectType": "Group", "member": [AGENT]},
                            "relevantTypes": ["https://example.com/team"],
                        },
                        {
                            "objectType": "contextGroup",
                            "group": {"objectType": "Group", "openid": "urn:g"},
                        },
                    ]
                }
            )
        ),
        versions=[V200],
    ),
    # 1.0.3 only.
    *case("Data 4.5 ISO 8601 basic format", stmt(timestamp="20130518T053234Z"), versions=[V103]),
    *case("Data 4.5 ISO 8601 week date", stmt(timestamp="2013-W20-6T05:32Z"), versions=[V103]),
]


@pytest.mark.parametrize(("statement", "version", "expected"), VALID)
def test_valid(statement: dict, version: str, expected: list) -> None:
    assert errors_of(statement, version) == []


INVALID = [
    # --- Data 2.2 Formatting requirements -----------------------------------------------------
    *case(
        "Data 2.2 XAPI-00003 actor missing", stmt(actor=MISSING), ("statement.actor", "is required")
    ),
    *case(
        "Data 2.2 XAPI-00004 verb missing", stmt(verb=MISSING), ("statement.verb", "is required")
    ),
    *case(
        "Data 2.2 XAPI-00005 object missing",
        stmt(object=MISSING),
        ("statement.object", "is required"),
    ),
    *case(
        "Data 2.2 XAPI-00001 null property",
        stmt(actor={**AGENT, "name": None}),
        ("statement.actor.name", "may not be null"),
    ),
    *case(
        "Data 2.2 XAPI-00001 null in a language map",
        stmt(verb={**VERB, "display": {"en-US": None}}),
        ("statement.verb.display.en-US", "may not be null"),
    ),
    *case(
        "Data 2.2 XAPI-00001 null top-level property",
        stmt(context=None),
        ("statement.context", "may not be null"),
    ),
    *case(
        "Data 2.2 XAPI-00001 null in an array",
        stmt(context={"contextActivities": {"grouping": [ACTIVITY, None]}}),
        ("statement.context.contextActivities.grouping[1]", "may not be null"),
    ),
    *case(
        "Data 4.1 XAPI-00001 extensions themselves may not be null",
        stmt(result={"extensions": None}),
        ("statement.result.extensions", "may not be null"),
    ),
    *case(
        "Data 2.2 XAPI-00006 string where a number is required",
        stmt(result={"score": {"max": "100"}}),
        ("statement.result.score.max", "must be a number"),
    ),
    *case(
        "Data 2.2 XAPI-00006 string where a boolean is required",
        stmt(result={"success": "true"}),
        ("statement.result.success", "must be a boolean"),
    ),
    *case(
        "Data 2.2 XAPI-00006 boolean where a number is required",
        stmt(result={"score": {"raw": True}}),
        ("statement.result.score.raw", "must be a number"),
    ),
    *case(
        "Data 2.2 XAPI-00006 NaN is not a JSON number",
        stmt(result={"score": {"raw": float("nan")}}),
        ("statement.result.score.raw", "must be a number"),
    ),
    *case(
        "Data 2.2 XAPI-00008 key case",
        stmt(actor=MISSING, Actor=AGENT),
        ("statement.Actor", "unknown property"),
        ("statement.actor", "is required"),
    ),
    *case(
        "D5 XAPI-00010 unknown top-level key",
        stmt(dummy="dummy"),
        ("statement.dummy", "unknown property"),
    ),
    *case(
        "Data 2.2 XAPI-00010 unknown key in an Account",
        stmt(actor={"account": {**ACCOUNT, "id": "1"}}),
        ("statement.actor.account.id", "unknown property"),
    ),
    *case(
        "Data 2.2 XAPI-00010 unknown key in an Activity Definition",
        stmt(object={**ACTIVITY, "definition": {"title": {"en": "x"}}}),
        ("statement.object.definition.title", "unknown property"),
    ),
    *case(
        "Data 2.2 XAPI-00010 unknown key in a Score",
        stmt(result={"score": {"percent": 5}}),
        ("statement.result.score.percent", "unknown property"),
    ),
    *case(
        "Data 2.2 XAPI-00009 enumerated value case",
        stmt(object={**ACTIVITY, "objectType": "activity"}),
        ("statement.object.objectType", OBJECT_TYPES),
    ),
    *case(
        "Data 2.2 XAPI-00007 empty string where an IRI is required",
        stmt(verb={"id": ""}),
        ("statement.verb.id", "must be a valid IRI"),
    ),
    *case(
        "Data 2.2 XAPI-00011 IRI without a scheme",
        stmt(verb={"id": "not.a.valid.iri.com/verb"}),
        ("statement.verb.id", "must be a valid IRI"),
    ),
    # --- Data 2.4.1 id, 4.4 UUIDs -------------------------------------------------------------
    *case(
        "Data 2.4.1 XAPI-00027 UUID with too many digits",
        stmt(id="AA97B177-9383-4934-8543-0F91A7A028368"),
        ("statement.id", "must be a UUID in standard string form"),
    ),
    *case(
        "Data 4.4 XAPI-00029 UUID not in standard form",
        stmt(id="{ec531277-b57b-4c15-8d91-d292c5b2b8f7}"),
        ("statement.id", "must be a UUID in standard string form"),
    ),
    *case("Data 2.4.1 XAPI-00028 numeric id", stmt(id=12345), ("statement.id", "must be a string")),
    # --- Data 2.4.2 Actor ---------------------------------------------------------------------
    *case(
        "Data 2.4.2 XAPI-00031 actor objectType case",
        stmt(actor={**AGENT, "objectType": "agent"}),
        ("statement.actor.objectType", "must be one of: Agent, Group"),
    ),
    *case(
        "Data 2.4.2.1 XAPI-00034 agent without IFI",
        stmt(actor={"objectType": "Agent", "name": "x"}),
        ("statement.actor", IFI_RULE),
    ),
    *case(
        "Data 2.4.2.1 XAPI-00034 agent with two IFIs",
        stmt(actor={**AGENT, "account": ACCOUNT}),
        ("statement.actor", IFI_RULE),
    ),
    *case(
        "Data 2.4.2.3 XAPI-00038 mbox without mailto:",
        stmt(actor={"mbox": "xapi@adlnet.gov"}),
        ("statement.actor.mbox", "must start with mailto:"),
    ),
    *case(
        "Data 2.4.2.3 XAPI-00038 mbox without an address",
        stmt(actor={"mbox": "mailto:should.fail.com"}),
        ("statement.actor.mbox", "must be mailto: followed by an email address"),
    ),
    *case(
        "Data 2.4.2.3 XAPI-00039 mbox_sha1sum not hex",
        stmt(actor={"mbox_sha1sum": "esydnag7fhxkquopagrr4aiputa="}),
        ("statement.actor.mbox_sha1sum", "must be a hex-encoded SHA-1 hash (40 hex digits)"),
    ),
    *case(
        "Data 2.4.2.3 XAPI-00040 openid without scheme",
        stmt(actor={"openid": "open.id.com/testUser"}),
        ("statement.actor.openid", "must be a valid IRI"),
    ),
    *case(
        "Data 2.4.2.4 XAPI-00042 account without homePage",
        stmt(actor={"account": {"name": "1"}}),
        ("statement.actor.account.homePage", "is required"),
    ),
    *case(
        "Data 2.4.2.4 XAPI-00042 account homePage not an IRL",
        stmt(actor={"account": {**ACCOUNT, "homePage": "homePage.com/testUser"}}),
        ("statement.actor.account.homePage", "must be a valid IRI"),
    ),
    *case(
        "Data 2.4.2.4 XAPI-00043 account name not a string",
        stmt(actor={"account": {**ACCOUNT, "name": 1625378}}),
        ("statement.actor.account.name", "must be a string"),
    ),
    *case(
        "Data 2.4.2.2 XAPI-00036 a Group may not contain a Group",
        stmt(actor={"objectType": "Group", "member": [{"objectType": "Group", "member": [AGENT]}]}),
        ("statement.actor.member[0]", "a Group may not contain a Group"),
    ),
    *case(
        "Data 2.4.2.2 XAPI-00036 members are Agents",
        stmt(actor={"objectType": "Group", "member": [AGENT, {"mbox": "bob@example.com"}]}),
        ("statement.actor.member[1].mbox", "must start with mailto:"),
    ),
    *case(
        "Data 2.4.2.2 XAPI-00036 member is an array",
        stmt(actor={"objectType": "Group", "mbox": "mailto:t@example.com", "member": AGENT}),
        ("statement.actor.member", "must be an array"),
    ),
    *case(
        "Data 2.4.2.2 XAPI-00035 anonymous group without member",
        stmt(actor={"objectType": "Group", "name": "Group Anonymous"}),
        ("statement.actor.member", "is required in an anonymous Group"),
    ),
    *case(
        "Data 2.4.2.2 anonymous group with no members",
        stmt(actor={"objectType": "Group", "member": []}),
        ("statement.actor.member", "an anonymous Group must have at least one member"),
    ),
    *case(
        "Data 2.4.2.2 XAPI-00037 identified group with two IFIs",
        stmt(actor={"objectType": "Group", "openid": "urn:g", "mbox": "mailto:t@example.com"}),
        ("statement.actor", GROUP_IFI_RULE),
    ),
    *case(
        "Data 2.4.2.1 an Agent has no member",
        stmt(actor={**AGENT, "member": [AGENT]}),
        ("statement.actor.member", "unknown property"),
    ),
    # --- Data 2.4.3 Verb ----------------------------------------------------------------------
    *case(
        "Data 2.4.3 XAPI-00044 verb without id",
        stmt(verb={"display": {"en": "x"}}),
        ("statement.verb.id", "is required"),
    ),
    *case(
        "Data 2.4.3 verb is an object",
        stmt(verb=v.EXPERIENCED),
        ("statement.verb", "must be an object"),
    ),
    *case(
        "Data 2.4.3 XAPI-00045 display is a language map",
        stmt(verb={**VERB, "display": "attended"}),
        (
            "statement.verb.display",
            "must be a language map (an object of language tags to strings)",
        ),
    ),
    *case(
        "Data 2.4.3 XAPI-00045 display values are strings",
        stmt(verb={**VERB, "display": {"en": 1}}),
        ("statement.verb.display.en", "must be a string"),
    ),
    # --- Data 2.4.4 Object --------------------------------------------------------------------
    *case(
        "Data 2.4.4.2 XAPI-00065 Agent object must name its objectType",
        stmt(object={"mbox": "mailto:xapi@adlnet.gov"}),
        ("statement.object.mbox", "unknown property"),
        ("statement.object.id", "is required"),
    ),
    *case(
        "Data 2.4.4 XAPI-00046 unknown objectType",
        stmt(object={**ACTIVITY, "objectType": "Person"}),
        ("statement.object.objectType", OBJECT_TYPES),
    ),
    *case(
        "Data 2.4.4.1 XAPI-00047 activity without id",
        stmt(object={"objectType": "Activity"}),
        ("statement.object.id", "is required"),
    ),
    *case(
        "Data 2.4.4.1 XAPI-00047 activity id not an IRI",
        stmt(object={"id": "ab=c://should.fail.com"}),
        ("statement.object.id", "must be a valid IRI"),
    ),
    *case(
        "Data 2.4.4.1 XAPI-00048 definition is an object",
        stmt(object={**ACTIVITY, "definition": "meeting"}),
        ("statement.object.definition", "must be an object"),
    ),
    *case(
        "Data 2.4.4.1 XAPI-00060 type is an IRI",
        stmt(object={**ACTIVITY, "definition": {"type": "course"}}),
        ("statement.object.definition.type", "must be a valid IRI"),
    ),
    *case(
        "Data 2.4.4.1 XAPI-00061 moreInfo is an IRL",
        stmt(object={**ACTIVITY, "definition": {"moreInfo": "should error"}}),
        ("statement.object.definition.moreInfo", "must be a valid IRI"),
    ),
    *case(
        "Data 2.4.4.1 XAPI-00049 interactionType enum",
        stmt(object={**ACTIVITY, "definition": {"interactionType": "Choice"}}),
        ("statement.object.definition.interactionType", INTERACTION_TYPES),
    ),
    *case(
        "Data 2.4.4.1 XAPI-00064 interaction properties need an interactionType",
        stmt(object={**ACTIVITY, "definition": {"correctResponsesPattern": ["true"]}}),
        (
            "statement.object.definition.interactionType",
            "is required with correctResponsesPattern, choices, scale, source, target or steps",
        ),
    ),
    *case(
        "Data 2.4.4.1 component list not supported by the interactionType",
        stmt(object={**ACTIVITY, "definition": {"interactionType": "likert", "choices": []}}),
        ("statement.object.definition.choices", "is not used by interactionType likert"),
    ),
    *case(
        "Data 2.4.4.1 component ids are distinct",
        stmt(
            object={
                **ACTIVITY,
                "definition": {"interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]},
            }
        ),
        ("statement.object.definition.choices[1].id", "must be distinct within the list"),
    ),
    *case(
        "Data 2.4.4.1 component id is required",
        stmt(object={**ACTIVITY, "definition": {"interactionType": "sequencing", "choices": [{}]}}),
        ("statement.object.definition.choices[0].id", "is required"),
    ),
    *case(
        "Data 2.4.4.1 correctResponsesPattern is an array of strings",
        stmt(
            object={
                **ACTIVITY,
                "definition": {"interactionType": "numeric", "correctResponsesPattern": [4]},
            }
        ),
        ("statement.object.definition.correctResponsesPattern[0]", "must be a string"),
    ),
    *case(
        "Data 2.4.4.3 XAPI-00072 StatementRef id is a UUID",
        stmt(object={**REF, "id": "should fail"}),
        ("statement.object.id", "must be a UUID in standard string form"),
    ),
    *case(
        "Data 2.4.4.3 XAPI-00072 StatementRef without id",
        stmt(object={"objectType": "StatementRef"}),
        ("statement.object.id", "is required"),
    ),
    *case(
        "Data 2.4.4.3 XAPI-00071 a SubStatement may not contain a SubStatement",
        stmt(object=sub(object=sub())),
        ("statement.object.object", "a SubStatement may not contain a SubStatement"),
    ),
    *case(
        "Data 2.4.4.3 XAPI-00070 SubStatement id",
        stmt(object=sub(id=UUID)),
        ("statement.object.id", "is not allowed in a SubStatement"),
    ),
    *case(
        "Data 2.4.4.3 XAPI-00069 SubStatement stored",
        stmt(object=sub(stored="2013-05-18T05:32:34.804Z")),
        ("statement.object.stored", "is not allowed in a SubStatement"),
    ),
    *case(
        "Data 2.4.4.3 XAPI-00068 SubStatement version",
        stmt(object=sub(version="1.0.0")),
        ("statement.object.version", "is not allowed in a SubStatement"),
    ),
    *case(
        "Data 2.4.4.3 XAPI-00067 SubStatement authority",
        stmt(object=sub(authority=AGENT)),
        ("statement.object.authority", "is not allowed in a SubStatement"),
    ),
    *case(
        "Data 2.4.4.3 XAPI-00066 SubStatement requires a verb",
        stmt(object=sub(verb=MISSING)),
        ("statement.object.verb", "is required"),
    ),
    *case(
        "Data 2.4.4.3 XAPI-00066 SubStatement timestamp is validated",
        stmt(object=sub(timestamp="01/011/2015")),
        (
            "statement.object.timestamp",
            "must be an ISO 8601 date and time, e.g. 2024-05-04T17:00:00.000Z",
        ),
        versions=[V103],
    ),
    *case(
        "Data 2.4.4.3 XAPI-00066 SubStatement timestamp -00:00 (the CTS tests the outer one)",
        stmt(object=sub(timestamp="2008-09-15T15:53:00.601-00:00")),
        (
            "statement.object.timestamp",
            "may not use the offset -00:00 (unknown local offset); use Z or +00:00",
        ),
    ),
    # --- Data 2.3.2 Voiding -------------------------------------------------------------------
    *case(
        "Data 2.3.2 XAPI-00017 voiding statement object is a StatementRef",
        stmt(verb=VOIDED),
        (
            "statement.object.objectType",
            "must be StatementRef when the verb is http://adlnet.gov/expapi/verbs/voided",
        ),
    ),
    *case(
        "Data 2.3.2 voided verb in a SubStatement",
        stmt(object=sub(verb=VOIDED)),
        (
            "statement.object.object.objectType",
            "must be StatementRef when the verb is http://adlnet.gov/expapi/verbs/voided",
        ),
    ),
    # --- Data 2.4.5 Result --------------------------------------------------------------------
    *case(
        "Data 2.4.5.1 XAPI-00079 score is an object",
        stmt(result={"score": 95}),
        ("statement.result.score", "must be an object"),
    ),
    *case(
        "Data 2.4.5.1 XAPI-00083 scaled above 1",
        stmt(result={"score": {"scaled": 1.01}}),
        ("statement.result.score.scaled", "must be between -1 and 1"),
    ),
    *case(
        "Data 2.4.5.1 XAPI-00083 scaled below -1",
        stmt(result={"score": {"scaled": -1.00001}}),
        ("statement.result.score.scaled", "must be between -1 and 1"),
    ),
    *case(
        "Data 2.4.5.1 XAPI-00082 raw above max",
        stmt(result={"score": {"raw": 101, "max": 100}}),
        ("statement.result.score.raw", "must be at most max"),
    ),
    *case(
        "Data 2.4.5.1 XAPI-00082 raw below min",
        stmt(result={"score": {"raw": -1, "min": 0}}),
        ("statement.result.score.raw", "must be at least min"),
    ),
    *case(
        "Data 2.4.5.1 XAPI-00081 min equal to max",
        stmt(result={"score": {"min": 5, "max": 5}}),
        ("statement.result.score.min", "must be less than max"),
    ),
    *case(
        "Data 2.4.5 XAPI-00076 response is a string",
        stmt(result={"response": 12345}),
        ("statement.result.response", "must be a string"),
    ),
    *case(
        "Data 2.4.5 XAPI-00077 duration",
        stmt(result={"duration": "PA1H0M0S"}),
        ("statement.result.duration", "must be an ISO 8601 duration such as PT1H30M or P4W"),
    ),
    *case(
        "Data 4.6 XAPI-00124 weeks combined with days",
        stmt(result={"duration": "P4W1D"}),
        ("statement.result.duration", "must be an ISO 8601 duration such as PT1H30M or P4W"),
    ),
    *case(
        "Data 4.6 XAPI-00124 alternative format (ISO 8601 4.4.3.3)",
        stmt(result={"duration": "P0003-01-01T00:00:00"}),
        ("statement.result.duration", "must be an ISO 8601 duration such as PT1H30M or P4W"),
    ),
    *case(
        "Data 2.4.5 XAPI-00078 extensions is an object",
        stmt(result={"extensions": "x"}),
        ("statement.result.extensions", "must be an object"),
    ),
    # --- Data 2.4.6 Context -------------------------------------------------------------------
    *case(
        "Data 2.4.6 XAPI-00087 registration is a UUID",
        stmt(context={"registration": "x"}),
        ("statement.context.registration", "must be a UUID in standard string form"),
    ),
    *case(
        "Data 2.4.6 XAPI-00087 instructor is an Agent",
        stmt(context={"instructor": "x"}),
        ("statement.context.instructor", "must be an object"),
    ),
    *case(
        "Data 2.4.6 XAPI-00088 team is a Group",
        stmt(context={"team": AGENT}),
        ("statement.context.team.objectType", "must be Group"),
    ),
    *case(
        "Data 2.4.6 XAPI-00088 team names its objectType",
        stmt(context={"team": {"mbox": "mailto:t@example.com"}}),
        ("statement.context.team", "must be a Group (objectType Group)"),
    ),
    *case(
        "Data 2.4.6 XAPI-00084 revision only with an Activity object",
        stmt(object=AGENT, context={"revision": "rev_10_3_2"}),
        ("statement.context.revision", "may only be used when the object is an Activity"),
    ),
    *case(
        "Data 2.4.6 XAPI-00085 platform only with an Activity object",
        stmt(object=REF, context={"platform": "Example virtual meeting software"}),
        ("statement.context.platform", "may only be used when the object is an Activity"),
    ),
    *case(
        "Data 2.4.6 XAPI-00085 platform in a SubStatement about a Group",
        stmt(
            object=sub(object={"objectType": "Group", "openid": "urn:g"}, context={"platform": "x"})
        ),
        ("statement.object.context.platform", "may only be used when the object is an Activity"),
    ),
    *case(
        "Data 2.4.6 XAPI-00091 language tag",
        stmt(context={"language": "something"}),
        ("statement.context.language", "must be a valid RFC 5646 language tag"),
    ),
    *case(
        "Data 2.4.6 XAPI-00092 statement is a StatementRef",
        stmt(context={"statement": {"id": UUID}}),
        ("statement.context.statement.objectType", "is required"),
    ),
    *case(
        "Data 2.4.6.2 XAPI-00093 contextActivities keys",
        stmt(context={"contextActivities": {"consequences": [ACTIVITY]}}),
        ("statement.context.contextActivities.consequences", "unknown property"),
    ),
    *case(
        "Data 2.4.6.2 XAPI-00094 contextActivities values are Activities",
        stmt(context={"contextActivities": {"parent": "http://example.com"}}),
        (
            "statement.context.contextActivities.parent",
            "must be an Activity or an array of Activities",
        ),
    ),
    *case(
        "D1 contextAgents are unknown in 1.0.3",
        stmt(context={"contextAgents": [{"objectType": "contextAgent", "agent": AGENT}]}),
        ("statement.context.contextAgents", "unknown property"),
        versions=[V103],
    ),
    *case(
        "D2 contextGroups are unknown in 1.0.3 (also in a SubStatement)",
        stmt(object=sub(context={"contextGroups": []})),
        ("statement.object.context.contextGroups", "unknown property"),
        versions=[V103],
    ),
    *case(
        "D1 contextAgent objectType",
        stmt(context={"contextAgents": [{"objectType": "Should fail", "agent": AGENT}]}),
        ("statement.context.contextAgents[0].objectType", "must be contextAgent"),
        versions=[V200],
    ),
    *case(
        "D1 contextAgent objectType is required",
        stmt(context={"contextAgents": [{"agent": AGENT}]}),
        ("statement.context.contextAgents[0].objectType", "is required"),
        versions=[V200],
    ),
    *case(
        "D1 contextAgent agent is an Agent",
        stmt(
            context={
                "contextAgents": [
                    {
                        "objectType": "contextAgent",
                        "agent": {"objectType": "Group", "member": [AGENT]},
                    }
                ]
            }
        ),
        ("statement.context.contextAgents[0].agent", "must be an Agent"),
        versions=[V200],
    ),
    *case(
        "D1 relevantTypes has at least one IRI",
        stmt(
            context={
                "contextAgents": [
                    {"objectType": "contextAgent", "agent": AGENT, "relevantTypes": []}
                ]
            }
        ),
        ("statement.context.contextAgents[0].relevantTypes", "must have at least 1 item(s)"),
        versions=[V200],
    ),
    *case(
        "D2 relevantTypes are IRIs",
        stmt(
            context={
                "contextGroups": [
                    {
                        "objectType": "contextGroup",
                        "group": {"objectType": "Group", "openid": "urn:g"},
                        "relevantTypes": ["abc"],
                    }
                ]
            }
        ),
        ("statement.context.contextGroups[0].relevantTypes[0]", "must be a valid IRI"),
        versions=[V200],
    ),
    *case(
        "D2 contextGroup group is a Group",
        stmt(
            context={
                "contextGroups": [{"objectType": "contextGroup", "group": {"key": "Should fail"}}]
            }
        ),
        ("statement.context.contextGroups[0].group", "must be a Group (objectType Group)"),
        versions=[V200],
    ),
    *case(
        "D2 contextGroup has no member property",
        stmt(
            context={
                "contextGroups": [
                    {
                        "objectType": "contextGroup",
                        "group": {"objectType": "Group", "openid": "urn:g"},
                        "member": [],
                    }
                ]
            }
        ),
        ("statement.context.contextGroups[0].member", "unknown property"),
        versions=[V200],
    ),
    # --- Data 2.4.7 Timestamp, 4.5 ----------------------------------------------------------
    *case(
        "Data 4.5 XAPI-00123 not a date",
        stmt(timestamp="01/011/2015"),
        ("statement.timestamp", "must be an ISO 8601 date and time, e.g. 2024-05-04T17:00:00.000Z"),
        versions=[V103],
    ),
    *case(
        "D6 XAPI-00123 not a date",
        stmt(timestamp="01/011/2015"),
        ("statement.timestamp", "must be an RFC 3339 date and time, e.g. 2024-05-04T17:00:00.000Z"),
        versions=[V200],
    ),
    *case(
        "Data 4.5 XAPI-00123 offset -00:00",
        stmt(timestamp="2008-09-15T15:53:00.601-00:00"),
        (
            "statement.timestamp",
            "may not use the offset -00:00 (unknown local offset); use Z or +00:00",
        ),
    ),
    *case(
        "Data 4.5 XAPI-00123 offset -0000",
        stmt(timestamp="2008-09-15T15:53:00.601-0000"),
        (
            "statement.timestamp",
            "may not use the offset -00:00 (unknown local offset); use Z or +00:00",
        ),
        versions=[V103],
    ),
    *case(
        "D6 ISO 8601 basic format is not RFC 3339",
        stmt(timestamp="20130518T053234Z"),
        ("statement.timestamp", "must be an RFC 3339 date and time, e.g. 2024-05-04T17:00:00.000Z"),
        versions=[V200],
    ),
    *case(
        "Data 4.5 space instead of T is not ISO 8601",
        stmt(timestamp="2013-05-18 05:32:34Z"),
        ("statement.timestamp", "must be an ISO 8601 date and time, e.g. 2024-05-04T17:00:00.000Z"),
        versions=[V103],
    ),
    *case(
        "Data 4.5 day out of range",
        stmt(timestamp="2013-02-29T00:00:00Z"),
        ("statement.timestamp", "is not a valid date and time (day is out of range for month)"),
    ),
    *case(
        "Data 2.4.8 XAPI-00023 stored is a Timestamp",
        stmt(stored="yesterday"),
        ("statement.stored", "must be an RFC 3339 date and time, e.g. 2024-05-04T17:00:00.000Z"),
        versions=[V200],
    ),
    # --- Data 2.4.9 Authority -----------------------------------------------------------------
    *case(
        "Data 2.4.9 XAPI-00024 authority is an Agent or Group",
        stmt(authority={"objectType": "Agent"}),
        ("statement.authority", IFI_RULE),
    ),
    *case(
        "Data 2.4.9 XAPI-00100 authority group is anonymous",
        stmt(
            authority={
                "objectType": "Group",
                "mbox": "mailto:g@example.com",
                "member": [AGENT, AGENT],
            }
        ),
        (
            "statement.authority",
            "an authority Group must be anonymous (no mbox, mbox_sha1sum, openid, account)",
        ),
    ),
    *case(
        "Data 2.4.9 XAPI-00098 authority group has two members",
        stmt(authority={"objectType": "Group", "member": [AGENT]}),
        ("statement.authority.member", "an authority Group must have exactly two members"),
    ),
    # --- Data 2.4.10 Version ------------------------------------------------------------------
    *case(
        "Data 2.4.10 XAPI-00101 version 1.1.0",
        stmt(version="1.1.0"),
        ("statement.version", "must be 1.0 or 1.0.x"),
        versions=[V103],
    ),
    *case(
        "Data 2.4.10 version 2.0.0 is not 1.0.x",
        stmt(version="2.0.0"),
        ("statement.version", "must be 1.0 or 1.0.x"),
        versions=[V103],
    ),
    *case(
        "V4 XAPI-00101 version 0.9.9",
        stmt(version="0.9.9"),
        ("statement.version", "must be 1.0, 1.0.x or 2.0.0"),
        versions=[V200],
    ),
    *case(
        "V4 version 2.0 (only 2.0.0 is a statement version)",
        stmt(version="2.0"),
        ("statement.version", "must be 1.0, 1.0.x or 2.0.0"),
        versions=[V200],
    ),
    *case("V4 version is a string", stmt(version=1.0), ("statement.version", "must be a string")),
    # --- Data 2.4.11 Attachments, 2.6 signatures ----------------------------------------------
    *case(
        "Data 2.4.11 XAPI-00025 attachments is an array",
        stmt(attachments=ATTACHMENT),
        ("statement.attachments", "must be an array"),
    ),
    *case(
        "Data 2.4.11 XAPI-00025 attachment is an object",
        stmt(attachments=["should fail"]),
        ("statement.attachments[0]", "must be an object"),
    ),
    *case(
        "Data 2.4.11 XAPI-00107 usageType is required",
        stmt(attachments=[{k: v for k, v in ATTACHMENT.items() if k != "usageType"}]),
        ("statement.attachments[0].usageType", "is required"),
    ),
    *case(
        "Data 2.4.11 XAPI-00103 sha2 is required",
        stmt(attachments=[{k: v for k, v in ATTACHMENT.items() if k != "sha2"}]),
        ("statement.attachments[0].sha2", "is required"),
    ),
    *case(
        "Data 2.4.11 XAPI-00103 sha2 is a SHA-2 hash",
        stmt(attachments=[{**ATTACHMENT, "sha2": SHA1}]),
        ("statement.attachments[0].sha2", "must be a hex-encoded SHA-2 hash"),
    ),
    *case(
        "Data 2.4.11 XAPI-00102 length is an integer",
        stmt(attachments=[{**ATTACHMENT, "length": "27"}]),
        ("statement.attachments[0].length", "must be an integer"),
    ),
    *case(
        "Data 2.4.11 XAPI-00102 length is not negative",
        stmt(attachments=[{**ATTACHMENT, "length": -1}]),
        ("statement.attachments[0].length", "must be at least 0"),
    ),
    *case(
        "Data 2.4.11 XAPI-00105 contentType is a media type",
        stmt(attachments=[{**ATTACHMENT, "contentType": "text"}]),
        (
            "statement.attachments[0].contentType",
            "must be an Internet media type such as text/plain",
        ),
    ),
    *case(
        "Data 2.4.11 XAPI-00104 fileUrl is an IRL",
        stmt(attachments=[{**ATTACHMENT, "fileUrl": "should fail"}]),
        ("statement.attachments[0].fileUrl", "must be a valid IRI"),
    ),
    *case(
        "Data 2.4.11 XAPI-00106 display is required",
        stmt(attachments=[{k: v for k, v in ATTACHMENT.items() if k != "display"}]),
        ("statement.attachments[0].display", "is required"),
    ),
    *case(
        "Data 2.6 signature attachment content type",
        stmt(
            attachments=[
                {**ATTACHMENT, "usageType": "http://adlnet.gov/expapi/attachments/signature"}
            ]
        ),
        (
            "statement.attachments[0].contentType",
            "must be application/octet-stream for a signature attachment",
        ),
    ),
    # --- Data 4.1 Extensions, 4.2 Language maps -----------------------------------------------
    *case(
        "Data 4.1 XAPI-00118 extension keys are IRIs",
        stmt(context={"extensions": {"should fail": 1, "http://example.com/ok": 2}}),
        ("statement.context.extensions", "key 'should fail' must be a valid IRI"),
    ),
    *case(
        "Data 4.2 XAPI-00121 language map key",
        stmt(object={**ACTIVITY, "definition": {"name": {"a12345678": "x"}}}),
        ("statement.object.definition.name.a12345678", "key must be a valid RFC 5646 language tag"),
    ),
    *case(
        "Data 4.2 XAPI-00013 repeated extension singleton",
        stmt(object={**ACTIVITY, "definition": {"description": {"zh-z-aaa-z-bbb-c-ccc": "x"}}}),
        (
            "statement.object.definition.description.zh-z-aaa-z-bbb-c-ccc",
            "key must be a valid RFC 5646 language tag",
        ),
    ),
]


@pytest.mark.parametrize(("statement", "version", "expected"), INVALID)
def test_invalid(statement: dict, version: str, expected: list) -> None:
    errors = errors_of(statement, version)
    for pair in expected:
        assert pair in errors, errors


@pytest.mark.parametrize(("statement", "version", "expected"), VALID + INVALID)
def test_marshmallow_schema_gives_the_same_errors(statement: dict, version: str, expected) -> None:
    """Schema.validate (marshmallow) and validate_statements (compiled path) agree exactly."""
    marshmallow_errors = flatten_messages(
        statement_schema(version).validate(statement), "statement"
    )
    assert sorted(marshmallow_errors) == sorted(errors_of(statement, version))


# --- exact error paths ------------------------------------------------------------------------


def test_exact_paths_in_a_batch() -> None:
    valid = stmt()
    broken = stmt(
        context={
            "contextActivities": {"parent": [ACTIVITY, {"id": "not an iri"}]},
            "extensions": {"bad key": 1},
        },
        object={**ACTIVITY, "definition": {"name": {"en-US": None}}},
    )
    with pytest.raises(StatementValidationError) as raised:
        validate_statements([valid, broken, "x"], V200)
    assert sorted(raised.value.errors) == sorted(
        [
            ("statements[1].object.definition.name.en-US", "may not be null"),
            ("statements[1].context.contextActivities.parent[1].id", "must be a valid IRI"),
            ("statements[1].context.extensions", "key 'bad key' must be a valid IRI"),
            ("statements[2]", "must be an object"),
        ]
    )


def test_exact_paths_single_statement_reports_every_defect() -> None:
    statement = stmt(
        actor={"mbox": "xapi@adlnet.gov", "nickname": "x"},
        result={"score": {"scaled": 2}, "success": "yes"},
        timestamp="2024-13-01T00:00:00Z",
    )
    with pytest.raises(StatementValidationError) as raised:
        validate_statements(statement, V103)
    assert raised.value.errors == [
        ("statement.actor.mbox", "must start with mailto:"),
        ("statement.actor.nickname", "unknown property"),
        ("statement.result.score.scaled", "must be between -1 and 1"),
        ("statement.result.success", "must be a boolean"),
        ("statement.timestamp", "is not a valid date and time (month must be in 1..12)"),
    ]


# --- API contract -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_returns_the_same_objects_unmodified(version: str) -> None:
    statements = [stmt(), stmt(object={"id": "urn:x:1"}, actor={"mbox": "mailto:a@b.c"})]
    before = copy.deepcopy(statements)
    result = validate_statements(statements, version)
    assert result is statements
    assert all(a is b for a, b in zip(result, statements, strict=True))
    assert statements == before  # no objectType filled in, nothing normalised

    single = stmt()
    (returned,) = validate_statements(single, version)
    assert returned is single


def test_empty_list_is_valid() -> None:
    assert validate_statements([], V200) == []


@pytest.mark.parametrize("body", ["statement", 42, None, True])
def test_body_that_is_neither_object_nor_list(body: Any) -> None:
    with pytest.raises(StatementValidationError) as raised:
        validate_statements(body, V103)
    assert raised.value.errors == [("", "must be a statement object or an array of statements")]


def test_unsupported_version_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="unsupported xAPI version"):
        validate_statements(stmt(), "1.0.2")


def test_validate_statement_with_a_custom_path() -> None:
    statement = stmt()
    assert validate_statement(statement, V200) is statement
    with pytest.raises(StatementValidationError) as raised:
        validate_statement(stmt(verb={"id": "x"}), V200, path="body")
    assert raised.value.errors == [("body.verb.id", "must be a valid IRI")]
    with pytest.raises(StatementValidationError) as raised:
        validate_statement([stmt()], V200)
    assert raised.value.errors == [("statement", "must be an object")]


def test_error_message_summarises_the_first_defects() -> None:
    error = StatementValidationError([("a", "x"), ("b", "y"), ("", "z"), ("c", "w")])
    assert str(error) == "a: x; b: y; z; and 1 more"
    assert error.errors == [("a", "x"), ("b", "y"), ("", "z"), ("c", "w")]


# --- validate_agent (agent= query parameter) ---------------------------------------------------


@pytest.mark.parametrize(
    "agent",
    [
        pytest.param(AGENT, id="Comm 2.1.3 agent by mbox"),
        pytest.param({"account": ACCOUNT}, id="Comm 2.1.3 agent by account, no objectType"),
        pytest.param({"objectType": "Group", "openid": "urn:g"}, id="Comm 2.1.3 identified group"),
    ],
)
@pytest.mark.parametrize("version", VERSIONS)
def test_validate_agent_accepts(agent: dict, version: str) -> None:
    assert validate_agent(agent, version) is agent


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        pytest.param(
            {"objectType": "Group", "member": [AGENT]},
            ("agent", f"must be an Agent or an identified Group (with one of {IFIS})"),
            id="Comm 2.1.3 anonymous group",
        ),
        pytest.param(
            {"mbox": "bob@example.com"},
            ("agent.mbox", "must start with mailto:"),
            id="XAPI-00012 bad mbox",
        ),
        pytest.param({"name": "x"}, ("agent", IFI_RULE), id="XAPI-00012 no IFI"),
        pytest.param("wrong", ("agent", "must be an object"), id="XAPI-00012 not an object"),
        pytest.param(
            {**AGENT, "x": 1}, ("agent.x", "unknown property"), id="Data 2.2 unknown property"
        ),
    ],
)
def test_validate_agent_rejects(agent: Any, expected: tuple[str, str]) -> None:
    with pytest.raises(StatementValidationError) as raised:
        validate_agent(agent, V200)
    assert raised.value.errors == [expected]


def test_validate_agent_custom_path() -> None:
    with pytest.raises(StatementValidationError) as raised:
        validate_agent({"openid": "x"}, V103, path="agent_param")
    assert raised.value.errors == [("agent_param.openid", "must be a valid IRI")]


# --- validate_activity_id ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["http://www.example.com/meetings/occurances/34534", "urn:uuid:1", "http://例え.テスト/"],
)
def test_validate_activity_id_accepts(value: str) -> None:
    assert validate_activity_id(value) is value


@pytest.mark.parametrize(
    "value", ["not.a.valid.iri.com/activity", "", "http://x y", 5, None], ids=repr
)
def test_validate_activity_id_rejects(value: Any) -> None:
    # Data 2.2: parameters validate like statement values (XAPI-00012).
    with pytest.raises(StatementValidationError) as raised:
        validate_activity_id(value, path="activity")
    assert raised.value.errors == [("activity", "must be a valid IRI")]


# --- the nested schemas are ordinary marshmallow schemas ---------------------------------------


def test_nested_schema_with_marshmallow_api() -> None:
    schema = AgentSchema()
    assert schema.validate(AGENT) == {}
    assert schema.validate({"mbox": "x", "other": 1}) == {
        "mbox": ["must start with mailto:"],
        "other": ["unknown property"],
    }
    assert schema.validate({"name": "x"}) == {"_schema": [IFI_RULE]}
    assert schema.load(AGENT) == AGENT
