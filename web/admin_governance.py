"""Data governance pages (admins only): erase a person, and the store's retention policy.

Erasing is two steps, both without JavaScript: the erase page lists what would go (the dry
run of the same service the CLI calls) and asks for the person's e-mail address; the form
erases in one transaction. The retention page shows the current policy and, before saving a
new one, how many statements it would delete now.
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from directory.governance import retention
from directory.governance import services as svc
from lrs.db import read_transaction, write_transaction
from lrs.errors import LrsError
from lrs.people.services import get_person
from lrs.runtime import lrs_runtime
from web.admin_people import refused, shown_form
from web.blueprint import pages, signed_in_admin
from web.security import check_csrf

#: The kinds of an erasure's counts as the page names them (``svc.KINDS``, in the page's
#: language); a kind not here (the parts the floors above add) in its own words, translated.
KIND_WORDS = {
    "statements": _l("statements as actor or object (deleted)"),
    "statements_pseudonymised": _l("others' statements naming them (pseudonymised)"),
    "statements_unlinked": _l("others' statements about theirs (unlinked from them)"),
    "documents": _l("state and agent profile documents"),
    "identities": _l("identities"),
    "accounts": _l("accounts"),
    "api_tokens": _l("API tokens"),
    "account_links": _l("invitation and reset links"),
    "reviews": _l("reviews"),
    "objectives": _l("objectives"),
    "review_grants": _l("reviews they were granted to review"),
    "reporting_lines": _l("reporting lines (theirs and their reports')"),
    "learning_facts": _l("learning facts (progress)"),
    "lti_launches": _l("LMS launches"),
    "lti_memberships": _l("LMS roster rows"),
    "lti_grade_deliveries": _l("grade deliveries"),
    "lti_score_marks": _l("score marks"),
    "scim_users": _l("SCIM users"),
    "scim_group_memberships": _l("SCIM group memberships"),
    "queued_jobs": _l("grades and webhook events about them not sent yet"),
}


@pages.get("/admin/people/<int:person_id>/erase")
def erase_person_page(person_id: int):
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in_admin(db)
        person = get_person(db, viewer.store_id, person_id)
        dry = svc.erase(
            db,
            viewer.store_id,
            person_id,
            secret=runtime.instance_secret(),
            public_url=runtime.public_url,
            dry_run=True,
            now_ms=runtime.clock(),
        )
        errors, values = shown_form()
        return render_template(
            "admin_erase.html",
            person=person,
            counts=[(KIND_WORDS.get(k) or _(svc.kind_words(k)), n) for k, n in dry.counts.items()],
            recipients=dry.recipients,
            confirm_by=svc.confirmation_word(db, viewer.store_id, person_id),
            errors=errors,
            values=values,
        )


@pages.post("/admin/people/<int:person_id>/erase")
def erase_person(person_id: int):
    check_csrf()
    runtime = lrs_runtime()
    try:
        with write_transaction(runtime.sessions) as db:
            viewer = signed_in_admin(db)
            done = svc.erase(
                db,
                viewer.store_id,
                person_id,
                secret=runtime.instance_secret(),
                public_url=runtime.public_url,
                dry_run=False,
                now_ms=runtime.clock(),
                confirm_email=request.form.get("confirm_email", ""),
            )
    except LrsError as exc:
        if exc.status in (401, 403, 404):
            raise
        refused(exc, ("confirm_email",), request.form)
        return redirect(url_for("web.erase_person_page", person_id=person_id))
    session["admin_done"] = ngettext(
        "Person %(id)s erased: %(num)s statement deleted, %(others)s of others' pseudonymised "
        "(erasure record %(record)s).",
        "Person %(id)s erased: %(num)s statements deleted, %(others)s of others' pseudonymised "
        "(erasure record %(record)s).",
        num=done.counts["statements"],
        id=person_id,
        others=done.counts["statements_pseudonymised"],
        record=done.record_id,
    )
    if done.recipients:
        session["admin_done"] += " " + _(
            "Forwarded before to %(names)s: ask them to erase these statements too.",
            names=", ".join(done.recipients),
        )
    return redirect(url_for("web.people"))


@pages.get("/admin/retention")
def retention_page():
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in_admin(db)
        policy = retention.get_policy(db, viewer.store_id)
        due = None
        next_ms = retention.next_run_ms(db, viewer.store_id)
        if policy is not None:
            due = retention.count_expiring(
                db, viewer.store_id, policy.keep_months, policy.keep_aggregates, runtime.clock()
            )
        errors, values = shown_form()
        return render_template(
            "admin_retention.html",
            policy=policy,
            due=due,
            next_run=retention.utc(next_ms) if next_ms is not None else None,
            last_run=retention.utc(policy.last_run_ms) if policy and policy.last_run_ms else None,
            preview=session.pop("retention_preview", None),
            errors=errors,
            values=values,
            done=session.pop("admin_done", None),
        )


@pages.post("/admin/retention")
def retention_save():
    """``action=preview`` counts what a policy would delete now; ``action=save`` saves it."""
    check_csrf()
    runtime = lrs_runtime()
    form = request.form
    keep_aggregates = form.get("keep_aggregates") == "on"
    try:
        months = int(form.get("keep_months", "").strip())
    except ValueError:
        months = 0
    try:
        if form.get("action") == "save":
            with write_transaction(runtime.sessions) as db:
                viewer = signed_in_admin(db)
                due = retention.set_policy(
                    db, viewer.store_id, months, keep_aggregates, runtime.clock()
                )
            session["admin_done"] = " ".join(
                (
                    ngettext(
                        "Saved: statements are kept %(num)s month.",
                        "Saved: statements are kept %(num)s months.",
                        months,
                    ),
                    ngettext(
                        "%(num)s statement is due; the worker deletes it at its next run.",
                        "%(num)s statements are due; the worker deletes them at its next run.",
                        due,
                    ),
                )
            )
        else:
            with read_transaction(runtime.sessions) as db:
                viewer = signed_in_admin(db)
                due = retention.count_expiring(
                    db, viewer.store_id, months, keep_aggregates, runtime.clock()
                )
            session["retention_preview"] = {
                "keep_months": months,
                "keep_aggregates": keep_aggregates,
                "due": due,
            }
    except LrsError as exc:
        if exc.status in (401, 403, 404):
            raise
        refused(exc, ("keep_months",), form)
    return redirect(url_for("web.retention_page"))


@pages.post("/admin/retention/clear")
def retention_clear():
    check_csrf()
    runtime = lrs_runtime()
    try:
        with write_transaction(runtime.sessions) as db:
            viewer = signed_in_admin(db)
            retention.clear_policy(db, viewer.store_id, runtime.clock())
        session["admin_done"] = _("Retention policy removed: statements are kept for ever.")
    except LrsError as exc:
        if exc.status in (401, 403):
            raise
        refused(exc, (), request.form)
    return redirect(url_for("web.retention_page"))
