"""Reusable marshmallow field types for the xAPI data model, and the pure parsers behind them.

Every field here validates and returns the value it was given unchanged: the LRS stores statements
as received, so validation must never rewrite them. Each field has two entry points:

* the ordinary marshmallow one (``Field.deserialize``), used when a field sits directly in a
  :class:`marshmallow.Schema` that marshmallow itself loads;
* :meth:`XapiField.check`, a fast path that appends ``(path, message)`` tuples to a list instead
  of raising. The statement write path runs on it (see ``schemas.xapi``) because marshmallow's
  per-field machinery costs about a microsecond and a half per declared field, which a batch of
  100 statements cannot afford.

Both entry points run the same code, so a value is valid through one exactly when it is valid
through the other.

The module also holds the helpers the LRS core needs outside validation:
:func:`parse_timestamp`, :func:`parse_duration` and :func:`truncate_duration`.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from decimal import Decimal
from typing import Any, NamedTuple

from marshmallow import ValidationError, fields, validate

VERSION_103 = "1.0.3"
VERSION_200 = "2.0.0"

#: ``(path, message)`` pairs, in the order the defects were found.
Errors = list[tuple[str, str]]

# ---------------------------------------------------------------------------------------------
# Error paths
# ---------------------------------------------------------------------------------------------


def join_path(path: str, key: Any) -> str:
    """Path of property ``key`` of the object at ``path``: ``actor``, ``mbox`` → ``actor.mbox``."""
    return f"{path}.{key}" if path else str(key)


def nest_errors(errors: Errors) -> dict[str, list[str]] | list[str]:
    """Turn relative ``(path, message)`` pairs into the ``messages`` of a ValidationError.

    Messages about the value itself (path ``""``) become a plain list; the others a dict keyed by
    their relative path, which :func:`flatten_messages` joins back onto the parent path.
    """
    if all(not path for path, _ in errors):
        return [message for _, message in errors]
    nested: dict[str, list[str]] = {}
    for path, message in errors:
        nested.setdefault(path or "_schema", []).append(message)
    return nested


def flatten_messages(messages: Any, path: str = "") -> Errors:
    """Flatten marshmallow's nested error messages into ``(path, message)`` pairs.

    Integer keys are list indexes (``path[2]``), ``_schema`` means the object itself, keys that
    already start with ``[`` are appended as they are, other keys are joined with a dot.
    """
    if isinstance(messages, str):
        return [(path, messages)]
    if isinstance(messages, list | tuple):
        out: Errors = []
        for message in messages:
            out.extend(flatten_messages(message, path))
        return out
    if isinstance(messages, dict):
        out = []
        for key, value in messages.items():
            if isinstance(key, int):
                sub = f"{path}[{key}]"
            elif key == "_schema":
                sub = path
            elif isinstance(key, str) and key.startswith("["):
                sub = path + key
            else:
                sub = join_path(path, key)
            out.extend(flatten_messages(value, sub))
        return out
    return [(path, str(messages))]


# ---------------------------------------------------------------------------------------------
# Integers that reach the database
# ---------------------------------------------------------------------------------------------

#: Largest value of a BIGINT column (statement positions, times in milliseconds).
MAX_BIGINT = 2**63 - 1
#: Largest row id: primary keys are INTEGER columns (PostgreSQL's int4; SQLite's hold 64 bits).
#: A bigger id cannot name a row, and PostgreSQL refuses to compare it with one.
MAX_ID = 2**31 - 1
_ID_MESSAGE = f"must be an id: a whole number from 1 to {MAX_ID}"


def id_parameter(text: str) -> int:
    """A row id written in a URL (path segment or query parameter); ValueError otherwise.

    Only ASCII digits: ``int`` also reads other scripts' digits, signs, spaces and underscores.
    0 is accepted (it names no row: the caller answers 404).
    """
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        raise ValueError(_ID_MESSAGE)
    value = int(text)
    if value > MAX_ID:
        raise ValueError(_ID_MESSAGE)
    return value


class Id(fields.Integer):
    """A row id in a JSON body: a JSON integer from 1 to :data:`MAX_ID`, not ``"3"`` or ``3.0``."""

    default_error_messages = {"invalid": _ID_MESSAGE}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            strict=True, validate=validate.Range(min=1, max=MAX_ID, error=_ID_MESSAGE), **kwargs
        )


# ---------------------------------------------------------------------------------------------
# Syntax of the special data types
# ---------------------------------------------------------------------------------------------

# RFC 3987 (IRI) grammar, rule "IRI": scheme ":" ihier-part [ "?" iquery ] [ "#" ifragment ].
_UCSCHAR = (
    "\u00a0-\ud7ff\uf900-\ufdcf\ufdf0-\uffef"
    "\U00010000-\U0001fffd\U00020000-\U0002fffd\U00030000-\U0003fffd\U00040000-\U0004fffd"
    "\U00050000-\U0005fffd\U00060000-\U0006fffd\U00070000-\U0007fffd\U00080000-\U0008fffd"
    "\U00090000-\U0009fffd\U000a0000-\U000afffd\U000b0000-\U000bfffd\U000c0000-\U000cfffd"
    "\U000d0000-\U000dfffd\U000e1000-\U000efffd"
)
_IPRIVATE = "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"
_PCT = "%[0-9A-Fa-f]{2}"
_UNRESERVED = "A-Za-z0-9\\-._~" + _UCSCHAR
_SUB_DELIMS = "!$&'()*+,;="
_IPCHAR = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]++|{_PCT})"
_IUSERINFO = f"(?:[{_UNRESERVED}{_SUB_DELIMS}:]++|{_PCT})*+"
_IREG_NAME = f"(?:[{_UNRESERVED}{_SUB_DELIMS}]++|{_PCT})*+"
_IP_LITERAL = f"\\[(?:[0-9A-Fa-f:.]+|[vV][0-9A-Fa-f]+\\.[A-Za-z0-9\\-._~{_SUB_DELIMS}:]+)\\]"
_IAUTHORITY = f"(?:{_IUSERINFO}@)?(?:{_IP_LITERAL}|{_IREG_NAME})(?::[0-9]*)?"
_IHIER_PART = (
    f"(?://{_IAUTHORITY}(?:/{_IPCHAR}*+)*+"  # "//" iauthority ipath-abempty
    f"|/(?:{_IPCHAR}++(?:/{_IPCHAR}*+)*+)?"  # ipath-absolute
    f"|{_IPCHAR}++(?:/{_IPCHAR}*+)*+"  # ipath-rootless
    ")?"  # ipath-empty
)
_IRI_RE = re.compile(
    f"[A-Za-z][A-Za-z0-9+\\-.]*:{_IHIER_PART}"
    f"(?:\\?(?:{_IPCHAR}|[/?{_IPRIVATE}]++)*+)?"
    f"(?:#(?:{_IPCHAR}|[/?]++)*+)?"
)

_UUID_RE = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)
_SHA1_RE = re.compile(r"[0-9A-Fa-f]{40}")
# SHA-224, SHA-256, SHA-384 or SHA-512, hex-encoded.
_SHA2_RE = re.compile(r"[0-9A-Fa-f]{56}(?:[0-9A-Fa-f]{8}(?:[0-9A-Fa-f]{32}(?:[0-9A-Fa-f]{32})?)?)?")
# The address part of a mailto IRI: one "@" with something on each side (RFC 6068 addr-spec,
# best effort); the whole value must also be a valid IRI.
_MAILTO_ADDRESS_RE = re.compile(r"[^@\s]+@[^@\s]+")
# An email address as people type it in forms and commands: one "@", a dot in the domain, no
# spaces or list separators (stricter than a mailto IRI, which only needs one "@").
EMAIL_ADDRESS_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
# RFC 2046 media type: type "/" subtype, optional parameters.
_MEDIA_NAME = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE_RE = re.compile(
    f'{_MEDIA_NAME}/{_MEDIA_NAME}(?:[ \t]*;[ \t]*{_MEDIA_NAME}=(?:{_MEDIA_NAME}|"[^"]*"))*[ \t]*'
)

# RFC 5646 language tags: the ABNF of section 2.1 (case-insensitive).
_ALNUM = "[A-Za-z0-9]"
_LANGTAG = (
    "(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"  # language ["-" extlang]
    "(?:-[A-Za-z]{4})?"  # script
    "(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    f"(?P<variants>(?:-(?:{_ALNUM}{{5,8}}|[0-9]{_ALNUM}{{3}}))*)"  # variants
    f"(?P<extensions>(?:-[0-9A-WYZa-wyz](?:-{_ALNUM}{{2,8}})+)*)"  # extensions
    f"(?:-[Xx](?:-{_ALNUM}{{1,8}})+)?"  # private use
)
_LANGUAGE_TAG_RE = re.compile(f"{_LANGTAG}|[Xx](?:-{_ALNUM}{{1,8}})+")
_GRANDFATHERED = frozenset(
    tag.lower()
    for tag in (
        "en-GB-oed i-ami i-bnn i-default i-enochian i-hak i-klingon i-lux i-mingo i-navajo i-pwn "
        "i-tao i-tay i-tsu sgn-BE-FR sgn-BE-NL sgn-CH-DE art-lojban cel-gaulish no-bok no-nyn "
        "zh-guoyu zh-hakka zh-min zh-min-nan zh-xiang"
    ).split()
)

# Values seen valid before. Statements repeat the same verbs, activity types, extension keys,
# homepages and language tags over and over; a set lookup is ~50 ns against ~1 µs for a match.
# Bounded: cleared when full.
_CACHE_LIMIT = 8192
_CACHEABLE_LENGTH = 512
_valid_iris: set[str] = set()
_valid_language_tags: set[str] = set()


def _remember(cache: set[str], value: str) -> None:
    if len(value) <= _CACHEABLE_LENGTH:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache.add(value)


def is_iri(value: str) -> bool:
    """Whether ``value`` is an absolute IRI per the RFC 3987 ``IRI`` rule (so it has a scheme)."""
    if value in _valid_iris:
        return True
    if _IRI_RE.fullmatch(value) is None:
        return False
    _remember(_valid_iris, value)
    return True


def is_language_tag(value: str) -> bool:
    """Whether ``value`` is a well-formed RFC 5646 language tag.

    Well-formed per the ABNF of section 2.1, plus the two validity rules that need no registry:
    no variant and no extension singleton used twice (sections 2.2.5 and 2.2.6).
    """
    if value in _valid_language_tags:
        return True
    match = _LANGUAGE_TAG_RE.fullmatch(value)
    if match is None:
        if value.lower() not in _GRANDFATHERED:
            return False
    elif match.group("variants") or match.group("extensions"):
        variants = match.group("variants").lower().split("-")[1:]
        if len(set(variants)) != len(variants):
            return False
        singletons = [
            part for part in match.group("extensions").lower().split("-") if len(part) == 1
        ]
        if len(set(singletons)) != len(singletons):
            return False
    _remember(_valid_language_tags, value)
    return True


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID in the standard 8-4-4-4-12 hex string form (any variant)."""
    return _UUID_RE.fullmatch(value) is not None


def is_mailto_iri(value: str) -> bool:
    """Whether ``value`` is ``mailto:`` followed by one email address, as a valid IRI."""
    return (
        value.startswith("mailto:")
        and _MAILTO_ADDRESS_RE.fullmatch(value, 7) is not None
        and is_iri(value)
    )


def is_number(value: Any) -> bool:
    """Whether ``value`` is a JSON number: int or finite float, not a bool."""
    kind = type(value)
    return kind is int or (kind is float and math.isfinite(value))


# ---------------------------------------------------------------------------------------------
# Timestamps
# ---------------------------------------------------------------------------------------------

# RFC 3339 date-time; the fast path of both versions. A space or a lower-case "t" may stand for
# "T" (RFC 3339 section 5.6 note); the offset may be omitted (read as UTC, see parse_timestamp).
_RFC3339_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})([Tt ])(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))?"
)
# ISO 8601 combined date and time (ISO 8601:2004 section 4.3.2), extended and basic format:
# calendar, ordinal or week date; time of day to the hour, minute or second, a decimal fraction on
# the seconds; UTC designator or an offset in any of its three forms.
_ISO_OFFSET = r"(?:(?P<z>[Zz])|(?P<sign>[+-])(?P<oh>\d{2})(?::?(?P<om>\d{2}))?)?"
_ISO_EXTENDED_RE = re.compile(
    r"(?P<y>\d{4})-(?:(?P<mo>\d{2})-(?P<d>\d{2})|(?P<od>\d{3})|W(?P<wk>\d{2})-(?P<wd>\d))"
    r"[Tt](?P<h>\d{2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?" + _ISO_OFFSET
)
_ISO_BASIC_RE = re.compile(
    r"(?P<y>\d{4})(?:(?P<mo>\d{2})(?P<d>\d{2})|(?P<od>\d{3})|W(?P<wk>\d{2})(?P<wd>\d))"
    r"[Tt](?P<h>\d{2})(?:(?P<mi>\d{2})(?:(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?)?" + _ISO_OFFSET
)

_UTC = _dt.UTC
_zones: dict[int, _dt.tzinfo] = {0: _UTC}


def _zone(sign: str, hours: str, minutes: str | None) -> _dt.tzinfo:
    hh = int(hours)
    mm = int(minutes) if minutes else 0
    if hh > 23 or mm > 59:
        raise ValueError("must have a UTC offset between -23:59 and +23:59")
    if hh == 0 and mm == 0 and sign == "-":
        # RFC 3339 section 4.3: "-00:00" means "offset unknown", not UTC.
        raise ValueError("may not use the offset -00:00 (unknown local offset); use Z or +00:00")
    offset = (hh * 60 + mm) * (-1 if sign == "-" else 1)
    zone = _zones.get(offset)
    if zone is None:
        zone = _zones.setdefault(offset, _dt.timezone(_dt.timedelta(minutes=offset)))
    return zone


def _microseconds(fraction: str | None) -> int:
    # Precision beyond microseconds is truncated (Data 4.5: MAY truncate to >= 3 digits).
    return int(fraction[:6].ljust(6, "0")) if fraction else 0


def _build(
    date: _dt.date, hour: int, minute: int, second: int, micro: int, zone: _dt.tzinfo, *, h24: bool
) -> _dt.datetime:
    if second == 60 and minute == 59:
        # A leap second (RFC 3339 allows it, datetime cannot hold it): the last instant before.
        second, micro = 59, 999999
    if hour == 24 and h24 and minute == second == micro == 0:
        # ISO 8601 "24:00" is the end of the day, i.e. midnight of the next one.
        return _dt.datetime.combine(date + _dt.timedelta(days=1), _dt.time(tzinfo=zone))
    return _dt.datetime(date.year, date.month, date.day, hour, minute, second, micro, tzinfo=zone)


_TIMESTAMP_EXPECTED = {
    VERSION_103: "must be an ISO 8601 date and time, e.g. 2024-05-04T17:00:00.000Z",
    VERSION_200: "must be an RFC 3339 date and time, e.g. 2024-05-04T17:00:00.000Z",
}


def parse_timestamp(value: str, version: str) -> _dt.datetime:
    """Parse an xAPI Timestamp into an aware datetime, keeping its UTC offset.

    The instant must also be one in UTC between the years 1 and 9999: the LRS converts
    timestamps to UTC (9274.1.1 §4.2.7) and counts time in milliseconds from them, and
    ``9999-12-31T23:59:59-01:00`` or ``9999-12-31T24:00Z`` is in the year 10000 there.
    """
    try:
        moment = _parse_timestamp(value, version)
        moment.astimezone(_UTC)
    except OverflowError:
        raise ValueError("is out of range: in UTC it must fall in the years 1 to 9999") from None
    return moment


def _parse_timestamp(value: str, version: str) -> _dt.datetime:
    """Parse an xAPI Timestamp into an aware datetime, keeping its UTC offset.

    :param value: the string from a statement (``timestamp``, ``stored``) or a query parameter.
    :param version: ``"1.0.3"`` or ``"2.0.0"``, the negotiated xAPI version.
    :return: an aware :class:`datetime.datetime`; a value without an offset is read as UTC.
    :raise ValueError: with a short user-facing message when the value is not a Timestamp.

    * 1.0.3 (Data 4.5): any ISO 8601 combined date and time representation, extended or basic
      format (calendar, ordinal or week date; reduced precision to minutes or hours; decimal
      fraction on the seconds with ``.`` or ``,``; offset ``Z``, ``±hh``, ``±hhmm`` or ``±hh:mm``).
      The time zone is a SHOULD* there, so a value without one is accepted.
    * 2.0.0 (9274.1.1 §4.2.7, delta D6): the RFC 3339 ``date-time`` profile: extended format,
      seconds required, ``T``/``t``/space separator, ``Z`` or ``±hh:mm``. A value without an
      offset is still accepted (read as UTC) because real content sends it (the Ralph tutorial
      statement in the corpus) and the ADL reference LRS takes it.
    * Both: the "unknown offset" forms ``-00``, ``-0000`` and ``-00:00`` are rejected (CTS
      XAPI-00123, configs/timestamps.js in both suites). Digits beyond microseconds are truncated;
      a leap second becomes ``:59.999999``.
    """
    if version not in _TIMESTAMP_EXPECTED:
        raise ValueError(f"unsupported xAPI version {version!r}")
    if type(value) is not str:
        raise ValueError("must be a string")
    match = _RFC3339_RE.fullmatch(value)
    if match is not None and not (match.group(4) == " " and version == VERSION_103):
        sign, oh, om = match.group(10, 11, 12)
        if sign is not None and (oh > "23" or om > "59" or (sign == "-" and oh == om == "00")):
            _zone(sign, oh, om)  # raises: out of range, or "-00:00" (the unknown offset)
        try:
            # The syntax is checked; the C parser checks the ranges, ~10x faster than below.
            parsed = _dt.datetime.fromisoformat(value)
        except ValueError:
            # Lower-case t/z, offset out of range, leap second, 24:00, invalid day: slow path.
            y, mo, d, _, h, mi, s, f, z, sign, oh, om = match.groups()
            zone = _UTC if z or not sign else _zone(sign, oh, om)
            try:
                return _build(
                    _dt.date(int(y), int(mo), int(d)),
                    int(h),
                    int(mi),
                    int(s),
                    _microseconds(f),
                    zone,
                    h24=version == VERSION_103,
                )
            except ValueError as exc:
                raise ValueError(f"is not a valid date and time ({exc})") from None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=_UTC)
    if version == VERSION_103:
        match = _ISO_EXTENDED_RE.fullmatch(value) or _ISO_BASIC_RE.fullmatch(value)
        if match is not None:
            g = match.groupdict()
            zone = _UTC if g["z"] or not g["sign"] else _zone(g["sign"], g["oh"], g["om"])
            try:
                year = int(g["y"])
                if g["mo"]:
                    date = _dt.date(year, int(g["mo"]), int(g["d"]))
                elif g["od"]:
                    day = int(g["od"])
                    if not 1 <= day <= (366 if _is_leap(year) else 365):
                        raise ValueError("day of year is out of range")
                    date = _dt.date(year, 1, 1) + _dt.timedelta(days=day - 1)
                else:
                    date = _dt.date.fromisocalendar(year, int(g["wk"]), int(g["wd"]))
                return _build(
                    date,
                    int(g["h"]),
                    int(g["mi"] or 0),
                    int(g["s"] or 0),
                    _microseconds(g["f"]),
                    zone,
                    h24=True,
                )
            except ValueError as exc:
                raise ValueError(f"is not a valid date and time ({exc})") from None
    raise ValueError(_TIMESTAMP_EXPECTED[version])


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


# ---------------------------------------------------------------------------------------------
# Durations
# ---------------------------------------------------------------------------------------------

_NUM = r"\d+(?:[.,]\d+)?"
_DURATION_RE = re.compile(
    f"P(?:(?P<weeks>{_NUM})W|(?:(?P<years>{_NUM})Y)?(?:(?P<months>{_NUM})M)?(?:(?P<days>{_NUM})D)?"
    f"(?:(?P<t>T)(?:(?P<hours>{_NUM})H)?(?:(?P<minutes>{_NUM})M)?(?:(?P<seconds>{_NUM})S)?)?)"
)
_DURATION_UNITS = ("years", "months", "weeks", "days", "hours", "minutes", "seconds")
_DURATION_EXPECTED = "must be an ISO 8601 duration such as PT1H30M or P4W"


class IsoDuration(NamedTuple):
    """The components of an ISO 8601 duration; ``None`` where the component is absent."""

    years: Decimal | None = None
    months: Decimal | None = None
    weeks: Decimal | None = None
    days: Decimal | None = None
    hours: Decimal | None = None
    minutes: Decimal | None = None
    seconds: Decimal | None = None


def parse_duration(value: str) -> IsoDuration:
    """Parse an xAPI Duration (Data 4.6, 9274.1.1 §4.2.7).

    Accepts the format with designators of ISO 8601:2004 section 4.4.3.2 (``PnYnMnDTnHnMnS`` or
    ``PnW``) and rejects the alternative format of section 4.4.3.3 (``PYYYYMMDDThhmmss``): at
    least one component, a ``T`` only before time components, weeks never combined with other
    components (``P4W1D`` is invalid), a decimal fraction (``.`` or ``,``) only on the
    lowest-order component given, no sign. Any precision is accepted (the LRS may truncate to
    0.01 s, see :func:`truncate_duration`).

    :raise ValueError: with a short user-facing message when the value is not a Duration.
    """
    if type(value) is not str:
        raise ValueError("must be a string")
    match = _DURATION_RE.fullmatch(value)
    if match is None:
        raise ValueError(_DURATION_EXPECTED)
    parts = match.groupdict()
    present = [unit for unit in _DURATION_UNITS if parts[unit] is not None]
    if not present:
        raise ValueError(_DURATION_EXPECTED)
    if parts["t"] and not (parts["hours"] or parts["minutes"] or parts["seconds"]):
        raise ValueError("must have an hour, minute or second component after T")
    for unit in present[:-1]:
        if not parts[unit].isdigit():
            raise ValueError("may only have a decimal fraction on its smallest component")
    return IsoDuration(
        **{unit: Decimal(parts[unit].replace(",", ".")) for unit in present}  # type: ignore[arg-type]
    )


_SECONDS_FRACTION_RE = re.compile(r"(\d+)[.,](\d+)S$")


def truncate_duration(value: str) -> str:
    """Return the Duration with its seconds truncated to 0.01 s, in one canonical spelling.

    For comparisons (Data 4.6; 2.0 delta D10): precision beyond 0.01 s is ignored, never
    rounded, and ``1.2S``, ``1.20S`` and ``1,2S`` compare equal. ``P1DT12H36M0.12567S`` becomes
    ``P1DT12H36M0.12S``; ``PT1.001S`` becomes ``PT1S``; other values are returned unchanged.
    """
    match = _SECONDS_FRACTION_RE.search(value)
    if not match:
        return value
    whole, fraction = match.groups()
    fraction = fraction[:2].rstrip("0")
    return value[: match.start()] + (f"{whole}.{fraction}S" if fraction else f"{whole}S")


# ---------------------------------------------------------------------------------------------
# Field types
# ---------------------------------------------------------------------------------------------


class XapiField(fields.Field):
    """Base of the xAPI fields: validates in :meth:`check` and returns the value unchanged.

    ``check(value, path, errors, parent)`` appends ``(path, message)`` for every defect of
    ``value`` (never ``None``: the caller has already reported a null); ``parent`` is the object
    that holds the property, for the few rules that depend on a sibling.
    """

    default_error_messages = {"required": "is required", "null": "may not be null"}

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:
        """Append the defects of ``value`` found at ``path`` to ``errors``."""
        raise NotImplementedError

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        errors: Errors = []
        self.check(value, "", errors, data)
        if errors:
            raise ValidationError(nest_errors(errors))
        return value


class String(XapiField):
    """A JSON string (Data 2.2: no numbers or booleans in its place)."""

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is not str:
            errors.append((path, "must be a string"))


class Boolean(XapiField):
    """A JSON boolean; the strings ``"true"``/``"false"`` are rejected (Data 2.2)."""

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is not bool:
            errors.append((path, "must be a boolean"))


class Number(XapiField):
    """A JSON number (int or finite float, not a bool), optionally within inclusive bounds."""

    def __init__(
        self, *, minimum: float | None = None, maximum: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum
        self.maximum = maximum
        if minimum is not None and maximum is not None:
            self.out_of_range = f"must be between {minimum:g} and {maximum:g}"
        elif minimum is not None:
            self.out_of_range = f"must be at least {minimum:g}"
        elif maximum is not None:
            self.out_of_range = f"must be at most {maximum:g}"

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if not is_number(value):
            errors.append((path, "must be a number"))
        elif (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            errors.append((path, self.out_of_range))


class Integer(XapiField):
    """A JSON integer (not a bool, not a float), at least ``minimum``."""

    def __init__(self, *, minimum: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.minimum = minimum

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is not int:
            errors.append((path, "must be an integer"))
        elif value < self.minimum:
            errors.append((path, f"must be at least {self.minimum}"))


class _FormattedString(XapiField):
    """A string in a particular format; the empty string is never one (Data 2.2)."""

    expected = "must be a valid value"

    def is_valid(self, value: str) -> bool:
        """Whether the string ``value`` has the format."""
        raise NotImplementedError

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is not str:
            errors.append((path, "must be a string"))
        elif not self.is_valid(value):
            errors.append((path, self.expected))


class Iri(_FormattedString):
    """An IRI or IRL: absolute, with a scheme (Data 2.2, 4.3; RFC 3987)."""

    expected = "must be a valid IRI"

    def is_valid(self, value: str) -> bool:  # noqa: D102
        return is_iri(value)

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        # Hot: 5-15 IRIs per statement, most of them seen before.
        if type(value) is not str:
            errors.append((path, "must be a string"))
        elif value not in _valid_iris and not is_iri(value):
            errors.append((path, self.expected))


class MailtoIri(XapiField):
    """The ``mbox`` IFI: ``mailto:`` followed by an email address (Data 2.4.2.3)."""

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is not str:
            errors.append((path, "must be a string"))
        elif not value.startswith("mailto:"):
            errors.append((path, "must start with mailto:"))
        elif not is_mailto_iri(value):
            errors.append((path, "must be mailto: followed by an email address"))


class Sha1Hex(_FormattedString):
    """The ``mbox_sha1sum`` IFI: a hex-encoded SHA-1 hash (Data 2.4.2.3)."""

    expected = "must be a hex-encoded SHA-1 hash (40 hex digits)"

    def is_valid(self, value: str) -> bool:  # noqa: D102
        return _SHA1_RE.fullmatch(value) is not None


class Sha2Hex(_FormattedString):
    """An attachment ``sha2``: a hex-encoded SHA-2 hash (SHA-224/256/384/512) (Data 2.4.11)."""

    expected = "must be a hex-encoded SHA-2 hash"

    def is_valid(self, value: str) -> bool:  # noqa: D102
        return _SHA2_RE.fullmatch(value) is not None


class Uuid(_FormattedString):
    """A UUID in standard string form (Data 2.4.1, 4.4)."""

    expected = "must be a UUID in standard string form"

    def is_valid(self, value: str) -> bool:  # noqa: D102
        return _UUID_RE.fullmatch(value) is not None


class MediaType(_FormattedString):
    """An Internet Media Type such as ``text/plain; charset=utf-8`` (Data 2.4.11, RFC 2046)."""

    expected = "must be an Internet media type such as text/plain"

    def is_valid(self, value: str) -> bool:  # noqa: D102
        return _MEDIA_TYPE_RE.fullmatch(value) is not None


class LanguageTag(_FormattedString):
    """An RFC 5646 language tag (Data 2.2, 2.4.6 ``context.language``)."""

    expected = "must be a valid RFC 5646 language tag"

    def is_valid(self, value: str) -> bool:  # noqa: D102
        return is_language_tag(value)


class LanguageMap(XapiField):
    """A language map: RFC 5646 tags to strings (Data 4.2). Errors are reported at ``path.tag``."""

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is not dict:
            errors.append((path, "must be a language map (an object of language tags to strings)"))
            return
        for tag, text in value.items():
            valid_tag = tag in _valid_language_tags or (type(tag) is str and is_language_tag(tag))
            if type(text) is not str or not valid_tag:
                sub = f"{path}.{tag}" if path else str(tag)
                if not valid_tag:
                    errors.append((sub, "key must be a valid RFC 5646 language tag"))
                if text is None:
                    errors.append((sub, "may not be null"))
                elif type(text) is not str:
                    errors.append((sub, "must be a string"))


class Extensions(XapiField):
    """An extensions map (Data 4.1): keys must be IRIs; values are never validated (may be null)."""

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is not dict:
            errors.append((path, "must be an object"))
            return
        for key in value:
            if key not in _valid_iris and (type(key) is not str or not is_iri(key)):
                errors.append((path, f"key {key!r} must be a valid IRI"))


class Duration(XapiField):
    """An ISO 8601 duration (Data 4.6), see :func:`parse_duration`."""

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        try:
            parse_duration(value)
        except ValueError as exc:
            errors.append((path, str(exc)))


class Timestamp(XapiField):
    """An xAPI Timestamp under the rules of one xAPI version, see :func:`parse_timestamp`."""

    def __init__(self, version: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if version not in _TIMESTAMP_EXPECTED:
            raise ValueError(f"unsupported xAPI version {version!r}")
        self.version = version

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        try:
            parse_timestamp(value, self.version)
        except ValueError as exc:
            errors.append((path, str(exc)))


_STATEMENT_VERSION_RE = re.compile(r"1\.0(?:\.\d+)?")


class Version(XapiField):
    """The statement ``version`` property (Data 2.4.10; 2.0 delta V4).

    1.0.3: ``1.0`` or ``1.0.x`` ("MUST reject all Statements with a version specified that does
    not start with 1.0."). 2.0.0: also exactly ``2.0.0`` (CTS XAPI-00101 and XAPI-00332).
    """

    def __init__(self, version: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if version not in _TIMESTAMP_EXPECTED:
            raise ValueError(f"unsupported xAPI version {version!r}")
        self.allow_2 = version == VERSION_200
        self.expected = "must be 1.0, 1.0.x or 2.0.0" if self.allow_2 else "must be 1.0 or 1.0.x"

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is not str:
            errors.append((path, "must be a string"))
        elif _STATEMENT_VERSION_RE.fullmatch(value) is None and not (
            self.allow_2 and value == "2.0.0"
        ):
            errors.append((path, self.expected))


def expected_one_of(choices: tuple[str, ...] | list[str]) -> str:
    """The message for a value outside ``choices``: ``must be one of: a, b``."""
    return f"must be {choices[0]}" if len(choices) == 1 else f"must be one of: {', '.join(choices)}"


class Enum(XapiField):
    """A string restricted to enumerated values, matched case-sensitively (Data 2.2)."""

    def __init__(self, choices: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = frozenset(choices)
        self.expected = expected_one_of(choices)

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is not str:
            errors.append((path, "must be a string"))
        elif value not in self.choices:
            errors.append((path, self.expected))


class ListOf(XapiField):
    """A JSON array whose items all satisfy ``item``; nulls inside are rejected (Data 2.2)."""

    def __init__(self, item: XapiField, *, min_items: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.item = item
        self.min_items = min_items

    def check(self, value: Any, path: str, errors: Errors, parent: Any) -> None:  # noqa: D102
        if type(value) is not list:
            errors.append((path, "must be an array"))
            return
        if len(value) < self.min_items:
            errors.append((path, f"must have at least {self.min_items} item(s)"))
        check = self.item.check
        for index, item in enumerate(value):
            if item is None:
                errors.append((f"{path}[{index}]", "may not be null"))
            else:
                check(item, f"{path}[{index}]", errors, value)
