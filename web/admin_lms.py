"""The connection check of an LMS registration (admins only): grants, sharing, live tests, logs.

What the latest launch from the LMS carried (the grade and roster services and their scopes,
whether the learner's name and email came), a button per service that calls the LMS and says
its answer in plain words, and the grade and roster logs of this registration. Thin: the work
is in ``lti.grants`` and ``lti.checks``.
"""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext

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
#: The heading of a live test's answer, by the button pressed and whether the service works.
RESULT_HEADINGS = {
    ("try-grades", True): _l("Test of the grade service: it works"),
    ("try-grades", False): _l("Test of the grade service: it does not work"),
    ("try-roster", True): _l("Test of the roster service: it works"),
    ("try-roster", False): _l("Test of the roster service: it does not work"),
}


def outcome_words() -> dict[str, str]:
    """The words a grade delivery's or a roster load's stored outcome is shown by.

    The outcomes are stored as ``sent``, ``error``, ``failed``, ``loaded``; unknown values are
    shown as they are. A context apart: "failed" is also a verb of the vocabulary.
    """
    return {
        "sent": pgettext("grade or roster outcome", "sent"),
        "error": pgettext("grade or roster outcome", "error"),
        "failed": pgettext("grade or roster outcome", "failed"),
        "loaded": pgettext("grade or roster outcome", "loaded"),
    }


def deployment_ids_from(text: str) -> list[str]:
    """The deployment ids typed one per line; BadRequest naming the line that is not one."""
    ids = []
    for number, line in enumerate(text.splitlines(), 1):
        value = line.strip()
        if not value:
            continue
        if len(value) > MAX_DEPLOYMENT_ID or not value.isascii() or not value.isprintable():
            raise BadRequest(
                _(
                    "deployment_ids: line %(number)s is not a deployment id "
                    "(at most %(most)s printable ASCII characters)",
                    number=number,
                    most=MAX_DEPLOYMENT_ID,
                )
            )
        ids.append(value)
    return list(dict.fromkeys(ids))


@pages.route("/admin/lti/registrations/<int:registration_id>", methods=["GET", "POST"])
def lti_connection(registration_id: int):
    """Show a registration's connection check; POST runs a test or dismisses the warning."""
    sessions = lrs_runtime().sessions
    result = None
    action = ""
    if request.method == "POST":
        check_csrf()
        action = request.form.get("action", "")
        if action not in ACTIONS:
            raise BadRequest(_("action: must be one of %(actions)s", actions=", ".join(ACTIONS)))
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
            result_heading=RESULT_HEADINGS.get((action, bool(result and result.ok)), ""),
            teaching=bool((grants.last_launch(registration) or {}).get("teaching")),
            outcome_words=outcome_words(),
            grade_log=checks.grade_log(db, registration),
            roster_log=checks.roster_log(db, registration),
        )
