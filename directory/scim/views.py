"""The ``/scim/v2`` blueprint: RFC 7644's endpoints over ``directory.scim.services``.

Every resource route needs ``Authorization: Bearer <SCIM token>`` (the token picks the store);
the discovery documents (ServiceProviderConfig, ResourceTypes, Schemas) are the same for
everyone and need none. Bodies are read with the app's strict JSON reader whatever their media
type (``application/scim+json`` or ``application/json``); answers are ``application/scim+json``.
Every refusal, including unknown URLs and methods under ``/scim/v2``, is a SCIM Error message.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, Response, current_app, json, request
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    ListResponse,
    ResourceType,
    ResponseParameters,
    Schema,
    SCIMException,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from directory.scim import services as svc
from directory.scim.errors import ScimError, not_found
from directory.scim.models import ScimToken
from directory.scim.resources import (
    MEDIA_TYPE,
    ScimGroupModel,
    ScimUserModel,
    resource_types,
    schemas,
    service_provider_config,
)
from directory.scim.tokens import store_for_token
from lrs.db import read_transaction, write_transaction
from lrs.runtime import lrs_runtime
from schemas.errors import LrsError

scim = Blueprint("scim", __name__, url_prefix="/scim/v2")
log = logging.getLogger("learnloop.scim")


def _answer(body: Any, status: int = 200, etag: str | None = None) -> Response:
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    if etag:
        response.headers["ETag"] = etag
    return response


def _error(status: int, detail: str, scim_type: str | None = None) -> Response:
    error = Error(status=status, scim_type=scim_type, detail=detail)
    return _answer(error.model_dump(scim_ctx=Context.DEFAULT), status)


@scim.errorhandler(LrsError)
def _lrs_error(error: LrsError) -> Response:
    scim_type = getattr(error, "scim_type", None)
    if scim_type is None and error.status == 400:
        scim_type = "invalidSyntax"  # the strict JSON reader, a NUL in a parameter
    response = _error(error.status, error.message, scim_type)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="scim"'
    return response


@scim.errorhandler(IntegrityError)
def _conflict(_error: IntegrityError) -> Response:
    """Two writes raced for one userName (the unique constraint decided): the later one's 409."""
    return _error(409, "the resource conflicts with one written at the same time", "uniqueness")


@scim.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    response = _error(
        status, error.description or error.name, "invalidSyntax" if status == 400 else None
    )
    if error.code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


@scim.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    """A SCIM 500 naming a request id only; the details go to the log (never to the client)."""
    if isinstance(error, HTTPException):  # pragma: no cover - its own handler is more specific
        return _http_error(error)
    rid = uuid.uuid4().hex
    log.error(
        "unexpected %s on %s %s, request %s",
        type(error).__name__,
        request.method,
        request.path,
        rid,
        exc_info=error,
    )
    response = _error(500, f"internal error; quote request id {rid} to the operator")
    response.headers["X-Request-Id"] = rid
    return response


def _base() -> str:
    public = lrs_runtime().public_url.rstrip("/")
    return (public or request.host_url.rstrip("/")) + scim.url_prefix


def _now() -> dt.datetime:
    return dt.datetime.fromtimestamp(lrs_runtime().clock() / 1000, dt.UTC)


def _body() -> Any:
    return request.get_json(force=True, silent=False)


def _int_argument(name: str, source: Any) -> int | None:
    value = source.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ScimError(f"{name}: must be an integer", 400, "invalidValue")
    try:
        number = int(value)
    except ValueError:
        raise ScimError(f"{name}: must be an integer", 400, "invalidValue") from None
    return max(-1, min(number, 2**31 - 1))


def _parameters(model: Any, source: Any) -> Any:
    """The ``attributes`` / ``excludedAttributes`` a client asked for (RFC 7644 §3.9)."""
    given = {
        key: source.get(key) for key in ("attributes", "excludedAttributes") if source.get(key)
    }
    if not given:
        return None
    try:
        return ResponseParameters[model].model_validate(given)
    except (ValidationError, SCIMException) as exc:
        failure = svc.scim_failure(exc)
        raise ScimError(failure.message, 400, "invalidPath") from None


def _dump(resource: Any, context: Context, parameters: Any = None) -> dict:
    return resource.model_dump(scim_ctx=context, response_parameters=parameters)


def _list(model: Any, found: tuple[int, int, list[Any]], parameters: Any) -> Response:
    total, start, resources = found
    listing = ListResponse[model](
        total_results=total,
        start_index=start,
        items_per_page=len(resources),
        resources=resources or None,
    )
    body = listing.model_dump(
        scim_ctx=Context.SEARCH_RESPONSE
        if request.method == "POST"
        else Context.RESOURCE_QUERY_RESPONSE,
        response_parameters=parameters,
    )
    body.setdefault("Resources", [])
    return _answer(body)


def _store(session) -> int:
    store_id, _ = store_for_token(session, request.headers.get("Authorization"))
    return store_id


@contextmanager
def _writing() -> Iterator[tuple[Session, int]]:
    """A write transaction for a request authenticated by its token (its last use recorded)."""
    with write_transaction(lrs_runtime().sessions) as session:
        store_id, token_id = store_for_token(session, request.headers.get("Authorization"))
        session.get(ScimToken, token_id).last_used_at = _now()
        yield session, store_id


# ---- Discovery (RFC 7644 §4) ------------------------------------------------------------------


@scim.get("/ServiceProviderConfig")
def get_service_provider_config() -> Response:
    return _answer(_dump(service_provider_config(_base()), Context.RESOURCE_QUERY_RESPONSE))


@scim.get("/ResourceTypes")
def list_resource_types() -> Response:
    types = resource_types(_base())
    listing = ListResponse[ResourceType](
        total_results=len(types), start_index=1, items_per_page=len(types), resources=types
    )
    return _answer(listing.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


@scim.get("/ResourceTypes/<name>")
def get_resource_type(name: str) -> Response:
    for resource_type in resource_types(_base()):
        if resource_type.id == name:
            return _answer(_dump(resource_type, Context.RESOURCE_QUERY_RESPONSE))
    raise not_found("ResourceType", name)


@scim.get("/Schemas")
def list_schemas() -> Response:
    documents = schemas(_base())
    listing = ListResponse[Schema](
        total_results=len(documents),
        start_index=1,
        items_per_page=len(documents),
        resources=documents,
    )
    return _answer(listing.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


@scim.get("/Schemas/<path:schema_id>")
def get_schema(schema_id: str) -> Response:
    for schema in schemas(_base()):
        if schema.id == schema_id:
            return _answer(_dump(schema, Context.RESOURCE_QUERY_RESPONSE))
    raise not_found("Schema", schema_id)


# ---- Users and Groups -------------------------------------------------------------------------

_KINDS = {
    "Users": (
        ScimUserModel,
        svc.list_users,
        svc.get_user,
        svc.create_user,
        svc.replace_user,
        svc.patch_user,
        svc.delete_user,
    ),
    "Groups": (
        ScimGroupModel,
        svc.list_groups,
        svc.get_group,
        svc.create_group,
        svc.replace_group,
        svc.patch_group,
        svc.delete_group,
    ),
}


def _kind(kind: str) -> tuple:
    if kind not in _KINDS:
        raise not_found("endpoint", f"/{kind}")
    return _KINDS[kind]


@scim.route("/<any(Users, Groups):kind>", methods=["GET"])
def list_resources(kind: str) -> Response:
    model, list_fn, *_ = _kind(kind)
    parameters = _parameters(model, request.args)
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as session:
        found = list_fn(
            session,
            _store(session),
            _base(),
            request.args.get("filter"),
            _int_argument("startIndex", request.args),
            _int_argument("count", request.args),
        )
        return _list(model, found, parameters)


@scim.route("/<any(Users, Groups):kind>/.search", methods=["POST"])
def search_resources(kind: str) -> Response:
    model, list_fn, *_ = _kind(kind)
    body = _body()
    if not isinstance(body, dict):
        raise ScimError("the body must be a SearchRequest object", 400, "invalidSyntax")
    parameters = _parameters(model, body)
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as session:
        found = list_fn(
            session,
            _store(session),
            _base(),
            body.get("filter"),
            _int_argument("startIndex", body),
            _int_argument("count", body),
        )
        return _list(model, found, parameters)


@scim.route("/.search", methods=["POST"])
def search_everything() -> Response:
    """Users and groups at once (RFC 7644 §3.4.3)."""
    body = _body()
    if not isinstance(body, dict):
        raise ScimError("the body must be a SearchRequest object", 400, "invalidSyntax")
    model = ScimUserModel | ScimGroupModel
    parameters = _parameters(model, body)
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as session:
        found = svc.search_all(
            session,
            _store(session),
            _base(),
            body.get("filter"),
            _int_argument("startIndex", body),
            _int_argument("count", body),
        )
        return _list(model, found, parameters)


@scim.route("/<any(Users, Groups):kind>", methods=["POST"])
def create_resource(kind: str) -> Response:
    model, _, _, create_fn, *_ = _kind(kind)
    parameters = _parameters(model, request.args)
    body = _body()
    with _writing() as (session, store_id):
        resource = create_fn(session, store_id, body, _base(), _now())
    response = _answer(
        _dump(resource, Context.RESOURCE_CREATION_RESPONSE, parameters),
        201,
        resource.meta.version,
    )
    response.headers["Location"] = resource.meta.location
    return response


@scim.route("/<any(Users, Groups):kind>/<scim_id>", methods=["GET"])
def get_resource(kind: str, scim_id: str) -> Response:
    model, _, get_fn, *_ = _kind(kind)
    parameters = _parameters(model, request.args)
    runtime = lrs_runtime()
    with read_transaction(runtime.sessions) as session:
        resource = get_fn(session, _store(session), scim_id, _base())
    version = resource.meta.version
    if version and version in {
        t.strip() for t in request.headers.get("If-None-Match", "").split(",")
    }:
        return Response(status=304, headers={"ETag": version})
    return _answer(_dump(resource, Context.RESOURCE_QUERY_RESPONSE, parameters), 200, version)


@scim.route("/<any(Users, Groups):kind>/<scim_id>", methods=["PUT"])
def replace_resource(kind: str, scim_id: str) -> Response:
    model, _, _, _, replace_fn, *_ = _kind(kind)
    parameters = _parameters(model, request.args)
    body = _body()
    with _writing() as (session, store_id):
        resource = replace_fn(
            session, store_id, scim_id, body, _base(), _now(), request.headers.get("If-Match")
        )
    return _answer(
        _dump(resource, Context.RESOURCE_REPLACEMENT_RESPONSE, parameters),
        200,
        resource.meta.version,
    )


@scim.route("/<any(Users, Groups):kind>/<scim_id>", methods=["PATCH"])
def patch_resource(kind: str, scim_id: str) -> Response:
    model, _, _, _, _, patch_fn, _ = _kind(kind)
    parameters = _parameters(model, request.args)
    body = _body()
    with _writing() as (session, store_id):
        resource = patch_fn(
            session, store_id, scim_id, body, _base(), _now(), request.headers.get("If-Match")
        )
    return _answer(
        _dump(resource, Context.RESOURCE_PATCH_RESPONSE, parameters), 200, resource.meta.version
    )


@scim.route("/<any(Users, Groups):kind>/<scim_id>", methods=["DELETE"])
def delete_resource(kind: str, scim_id: str) -> Response:
    *_, delete_fn = _kind(kind)
    with _writing() as (session, store_id):
        if kind == "Users":
            delete_fn(session, store_id, scim_id, _now(), request.headers.get("If-Match"))
        else:
            delete_fn(session, store_id, scim_id, request.headers.get("If-Match"))
    return Response(status=204)


@scim.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@scim.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    """Anything else under /scim/v2 is a SCIM 404 (or 405), not the pages' or the LRS's."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _ = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint != "scim.unknown":
            allowed.append(method)
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise ScimError(f"no SCIM endpoint /{rest}", 404)
