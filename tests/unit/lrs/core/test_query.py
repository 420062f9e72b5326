"""Parsing GET /statements parameters (Communication 2.1.3, 3.2)."""

import json

import pytest

from lrs.core import statements as st
from lrs.core.query import MAX_LIMIT, decode_more, encode_more, parse_statement_query
from lrs.errors import BadRequest

AGENT = json.dumps({"mbox": "mailto:ann@example.com"})


def parse(**params):
    return parse_statement_query({k: str(v) for k, v in params.items()}, "2.0.0")


def test_unknown_and_miscased_parameters_are_rejected():
    # Communication 3.2 (XAPI-00009 family): unknown or miscased parameter -> 400.
    for params in ({"bogus": "1"}, {"Verb": "http://x"}, {"statementid": "x"}):
        with pytest.raises(BadRequest) as err:
            parse_statement_query(params, "2.0.0")
        assert err.value.errors[0].message == "unknown parameter"


def test_statement_id_and_voided_statement_id_together_are_rejected():
    # Communication 2.1.3 requirements, first bullet.
    sid = "e05aa883-acaf-40ad-bf54-02c8ce485fb0"
    with pytest.raises(BadRequest):
        parse(statementId=sid, voidedStatementId=sid)


@pytest.mark.parametrize("other", ["agent", "verb", "limit", "since", "ascending"])
def test_statement_id_with_a_filter_is_rejected(other):
    # Communication 2.1.3: only attachments and format may accompany statementId.
    value = {
        "agent": AGENT,
        "verb": "http://x",
        "limit": "1",
        "since": "2020-01-01T00:00:00Z",
        "ascending": "true",
    }[other]
    with pytest.raises(BadRequest):
        parse(statementId="e05aa883-acaf-40ad-bf54-02c8ce485fb0", **{other: value})


def test_statement_id_with_format_and_attachments_is_a_single_fetch():
    q = parse(statementId="E05AA883-ACAF-40AD-BF54-02C8CE485FB0", format="ids", attachments="false")
    assert q.single and q.statement_id == "e05aa883-acaf-40ad-bf54-02c8ce485fb0"
    assert q.format == "ids"


@pytest.mark.parametrize("value", ["not-a-uuid", "e05aa883acaf40adbf5402c8ce485fb0x"])
def test_malformed_statement_id_is_rejected(value):
    with pytest.raises(BadRequest):
        parse(statementId=value)


def test_booleans_are_json_true_or_false_only():
    with pytest.raises(BadRequest):
        parse(ascending="yes")
    assert parse(ascending="true").ascending is True


def test_format_must_be_ids_exact_or_canonical():
    with pytest.raises(BadRequest):
        parse(format="full")


def test_limit_zero_means_the_server_maximum_and_large_limits_are_capped():
    assert parse(limit=0).limit == MAX_LIMIT
    assert parse(limit=10**9).limit == MAX_LIMIT
    assert parse(limit=7).limit == 7
    with pytest.raises(BadRequest):
        parse(limit=-1)


def test_agent_filter_is_direct_unless_related_agents():
    key = st.term_key("agent", "mbox|mailto:ann@example.com")
    assert [(t.key, t.direct) for t in parse(agent=AGENT).terms] == [(key, True)]
    assert parse(agent=AGENT, related_agents="true").terms[0].direct is False


def test_agent_filter_must_be_json_agent():
    with pytest.raises(BadRequest):
        parse(agent="mailto:ann@example.com")
    with pytest.raises(BadRequest):
        parse(agent=json.dumps({"name": "no identifier"}))


def test_most_selective_filter_comes_first():
    q = parse(
        verb="http://x/v",
        agent=AGENT,
        activity="http://x/a",
        registration="6fd5f4a2-0000-4000-8000-000000000000",
    )
    kinds = [t.key for t in q.terms]
    assert kinds == [
        st.term_key("registration", "6fd5f4a2-0000-4000-8000-000000000000"),
        st.term_key("activity", "http://x/a"),
        st.term_key("agent", "mbox|mailto:ann@example.com"),
        st.term_key("verb", "http://x/v"),
    ]


def test_since_and_until_become_milliseconds():
    q = parse(since="2020-01-01T00:00:00.0009Z", until="2020-01-01T00:00:01Z")
    assert q.since_ms == 1577836800000
    assert q.until_ms == 1577836801000


def test_bad_timestamp_is_rejected():
    with pytest.raises(BadRequest):
        parse(since="yesterday")


def test_more_token_round_trips_the_query_and_position():
    q = parse(verb="http://x/v", limit=2, ascending="true")
    token = encode_more(q, (1577836800000, 42))
    again = decode_more(token, "2.0.0")
    assert again.cursor == (1577836800000, 42)
    assert again.limit == 2 and again.ascending is True
    assert again.terms == q.terms


@pytest.mark.parametrize("token", ["", "garbage", "eyJwIjoxfQ"])
def test_a_forged_more_token_is_a_bad_request(token):
    with pytest.raises(BadRequest):
        decode_more(token, "2.0.0")
