"""Routes of the connectors: webhook receivers, their admin API, people links and the profiles.

- ``POST /connectors/<kind>/<id>``: a forge's webhook. Verified before it is parsed (401 and
  nothing stored otherwise), recorded with its statements in one transaction, answered 202
  with the statement ids (200 for a redelivery, which stores nothing).
- ``/api/admin/connectors[/<id>[/secret]]`` and ``/api/admin/people/...``: HTTP Basic with a
  credential of scope ``all``, which administers its own store only.
- ``GET /profiles/<name>``: the xAPI Profiles as JSON-LD.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import IntegrityError

from connectors import profile as vocabulary
from connectors import services as svc
from connectors.common import WebhookRequest
from connectors.errors import ConnectorNotFound
from lrs.db import read_transaction, write_transaction
from lrs.errors import BadRequest, Conflict, NotFound
from lrs.runtime import current_principal, lrs_runtime
from lrs.statements.write import ConcurrentWrite
from schemas.connectors import ConnectorCreateSchema, PersonLinkSchema, load

connectors_bp = Blueprint("connectors", __name__)


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("the request body must be a JSON object (Content-Type: application/json)")
    return data


# ---- Webhooks ----------------------------------------------------------------------------


@connectors_bp.post("/connectors/<kind>/<int:connector_id>")
def receive(kind: str, connector_id: int):
    """Verify, record and store one delivery of a forge's webhook."""
    if kind not in svc.SOURCES:
        raise ConnectorNotFound(f"no connector kind {kind!r}")
    container = lrs_runtime()
    webhook = WebhookRequest.of(
        request.headers.items(),
        request.get_data(cache=False),
        request.args.to_dict(),
        received_at=container.clock() / 1000,
    )
    with read_transaction(container.sessions) as session:
        connector = svc.ConnectorRef.of(svc.get_connector(session, connector_id, kind=kind))
    secret, signing = svc.connector_secrets(connector, svc.secret_box(container.instance_secret()))
    event = svc.verify_and_parse(connector, webhook, secret, signing)
    mapped = svc.SOURCES[kind].map_event(event)
    try:
        with write_transaction(container.sessions) as session:
            outcome = svc.record_event(session, connector, mapped, container.public_url)
    except (IntegrityError, ConcurrentWrite):
        # A concurrent delivery with the same id won the race: answer from its record.
        with read_transaction(container.sessions) as session:
            outcome = svc.previous_delivery(session, connector.id, mapped.delivery_id)
        if outcome is None:
            raise Conflict(
                "a concurrent write interfered with this delivery; send it again"
            ) from None
    return jsonify(outcome.to_dict()), 200 if outcome.status == "duplicate" else 202


# ---- Admin API: connectors ---------------------------------------------------------------


@connectors_bp.get("/api/admin/connectors")
def list_connectors():
    principal = current_principal("all")
    container = lrs_runtime()
    public_url = container.public_url
    with read_transaction(container.sessions) as session:
        found = [
            svc.connector_info(c, public_url)
            for c in svc.list_connectors(session, principal.store_id)
        ]
    return jsonify({"connectors": found})


@connectors_bp.post("/api/admin/connectors")
def create_connector():
    """Create a connector; the response shows its secret, which is never shown again."""
    principal = current_principal("all")
    data = load(ConnectorCreateSchema(), _json_body())
    container = lrs_runtime()
    box = svc.secret_box(container.instance_secret())
    with write_transaction(container.sessions) as session:
        connector, secret = svc.create_connector(
            session,
            principal.store_id,
            data["kind"],
            box,
            data["label"],
            data["signing_token"],
        )
        info = svc.connector_info(connector, container.public_url)
    return jsonify({**info, "secret": secret}), 201


@connectors_bp.get("/api/admin/connectors/<int:connector_id>")
def get_connector(connector_id: int):
    principal = current_principal("all")
    container = lrs_runtime()
    with read_transaction(container.sessions) as session:
        connector = svc.get_connector(session, connector_id, store_id=principal.store_id)
        info = svc.connector_info(connector, container.public_url)
    return jsonify(info)


@connectors_bp.delete("/api/admin/connectors/<int:connector_id>")
def delete_connector(connector_id: int):
    principal = current_principal("all")
    with write_transaction(lrs_runtime().sessions) as session:
        svc.delete_connector(session, principal.store_id, connector_id)
    return "", 204


@connectors_bp.post("/api/admin/connectors/<int:connector_id>/secret")
def rotate_secret(connector_id: int):
    """Replace a connector's secret; the new one is shown in this response only."""
    principal = current_principal("all")
    container = lrs_runtime()
    box = svc.secret_box(container.instance_secret())
    with write_transaction(container.sessions) as session:
        secret = svc.rotate_secret(session, principal.store_id, connector_id, box)
        info = svc.connector_info(svc.get_connector(session, connector_id), container.public_url)
    return jsonify({**info, "secret": secret})


# ---- Admin API: people -------------------------------------------------------------------


@connectors_bp.post("/api/admin/people/links")
def link_people():
    """Attach identities (forge logins, e-mail, accounts) to a person of the store."""
    principal = current_principal("all")
    data = load(PersonLinkSchema(), _json_body())
    person = data["person"]
    links = [(i["kind"], i["name"], i["home_page"]) for i in data["identities"]]
    with write_transaction(lrs_runtime().sessions) as session:
        person_id, _ = svc.link_person(
            session,
            principal.store_id,
            person_id=person["id"],
            email=person["email"],
            name=person["name"],
            links=links,
        )
        info = svc.person_info(session, principal.store_id, person_id)
    return jsonify(info)


@connectors_bp.get("/api/admin/people/<int:person_id>")
def get_person(person_id: int):
    principal = current_principal("all")
    with read_transaction(lrs_runtime().sessions) as session:
        info = svc.person_info(session, principal.store_id, person_id)
    return jsonify(info)


# ---- Profiles ----------------------------------------------------------------------------


@connectors_bp.get("/profiles/<name>")
def profile(name: str):
    """An xAPI Profile of Learnloop as JSON-LD (public, like any vocabulary document)."""
    if name not in vocabulary.PROFILE_FILES:
        raise NotFound(f"no profile {name!r}; profiles: {', '.join(vocabulary.PROFILE_FILES)}")
    response = Response(vocabulary.profile_text(name), mimetype="application/ld+json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
