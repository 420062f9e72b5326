"""Preparation, comparison and index terms of statements (Data 2.3-2.4; Communication 2.1.3)."""

import copy

from lrs import vocabulary as v
from lrs.core import statements as st

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "http://lrs.example/", "name": "k1"}}
STORED = "2026-11-27T21:30:00.123Z"


def statement(**extra):
    base = {
        "actor": {"mbox": "mailto:ann@example.com", "name": "Ann"},
        "verb": {
            "id": v.COMPLETED,
            "display": {"en-US": "completed"},
        },
        "object": {"id": "http://example.com/course/1", "definition": {"name": {"en-US": "One"}}},
    }
    base.update(extra)
    return base


def prepare(raw, version="2.0.0"):
    from lrs.core.timefmt import timestamp_to_utc

    return st.prepare_statement(
        raw,
        version=version,
        authority=AUTHORITY,
        stored=STORED,
        new_id="0b4c0ffe-0000-4000-8000-000000000001",
        timestamp_to_utc=timestamp_to_utc,
    )


class TestPrepareStatement:
    def test_assigns_id_stored_authority_version_and_timestamp(self):
        # Data 2.4.1 (id), 2.4.7 (timestamp := stored), 2.4.8 (stored), 2.4.9 (authority), 2.4.10.
        p = prepare(statement())
        assert p.statement["id"] == "0b4c0ffe-0000-4000-8000-000000000001"
        assert p.statement["stored"] == STORED
        assert p.statement["timestamp"] == STORED
        assert p.statement["authority"] == AUTHORITY
        assert p.statement["version"] == "2.0.0"

    def test_keeps_a_given_id_and_version_and_defaults_version_per_request(self):
        p = prepare(statement(id="AAAAAAAA-0000-4000-8000-000000000002", version="1.0.1"), "1.0.3")
        assert p.statement["id"] == "AAAAAAAA-0000-4000-8000-000000000002"
        assert p.id == "aaaaaaaa-0000-4000-8000-000000000002"
        assert p.statement["version"] == "1.0.1"
        assert prepare(statement(), "1.0.3").statement["version"] == "1.0.0"

    def test_overwrites_a_client_authority(self):
        other = {"mbox": "mailto:mallory@example.com"}
        assert prepare(statement(authority=other)).statement["authority"] == AUTHORITY

    def test_does_not_modify_its_input(self):
        raw = statement(context={"contextActivities": {"parent": {"id": "http://example.com/p"}}})
        before = copy.deepcopy(raw)
        prepare(raw)
        assert raw == before

    def test_context_activities_become_arrays(self):
        # Data 2.4.6.2: every contextActivities value is returned as an array.
        raw = statement(context={"contextActivities": {"parent": {"id": "http://example.com/p"}}})
        p = prepare(raw)
        assert p.statement["context"]["contextActivities"]["parent"] == [
            {"id": "http://example.com/p"}
        ]

    def test_timestamp_converted_to_utc_under_2_0_only(self):
        raw = statement(timestamp="2023-05-04T12:00:00-05:00")
        assert prepare(raw, "2.0.0").statement["timestamp"] == "2023-05-04T17:00:00Z"
        assert prepare(raw, "1.0.3").statement["timestamp"] == "2023-05-04T12:00:00-05:00"

    def test_voiding_statement_records_its_target(self):
        raw = statement(
            verb={"id": st.VOIDED_VERB},
            object={"objectType": "StatementRef", "id": "E05AA883-ACAF-40AD-BF54-02C8CE485FB0"},
        )
        p = prepare(raw)
        assert p.voids == p.object_ref == "e05aa883-acaf-40ad-bf54-02c8ce485fb0"


class TestIndexTerms:
    def key(self, kind, value):
        return st.term_key(kind, value)

    def test_actor_object_verb_are_direct_context_is_related(self):
        raw = statement(
            context={
                "registration": "6FD5F4A2-0000-4000-8000-000000000000",
                "instructor": {"mbox": "mailto:teacher@example.com"},
                "contextActivities": {"grouping": [{"id": "http://example.com/program"}]},
            }
        )
        terms = prepare(raw).terms
        assert terms[self.key("agent", "mbox|mailto:ann@example.com")] is True
        assert terms[self.key("verb", v.COMPLETED)] is True
        assert terms[self.key("activity", "http://example.com/course/1")] is True
        assert terms[self.key("registration", "6fd5f4a2-0000-4000-8000-000000000000")] is True
        assert terms[self.key("agent", "mbox|mailto:teacher@example.com")] is False
        assert terms[self.key("activity", "http://example.com/program")] is False
        # related_agents includes the authority (Communication 2.1.3)
        assert terms[self.key("agent", "account|http://lrs.example/|k1")] is False

    def test_group_members_match_the_agent_filter(self):
        # Communication 2.1.3 agent: Groups whose members match the Agent are a match.
        group = {"objectType": "Group", "member": [{"mbox": "mailto:bob@example.com"}]}
        terms = prepare(statement(actor=group)).terms
        assert terms[self.key("agent", "mbox|mailto:bob@example.com")] is True

    def test_substatement_terms_are_related_only(self):
        sub = {
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:carl@example.com"},
            "verb": {"id": "http://example.com/verbs/will-do"},
            "object": {"id": "http://example.com/sub-activity"},
        }
        terms = prepare(statement(object=sub)).terms
        assert terms[self.key("agent", "mbox|mailto:carl@example.com")] is False
        assert terms[self.key("activity", "http://example.com/sub-activity")] is False

    def test_context_agents_and_groups_are_related_under_2_0(self):
        # 9274.1.1 §4.1.6.1 related_agents also matches contextAgents and contextGroups.
        context = {
            "contextAgents": [
                {"objectType": "contextAgent", "agent": {"mbox": "mailto:d@example.com"}}
            ],
            "contextGroups": [
                {
                    "objectType": "contextGroup",
                    "group": {"objectType": "Group", "member": [{"mbox": "mailto:e@example.com"}]},
                }
            ],
        }
        terms = prepare(statement(context=context)).terms
        assert terms[self.key("agent", "mbox|mailto:d@example.com")] is False
        assert terms[self.key("agent", "mbox|mailto:e@example.com")] is False

    def test_term_keys_fit_a_signed_64_bit_column(self):
        key = st.term_key("activity", "http://example.com/" + "x" * 5000)
        assert -(2**63) <= key < 2**63


class TestSameStatement:
    """Data 2.3.1 Statement Immutability: what a resend may differ in and still be the same."""

    def test_ignores_what_the_lrs_assigns_and_display_and_definitions(self):
        a = prepare(statement(id="0b4c0ffe-0000-4000-8000-00000000000a")).statement
        b = statement(id="0b4c0ffe-0000-4000-8000-00000000000a")
        b["verb"] = {"id": b["verb"]["id"], "display": {"fr": "terminé"}}
        b["object"] = {"id": b["object"]["id"], "objectType": "Activity"}
        b["actor"] = dict(b["actor"], objectType="Agent")
        assert st.same_statement(a, b, "2.0.0")

    def test_member_order_and_mbox_domain_case_do_not_matter(self):
        members = [{"mbox": "mailto:x@Example.com"}, {"mbox": "mailto:y@example.com"}]
        a = statement(actor={"objectType": "Group", "member": members})
        b = statement(
            actor={
                "objectType": "Group",
                "member": [{"mbox": "mailto:y@example.com"}, {"mbox": "mailto:x@example.com"}],
            }
        )
        assert st.same_statement(a, b, "1.0.3")

    def test_a_different_result_is_a_different_statement(self):
        a = statement(result={"success": True})
        b = statement(result={"success": False})
        assert not st.same_statement(a, b, "2.0.0")

    def test_duration_compares_to_a_hundredth_under_2_0_only(self):
        # 9274.1.1 §4.2.7 / delta D10: 0.1237S and 0.12S are equal under 2.0, strings under 1.0.3.
        a = statement(result={"duration": "P1DT12H36M0.1237S"})
        b = statement(result={"duration": "P1DT12H36M0.12S"})
        assert st.same_statement(a, b, "2.0.0")
        assert not st.same_statement(a, b, "1.0.3")

    def test_single_context_activity_equals_an_array_of_one(self):
        a = statement(context={"contextActivities": {"parent": {"id": "http://example.com/p"}}})
        b = statement(context={"contextActivities": {"parent": [{"id": "http://example.com/p"}]}})
        assert st.same_statement(a, b, "2.0.0")
