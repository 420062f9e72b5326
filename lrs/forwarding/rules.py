"""Which statements a destination receives: pure rules, data in, data out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: The sources a rule can name: ``xapi`` (any client with a credential) or the Learnloop
#: component that wrote the statement through ``lrs.api`` (its authority is
#: ``learnloop:<component>``).
SOURCES = ("xapi", "lti", "connector", "microlearning", "objectives")


@dataclass(frozen=True)
class RuleSpec:
    """A rule's filters; an empty filter matches every statement."""

    verb: str = ""
    activity_prefix: str = ""
    source: str = ""
    actor_domain: str = ""

    def describe(self) -> str:
        """The rule in words, e.g. ``verb = …completed and actor @acme.test``."""
        parts = []
        if self.verb:
            parts.append(f"verb = {self.verb}")
        if self.activity_prefix:
            parts.append(f"activity starts with {self.activity_prefix}")
        if self.source:
            parts.append(f"source = {self.source}")
        if self.actor_domain:
            parts.append(f"actor @{self.actor_domain}")
        return " and ".join(parts) or "every statement"


def source_of(statement: dict) -> str:
    """``xapi``, or the Learnloop component that stored the statement (``lti``, ...)."""
    account = (statement.get("authority") or {}).get("account") or {}
    name = str(account.get("name") or "")
    if name.startswith("learnloop:"):
        return name.split(":")[1] or "xapi"
    return "xapi"


def actor_domain(statement: dict) -> str:
    """The domain of the actor's e-mail address (``mbox``), lower case; "" when it has none."""
    mbox = str((statement.get("actor") or {}).get("mbox") or "")
    _, at, domain = mbox.partition("@")
    return domain.lower() if at else ""


def activity_id(statement: dict) -> str:
    """The id of the statement's object when it is an Activity, else ""."""
    obj = statement.get("object") or {}
    if obj.get("objectType", "Activity") != "Activity":
        return ""
    return str(obj.get("id") or "")


def matches(rule: RuleSpec, statement: dict) -> bool:
    """Whether ``statement`` passes every filter ``rule`` sets."""
    if rule.verb and (statement.get("verb") or {}).get("id") != rule.verb:
        return False
    if rule.activity_prefix and not activity_id(statement).startswith(rule.activity_prefix):
        return False
    if rule.source and source_of(statement) != rule.source:
        return False
    domain = rule.actor_domain.lower().lstrip("@")
    if domain and actor_domain(statement) != domain:
        return False
    return True


def selected(rules: Iterable[RuleSpec], statement: dict) -> bool:
    """Whether a destination with ``rules`` receives ``statement`` (no rules: all)."""
    rules = list(rules)
    return not rules or any(matches(rule, statement) for rule in rules)
