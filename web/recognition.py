"""Recognition's pages: kudos, rewards, the leaderboard, badges and their administration.

Give kudos and my kudos (allowance, points, gifts, the catalogue to redeem from), the
leaderboard, a credential's download, and the admin page (allowance, catalogue, redemptions to
fulfil, badges).

Plain forms, no JavaScript; every form carries the CSRF token; refusals come back on the page
next to the field they are about, with the status of the error (400, 404, 409).
"""

from __future__ import annotations

import datetime as dt

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from lrs import vocabulary
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, FieldError, LrsError
from lrs.people.models import Person
from lrs.runtime import lrs_runtime
from objectives import accounts
from objectives.errors import Hidden
from objectives.models import Account
from recognition import badges, kudos, leaderboards, rewards, tasks
from recognition import statements as st
from recognition.periods import PERIODS
from recognition.views import FULL_DATE, my_kudos
from schemas.fields import flatten_messages
from schemas.recognition import BadgeSchema
from web.blueprint import pages, signed_in, signed_in_admin
from web.forms import refusal_errors, refusal_status
from web.i18n import moment_filter
from web.security import check_csrf


def _whole(name: str, default: int | None = None) -> int:
    text = request.form.get(name, "").strip()
    if not text and default is not None:
        return default
    try:
        return int(text)
    except ValueError:
        raise BadRequest(f"{name}: " + _("must be a whole number"), [_number(name)]) from None


def _number(name: str) -> FieldError:
    return FieldError(name, _("must be a whole number"))


def _when(ms: int | None) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@pages.route("/kudos", methods=["GET", "POST"])
def kudos_page():
    """Give kudos to a colleague found by name; my allowance, points, gifts and rewards."""
    runtime = lrs_runtime()
    errors: dict[str, str] = {}
    done = None
    status = 200
    if request.method == "POST":
        check_csrf()
        action = request.form.get("action", "give")
        try:
            with write_transaction(runtime.sessions) as db:
                viewer = signed_in(db)
                if viewer.person_id is None:
                    raise BadRequest("this account is not a person of the organisation")
                if action == "redeem":
                    redemption = rewards.redeem(
                        db, viewer.store_id, viewer.person_id, _whole("item_id"), runtime.clock()
                    )
                    item = rewards.get_item(db, viewer.store_id, redemption.item_id)
                    done = _(
                        "Redeemed %(name)s: an administrator will hand it over.", name=item.name
                    )
                else:
                    gift = kudos.give(
                        db,
                        viewer.store_id,
                        viewer.person_id,
                        _whole("receiver_id", 0),
                        _whole("points"),
                        request.form.get("message", ""),
                        request.form.get("reason", "help"),
                        request.form.get("link", "").strip() or None,
                        runtime.public_url,
                        runtime.clock(),
                    )
                    receiver = kudos.colleague(db, viewer.store_id, gift.receiver_id, "receiver_id")
                    done = _(
                        "%(points)s points of kudos sent to %(name)s.",
                        points=gift.points,
                        name=receiver.name,
                    )
        except LrsError as exc:
            status = refusal_status(exc)
            errors = refusal_errors(exc)
    query = request.args.get("q", "").strip()[:200]
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in(db)
        if viewer.person_id is None:
            return render_template("kudos.html", mine=None, errors=errors, done=done), status
        found = kudos.search_colleagues(db, viewer.store_id, query, viewer.person_id)
        chosen = request.form.get("receiver_id", "")
        page = render_template(
            "kudos.html",
            mine=my_kudos(db, viewer.store_id, viewer.person_id, runtime.clock()),
            found=found,
            query=query,
            chosen=chosen,
            reasons=st.REASONS,
            items=rewards.items(db, viewer.store_id, active_only=True),
            mine_redeemed=rewards.redemptions(db, viewer.store_id, viewer.person_id),
            errors=errors,
            done=done,
            form=request.form if status != 200 else {},
        )
    return page, status


@pages.get("/leaderboard")
def leaderboard_page():
    """Contributions of people who opted in; a team's totals for its managers."""
    runtime = lrs_runtime()
    scope = request.args.get("scope", "organisation")
    period = request.args.get("period", "month")
    text = request.args.get("date", "")
    errors: dict[str, str] = {}
    if scope not in leaderboards.SCOPES:
        errors["scope"], scope = "choose organisation or team", "organisation"
    if period not in PERIODS:
        errors["period"], period = "choose month or quarter", "month"
    day = dt.datetime.fromtimestamp(runtime.clock() / 1000, dt.UTC).date()
    if text:
        if FULL_DATE.fullmatch(text):
            try:
                day = dt.date.fromisoformat(text)
            except ValueError:
                errors["date"] = "must be a date"
        else:
            errors["date"] = "must be a date"
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in(db)
        try:
            board = leaderboards.leaderboard(db, viewer, scope, period, day)
        except LrsError as exc:
            status = refusal_status(exc)
            errors = {**errors, **refusal_errors(exc)}
            board = None
        else:
            status = 400 if errors else 200
        page = render_template(
            "leaderboard.html",
            board=board,
            last_day=board.ends_on - dt.timedelta(days=1) if board else None,
            scope=scope,
            period=period,
            day=day,
            names=dict((c["key"], c["name"]) for c in leaderboards.contribution_names()),
            errors=errors,
        )
    return page, status


@pages.post("/leaderboard/opt-in")
def leaderboard_opt_in():
    """The signed-in person's own choice, from their record page."""
    check_csrf()
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = signed_in(db)
        if viewer.person_id is None:
            raise BadRequest("this account is not a person of the organisation")
        choice = request.form.get("opt_in") == "yes"
        leaderboards.set_opt_in(db, viewer.store_id, viewer.person_id, choice, runtime.clock())
        person_id = viewer.person_id
    return redirect(url_for("web.person", person_id=person_id) + "#recognition")


def record_recognition(db, viewer: accounts.Viewer, person_id: int) -> dict:
    """What the learner record shows of recognition: badges, and the own opt-in choice."""
    return {
        "awards": [
            {"id": a.id, "name": b.name, "description": b.description, "at": _when(a.awarded_ms)}
            for a, b in badges.awards_of(db, viewer.store_id, person_id)
        ],
        "own": viewer.person_id == person_id,
        "opted_in": leaderboards.opted_in(db, person_id),
    }


@pages.get("/badges/awards/<int:award_id>/credential.jwt")
def credential_download(award_id: int):
    """The Open Badges 3.0 credential as a file to take elsewhere (whoever reads the record)."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = signed_in(db)
        award, badge = badges.get_award(db, viewer.store_id, award_id)
        if not accounts.can_read_record(db, viewer, award.person_id):
            raise Hidden(f"no badge award {award_id}")
        response = Response(award.credential + "\n", mimetype="application/jwt")
        response.headers["Content-Disposition"] = (
            f'attachment; filename="badge-{award.id}-credential.jwt"'
        )
    return response


def _badge_from_form(form) -> dict:
    """A badge with one criterion from the admin form, validated by the API's schema."""
    criterion: dict = {"min_count": form.get("min_count", "1")}
    for name in ("verb", "activity_type"):
        if form.get(name):
            criterion["verbs" if name == "verb" else name] = (
                [form[name]] if name == "verb" else form[name]
            )
    if form.get("activity_prefix", "").strip():
        criterion["activity_prefix"] = form["activity_prefix"].strip()
    if form.get("distinct") == "activities":
        criterion["count"] = "activities"
    try:
        criterion["min_count"] = int(criterion["min_count"])
    except ValueError:
        raise BadRequest(
            "min_count: " + _("must be a whole number"), [_number("min_count")]
        ) from None
    data = {
        "name": form.get("name", "").strip(),
        "description": form.get("description", "").strip(),
        "criteria": [criterion],
    }
    try:
        return BadgeSchema().load(data)
    except ValidationError as exc:
        found = [FieldError(p.split(".")[-1], m) for p, m in flatten_messages(exc.messages)]
        raise BadRequest("; ".join(str(e) for e in found), found) from None


@pages.route("/admin/recognition", methods=["GET", "POST"])
def admin_recognition():
    """Admins: the kudos allowance, the catalogue, redemptions to fulfil, badges."""
    runtime = lrs_runtime()
    errors: dict[str, str] = {}
    done = None
    status = 200
    if request.method == "POST":
        check_csrf()
        action = request.form.get("action", "")
        try:
            with write_transaction(runtime.sessions) as db:
                viewer = signed_in_admin(db)
                now = runtime.clock()
                if action == "settings":
                    kudos.set_settings(
                        db,
                        viewer.store_id,
                        _whole("allowance"),
                        request.form.get("period", ""),
                        now,
                    )
                    done = _("Allowance saved: it applies to gifts from now on.")
                elif action == "add_item":
                    item = rewards.add_item(
                        db,
                        viewer.store_id,
                        request.form.get("name", ""),
                        _whole("cost"),
                        _whole("stock"),
                        now,
                    )
                    done = _("%(name)s added to the catalogue.", name=item.name)
                elif action == "restock":
                    item = rewards.get_item(db, viewer.store_id, _whole("item_id"))
                    rewards.restock(db, item, _whole("stock"), request.form.get("active") == "yes")
                    done = _("%(name)s: %(stock)s in stock.", name=item.name, stock=item.stock)
                elif action == "fulfil":
                    account = db.get(Account, viewer.account_id)
                    rewards.fulfil(db, viewer.store_id, _whole("redemption_id"), account.email, now)
                    done = _("Marked as handed over.")
                elif action == "add_badge":
                    badge = badges.define(db, viewer.store_id, _badge_from_form(request.form), now)
                    tasks.badge_defined(db, viewer.store_id, badge.id, now)
                    done = _(
                        "Badge %(name)s defined: it is awarded as people meet it.", name=badge.name
                    )
                else:
                    raise BadRequest(_("action: unknown"))
        except LrsError as exc:
            status = refusal_status(exc)
            errors = refusal_errors(exc)
    with read_transaction(runtime.sessions) as db:
        viewer = signed_in_admin(db)
        settings = kudos.settings_of(db, viewer.store_id)
        waiting = rewards.redemptions(db, viewer.store_id)
        items = {i.id: i for i in rewards.items(db, viewer.store_id)}
        people = {
            p.id: p.name
            for p in db.query(Person).filter(Person.id.in_({r.person_id for r in waiting}))
        }
        page = render_template(
            "admin_recognition.html",
            settings=settings,
            periods=PERIODS,
            items=list(items.values()),
            redemptions=[
                {"r": r, "item": items.get(r.item_id), "person": people.get(r.person_id, "")}
                for r in waiting
            ],
            badges=[(b, badges.criteria_words(b)) for b in badges.list_badges(db, viewer.store_id)],
            verbs=vocabulary.VERBS,
            activity_types=vocabulary.ACTIVITY_TYPES,
            kudos_prefix=st.kudos_activity_prefix(runtime.public_url),
            when=moment_filter,
            errors=errors,
            done=done,
            form=request.form if status != 200 else {},
        )
    return page, status
