"""The SCIM resource types Learnloop serves, how requests are read, and the discovery documents.

Models come from ``scim2-models`` (RFC 7643's User, the enterprise extension, Group and the
messages); this module adds what identity providers send that the strict reading refuses:

* ``manager`` without ``$ref``, or as a bare id string (Entra ID's PATCH ``value``): the
  enterprise schema marks ``$ref`` required, so it is filled in from the id before validation;
* ``op`` in any case, ``remove`` with a ``value`` (Entra ID's way of removing group members),
  and a path filter that matches nothing yet (``emails[type eq "work"].value`` on a user with
  no work email: the entry is created) -- the ``POLICY`` below;
* attributes of schemas Learnloop does not serve are ignored, not refused.
"""

from __future__ import annotations

from typing import Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    EnterpriseUser,
    ETag,
    Filter,
    Group,
    Meta,
    Patch,
    ResourceType,
    ScimPolicy,
    ServiceProviderConfig,
    Sort,
    User,
)

#: The User resource: RFC 7643's core schema with the enterprise extension.
ScimUserModel = User[EnterpriseUser]
ScimGroupModel = Group

ENTERPRISE = str(EnterpriseUser.__schema__)
MANAGER_PATH = f"{ENTERPRISE}:manager"
USER_SCHEMA = str(User.__schema__)
GROUP_SCHEMA = str(Group.__schema__)
MEDIA_TYPE = "application/scim+json"

#: The largest page a list answers (ServiceProviderConfig ``filter.maxResults``).
MAX_RESULTS = 200

POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)


def user_location(base: str, scim_id: str) -> str:
    """The URL of a user (``meta.location``, ``$ref``)."""
    return f"{base}/Users/{scim_id}"


def group_location(base: str, scim_id: str) -> str:
    """The URL of a group."""
    return f"{base}/Groups/{scim_id}"


def _manager_value(value: Any, base: str) -> Any:
    """A manager as the strict schema wants it: a bare id becomes ``{value, $ref}``."""
    if isinstance(value, str):
        value = {"value": value}
    if isinstance(value, dict) and isinstance(value.get("value"), str) and value["value"]:
        value = dict(value)
        value["$ref"] = user_location(base, value["value"])
    return value


def normalize_user_payload(payload: Any, base: str) -> Any:
    """Fill the manager's ``$ref`` in a User body (POST, PUT) from its id."""
    if not isinstance(payload, dict):
        return payload
    extension = payload.get(ENTERPRISE)
    if isinstance(extension, dict) and "manager" in extension:
        manager = extension["manager"]
        payload = dict(payload)
        extension = dict(extension)
        if manager in (None, "", {}):
            del extension["manager"]
        else:
            extension["manager"] = _manager_value(manager, base)
        payload[ENTERPRISE] = extension
    return payload


def _is_path(key: str, schemas: tuple[str, ...]) -> bool:
    """Whether a key of a path-less PATCH value is an attribute path, not an attribute name."""
    if key.lower().startswith("urn:"):
        return key.lower() not in schemas
    return "[" in key or "." in key


def split_path_keys(body: Any) -> Any:
    """Give each attribute path used as a key of a path-less value its own operation.

    Identity providers send ``{"op": "replace", "value": {"name.givenName": "Ann",
    'emails[type eq "work"].value': "…"}}``; each such key becomes an operation with that path,
    so that none is silently dropped.
    """
    if not isinstance(body, dict) or not isinstance(body.get("Operations"), list):
        return body
    schemas = tuple(s.lower() for s in (USER_SCHEMA, ENTERPRISE, GROUP_SCHEMA))
    operations: list[Any] = []
    for operation in body["Operations"]:
        value = operation.get("value") if isinstance(operation, dict) else None
        if (
            not isinstance(operation, dict)
            or operation.get("path") is not None
            or not isinstance(value, dict)
            or not any(isinstance(k, str) and _is_path(k, schemas) for k in value)
        ):
            operations.append(operation)
            continue
        rest = {k: v for k, v in value.items() if not _is_path(k, schemas)}
        if rest:
            operations.append({**operation, "value": rest})
        operations.extend(
            {"op": operation.get("op"), "path": k, "value": v}
            for k, v in value.items()
            if _is_path(k, schemas)
        )
    return {**body, "Operations": operations}


def normalize_user_patch(body: Any, base: str) -> Any:
    """Fill the manager's ``$ref`` in a User PatchOp, whatever form its operations take.

    Entra ID sends ``{"op": "Replace", "path": "urn:…:enterprise:2.0:User:manager",
    "value": "<id>"}``; others send ``{"value": "<id>"}``, the ``…:manager.value`` path, or a
    path-less ``add``/``replace`` whose value holds the extension (or the manager's path).
    """
    body = split_path_keys(body)
    if not isinstance(body, dict) or not isinstance(body.get("Operations"), list):
        return body
    operations = []
    for operation in body["Operations"]:
        if isinstance(operation, dict):
            operation = dict(operation)
            path = operation.get("path")
            op = str(operation.get("op", "")).lower()
            if isinstance(path, str) and path.lower() == f"{MANAGER_PATH}.value".lower():
                operation["path"] = MANAGER_PATH
                path = MANAGER_PATH
            if isinstance(path, str) and path.lower() == MANAGER_PATH.lower() and op != "remove":
                if operation.get("value") in (None, "", {}):
                    operation = {"op": "remove", "path": MANAGER_PATH}
                else:
                    operation["value"] = _manager_value(operation.get("value"), base)
            elif path is None and isinstance(operation.get("value"), dict):
                operation["value"] = normalize_user_payload(operation["value"], base)
        operations.append(operation)
    return {**body, "Operations": operations}


def service_provider_config(base: str) -> ServiceProviderConfig:
    """What this service provider supports (RFC 7643 §5)."""
    return ServiceProviderConfig(
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=True),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="Bearer token",
                description="A SCIM token an administrator made for one organisation "
                "(learnloop scim token create, or the admin pages)",
                primary=True,
            )
        ],
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"),
    )


def resource_types(base: str) -> list[ResourceType]:
    """The User and Group resource types (RFC 7643 §6)."""
    types = []
    for model, name in ((ScimUserModel, "User"), (ScimGroupModel, "Group")):
        resource_type = ResourceType.from_resource(model)
        resource_type.meta = Meta(
            resource_type="ResourceType", location=f"{base}/ResourceTypes/{name}"
        )
        types.append(resource_type)
    return types


def schemas(base: str) -> list[Any]:
    """The User, enterprise User and Group schemas (RFC 7643 §7)."""
    documents = []
    for model in (User, EnterpriseUser, Group):
        schema = model.to_schema()
        schema.meta = Meta(resource_type="Schema", location=f"{base}/Schemas/{schema.id}")
        documents.append(schema)
    return documents
