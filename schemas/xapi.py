"""Validation of xAPI statements, agents and activity ids, for xAPI 1.0.3 and 2.0.0.

Pure: no Flask, no database, no I/O. The LRS calls :func:`validate_statements` on the parsed
body of a statement POST/PUT with the negotiated version, and turns a
:class:`StatementValidationError` into a 400 that lists every defect with its JSON path.

Structure. Every xAPI object is a marshmallow :class:`XapiSchema` subclass with
``unknown = RAISE`` (Data 2.2: reject keys the specification does not allow), one set per
version where the versions differ (:class:`StatementSchema103` / :class:`StatementSchema200`,
built once at import). Sub-objects are declared through custom fields (:class:`Obj`,
:class:`Actor`, :class:`StatementObject`, ...) that validate them in plain Python instead of
marshmallow's ``Nested``: marshmallow costs about 1.5 µs per *declared* field and a statement
has 30-60 objects and values, which would cost 120 µs or more per statement against a write
budget of 100 µs for everything.

For the same reason the statement itself is validated by :meth:`XapiSchema.check`, the compiled
form of what ``Schema.validate`` does (unknown keys, nulls, required properties over the same
``load_fields``, then the ``check_object`` cross-property rules that marshmallow runs as a
``validates_schema`` hook). ``StatementSchema200().validate(statement)`` gives the same verdicts
and, flattened with :func:`schemas.fields.flatten_messages`, the same paths and messages; the
tests assert this on every CTS case and every corpus statement.

Requirement references: ``Data x.y`` is a section of xAPI 1.0.3 Part Two (xAPI-Data.md),
``XAPI-000nn`` a requirement id of the ADL LRS conformance test suite, ``Dn``/``Vn`` a section of
the xAPI 2.0 delta (xapi-2.0-delta.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

from marshmallow import RAISE, Schema, ValidationError, validates_schema

from schemas.fields import (
    VERSION_103,
    VERSION_200,
    Boolean,
    Duration,
    Enum,
    Errors,
    Extensions,
    Integer,
    Iri,
    LanguageMap,
    LanguageTag,
    ListOf,
    MailtoIri,
    MediaType,
    Number,
    Sha1Hex,
    Sha2Hex,
    String,
    Timestamp,
    Uuid,
    Version,
    XapiField,
    expected_one_of,
    is_iri,
    join_path,
    nest_errors,
)

__all__ = [
    "VERSIONS",
    "StatementValidationError",
    "statement_schema",
    "validate_activity_id",
    "validate_agent",
    "validate_statement",
    "validate_statements",
]

VERSIONS = (VERSION_103, VERSION_200)

VOIDED_VERB = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE_USAGE_TYPE = "http://adlnet.gov/expapi/attachments/signature"
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
INTERACTION_TYPES = (
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
)
#: Interaction component lists each interactionType supports (Data 2.4.4.1, Interaction
#: Components table); any other list is a key the specification does not allow for that type.
COMPONENT_LISTS = {
    "choice": ("choices",),
    "sequencing": ("choices",),
    "likert": ("scale",),
    "matching": ("source", "target"),
    "performance": ("steps",),
}
COMPONENT_LIST_NAMES = ("choices", "scale", "source", "target", "steps")
INTERACTION_PROPERTIES = ("correctResponsesPattern", *COMPONENT_LIST_NAMES)

_IFI_LIST = ", ".join(IFIS)


class StatementValidationError(Exception):
    """The request body or parameter is not valid xAPI.

    :ivar errors: ``(path, message)`` pairs, e.g.
        ``("statements[2].actor.mbox", "must start with mailto:")``.
    """

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = list(errors)
        summary = "; ".join(
            f"{path}: {message}" if path else message for path, message in errors[:3]
        )
        if len(errors) > 3:
            summary += f"; and {len(errors) - 3} more"
        super().__init__(summary or "invalid statement")


# ---------------------------------------------------------------------------------------------
# Schema base and structural fields
# ---------------------------------------------------------------------------------------------


class XapiSchema(Schema):
    """An xAPI object: exactly the declared properties, none null (Data 2.2).

    :meth:`check` is the fast path that the structural fields use: it applies the rules that
    marshmallow applies on ``load`` (``unknown = RAISE``, ``allow_none = False``, ``required``)
    over the same ``load_fields``, then :meth:`check_object` for rules that involve several
    properties, which marshmallow runs as a ``validates_schema`` hook.
    """

    class Meta:
        """Reject unknown keys (Data 2.2, 2.0 delta D5)."""

        unknown = RAISE

    error_messages = {
        "unknown": "unknown property",
        "type": "must be an object",
    }

    #: Messages for keys the specification names but forbids in this object.
    forbidden: ClassVar[dict[str, str]] = {}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._fields_by_key: dict[str, XapiField] = {
            (field.data_key or name): field for name, field in self.load_fields.items()
        }
        self._required = tuple(key for key, field in self._fields_by_key.items() if field.required)
        self._has_object_rules = type(self).check_object is not XapiSchema.check_object

    def check(self, data: Any, path: str, errors: Errors) -> None:
        """Append the defects of the object ``data`` found at ``path`` to ``errors``.

        Same verdicts and paths as ``Schema.validate`` flattened with
        :func:`~schemas.fields.flatten_messages` (tests assert it), in a few microseconds.
        """
        if type(data) is not dict:
            errors.append((path, "must be an object"))
            return
        before = len(errors)
        prefix = path + "." if path else ""
        fields_by_key = self._fields_by_key
        for key, value in data.items():
            field = fields_by_key.get(key)
            if field is not None and value is not None:
                field.check(value, prefix + key, errors, data)
            elif field is None:
                errors.append((f"{prefix}{key}", self.forbidden.get(key, "unknown property")))
            else:
                errors.append((prefix + key, "may not be null"))
        for key in self._required:
            if key not in data:
                errors.append((prefix + key, "is required"))
        if self._has_object_rules and len(errors) == before:
            self.check_object(data, path, errors)

    def check_object(self, data: dict, path: str, errors: Errors) -> None:
        """Rules across properties; only called when every property is valid on its own."""

    @validates_schema
    def _check_object_hook(self, data: dict, **kwargs: Any) -> None:
        errors: Errors = []
        self.check_object(data, "", errors)
        if errors:
            raise ValidationError(nest_errors(errors))


_schema_instances: dict[type[XapiSchema], XapiSchema] = {}


def _schema_instance(schema_class: type[XapiSchema]) -> XapiSchema:
    instance = _schema_instances.get(schema_class)
    if instance is None:
        instance = _schema_instances[schema_class] = schema_class()
    return instance


class Obj(XapiField):
    """A property whose value is one object of ``schema_class``.

    The nested schema is instantiated once, on first use, and shared.
    """

    def __init__(self, schema_class: type[XapiSchema], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema_class = schema_class
        self._schema: XapiSchema | None = None

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        schema = self._schema or self._resolve()
        schema.check(value, path, errors)

    def _resolve(self) -> XapiSchema:
        self._schema = _schema_instance(self.schema_class)
        return self._schema


def _dispatch(
    value: Any, path: str, errors: Errors, default: str, schemas: dict[str, type[XapiSchema]]
) -> str | None:
    """Validate ``value`` with the schema its ``objectType`` selects; return that objectType.

    Returns ``None`` (after recording why) when ``value`` is not an object or its objectType is
    not one of ``schemas``.
    """
    if type(value) is not dict:
        errors.append((path, "must be an object"))
        return None
    kind = value.get("objectType", default)
    schema_class = schemas.get(kind) if type(kind) is str else None
    if schema_class is None:
        sub = join_path(path, "objectType")
        if kind is None:
            errors.append((sub, "may not be null"))
        elif type(kind) is not str:
            errors.append((sub, "must be a string"))
        else:
            errors.append((sub, expected_one_of(list(schemas))))
        return None
    _schema_instance(schema_class).check(value, path, errors)
    return kind


class Actor(XapiField):
    """An Agent or a Group, told apart by ``objectType`` (Data 2.4.2): actor, instructor."""

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        _dispatch(value, path, errors, "Agent", _ACTOR_SCHEMAS)


class AgentOnly(XapiField):
    """An Agent and nothing else: Group members (Data 2.4.2.2), ``contextAgent.agent`` (D1)."""

    def __init__(self, *, group_message: str = "must be an Agent", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.group_message = group_message

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is dict and value.get("objectType") == "Group":
            errors.append((path, self.group_message))
        else:
            _dispatch(value, path, errors, "Agent", _AGENT_SCHEMAS)


class GroupOnly(XapiField):
    """A Group (objectType ``Group`` required): ``context.team``, ``contextGroup.group`` (D2)."""

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is dict and "objectType" not in value:
            errors.append((path, "must be a Group (objectType Group)"))
        else:
            _dispatch(value, path, errors, "Group", _GROUP_SCHEMAS)


class Authority(XapiField):
    """The statement ``authority`` (Data 2.4.9, XAPI-00024, XAPI-00098, XAPI-00100).

    An Agent, or, for 3-legged OAuth, an anonymous Group of exactly two Agents.
    """

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        before = len(errors)
        kind = _dispatch(value, path, errors, "Agent", _ACTOR_SCHEMAS)
        if kind != "Group" or len(errors) != before:
            return
        if _ifi_count(value):
            errors.append((path, f"an authority Group must be anonymous (no {_IFI_LIST})"))
        elif len(value["member"]) != 2:
            errors.append(
                (join_path(path, "member"), "an authority Group must have exactly two members")
            )


class StatementObject(XapiField):
    """The ``object`` of a Statement or SubStatement (Data 2.4.4), by ``objectType``.

    ``objectType`` defaults to ``Activity``; an Agent or Group object therefore has to name its
    objectType (XAPI-00065). A SubStatement's object may not be a SubStatement (XAPI-00071).
    """

    def __init__(self, substatement: type[XapiSchema] | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schemas: dict[str, type[XapiSchema]] = {
            "Activity": ActivitySchema,
            "Agent": AgentSchema,
            "Group": GroupSchema,
            "StatementRef": StatementRefSchema,
        }
        if substatement is not None:
            self.schemas["SubStatement"] = substatement

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if "SubStatement" not in self.schemas and type(value) is dict:
            if value.get("objectType") == "SubStatement":
                errors.append((path, "a SubStatement may not contain a SubStatement"))
                return
        _dispatch(value, path, errors, "Activity", self.schemas)


class ContextActivityList(XapiField):
    """A contextActivities value: an Activity or an array of Activities (Data 2.4.6.2)."""

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        activity = _schema_instance(ActivitySchema)
        if type(value) is list:
            for index, item in enumerate(value):
                if item is None:
                    errors.append((f"{path}[{index}]", "may not be null"))
                else:
                    activity.check(item, f"{path}[{index}]", errors)
        elif type(value) is dict:
            activity.check(value, path, errors)
        else:
            errors.append((path, "must be an Activity or an array of Activities"))


class InteractionComponents(ListOf):
    """An interaction component list; ids must be distinct within it (Data 2.4.4.1)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Obj(InteractionComponentSchema), **kwargs)

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        before = len(errors)
        super().check(value, path, errors, parent)
        if len(errors) == before:
            seen: set[str] = set()
            for index, component in enumerate(value):
                if component["id"] in seen:
                    errors.append((f"{path}[{index}].id", "must be distinct within the list"))
                seen.add(component["id"])


# ---------------------------------------------------------------------------------------------
# Actors
# ---------------------------------------------------------------------------------------------


def _ifi_count(data: dict) -> int:
    return ("mbox" in data) + ("mbox_sha1sum" in data) + ("openid" in data) + ("account" in data)


class AccountSchema(XapiSchema):
    """Account object (Data 2.4.2.4, XAPI-00042, XAPI-00043)."""

    homePage = Iri(required=True)
    name = String(required=True)


class AgentSchema(XapiSchema):
    """Agent (Data 2.4.2.1): exactly one IFI (XAPI-00032..34, XAPI-00038..41)."""

    objectType = Enum(("Agent",))
    name = String()
    mbox = MailtoIri()
    mbox_sha1sum = Sha1Hex()
    openid = Iri()
    account = Obj(AccountSchema)

    def check_object(self, data: dict, path: str, errors: Errors) -> None:  # noqa: D102
        if _ifi_count(data) != 1:
            errors.append((path, f"an Agent must have exactly one of {_IFI_LIST}"))


class GroupSchema(XapiSchema):
    """Group (Data 2.4.2.2): anonymous (members, no IFI) or identified (exactly one IFI).

    Members are Agents: a Group may not contain a Group (XAPI-00035..37).
    """

    objectType = Enum(("Group",), required=True)
    name = String()
    member = ListOf(AgentOnly(group_message="a Group may not contain a Group"))
    mbox = MailtoIri()
    mbox_sha1sum = Sha1Hex()
    openid = Iri()
    account = Obj(AccountSchema)

    def check_object(self, data: dict, path: str, errors: Errors) -> None:  # noqa: D102
        ifis = _ifi_count(data)
        if ifis > 1:
            errors.append((path, f"an identified Group must have exactly one of {_IFI_LIST}"))
        elif ifis == 0:
            if "member" not in data:
                errors.append((join_path(path, "member"), "is required in an anonymous Group"))
            elif not data["member"]:
                errors.append(
                    (join_path(path, "member"), "an anonymous Group must have at least one member")
                )


_AGENT_SCHEMAS: dict[str, type[XapiSchema]] = {"Agent": AgentSchema}
_GROUP_SCHEMAS: dict[str, type[XapiSchema]] = {"Group": GroupSchema}
_ACTOR_SCHEMAS: dict[str, type[XapiSchema]] = {"Agent": AgentSchema, "Group": GroupSchema}


# ---------------------------------------------------------------------------------------------
# Verb, Activity, StatementRef
# ---------------------------------------------------------------------------------------------


class VerbSchema(XapiSchema):
    """Verb (Data 2.4.3, XAPI-00044, XAPI-00045)."""

    id = Iri(required=True)
    display = LanguageMap()


class InteractionComponentSchema(XapiSchema):
    """Interaction component (Data 2.4.4.1, Interaction Components)."""

    id = String(required=True)
    description = LanguageMap()


class ActivityDefinitionSchema(XapiSchema):
    """Activity Definition with the interaction properties (Data 2.4.4.1).

    XAPI-00048, XAPI-00049 (interactionType), XAPI-00056..61, XAPI-00064 (interactionType is
    required when an interaction property is used).
    """

    name = LanguageMap()
    description = LanguageMap()
    type = Iri()
    moreInfo = Iri()
    extensions = Extensions()
    interactionType = Enum(INTERACTION_TYPES)
    correctResponsesPattern = ListOf(String())
    choices = InteractionComponents()
    scale = InteractionComponents()
    source = InteractionComponents()
    target = InteractionComponents()
    steps = InteractionComponents()

    def check_object(self, data: dict, path: str, errors: Errors) -> None:  # noqa: D102
        interaction_type = data.get("interactionType")
        if interaction_type is None:
            if any(key in data for key in INTERACTION_PROPERTIES):
                errors.append(
                    (
                        join_path(path, "interactionType"),
                        "is required with correctResponsesPattern, choices, scale, source, "
                        "target or steps",
                    )
                )
            return
        allowed = COMPONENT_LISTS.get(interaction_type, ())
        for key in COMPONENT_LIST_NAMES:
            if key in data and key not in allowed:
                errors.append(
                    (join_path(path, key), f"is not used by interactionType {interaction_type}")
                )


class ActivitySchema(XapiSchema):
    """Activity (Data 2.4.4.1, XAPI-00046..48): objectType, if given, is exactly Activity."""

    objectType = Enum(("Activity",))
    id = Iri(required=True)
    definition = Obj(ActivityDefinitionSchema)


class StatementRefSchema(XapiSchema):
    """Statement Reference (Data 2.4.4.3, XAPI-00072, XAPI-00073)."""

    objectType = Enum(("StatementRef",), required=True)
    id = Uuid(required=True)


# ---------------------------------------------------------------------------------------------
# Result and Context
# ---------------------------------------------------------------------------------------------


class ScoreSchema(XapiSchema):
    """Score (Data 2.4.5.1, XAPI-00080..83): scaled in [-1, 1], min < max, min <= raw <= max."""

    scaled = Number(minimum=-1, maximum=1)
    raw = Number()
    min = Number()
    max = Number()

    def check_object(self, data: dict, path: str, errors: Errors) -> None:  # noqa: D102
        low, high, raw = data.get("min"), data.get("max"), data.get("raw")
        if low is not None and high is not None and low >= high:
            errors.append((join_path(path, "min"), "must be less than max"))
        if raw is not None:
            if low is not None and raw < low:
                errors.append((join_path(path, "raw"), "must be at least min"))
            if high is not None and raw > high:
                errors.append((join_path(path, "raw"), "must be at most max"))


class ResultSchema(XapiSchema):
    """Result (Data 2.4.5, XAPI-00074..78)."""

    score = Obj(ScoreSchema)
    success = Boolean()
    completion = Boolean()
    response = String()
    duration = Duration()
    extensions = Extensions()


class ContextActivitiesSchema(XapiSchema):
    """contextActivities: only parent, grouping, category, other (Data 2.4.6.2, XAPI-00093, 94)."""

    parent = ContextActivityList()
    grouping = ContextActivityList()
    category = ContextActivityList()
    other = ContextActivityList()


class ContextSchema103(XapiSchema):
    """Context under 1.0.3 (Data 2.4.6, XAPI-00084..92); contextAgents/contextGroups unknown."""

    registration = Uuid()
    instructor = Actor()
    team = GroupOnly()
    contextActivities = Obj(ContextActivitiesSchema)
    revision = String()
    platform = String()
    language = LanguageTag()
    statement = Obj(StatementRefSchema)
    extensions = Extensions()


class ContextAgentSchema(XapiSchema):
    """contextAgent (2.0 delta D1)."""

    objectType = Enum(("contextAgent",), required=True)
    agent = AgentOnly(required=True)
    relevantTypes = ListOf(Iri(), min_items=1)


class ContextGroupSchema(XapiSchema):
    """contextGroup (2.0 delta D2)."""

    objectType = Enum(("contextGroup",), required=True)
    group = GroupOnly(required=True)
    relevantTypes = ListOf(Iri(), min_items=1)


class ContextSchema200(ContextSchema103):
    """Context under 2.0.0: adds contextAgents and contextGroups (2.0 delta D1, D2)."""

    contextAgents = ListOf(Obj(ContextAgentSchema))
    contextGroups = ListOf(Obj(ContextGroupSchema))


# ---------------------------------------------------------------------------------------------
# Attachments, SubStatement, Statement
# ---------------------------------------------------------------------------------------------


class AttachmentSchema(XapiSchema):
    """Attachment (Data 2.4.11, XAPI-00102..107; signature content type, Data 2.6)."""

    usageType = Iri(required=True)
    display = LanguageMap(required=True)
    description = LanguageMap()
    contentType = MediaType(required=True)
    length = Integer(minimum=0, required=True)
    sha2 = Sha2Hex(required=True)
    fileUrl = Iri()

    def check_object(self, data: dict, path: str, errors: Errors) -> None:  # noqa: D102
        if data["usageType"] == SIGNATURE_USAGE_TYPE:
            media_type = data["contentType"].split(";", 1)[0].strip().lower()
            if media_type != "application/octet-stream":
                errors.append(
                    (
                        join_path(path, "contentType"),
                        "must be application/octet-stream for a signature attachment",
                    )
                )


def _check_statement_rules(data: dict, path: str, errors: Errors) -> None:
    """Rules across the properties of a Statement or SubStatement."""
    obj = data["object"]
    kind = obj.get("objectType", "Activity")
    # Data 2.3.2: the object of a voiding statement is a StatementRef (XAPI-00017, voiding.js).
    if data["verb"]["id"] == VOIDED_VERB and kind != "StatementRef":
        message = f"must be StatementRef when the verb is {VOIDED_VERB}"
        errors.append((join_path(path, "object.objectType"), message))
    # Data 2.4.6: revision and platform only when the object is an Activity (XAPI-00084, 00085).
    context = data.get("context")
    if context is not None and kind != "Activity":
        for key in ("revision", "platform"):
            if key in context:
                message = "may only be used when the object is an Activity"
                errors.append((join_path(path, f"context.{key}"), message))


_NOT_IN_SUBSTATEMENT = "is not allowed in a SubStatement"


class SubStatementSchema103(XapiSchema):
    """SubStatement under 1.0.3 (Data 2.4.4.3, XAPI-00066..71).

    Validated as a Statement, without id, stored, version or authority, and its object may not be
    another SubStatement. ``attachments`` is allowed: the specification does not forbid it (it
    only recommends putting them on the outer Statement).
    """

    forbidden: ClassVar[dict[str, str]] = {
        key: _NOT_IN_SUBSTATEMENT for key in ("id", "stored", "version", "authority")
    }

    objectType = Enum(("SubStatement",), required=True)
    actor = Actor(required=True)
    verb = Obj(VerbSchema, required=True)
    object = StatementObject(None, required=True)
    result = Obj(ResultSchema)
    context = Obj(ContextSchema103)
    timestamp = Timestamp(VERSION_103)
    attachments = ListOf(Obj(AttachmentSchema))

    def check_object(self, data: dict, path: str, errors: Errors) -> None:  # noqa: D102
        _check_statement_rules(data, path, errors)


class SubStatementSchema200(SubStatementSchema103):
    """SubStatement under 2.0.0: 2.0 context and timestamps."""

    context = Obj(ContextSchema200)
    timestamp = Timestamp(VERSION_200)


class StatementSchema103(XapiSchema):
    """Statement under xAPI 1.0.3 (Data 2.2, 2.4; XAPI-00001, XAPI-00003..10, XAPI-00025..28)."""

    id = Uuid()
    actor = Actor(required=True)
    verb = Obj(VerbSchema, required=True)
    object = StatementObject(SubStatementSchema103, required=True)
    result = Obj(ResultSchema)
    context = Obj(ContextSchema103)
    timestamp = Timestamp(VERSION_103)
    stored = Timestamp(VERSION_103)
    authority = Authority()
    version = Version(VERSION_103)
    attachments = ListOf(Obj(AttachmentSchema))

    def check_object(self, data: dict, path: str, errors: Errors) -> None:  # noqa: D102
        _check_statement_rules(data, path, errors)


class StatementSchema200(StatementSchema103):
    """Statement under xAPI 2.0.0 (IEEE 9274.1.1): the 2.0 context, timestamps and versions."""

    object = StatementObject(SubStatementSchema200, required=True)
    context = Obj(ContextSchema200)
    timestamp = Timestamp(VERSION_200)
    stored = Timestamp(VERSION_200)
    version = Version(VERSION_200)


# Built once, at import: one statement schema per version, and every nested schema.
_STATEMENT_SCHEMAS: dict[str, XapiSchema] = {
    VERSION_103: StatementSchema103(),
    VERSION_200: StatementSchema200(),
}
for _schema_class in (
    AccountSchema,
    AgentSchema,
    GroupSchema,
    VerbSchema,
    InteractionComponentSchema,
    ActivityDefinitionSchema,
    ActivitySchema,
    StatementRefSchema,
    ScoreSchema,
    ResultSchema,
    ContextActivitiesSchema,
    ContextSchema103,
    ContextSchema200,
    ContextAgentSchema,
    ContextGroupSchema,
    AttachmentSchema,
    SubStatementSchema103,
    SubStatementSchema200,
):
    _schema_instance(_schema_class)
_ACTOR_FIELD = Actor()


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def statement_schema(version: str) -> XapiSchema:
    """The statement schema of xAPI ``version`` (shared instance; do not mutate).

    Usable with marshmallow's own API (``statement_schema("2.0.0").validate(data)``) when the
    nested marshmallow error dict is wanted rather than the flat pairs.
    """
    try:
        return _STATEMENT_SCHEMAS[version]
    except KeyError:
        message = f"unsupported xAPI version {version!r}; expected one of {VERSIONS}"
        raise ValueError(message) from None


def _statement_errors(schema: XapiSchema, data: Any, path: str) -> Errors:
    # The compiled path of the marshmallow schema (XapiSchema.check), not Schema.validate: same
    # verdicts and paths, but ~20 µs instead of ~45 µs for a typical statement.
    errors: Errors = []
    schema.check(data, path, errors)
    return errors


def validate_statements(data: Any, version: str) -> list[dict]:
    """Validate the parsed JSON body of a statement POST under ``version``.

    :param data: one statement object or a list of them.
    :param version: the negotiated xAPI version, ``"1.0.3"`` or ``"2.0.0"``.
    :return: the statements as a list: the same dict objects, unmodified.
    :raise StatementValidationError: listing every defect found, with paths that start with
        ``statements[i]`` for a list and ``statement`` for a single object. An empty list is
        valid; a body that is neither an object nor a list is an error at path ``""``.
    :raise ValueError: if ``version`` is not one of :data:`VERSIONS` (a caller bug).
    """
    schema = statement_schema(version)
    if type(data) is dict:
        errors = _statement_errors(schema, data, "statement")
        if errors:
            raise StatementValidationError(errors)
        return [data]
    if type(data) is not list:
        message = "must be a statement object or an array of statements"
        raise StatementValidationError([("", message)])
    errors = []
    for index, statement in enumerate(data):
        errors.extend(_statement_errors(schema, statement, f"statements[{index}]"))
    if errors:
        raise StatementValidationError(errors)
    return data


def validate_statement(data: Any, version: str, path: str = "statement") -> dict:
    """Validate one statement (the body of a PUT) under ``version`` and return it unchanged.

    :raise StatementValidationError: listing every defect found, paths starting with ``path``.
    """
    errors = _statement_errors(statement_schema(version), data, path)
    if errors:
        raise StatementValidationError(errors)
    return data


def validate_agent(data: Any, version: str, path: str = "agent") -> dict:
    """Validate an ``agent`` query parameter (statements GET, State, Agent Profile, Agents).

    The value must be an Agent or an identified Group, i.e. carry exactly one IFI
    (Communication 2.1.3, 2.3, 2.4, 2.6; Data 2.2: parameters validate like statement values).

    :return: ``data`` unchanged.
    :raise StatementValidationError: listing the defects, paths starting with ``path``.
    """
    statement_schema(version)
    errors: Errors = []
    _ACTOR_FIELD.check(data, path, errors, None)
    if not errors and data.get("objectType") == "Group" and not _ifi_count(data):
        errors.append((path, f"must be an Agent or an identified Group (with one of {_IFI_LIST})"))
    if errors:
        raise StatementValidationError(errors)
    return data


def validate_activity_id(value: Any, path: str = "activityId") -> str:
    """Validate an activity id query parameter: an IRI (Data 2.2, XAPI-00012).

    :return: ``value`` unchanged.
    :raise StatementValidationError: if it is not a string holding a valid IRI.
    """
    if type(value) is not str or not is_iri(value):
        raise StatementValidationError([(path, "must be a valid IRI")])
    return value
