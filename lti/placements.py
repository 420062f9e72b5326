"""What instructors place with Deep Linking, and the signed response that returns it.

``ActivityPlacements`` is the default placement provider (``lti.runtime.build_runtime``
registers it; ``objectives/`` adds its templates beside it): any xAPI Activity id, or one of
the store's named activities. ``deep_linking_response`` signs the instructor's choice for the
platform. The pure rules are in ``lti.deep_linking``.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lrs.catalogue import N_
from lrs.models import Activity
from lrs.sealing import SecretBox
from lti import claims as c
from lti import statements as st
from lti.deep_linking import Placement, response_claims
from lti.errors import DeepLinkingRejected, UnknownRegistration
from lti.keys import sign_with_tool_key
from lti.launches import launch_settings
from lti.models import Launch, Registration
from lti.oidc import new_secret
from schemas.fields import is_iri


class ActivityPlacements:
    """Learning activities: any xAPI Activity id, or one of the store's named activities."""

    kind = "activity"
    label = N_("Learning activity")

    def options(self, session: Session, store_id: int, limit: int = 50) -> list[Placement]:
        rows = session.execute(
            select(Activity.activity_id, Activity.definition)
            .where(Activity.store_id == store_id)
            .order_by(Activity.id.desc())
            .limit(limit * 4)
        ).all()
        options = []
        for activity_id, definition in rows:
            name = st.display(json.loads(definition or "{}").get("name"))
            if not name or "/lti/deployment/" in activity_id:
                continue  # unnamed activities and our own launch records make poor choices
            options.append(self._placement(activity_id, name))
            if len(options) == limit:
                break
        return options

    def resolve(self, session: Session, store_id: int, key: str, title: str = "") -> Placement:
        if not key or not is_iri(key):
            raise DeepLinkingRejected("the learning activity must be an IRI, e.g. https://…")
        if not title:
            definition = session.scalar(
                select(Activity.definition).where(
                    Activity.store_id == store_id, Activity.activity_id == key
                )
            )
            title = st.display(json.loads(definition or "{}").get("name")) or key
        return self._placement(key, title)

    def _placement(self, activity_id: str, title: str) -> Placement:
        return Placement(
            kind=self.kind,
            key=activity_id,
            title=title[:200],
            custom={st.CUSTOM_ACTIVITY: activity_id},
        )


def deep_linking_response(
    session: Session,
    launch: Launch,
    items: list[dict[str, Any]],
    now_ms: int,
    message: str | None = None,
    *,
    box: SecretBox,
) -> tuple[str, str]:
    """The platform's return URL and the signed ``LtiDeepLinkingResponse`` for ``items``.

    Signed with the tool's current key, opened with ``box`` (``LtiRuntime.key_box()``).
    """
    if launch.message_type != c.DEEP_LINKING_REQUEST:
        raise DeepLinkingRejected("this launch was not a Deep Linking request")
    settings = launch_settings(launch).get("deep_linking_settings") or {}
    registration = session.get(Registration, launch.registration_id)
    if registration is None:
        raise UnknownRegistration("the registration of this launch was deleted")
    claims = response_claims(
        client_id=registration.client_id,
        platform_issuer=registration.issuer,
        deployment_id=launch.deployment_id,
        settings=settings,
        items=items,
        nonce=new_secret(),
        now=now_ms // 1000,
        message=message,
    )
    return settings["deep_link_return_url"], sign_with_tool_key(session, claims, now_ms, box)
