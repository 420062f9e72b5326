"""The connection check of an LMS registration (admins only): grants, sharing, live tests, logs.

What the latest launch from the LMS carried (the grade and roster services and their scopes,
whether the learner's name and email came), a button per service that calls the LMS and says
its answer in plain words, and the grade and roster logs of this registration. Thin: the work
is in ``lti.grants`` and ``lti.checks``.
"""

from __future__ import annotations

from flask import render_template, request

from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest
from lrs.runtime import lrs_runtime
from lti import checks, grants, registrations
from lti import runtime as lti_runtime
from lti.keys import current_key
from web.blueprint import pages, signed_in_admin
from web.security import check_csrf

ACTIONS = ("try-grades", "try-roster", "dismiss-privacy-warning", "save-deployments")
#: The LTI spec's bound on a deployment_id (a case-sensitive string of at most 255 ASCII).
MAX_DEPLOYMENT_ID = 255


def deployment_ids_from(text: str) -> list[str]:
    """The deployment ids typed one per line; BadRequest naming the line that is not one."""
    ids = []
    for number, line in enumerate(text.splitlines(), 1):
        value = line.strip()
        if not value:
            continue
        if len(value) > MAX_DEPLOYMENT_ID or not value.isascii() or not value.isprintable():
            raise BadRequest(
                f"deployment_ids: line {number} is not a deployment id "
                f"(at most {MAX_DEPLOYMENT_ID} printable ASCII characters)"
            )
        ids.append(value)
    return list(dict.fromkeys(ids))


@pages.route("/admin/lti/registrations/<int:registration_id>", methods=["GET", "POST"])
def lti_connection(registration_id: int):
    """Show a registration's connection check; POST runs a test or dismisses the warning."""
    sessions = lrs_runtime().sessions
    result = None
    if request.method == "POST":
        check_csrf()
        action = request.form.get("action", "")
        if action not in ACTIONS:
            raise BadRequest("action: must be one of " + ", ".join(ACTIONS))
        rt = lti_runtime()
        with write_transaction(sessions) as db:
            viewer = signed_in_admin(db)
            registration = registrations.get_registration(db, viewer.store_id, registration_id)
            if action == "dismiss-privacy-warning":
                grants.dismiss_privacy_warning(db, registration, rt.now())
            elif action == "save-deployments":
                wanted = deployment_ids_from(request.form.get("deployment_ids", ""))
                registrations.update_registration(db, registration, {"deployment_ids": wanted})
            else:  # the client assertion's key exists before the LMS is called
                current_key(db, rt.now(), rt.key_box())
        if action in ("try-grades", "try-roster"):
            with read_transaction(sessions) as db:
                registration = registrations.get_registration(db, viewer.store_id, registration_id)
                attempt = (
                    checks.try_grade_service
                    if action == "try-grades"
                    else checks.try_roster_service
                )
                result = attempt(db, registration, runtime=rt)
    with read_transaction(sessions) as db:
        viewer = signed_in_admin(db)
        registration = registrations.get_registration(db, viewer.store_id, registration_id)
        return render_template(
            "admin_lti_connection.html",
            registration=registrations.registration_view(db, registration),
            services=grants.services_view(registration),
            warning=grants.privacy_warning(registration),
            result=result,
            grade_log=checks.grade_log(db, registration),
            roster_log=checks.roster_log(db, registration),
        )
