"""Identity of Agents and Groups: their Inverse Functional Identifiers (xAPI Data 2.4.2.3).

Two Agents or Identified Groups are the same when they carry the same IFI with an equal value.
``ifi_string`` gives that identity one canonical text, used for index keys and document scoping.
"""

from __future__ import annotations

IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")


def ifi_string(agent: dict) -> str | None:
    """The canonical text of an Agent's or Group's IFI, or None for an anonymous Group.

    mbox_sha1sum is hex and compared without case; the other IFIs compare as exact strings.
    """
    if "mbox" in agent:
        return "mbox|" + agent["mbox"]
    if "mbox_sha1sum" in agent:
        return "mbox_sha1sum|" + agent["mbox_sha1sum"].lower()
    if "openid" in agent:
        return "openid|" + agent["openid"]
    account = agent.get("account")
    if isinstance(account, dict):
        return "account|" + account.get("homePage", "") + "|" + account.get("name", "")
    return None


def is_group(actor: dict) -> bool:
    return actor.get("objectType") == "Group"


def members(actor: dict) -> list[dict]:
    """The members of a Group (empty for an Agent)."""
    if is_group(actor):
        return list(actor.get("member") or [])
    return []


def ifi_only(agent: dict) -> dict:
    """The Agent or Group reduced to what identifies it (``format=ids``, xAPI Communication 2.1.3).

    An anonymous Group keeps its objectType and its members, each reduced in turn.
    """
    out: dict = {}
    if is_group(agent):
        out["objectType"] = "Group"
    elif agent.get("objectType") == "Agent":
        out["objectType"] = "Agent"
    for key in IFI_KEYS:
        if key in agent:
            out[key] = agent[key]
            break
    else:
        if is_group(agent):
            out["member"] = [ifi_only(m) for m in members(agent)]
    return out
