"""The Activities Resource (Communication 2.5; 9274.1.1 §4.1.6.4): canonical Activity objects.

The definition is the one merged from every statement that defined the Activity (see
``lrs.statements.canonical``). An Activity with no definition is still returned as an Activity
object; one never mentioned in any statement is a 404 under 1.0.3 and a stub under 2.0.0, which
requires an Activity object for every id.
"""

from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select

from lrs.auth import require
from lrs.core import statements as st
from lrs.core.versions import V103
from lrs.db import read_transaction
from lrs.errors import NotFound, invalid, required_parameter, unknown_parameters
from lrs.models import StatementIndex
from lrs.runtime import lrs_runtime
from lrs.statements.canonical import canonical_definitions
from lrs.xapi import xapi

READ_SCOPES = ("all/read", "statements/read", "profile", "state", "define")
INDEX = StatementIndex.__table__


@xapi.route("/activities", methods=["GET"])
def get_activities():
    """GET /activities?activityId=…: the Activity with its canonical definition."""
    from schemas.xapi import StatementValidationError, validate_activity_id

    require(g.principal, *READ_SCOPES)
    unknown_parameters(request.args, {"activityId"})
    try:
        activity_id = validate_activity_id(required_parameter(request.args, "activityId"))
    except StatementValidationError as exc:
        raise invalid(exc.errors) from None
    store_id = g.principal.store_id
    with read_transaction(lrs_runtime().sessions) as session:
        definition = canonical_definitions(session, store_id, {activity_id}).get(activity_id)
        seen = (
            definition is not None
            or session.scalar(
                select(INDEX.c.seq)
                .where(
                    INDEX.c.store_id == store_id,
                    INDEX.c.key == st.term_key(st.ACTIVITY, activity_id),
                )
                .limit(1)
            )
            is not None
        )
    if not seen and g.xapi_version == V103:
        raise NotFound(f"no statement mentions the activity {activity_id}")
    activity = {"objectType": "Activity", "id": activity_id}
    if definition:
        activity["definition"] = definition
    return jsonify(activity)
