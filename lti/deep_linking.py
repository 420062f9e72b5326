"""Deep Linking 2.0: what an instructor can place, and the signed response (DL 2.0 §4).

Pure, except for the ``PlacementProvider`` protocol, whose implementations read the database.
A *placement* is what a content item points at: a learning activity (any xAPI Activity id) or,
once ``objectives/`` exists, an objective template. Providers are registered on the app's LTI
runtime (``lti.runtime().placement_providers``), so the objectives package adds its templates
without this package knowing about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from lti import claims as c
from lti.errors import DeepLinkingRejected

RESOURCE_LINK_ITEM = "ltiResourceLink"
DEFAULT_TTL = 300


@dataclass(frozen=True)
class Placement:
    """Something an instructor can place in a course.

    ``kind`` names the provider (``activity``, ``objective-template``); ``key`` identifies the
    thing within it (an Activity IRI, a template id). ``custom`` becomes the content item's
    custom parameters, which the platform sends back on every launch of the placed link.
    """

    kind: str
    key: str
    title: str
    text: str = ""
    custom: dict[str, str] = field(default_factory=dict)
    #: The line item's resourceId when graded; defaults to ``key``.
    resource_id: str = ""


class PlacementProvider(Protocol):
    """A source of placements: lists options for a store and resolves a chosen key."""

    kind: str
    label: str

    def options(self, session: Any, store_id: int) -> list[Placement]:
        """What to offer in the picker (may be empty)."""
        ...

    def resolve(self, session: Any, store_id: int, key: str, title: str = "") -> Placement:
        """The placement for ``key``; raises DeepLinkingRejected when it does not exist."""
        ...


def check_acceptable(settings: dict[str, Any], count: int, graded: bool) -> None:
    """The platform accepts what we return: resource links, several items, line items."""
    accept = settings.get("accept_types") or []
    if RESOURCE_LINK_ITEM not in accept:
        raise DeepLinkingRejected(
            "the platform does not accept LTI resource links from this placement "
            f"(it accepts {', '.join(map(str, accept)) or 'nothing'})"
        )
    if count > 1 and settings.get("accept_multiple") is False:
        raise DeepLinkingRejected("the platform accepts only one item here")
    if graded and settings.get("accept_lineitem") is False:
        raise DeepLinkingRejected("the platform does not accept a gradebook column here")


def content_item(
    placement: Placement, launch_url: str, graded: bool, score_maximum: float
) -> dict[str, Any]:
    """An ``ltiResourceLink`` content item, with a line item when the placement is graded."""
    item: dict[str, Any] = {
        "type": RESOURCE_LINK_ITEM,
        "title": placement.title,
        "url": launch_url,
    }
    if placement.text:
        item["text"] = placement.text
    custom = {k: v for k, v in placement.custom.items() if v != ""}
    if custom:  # empty custom objects upset some platforms
        item["custom"] = custom
    if graded:
        if not score_maximum > 0:
            raise DeepLinkingRejected("the maximum score of a graded placement must be above 0")
        item["lineItem"] = {
            "scoreMaximum": score_maximum,
            "label": placement.title,
            "resourceId": placement.resource_id or placement.key,
            "tag": f"learnloop:{placement.kind}",
        }
    return item


def response_claims(
    *,
    client_id: str,
    platform_issuer: str,
    deployment_id: str,
    settings: dict[str, Any],
    items: list[dict[str, Any]],
    nonce: str,
    now: int,
    message: str | None = None,
    ttl: int = DEFAULT_TTL,
) -> dict[str, Any]:
    """Claims of the ``LtiDeepLinkingResponse`` JWT (DL 2.0 §4.5): ``data`` is echoed."""
    claims: dict[str, Any] = {
        "iss": client_id,
        "aud": platform_issuer,
        "iat": now,
        "exp": now + ttl,
        "nonce": nonce,
        c.DEPLOYMENT_ID: deployment_id,
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: c.LTI_VERSION,
        c.DL_CONTENT_ITEMS: items,
    }
    if "data" in settings:
        claims[c.DL_DATA] = settings["data"]
    if message:
        claims[c.DL_MSG] = message
    return claims
