"""SCIM Users and Groups over Learnloop's people, reporting lines and accounts.

Every function takes the caller's session (which owns the transaction), the token's store and
the base URL of ``/scim/v2``; another store's resources are unknown (404). What follows the
identity provider, and how:

* **userName** is lower-cased and unique per store (409 ``uniqueness``). The person's email
  is the userName when it is an email address, else the primary (or first) email sent; their
  accounts signed in as the old address follow a change (unless the new one is taken).
* **name**: the person's name is ``displayName``, else ``name.formatted``, else given and
  family names, else the userName.
* **active: false** sets ``Person.deactivated_at``, disables the person's accounts and ends
  their sessions (pages and API tokens stop working at once); **active: true** clears it and
  re-enables the accounts that deactivation disabled (not one an admin disabled separately).
  A PUT without ``active`` leaves it as it is.
* **manager** (enterprise extension, ``value`` = the manager's SCIM id) is the person's
  reporting line (``objectives.accounts.set_manager``): an unknown id or a cycle is a 400
  ``invalidValue``. A PUT without the enterprise extension leaves the reporting line as it is,
  so people whose managers come from a CSV import are not cleared by an identity provider that
  does not send managers.
* **DELETE** removes the person from the directory: the SCIM user and its group memberships go
  and the userName is free again, the person is deactivated (accounts disabled, sessions
  ended) and leaves every reporting line, as report and as manager. The person row stays with
  their learning record: xAPI statements are never deleted by provisioning, and past reviews
  keep their subject. Erasing a person's data is a separate, deliberate act.
* An existing person of the store with the userName's email as an identity or as their
  email, active and not yet provisioned (an LTI launch, a CSV import, an admin), is adopted by
  a POST instead of duplicated, so their record carries on. A provisioned person's address is
  their ``mailto:`` identity, so statements sent as it count for them.
* **Groups** are the identity provider's groups of provisioned people, kept as they are sent
  (members must be users of the store; nested groups are refused with ``invalidValue``).

Pagination is by ``startIndex``/``count`` as RFC 7644 §3.4.2.4 defines it (an offset, not our
usual keyset: the protocol fixes it). Filters ``userName eq``, ``externalId eq``, ``id eq`` and
``displayName eq`` (groups) are answered by the database; any other valid filter is evaluated
on the store's resources by scim2-models.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    EnterpriseUser,
    Error,
    GroupMember,
    GroupMembership,
    Manager,
    Meta,
    PatchOp,
    SCIMException,
    ScimFilter,
)
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from directory.scim.errors import ScimError, invalid_value, not_found, uniqueness
from directory.scim.models import ScimGroup, ScimGroupMember, ScimUser
from directory.scim.resources import (
    ENTERPRISE,
    MAX_RESULTS,
    POLICY,
    ScimGroupModel,
    ScimUserModel,
    group_location,
    normalize_user_patch,
    normalize_user_payload,
    split_path_keys,
    user_location,
)
from lrs import audit
from lrs.errors import BadRequest, Conflict
from lrs.people.models import Person
from lrs.people.services import find_person, link_identity
from objectives.accounts import end_sessions, set_manager
from objectives.models import Account, ReportingLine

#: Attributes held in their own columns or tables, never in the JSON of the rest.
_USER_OWN = ("id", "meta", "userName", "externalId", "active", "password", "groups")
_GROUP_OWN = ("id", "meta", "displayName", "externalId", "members")


def scim_failure(error: Exception) -> ScimError:
    """A scim2-models or pydantic refusal as a ScimError (status and scimType kept)."""
    if isinstance(error, SCIMException):
        scim = error.to_error()
    elif isinstance(error, ValidationError):
        # The most specific first: a SCIM keyword beats a bare syntax error.
        scim = min(Error.from_validation_errors(error), key=lambda e: e.scim_type is None)
    else:  # pragma: no cover - only the two above reach here
        raise error
    return ScimError(scim.detail or "invalid request", int(scim.status or 400), scim.scim_type)


def _validate(model: Any, payload: Any, context: Context) -> Any:
    if not isinstance(payload, dict):
        raise ScimError("the body must be a JSON object", 400, "invalidSyntax")
    try:
        return model.model_validate(payload, scim_ctx=context, scim_policy=POLICY)
    except (ValidationError, SCIMException) as exc:
        raise scim_failure(exc) from None


def etag(version: int) -> str:
    """The weak ETag of a resource version (``meta.version`` and the ETag header)."""
    return f'W/"{version}"'


def check_version(version: int, if_match: str | None) -> None:
    """412 when an ``If-Match`` header names another version (RFC 7644 §3.14)."""
    if if_match is None:
        return
    wanted = {tag.strip() for tag in if_match.split(",")}
    if "*" not in wanted and etag(version) not in wanted and f'"{version}"' not in wanted:
        raise ScimError("the resource has changed (If-Match)", 412)


def _stamp(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


# ---- Users: reading ---------------------------------------------------------------------------


def _user_row(session: Session, store_id: int, scim_id: str) -> ScimUser:
    row = session.scalar(
        select(ScimUser).where(ScimUser.store_id == store_id, ScimUser.scim_id == scim_id)
    )
    if row is None:
        raise not_found("User", scim_id)
    return row


def _users(session: Session, rows: list[ScimUser], base: str) -> list[Any]:
    """The User resources of rows, with manager, active and groups read from Learnloop."""
    person_ids = [row.person_id for row in rows]
    people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(person_ids)))}
    lines = dict(
        session.execute(
            select(ReportingLine.person_id, ReportingLine.manager_id).where(
                ReportingLine.person_id.in_(person_ids)
            )
        ).all()
    )
    managers = dict(
        session.execute(
            select(ScimUser.person_id, ScimUser.scim_id).where(
                ScimUser.person_id.in_(set(lines.values()))
            )
        ).all()
    )
    groups: dict[int, list[tuple[str, str]]] = {}
    for person_id, scim_id, name in session.execute(
        select(ScimGroupMember.person_id, ScimGroup.scim_id, ScimGroup.display_name)
        .join(ScimGroup, ScimGroup.id == ScimGroupMember.group_id)
        .where(ScimGroupMember.person_id.in_(person_ids))
        .order_by(ScimGroup.id)
    ):
        groups.setdefault(person_id, []).append((scim_id, name))
    resources = []
    for row in rows:
        person = people[row.person_id]
        user = ScimUserModel.model_validate(
            json.loads(row.attributes), scim_ctx=Context.DEFAULT, scim_policy=POLICY
        )
        user.id = row.scim_id
        user.user_name = row.user_name
        user.external_id = row.external_id
        user.active = person.deactivated_at is None
        manager = managers.get(lines.get(row.person_id, 0))
        if manager is not None:
            extension = user[EnterpriseUser] or EnterpriseUser()
            # displayName is optional and read-only: left out, so what a client wrote and
            # reads back agree.
            extension.manager = Manager(value=manager, ref=user_location(base, manager))
            user[EnterpriseUser] = extension
        if row.person_id in groups:
            user.groups = [
                GroupMembership(
                    value=scim_id, ref=group_location(base, scim_id), display=name, type="direct"
                )
                for scim_id, name in groups[row.person_id]
            ]
        user.meta = Meta(
            resource_type="User",
            created=_stamp(row.created_at),
            last_modified=_stamp(row.updated_at),
            location=user_location(base, row.scim_id),
            version=etag(row.version),
        )
        resources.append(user)
    return resources


def get_user(session: Session, store_id: int, scim_id: str, base: str) -> Any:
    """The User ``scim_id`` of the store; 404 if it is not one."""
    return _users(session, [_user_row(session, store_id, scim_id)], base)[0]


def user_version(session: Session, store_id: int, scim_id: str) -> int:
    """The current version of a user (for If-Match)."""
    return _user_row(session, store_id, scim_id).version


# ---- Users: writing ---------------------------------------------------------------------------


def _email_of(user: Any, user_name: str) -> str | None:
    if "@" in user_name:
        return user_name
    emails = user.emails or []
    chosen = next((e for e in emails if e.primary), None) or next(iter(emails), None)
    return str(chosen.value).strip().lower() if chosen and chosen.value else None


def _name_of(user: Any, user_name: str) -> str:
    name = user.name
    given = " ".join(p for p in (name.given_name, name.family_name) if p) if name else ""
    return (user.display_name or (name.formatted if name else None) or given or user_name)[:300]


def _user_name(user: Any) -> str:
    user_name = (user.user_name or "").strip().lower()
    if not user_name:
        raise invalid_value("userName: required")
    if len(user_name) > 320:
        raise invalid_value("userName: at most 320 characters")
    return user_name


def _manager_person(session: Session, store_id: int, user: Any) -> int | None:
    extension = user[EnterpriseUser]
    manager = extension.manager if extension else None
    if manager is None or not manager.value:
        return None
    # The manager's SCIM id, as RFC 7643 §4.3 says; Okta profiles often hold the manager's
    # login or employee id instead, so a value that is no id is looked up as externalId, then
    # as userName.
    value = str(manager.value)
    person_id = None
    for column, wanted in (
        (ScimUser.scim_id, value),
        (ScimUser.external_id, value),
        (ScimUser.user_name, value.strip().lower()),
    ):
        person_id = session.scalar(
            select(ScimUser.person_id)
            .where(ScimUser.store_id == store_id, column == wanted)
            .order_by(ScimUser.id)
            .limit(1)
        )
        if person_id is not None:
            break
    if person_id is None:
        raise invalid_value(f"manager: no user with id {manager.value} in this organisation")
    return person_id


def _store_attributes(user: Any) -> str:
    data = user.model_dump(scim_ctx=Context.DEFAULT)
    for key in _USER_OWN:
        data.pop(key, None)
    extension = data.get(ENTERPRISE)
    if isinstance(extension, dict):
        extension.pop("manager", None)
        if not extension:
            del data[ENTERPRISE]
            data["schemas"] = [s for s in data.get("schemas", []) if s != ENTERPRISE]
    return json.dumps(data, sort_keys=True)


def _link_email(session: Session, store_id: int, person: Person, email: str) -> None:
    """Statements sent as ``mailto:`` the person's address count as theirs (an identity).

    An address that is already another person's identity stays theirs: moving a learning
    record between people is a deliberate merge, never a side effect of provisioning.
    """
    try:
        link_identity(session, store_id, person, {"mbox": f"mailto:{email}"}, source="scim")
    except (Conflict, BadRequest):
        pass


def _follow_email(session: Session, store_id: int, person: Person, old: str, new: str) -> None:
    """The person's accounts signed in as the old address sign in as the new one.

    Only when no other account of the store has the new address (an account's email is its
    sign-in name, unique per store); then the account keeps its old one.
    """
    if session.scalar(select(Account.id).where(Account.store_id == store_id, Account.email == new)):
        return
    session.execute(
        update(Account)
        .where(Account.person_id == person.id, Account.email == old)
        .values(email=new)
    )


def _person_target(person: Person) -> audit.Target:
    return audit.Target("person", person.id, person.name or person.email or "")


def deactivate_person(
    session: Session, person: Person, now: dt.datetime, *, audited: bool = True
) -> None:
    """The person left: deactivated, their accounts disabled and every sign-in ended.

    ``audited``: leaves a ``person.deactivated`` event (a deletion leaves its own instead).
    """
    if person.deactivated_at is not None:
        return
    person.deactivated_at = now
    if audited:
        audit.record(
            session,
            "person.deactivated",
            store_id=person.store_id,
            target=_person_target(person),
            details={"via": "scim"},
        )
    for account in session.scalars(select(Account).where(Account.person_id == person.id)):
        if account.disabled_at is None:
            account.disabled_at = now
            end_sessions(session, account)


def reactivate_person(session: Session, person: Person) -> None:
    """The person is back: accounts disabled by their deactivation (same instant) re-enabled."""
    if person.deactivated_at is None:
        return
    session.execute(
        update(Account)
        .where(Account.person_id == person.id, Account.disabled_at == person.deactivated_at)
        .values(disabled_at=None)
    )
    person.deactivated_at = None
    audit.record(
        session,
        "person.reactivated",
        store_id=person.store_id,
        target=_person_target(person),
        details={"via": "scim"},
    )


def _apply_user(
    session: Session,
    store_id: int,
    row: ScimUser,
    person: Person,
    user: Any,
    now: dt.datetime,
    *,
    active_given: bool,
    manager_given: bool,
) -> None:
    """Write a validated User onto its row and person (name, email, active, manager)."""
    user_name = _user_name(user)
    taken = session.scalar(
        select(ScimUser.id).where(
            ScimUser.store_id == store_id, ScimUser.user_name == user_name, ScimUser.id != row.id
        )
    )
    if taken:
        raise uniqueness(f"userName {user_name} is already provisioned")
    row.user_name = user_name
    row.external_id = (user.external_id or None) and str(user.external_id)[:300]
    row.attributes = _store_attributes(user)
    row.updated_at = now
    person.name = _name_of(user, user_name)
    email = _email_of(user, user_name)
    if email and person.email and email != person.email.lower():
        _follow_email(session, store_id, person, person.email.lower(), email)
    person.email = email
    if email:
        _link_email(session, store_id, person, email)
    if active_given and user.active is not None:
        if user.active:
            reactivate_person(session, person)
        else:
            deactivate_person(session, person, now)
    if manager_given:
        manager_id = _manager_person(session, store_id, user)
        try:
            set_manager(session, store_id, person.id, manager_id)
        except BadRequest as exc:
            raise invalid_value(
                "manager: a person cannot report to themselves or to their own report"
            ) from exc
    session.flush()


def create_user(session: Session, store_id: int, payload: Any, base: str, now: dt.datetime) -> Any:
    """POST /Users: provision a person (or adopt the store's unprovisioned one of that email)."""
    user = _validate(
        ScimUserModel, normalize_user_payload(payload, base), Context.RESOURCE_CREATION_REQUEST
    )
    user_name = _user_name(user)
    if session.scalar(
        select(ScimUser.id).where(ScimUser.store_id == store_id, ScimUser.user_name == user_name)
    ):
        raise uniqueness(f"userName {user_name} is already provisioned")
    email = _email_of(user, user_name)
    person = None
    if email:  # whoever already has this address as an xAPI identity (LMS launches, imports)
        known = find_person(session, store_id, {"mbox": f"mailto:{email}"})
        if (
            known is not None
            and known.deactivated_at is None
            and session.scalar(select(ScimUser.id).where(ScimUser.person_id == known.id)) is None
        ):
            person = known
    if email and person is None:
        person = session.scalar(
            select(Person)
            .outerjoin(ScimUser, ScimUser.person_id == Person.id)
            .where(
                Person.store_id == store_id,
                func.lower(Person.email) == email,
                Person.deactivated_at.is_(None),
                ScimUser.id.is_(None),
            )
            .order_by(Person.id)
            .limit(1)
        )
    if person is None:
        person = Person(store_id=store_id, name=user_name, email=email)
        session.add(person)
        session.flush()
    row = ScimUser(
        scim_id=str(uuid.uuid4()),
        store_id=store_id,
        person_id=person.id,
        user_name=user_name,
        attributes="{}",
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    _apply_user(
        session,
        store_id,
        row,
        person,
        user,
        now,
        active_given=True,
        # An adopted person's reporting line stays unless the provider says otherwise.
        manager_given=isinstance(payload, dict) and ENTERPRISE in payload,
    )
    audit.record(
        session,
        "scim.user.created",
        store_id=store_id,
        target=_person_target(person),
        details={"user_name": row.user_name, "scim_id": row.scim_id},
    )
    return _users(session, [row], base)[0]


def replace_user(
    session: Session,
    store_id: int,
    scim_id: str,
    payload: Any,
    base: str,
    now: dt.datetime,
    if_match: str | None = None,
) -> Any:
    """PUT /Users/{id}: the user becomes what is sent (see the module for active and manager)."""
    row = _user_row(session, store_id, scim_id)
    check_version(row.version, if_match)
    current = _users(session, [row], base)[0]
    user = _validate(
        ScimUserModel, normalize_user_payload(payload, base), Context.RESOURCE_REPLACEMENT_REQUEST
    )
    try:
        user.replace(current)
    except (ValidationError, SCIMException) as exc:
        raise scim_failure(exc) from None
    manager_given = isinstance(payload, dict) and ENTERPRISE in payload
    person = session.get(Person, row.person_id)
    _apply_user(
        session,
        store_id,
        row,
        person,
        user,
        now,
        active_given=isinstance(payload, dict) and "active" in payload,
        manager_given=manager_given,
    )
    row.version += 1
    session.flush()
    return _users(session, [row], base)[0]


def patch_user(
    session: Session,
    store_id: int,
    scim_id: str,
    body: Any,
    base: str,
    now: dt.datetime,
    if_match: str | None = None,
) -> Any:
    """PATCH /Users/{id}: add, replace and remove operations (RFC 7644 §3.5.2), all or none."""
    row = _user_row(session, store_id, scim_id)
    check_version(row.version, if_match)
    user = _users(session, [row], base)[0]
    before_manager = _manager_value(user)
    patch = _validate(
        PatchOp[ScimUserModel], normalize_user_patch(body, base), Context.RESOURCE_PATCH_REQUEST
    )
    try:
        changed = patch.patch(user, scim_policy=POLICY)
    except (ValidationError, SCIMException) as exc:
        raise scim_failure(exc) from None
    if changed:
        person = session.get(Person, row.person_id)
        _apply_user(
            session,
            store_id,
            row,
            person,
            user,
            now,
            active_given=True,
            manager_given=_manager_value(user) != before_manager,
        )
        row.version += 1
        session.flush()
    return _users(session, [row], base)[0]


def _manager_value(user: Any) -> str | None:
    extension = user[EnterpriseUser]
    return extension.manager.value if extension and extension.manager else None


def delete_user(
    session: Session,
    store_id: int,
    scim_id: str,
    now: dt.datetime,
    if_match: str | None = None,
) -> None:
    """DELETE /Users/{id}: out of the directory; the person and their learning record stay."""
    row = _user_row(session, store_id, scim_id)
    check_version(row.version, if_match)
    person = session.get(Person, row.person_id)
    deactivate_person(session, person, now, audited=False)
    audit.record(
        session,
        "scim.user.deleted",
        store_id=store_id,
        target=_person_target(person),
        details={"user_name": row.user_name, "scim_id": row.scim_id},
    )
    session.execute(
        delete(ReportingLine).where(
            ReportingLine.store_id == store_id,
            or_(ReportingLine.person_id == person.id, ReportingLine.manager_id == person.id),
        )
    )
    session.execute(delete(ScimGroupMember).where(ScimGroupMember.person_id == person.id))
    session.delete(row)
    session.flush()


# ---- Listing ----------------------------------------------------------------------------------


def _page(start_index: int | None, count: int | None) -> tuple[int, int]:
    start = max(1, start_index or 1)
    size = MAX_RESULTS if count is None else max(0, min(count, MAX_RESULTS))
    return start, size


def _simple_equality(expression: Any, columns: dict[str, Any]) -> tuple[Any, str] | None:
    """``attr eq "value"`` on a column the database answers, else None."""
    from scim2_models.path import CompareOperator, Comparison

    ast = expression.ast
    if not isinstance(ast, Comparison) or ast.op != CompareOperator.eq:
        return None
    if ast.attr_path.sub_attr or not isinstance(ast.value, str):
        return None
    if ast.attr_path.uri and ast.attr_path.uri not in (
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
    ):
        return None
    column = columns.get(ast.attr_path.attr.lower())
    return (column, ast.value) if column is not None else None


def _parse_filter(model: Any, text: str | None) -> Any:
    if not text:
        return None
    try:
        return ScimFilter[model](text)
    except (ValidationError, SCIMException, ValueError) as exc:
        if isinstance(exc, ValueError) and not isinstance(exc, ValidationError):
            raise ScimError(f"filter: {exc}", 400, "invalidFilter") from None
        failure = scim_failure(exc)
        raise ScimError(failure.message, 400, "invalidFilter") from None


def list_users(
    session: Session,
    store_id: int,
    base: str,
    filter_text: str | None = None,
    start_index: int | None = None,
    count: int | None = None,
) -> tuple[int, int, list[Any]]:
    """GET /Users: (totalResults, startIndex, the page of users) in provisioning order."""
    expression = _parse_filter(ScimUserModel, filter_text)
    start, size = _page(start_index, count)
    query = select(ScimUser).where(ScimUser.store_id == store_id).order_by(ScimUser.id)
    return _listing(
        session,
        query,
        expression,
        {
            "username": ScimUser.user_name,
            "externalid": ScimUser.external_id,
            "id": ScimUser.scim_id,
        },
        # userName is stored lower-cased (caseExact false)
        lambda column, value: (
            column == (value.strip().lower() if column is ScimUser.user_name else value)
        ),
        lambda rows: _users(session, rows, base),
        start,
        size,
    )


def _listing(
    session: Session,
    query: Any,
    expression: Any,
    columns: dict[str, Any],
    equals: Any,
    build: Any,
    start: int,
    size: int,
) -> tuple[int, int, list[Any]]:
    """A page of GET /Users or /Groups.

    A plain ``eq`` on one of ``columns`` runs in SQL (``equals`` makes its condition); any other
    filter is evaluated on the built resources.
    """
    simple = _simple_equality(expression, columns) if expression is not None else None
    if expression is None or simple is not None:
        if simple is not None:
            query = query.where(equals(*simple))
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(session.scalars(query.offset(start - 1).limit(size))) if size else []
        return total, start, build(rows)
    matching = [item for item in _in_chunks(session, query, build) if expression.match(item)]
    return len(matching), start, matching[start - 1 : start - 1 + size]


def _in_chunks(session: Session, query: Any, build: Any, size: int = 500) -> Iterable[Any]:
    rows = list(session.scalars(query))
    for i in range(0, len(rows), size):
        yield from build(rows[i : i + size])


def search_all(
    session: Session,
    store_id: int,
    base: str,
    filter_text: str | None = None,
    start_index: int | None = None,
    count: int | None = None,
) -> tuple[int, int, list[Any]]:
    """POST /.search (RFC 7644 §3.4.3): users, then groups, that match the filter.

    Rare (identity providers search per type), so every resource of the store is read and the
    filter evaluated on each; a filter that names attributes of one type matches none of the
    other.
    """
    start, size = _page(start_index, count)
    found: list[Any] = []
    for model, row_type, build in (
        (ScimUserModel, ScimUser, _users),
        (ScimGroupModel, ScimGroup, _groups),
    ):
        expression = _parse_filter(model, filter_text)
        query = select(row_type).where(row_type.store_id == store_id).order_by(row_type.id)
        for resource in _in_chunks(session, query, lambda rows, b=build: b(session, rows, base)):
            try:
                if expression is None or expression.match(resource):
                    found.append(resource)
            except (ValidationError, SCIMException, ValueError):
                continue
    return len(found), start, found[start - 1 : start - 1 + size]


# ---- Groups -----------------------------------------------------------------------------------


def _group_row(session: Session, store_id: int, scim_id: str) -> ScimGroup:
    row = session.scalar(
        select(ScimGroup).where(ScimGroup.store_id == store_id, ScimGroup.scim_id == scim_id)
    )
    if row is None:
        raise not_found("Group", scim_id)
    return row


def _groups(session: Session, rows: list[ScimGroup], base: str) -> list[Any]:
    members: dict[int, list[tuple[str, str]]] = {}
    for group_id, scim_id, name in session.execute(
        select(
            ScimGroupMember.group_id,
            ScimUser.scim_id,
            func.coalesce(ScimGroupMember.display, Person.name),
        )
        .join(ScimUser, ScimUser.person_id == ScimGroupMember.person_id)
        .join(Person, Person.id == ScimGroupMember.person_id)
        .where(ScimGroupMember.group_id.in_([row.id for row in rows]))
        .order_by(ScimUser.id)
    ):
        members.setdefault(group_id, []).append((scim_id, name))
    resources = []
    for row in rows:
        group = ScimGroupModel.model_validate(
            json.loads(row.attributes), scim_ctx=Context.DEFAULT, scim_policy=POLICY
        )
        group.id = row.scim_id
        group.display_name = row.display_name
        group.external_id = row.external_id
        if row.id in members:
            group.members = [
                GroupMember(
                    value=scim_id, ref=user_location(base, scim_id), type="User", display=name
                )
                for scim_id, name in members[row.id]
            ]
        group.meta = Meta(
            resource_type="Group",
            created=_stamp(row.created_at),
            last_modified=_stamp(row.updated_at),
            location=group_location(base, row.scim_id),
            version=etag(row.version),
        )
        resources.append(group)
    return resources


def _apply_group(
    session: Session, store_id: int, row: ScimGroup, group: Any, now: dt.datetime
) -> None:
    if not group.display_name:
        raise invalid_value("displayName: required")
    row.display_name = str(group.display_name)[:300]
    row.external_id = (group.external_id or None) and str(group.external_id)[:300]
    data = group.model_dump(scim_ctx=Context.DEFAULT)
    for key in _GROUP_OWN:
        data.pop(key, None)
    row.attributes = json.dumps(data, sort_keys=True)
    row.updated_at = now
    wanted: dict[str, str | None] = {}
    for member in group.members or []:
        if member.type and str(member.type).lower() == "group":
            raise invalid_value("members: groups of groups are not supported")
        if not member.value:
            raise invalid_value("members: each member needs a value (a user id)")
        wanted[str(member.value)] = member.display and str(member.display)[:300]
    found = dict(
        session.execute(
            select(ScimUser.scim_id, ScimUser.person_id).where(
                ScimUser.store_id == store_id, ScimUser.scim_id.in_(wanted)
            )
        ).all()
    )
    unknown = sorted(set(wanted) - set(found))
    if unknown:
        is_group = session.scalar(
            select(ScimGroup.id).where(
                ScimGroup.store_id == store_id, ScimGroup.scim_id.in_(unknown)
            )
        )
        if is_group:
            raise invalid_value("members: groups of groups are not supported")
        raise invalid_value(f"members: no user with id {unknown[0]} in this organisation")
    present = {
        member.person_id: member
        for member in session.scalars(
            select(ScimGroupMember).where(ScimGroupMember.group_id == row.id)
        )
    }
    target = {found[scim_id]: display for scim_id, display in wanted.items()}
    for person_id, member in present.items():
        if person_id not in target:
            session.delete(member)
        else:
            member.display = target[person_id]
    for person_id in sorted(set(target) - set(present)):
        session.add(
            ScimGroupMember(group_id=row.id, person_id=person_id, display=target[person_id])
        )
    session.flush()


def get_group(session: Session, store_id: int, scim_id: str, base: str) -> Any:
    """The Group ``scim_id`` of the store; 404 if it is not one."""
    return _groups(session, [_group_row(session, store_id, scim_id)], base)[0]


def create_group(session: Session, store_id: int, payload: Any, base: str, now: dt.datetime) -> Any:
    """POST /Groups."""
    group = _validate(ScimGroupModel, payload, Context.RESOURCE_CREATION_REQUEST)
    row = ScimGroup(
        scim_id=str(uuid.uuid4()),
        store_id=store_id,
        display_name="",
        attributes="{}",
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    _apply_group(session, store_id, row, group, now)
    audit.record(
        session,
        "scim.group.created",
        store_id=store_id,
        target=audit.Target("group", row.scim_id, row.display_name),
    )
    return _groups(session, [row], base)[0]


def replace_group(
    session: Session,
    store_id: int,
    scim_id: str,
    payload: Any,
    base: str,
    now: dt.datetime,
    if_match: str | None = None,
) -> Any:
    """PUT /Groups/{id}."""
    row = _group_row(session, store_id, scim_id)
    check_version(row.version, if_match)
    current = _groups(session, [row], base)[0]
    group = _validate(ScimGroupModel, payload, Context.RESOURCE_REPLACEMENT_REQUEST)
    try:
        group.replace(current)
    except (ValidationError, SCIMException) as exc:
        raise scim_failure(exc) from None
    _apply_group(session, store_id, row, group, now)
    row.version += 1
    session.flush()
    return _groups(session, [row], base)[0]


def patch_group(
    session: Session,
    store_id: int,
    scim_id: str,
    body: Any,
    base: str,
    now: dt.datetime,
    if_match: str | None = None,
) -> Any:
    """PATCH /Groups/{id}: Okta's and Entra ID's member adds and removes included."""
    row = _group_row(session, store_id, scim_id)
    check_version(row.version, if_match)
    group = _groups(session, [row], base)[0]
    patch = _validate(
        PatchOp[ScimGroupModel], split_path_keys(body), Context.RESOURCE_PATCH_REQUEST
    )
    try:
        changed = patch.patch(group, scim_policy=POLICY)
    except (ValidationError, SCIMException) as exc:
        raise scim_failure(exc) from None
    if changed:
        _apply_group(session, store_id, row, group, now)
        row.version += 1
        session.flush()
    return _groups(session, [row], base)[0]


def delete_group(
    session: Session, store_id: int, scim_id: str, if_match: str | None = None
) -> None:
    """DELETE /Groups/{id}: the group and its memberships; the people stay."""
    row = _group_row(session, store_id, scim_id)
    check_version(row.version, if_match)
    session.execute(delete(ScimGroupMember).where(ScimGroupMember.group_id == row.id))
    audit.record(
        session,
        "scim.group.deleted",
        store_id=store_id,
        target=audit.Target("group", row.scim_id, row.display_name),
    )
    session.delete(row)
    session.flush()


def list_groups(
    session: Session,
    store_id: int,
    base: str,
    filter_text: str | None = None,
    start_index: int | None = None,
    count: int | None = None,
) -> tuple[int, int, list[Any]]:
    """GET /Groups: (totalResults, startIndex, the page of groups)."""
    expression = _parse_filter(ScimGroupModel, filter_text)
    start, size = _page(start_index, count)
    query = select(ScimGroup).where(ScimGroup.store_id == store_id).order_by(ScimGroup.id)
    return _listing(
        session,
        query,
        expression,
        {
            "displayname": ScimGroup.display_name,
            "externalid": ScimGroup.external_id,
            "id": ScimGroup.scim_id,
        },
        # displayName is caseExact false
        lambda column, value: (
            func.lower(column) == value.lower()
            if column is ScimGroup.display_name
            else column == value
        ),
        lambda rows: _groups(session, rows, base),
        start,
        size,
    )
