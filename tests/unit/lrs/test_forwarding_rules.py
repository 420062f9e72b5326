"""Forwarding's and webhooks' pure rules: which statements a destination receives, backoff,
token lifetimes, and signatures the Standard Webhooks reference library accepts."""

from __future__ import annotations

import time

import pytest
from standardwebhooks.webhooks import Webhook

from lrs import webhooks
from lrs.forwarding.client import TokenCache
from lrs.forwarding.rules import RuleSpec, matches, selected, source_of
from lrs.forwarding.settings import ForwardingConfig

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"


def statement(verb=COMPLETED, mbox="mailto:Ann@ACME.test", obj=None, authority=None):
    made = {
        "actor": {"mbox": mbox},
        "verb": {"id": verb},
        "object": obj or {"id": "https://courses.example/a/1"},
    }
    if authority:
        made["authority"] = authority
    return made


def test_a_destination_without_rules_receives_everything():
    assert selected([], statement())


@pytest.mark.parametrize(
    "rule, expected",
    [
        (RuleSpec(verb=COMPLETED), True),
        (RuleSpec(verb="http://adlnet.gov/expapi/verbs/experienced"), False),
        (RuleSpec(activity_prefix="https://courses.example/a/"), True),
        (RuleSpec(activity_prefix="https://courses.example/b/"), False),
        (RuleSpec(actor_domain="acme.test"), True),  # the domain compares case-blind
        (RuleSpec(actor_domain="@acme.test"), True),
        (RuleSpec(actor_domain="other.test"), False),
        (RuleSpec(source="xapi"), True),
        (RuleSpec(source="lti"), False),
        (RuleSpec(verb=COMPLETED, actor_domain="other.test"), False),  # every filter must hold
    ],
)
def test_a_rule_matches_when_every_filter_it_sets_holds(rule, expected):
    assert matches(rule, statement()) is expected


def test_any_matching_rule_selects_a_statement():
    rules = [RuleSpec(actor_domain="other.test"), RuleSpec(verb=COMPLETED)]
    assert selected(rules, statement())
    assert not selected(rules[:1], statement())


def test_an_activity_prefix_never_matches_an_agent_or_statement_ref_object():
    ref = statement(obj={"objectType": "StatementRef", "id": "https://courses.example/a/1"})
    assert not matches(RuleSpec(activity_prefix="https://courses.example/"), ref)


def test_the_source_is_the_learnloop_component_that_stored_it_or_xapi():
    lti = {"objectType": "Agent", "account": {"homePage": "https://x/", "name": "learnloop:lti"}}
    client = {"objectType": "Agent", "account": {"homePage": "https://x/", "name": "key-1"}}
    assert source_of(statement(authority=lti)) == "lti"
    assert source_of(statement(authority=client)) == "xapi"
    assert source_of(statement(mbox="")) == "xapi"


def test_backoff_doubles_from_the_base_up_to_the_cap():
    config = ForwardingConfig(backoff_base_ms=1000, backoff_cap_ms=5000)
    assert [config.backoff_ms(n) for n in range(1, 6)] == [1000, 2000, 4000, 5000, 5000]


def test_a_token_is_kept_until_shortly_before_it_expires():
    now = [0.0]
    cache = TokenCache(clock=lambda: now[0])
    cache.put(("d",), "abc", expires_in=3600)
    now[0] = 3569
    assert cache.get(("d",)) == "abc"
    now[0] = 3571  # within 30 s of expiry: a new one is fetched
    assert cache.get(("d",)) is None


def test_signatures_verify_with_the_standard_webhooks_library():
    secret = webhooks.new_secret()
    body = webhooks.body_of("review.submitted", 1_764_000_000_000, {"review": {"id": 1}})
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(time.time())),
    }
    headers["webhook-signature"] = webhooks.sign(
        secret, "msg_1", int(headers["webhook-timestamp"]), body
    )
    assert Webhook(secret).verify(body, headers)["data"] == {"review": {"id": 1}}


def test_an_endpoint_without_a_list_of_events_wants_them_all():
    assert webhooks.subscribed("", "objective.met")
    assert webhooks.subscribed("review.submitted", "review.submitted")
    assert not webhooks.subscribed("review.submitted", "objective.met")
    assert webhooks.subscribed("review.submitted", "webhook.test")  # a test reaches everyone
