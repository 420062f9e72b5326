"""Recognition's routes: /api JSON routes and the public Open Badges documents.

The /api routes are attached to ``objectives.views.api``; ``badges_public`` serves the issuer
profile, its keys and the achievements.

The /api routes are declared in ``objectives.openapi`` like every route of that blueprint.
Every refusal is an ``LrsError`` rendered as JSON with the path of what was wrong.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from flask import Blueprint, jsonify, request

from lrs.catalogue import M_, at
from lrs.db import read_transaction, write_transaction
from lrs.errors import FieldError, NotFound
from lrs.inputs import search_text
from lrs.people.models import Person
from lrs.runtime import lrs_runtime
from objectives import accounts
from objectives import services as svc
from objectives.errors import Hidden, InvalidPayload, NotAllowed
from objectives.models import Account
from objectives.views import _id_argument, _load, _viewer, api
from recognition import badges, credentials, kudos, leaderboards, rewards, tasks
from recognition.models import Badge
from schemas import recognition as schemas

badges_public = Blueprint("badges_public", __name__)
FULL_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _base_url() -> str:
    return lrs_runtime().public_url.rstrip("/")


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return (
        dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def _person_of(viewer: accounts.Viewer) -> int:
    if viewer.person_id is None:
        raise NotAllowed(M_("this account is not a person of the organisation: it has no kudos"))
    return viewer.person_id


def _invalid(path: str, message: str) -> InvalidPayload:
    text = at(path, message)
    return InvalidPayload(text, [FieldError(path, message)])


def gift_json(db, gift) -> dict:
    names = dict(
        db.query(Person.id, Person.name).filter(Person.id.in_([gift.giver_id, gift.receiver_id]))
    )
    return {
        "id": gift.id,
        "giver": {"id": gift.giver_id, "name": names.get(gift.giver_id, "")},
        "receiver": {"id": gift.receiver_id, "name": names.get(gift.receiver_id, "")},
        "points": gift.points,
        "message": gift.message,
        "reason": gift.reason,
        "link": gift.link,
        "given_at": _iso(gift.given_ms),
        "statement_id": gift.statement_id,
    }


def my_kudos(db, store_id: int, person_id: int, now_ms: int) -> dict:
    """The person's allowance left, wallet, and latest gifts given and received."""
    allowance = kudos.allowance_of(db, store_id, person_id, now_ms)
    wallet = kudos.wallet_of(db, person_id)
    return {
        "allowance": {
            "points": allowance.allowance,
            "given": allowance.given,
            "left": allowance.left,
            "period_starts_on": allowance.period_start.isoformat(),
            "expires_on": allowance.period_end.isoformat(),
        },
        "wallet": {
            "received": wallet.received,
            "redeemed": wallet.redeemed,
            "available": wallet.available,
        },
        "given": [gift_json(db, g) for g in kudos.gifts(db, store_id, person_id, "given")],
        "received": [gift_json(db, g) for g in kudos.gifts(db, store_id, person_id, "received")],
    }


@api.get("/kudos")
def get_kudos():
    """The signed-in person's kudos: allowance left, points to redeem, given and received."""
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        return jsonify(my_kudos(db, viewer.store_id, _person_of(viewer), runtime.clock()))


@api.post("/kudos")
def give_kudos():
    """Give kudos to a colleague from the signed-in person's allowance."""
    data = _load(schemas.KudosSchema)
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        gift = kudos.give(
            db,
            viewer.store_id,
            _person_of(viewer),
            data["receiver_id"],
            data["points"],
            data["message"],
            data["reason"],
            data["link"],
            runtime.public_url,
            runtime.clock(),
        )
        return jsonify(gift_json(db, gift)), 201


@api.get("/colleagues")
def find_colleagues():
    """Colleagues whose name or email contains ``q`` (to give kudos to)."""
    text = search_text("q", request.args.get("q", ""))
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        found = kudos.search_colleagues(db, viewer.store_id, text, viewer.person_id)
        return jsonify([{"id": p.id, "name": p.name} for p in found])


def board_json(board: leaderboards.Board) -> dict:
    return {
        "scope": board.scope,
        "period": board.period,
        "starts_on": board.starts_on.isoformat(),
        "ends_on": (board.ends_on - dt.timedelta(days=1)).isoformat(),
        "manager_id": board.manager_id,
        "contributions": leaderboards.contribution_names(),
        "entries": board.entries,
        "team_totals": board.totals,
        "you_opted_in": board.viewer_opted_in,
    }


def board_arguments() -> tuple[str, str, dt.date]:
    scope = request.args.get("scope", "organisation")
    if scope not in leaderboards.SCOPES:
        raise _invalid(
            "scope", M_("must be one of %(choices)s", choices=", ".join(leaderboards.SCOPES))
        )
    period = request.args.get("period", "month")
    if period not in schemas.PERIODS:
        raise _invalid(
            "period", M_("must be one of %(choices)s", choices=", ".join(schemas.PERIODS))
        )
    text = request.args.get("date")
    day = dt.datetime.fromtimestamp(lrs_runtime().clock() / 1000, dt.UTC).date()
    if text is not None:
        try:
            if not FULL_DATE.fullmatch(text):
                raise ValueError(text)
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise _invalid(
                "date", M_("must be a date: %(example)s", example="2026-12-31")
            ) from None
        if not 1970 <= day.year <= 9998:  # a period's end must be a date too
            raise _invalid("date", M_("must be a date from %(min)s to %(max)s", min=1970, max=9998))
    return scope, period, day


@api.get("/leaderboard")
def get_leaderboard():
    """The ranking of people who opted in; a team's totals for its managers."""
    scope, period, day = board_arguments()
    manager_id = _id_argument("manager_id")
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        board = leaderboards.leaderboard(db, viewer, scope, period, day, manager_id)
        return jsonify(board_json(board))


@api.put("/leaderboard/opt-in")
def put_opt_in():
    """The signed-in person's own choice to appear on leaderboards (default: no)."""
    data = _load(schemas.OptInSchema)
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        person_id = _person_of(viewer)
        leaderboards.set_opt_in(db, viewer.store_id, person_id, data["opt_in"], runtime.clock())
        return jsonify({"opt_in": data["opt_in"]})


def badge_json(badge) -> dict:
    return {
        "id": badge.id,
        "name": badge.name,
        "description": badge.description,
        "rule": badge.rule,
        "k": badge.k,
        "criteria": json.loads(badge.criteria),
        "criteria_in_words": badges.criteria_words(badge),
        "active": badge.active,
    }


@api.get("/badges")
def list_badges():
    """The organisation's badges and what earns each."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        return jsonify([badge_json(b) for b in badges.list_badges(db, viewer.store_id)])


@api.post("/badges")
def create_badge():
    """Define a badge (admins); the worker then awards it to everyone who meets it."""
    data = _load(schemas.BadgeSchema)
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        svc.require_admin(viewer)
        badge = badges.define(db, viewer.store_id, data, runtime.clock())
        tasks.badge_defined(db, viewer.store_id, badge.id, runtime.clock())
        return jsonify(badge_json(badge)), 201


def award_json(award, badge, with_credential: bool = False) -> dict:
    data = {
        "id": award.id,
        "badge": {"id": badge.id, "name": badge.name, "description": badge.description},
        "person_id": award.person_id,
        "awarded_at": _iso(award.awarded_ms),
        "statement_id": award.statement_id,
        "credential_jwks": credentials.jwks_url(_base_url(), award.store_id),
    }
    if with_credential:
        data["credential"] = award.credential
        data["credential_claims"] = credentials.decode_unverified(award.credential)
    return data


def _readable(db, viewer: accounts.Viewer, person_id: int) -> None:
    person = db.get(Person, person_id)
    if (
        person is None
        or person.store_id != viewer.store_id
        or not accounts.can_read_record(db, viewer, person_id)
    ):
        raise Hidden(M_("no person %(id)s visible to this account", id=person_id))


@api.get("/people/<int:person_id>/badges")
def person_badges(person_id: int):
    """The badges a person earned (whoever may read their record)."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        _readable(db, viewer, person_id)
        return jsonify(
            [award_json(a, b) for a, b in badges.awards_of(db, viewer.store_id, person_id)]
        )


@api.get("/badge-awards/<int:award_id>")
def get_award(award_id: int):
    """One award with its Open Badges 3.0 credential (a VC-JWT) to take elsewhere."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        award, badge = badges.get_award(db, viewer.store_id, award_id)
        _readable(db, viewer, award.person_id)
        return jsonify(award_json(award, badge, with_credential=True))


def reward_json(item) -> dict:
    return {
        "id": item.id,
        "name": item.name,
        "cost": item.cost,
        "stock": item.stock,
        "active": item.active,
    }


@api.get("/rewards")
def list_rewards():
    """The catalogue: what received points can be redeemed for (admins also see inactive)."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        found = rewards.items(db, viewer.store_id, active_only=not viewer.is_admin)
        return jsonify([reward_json(i) for i in found])


@api.post("/rewards")
def create_reward():
    """Add an item to the catalogue (admins)."""
    data = _load(schemas.RewardSchema)
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        svc.require_admin(viewer)
        item = rewards.add_item(
            db, viewer.store_id, data["name"], data["cost"], data["stock"], runtime.clock()
        )
        return jsonify(reward_json(item)), 201


def redemption_json(db, redemption) -> dict:
    item = rewards.get_item(db, redemption.store_id, redemption.item_id)
    person = db.get(Person, redemption.person_id)
    return {
        "id": redemption.id,
        "item": {"id": item.id, "name": item.name},
        "person": {"id": redemption.person_id, "name": person.name if person else ""},
        "cost": redemption.cost,
        "redeemed_at": _iso(redemption.redeemed_ms),
        "fulfilled_at": _iso(redemption.fulfilled_ms),
    }


@api.post("/rewards/<int:item_id>/redemptions")
def redeem(item_id: int):
    """Redeem received points for one item: 409 when points or stock fall short."""
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        redemption = rewards.redeem(
            db, viewer.store_id, _person_of(viewer), item_id, runtime.clock()
        )
        return jsonify(redemption_json(db, redemption)), 201


@api.get("/redemptions")
def list_redemptions():
    """Admins: every redemption, those to fulfil first; others: their own."""
    with read_transaction(lrs_runtime().sessions) as db:
        viewer = _viewer(db)
        person = None if viewer.is_admin else _person_of(viewer)
        found = rewards.redemptions(db, viewer.store_id, person)
        return jsonify([redemption_json(db, r) for r in found])


@api.post("/redemptions/<int:redemption_id>/fulfilment")
def fulfil(redemption_id: int):
    """Mark a redemption handed over (admins); 409 if it already was."""
    runtime = lrs_runtime()
    with write_transaction(runtime.sessions) as db:
        viewer = _viewer(db)
        svc.require_admin(viewer)
        account = db.get(Account, viewer.account_id)
        done = rewards.fulfil(db, viewer.store_id, redemption_id, account.email, runtime.clock())
        return jsonify(redemption_json(db, done))


# ---- Open Badges documents, public: anyone verifies a credential with them ----------------


def _public(data: dict, mimetype: str = "application/json"):
    response = jsonify(data)
    response.mimetype = mimetype
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@badges_public.get("/badges/issuers/<int:store_id>")
def issuer(store_id: int):
    """The issuer's Open Badges 3.0 Profile."""
    with read_transaction(lrs_runtime().sessions) as db:
        profile = credentials.issuer_profile(db, _base_url(), store_id)
        if not credentials.published_keys(db, store_id)["keys"]:
            profile = None  # an organisation that issued nothing is not published
    if profile is None:
        raise NotFound(M_("no issuer %(id)s", id=store_id))
    return _public(profile, "application/ld+json")


@badges_public.get("/badges/issuers/<int:store_id>/jwks.json")
def issuer_keys(store_id: int):
    """The issuer's public keys (JWKS): what verifies its credentials."""
    with read_transaction(lrs_runtime().sessions) as db:
        return _public(credentials.published_keys(db, store_id))


@badges_public.get("/badges/<int:badge_id>")
def achievement(badge_id: int):
    """A badge as an Open Badges 3.0 Achievement: what it is and what earns it."""
    with read_transaction(lrs_runtime().sessions) as db:
        badge = db.get(Badge, badge_id)
        if badge is None or not badges.ever_awarded(db, badge_id):
            # a badge nobody holds is not published
            raise NotFound(M_("no badge %(id)s", id=badge_id))
        data = credentials.achievement(_base_url(), badge, badges.criteria_words(badge))
    return _public({"@context": credentials.CONTEXTS, **data}, "application/ld+json")
