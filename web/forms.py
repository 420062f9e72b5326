"""From HTML forms to the payloads the services take (validated by ``schemas.objectives``).

The criteria form names its fields ``c<N>-<field>``, one set per criterion: pickers (source,
verbs, activity type, activities found by name) and, under "advanced", raw IRIs. Errors come
back keyed by those field names, in plain words, to be shown next to the field.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from marshmallow import ValidationError

from lrs.errors import LrsError
from schemas import objectives as schemas
from schemas.fields import id_parameter, is_iri
from web.i18n import say

#: The help under each field of the criteria form, in the page's language.
FIELD_HELP = {
    "title": _l("What the employee should achieve, in a sentence."),
    "source": _l("Where the learning must come from. Choosing one narrows the verbs and types."),
    "verbs": _l("What the learner does that counts."),
    "activity_type": _l("Count any activity of this kind, or leave it open."),
    "activity_search": _l("Type part of a course, badge or pull request name, then pick it."),
    "min_count": _l("How many distinct learning events (or activities) are needed."),
    "count": _l('Count events, or different activities ("any two of these four courses").'),
    "min_score": _l("Lowest score that counts, as a percentage (e.g. 80). Empty: any score."),
    "verb_iris": _l("Verb IRIs, one per line, for verbs not in the list above."),
    "activity_iris": _l("Activity IRIs, one per line."),
    "activity_prefix": _l("Count activities whose IRI starts with this (e.g. a repository)."),
    "type_iri": _l("An activity type IRI not in the list above."),
    "parent_iris": _l("Count only activities inside these (a trail, a course): their IRIs."),
    "rule": _l("How the criteria combine."),
    "due_on": _l("When the objective is due."),
}
BROWSER_FIELDS = ("agent", "verb", "activity", "registration", "since", "until", "limit")
CRITERION = re.compile(r"^c(\d+)-source$")
MAX_CRITERIA = 20
#: Marshmallow's messages, as a manager would say them.
PLAIN = {
    "Missing data for required field.": _l("fill this in"),
    "Not a valid integer.": _l("enter a whole number"),
    "Not a valid number.": _l("enter a number"),
    "Not a valid date.": _l("pick a date"),
    "Field may not be null.": _l("fill this in"),
}
FIELD_WORDS = {
    "title": {"Shorter than minimum length 1.": _l("write a title")},
    "min_count": {
        "Must be greater than or equal to 1 and less than or equal to 100000.": (
            _l("enter a whole number from 1 to 100,000")
        )
    },
}


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def criterion_indices(form) -> list[int]:
    """The criteria the form holds, in order (a removed one leaves a gap, which is fine)."""
    found = sorted({int(m.group(1)) for key in form for m in [CRITERION.match(key)] if m})
    return found[:MAX_CRITERIA] or [0]


class FormInvalid(Exception):
    """The form's errors, {field name: message in plain words}, to show next to each field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


#: The fields as the error summary names them (the form's own labels where it has one).
FIELD_TITLES = {
    "title": _l("Title"),
    "description": _l("Description"),
    "due_on": _l("Due on"),
    "rule": _l("The objective is met when"),
    "k": _l("How many criteria must be met"),
    "template_id": _l("From a template"),
    "form": _l("The form"),
    "source": _l("Source"),
    "verbs": _l("Verbs that count"),
    "verb_iris": _l("verb IRIs"),
    "activity_type": _l("Activity type"),
    "type_iri": _l("activity type IRI"),
    "activity_search": _l("Activities, found by name"),
    "activity_iris": _l("activity IRIs"),
    "activity_prefix": _l("activity IRI prefix"),
    "parent_iris": _l("parent activity IRIs"),
    "min_count": _l("At least"),
    "count": _l("Count"),
    "min_score": _l("Minimum score"),
}


def field_title(name: str) -> str:
    """How the error summary names a field: ``c1-verbs`` is "Criterion 2, Verbs that count"."""
    match = re.match(r"^c(\d+)(?:-(.+))?$", name)
    if not match:
        return str(FIELD_TITLES.get(name) or name.replace("_", " "))
    words = match.group(2) or ""
    words = str(FIELD_TITLES.get(words) or words.replace("_", " "))
    number = int(match.group(1)) + 1
    if not words:
        return _("Criterion %(number)s", number=number)
    return _("Criterion %(number)s, %(field)s", number=number, field=words)


def objective_from_form(form) -> dict:
    """The payload of ObjectiveFromTemplateSchema or ObjectiveSchema; FormInvalid if bad."""
    if form.get("template_id"):
        try:
            template_id = id_parameter(form.get("template_id"))
        except ValueError:
            raise FormInvalid({"template_id": _("pick a template")}) from None
        try:
            return schemas.ObjectiveFromTemplateSchema().load(
                {"template_id": template_id, "due_on": form.get("due_on") or None}
            )
        except ValidationError as exc:
            raise FormInvalid(_plain(exc.messages, [])) from None
    errors: dict[str, str] = {}
    indices = criterion_indices(form)
    criteria = [_criterion(form, i, errors) for i in indices]
    title = (form.get("title") or "").strip()
    if not title:
        errors["title"] = _("write a title")
    payload = {
        "title": title,
        "description": (form.get("description") or "").strip(),
        "due_on": form.get("due_on") or None,
        "rule": form.get("rule") or "all",
        "criteria": criteria,
    }
    if payload["rule"] == "k_of_n":
        k = _whole(form.get("k"), "k", errors, _("say how many of the criteria must be met"))
        if k is not None and not 1 <= k <= len(criteria):
            errors["k"] = (
                _("choose a number from 1 to %(n)s, the number of criteria", n=len(criteria))
                if len(criteria) > 1
                else _("with one criterion, choose \u201cevery criterion\u201d")
            )
        payload["k"] = k
    if errors:
        raise FormInvalid(errors)
    try:
        return schemas.ObjectiveSchema().load(payload)
    except ValidationError as exc:
        raise FormInvalid(_plain(exc.messages, indices)) from None


def _whole(value, name: str, errors: dict, missing: str) -> int | None:
    text = (value or "").strip()
    if not text:
        errors[name] = missing
        return None
    try:
        return int(text)
    except ValueError:
        errors[name] = _("enter a whole number")
        return None


def _iris(text: str, name: str, errors: dict) -> list[str]:
    lines = _lines(text)
    for n, line in enumerate(lines, 1):
        if not is_iri(line):
            example = "https://example.com/verbs/reviewed"
            errors[name] = (
                _(
                    "line %(n)s \u201c%(text)s\u201d is not an IRI; an IRI looks like %(example)s",
                    n=n,
                    text=line[:80],
                    example=example,
                )
                if len(lines) > 1
                else _(
                    "\u201c%(text)s\u201d is not an IRI; an IRI looks like %(example)s",
                    text=line[:80],
                    example=example,
                )
            )
            break
    return lines


def _criterion(form, i: int, errors: dict) -> dict:
    """One criterion's payload from its pickers and advanced fields; errors collected."""
    p = f"c{i}-"

    def text(name: str) -> str:
        return (form.get(p + name) or "").strip()

    verbs = [v for v in form.getlist(p + "verbs") if v] + _iris(
        text("verb_iris"), p + "verb_iris", errors
    )
    if not verbs and p + "verb_iris" not in errors:
        errors[p + "verbs"] = _("choose at least one verb")
    activity_ids = [a for a in form.getlist(p + "activity_ids") if a]
    activity_ids += _iris(text("activity_iris"), p + "activity_iris", errors)
    if text("activity_search") and not activity_ids:
        errors[p + "activity_search"] = _(
            "pick one of the activities found, or clear the search to count any activity"
        )
    criterion: dict = {
        "verbs": list(dict.fromkeys(verbs)),
        "activity_ids": list(dict.fromkeys(activity_ids)),
        "parent_ids": _iris(text("parent_iris"), p + "parent_iris", errors),
        "source": text("source") or "any",
        "count": text("count") or "statements",
    }
    min_count = _whole(form.get(p + "min_count") or "1", p + "min_count", errors, "")
    if min_count is not None:
        criterion["min_count"] = min_count
        if (
            criterion["count"] == "activities"
            and len(activity_ids)
            and min_count > len(activity_ids)
        ):
            errors[p + "min_count"] = ngettext(
                "you picked %(count)s activity; count events instead, or pick more activities",
                "you picked %(count)s activities; count events instead, or pick more activities",
                len(activity_ids),
                count=len(activity_ids),
            )
    type_iri = _iris(text("type_iri"), p + "type_iri", errors)
    if type_iri or text("activity_type"):
        criterion["activity_type"] = (type_iri or [text("activity_type")])[0]
    if text("activity_prefix"):
        criterion["activity_prefix"] = text("activity_prefix")
    if text("min_score"):
        try:
            percent = float(text("min_score"))
        except ValueError:
            percent = -1.0
        if not 0 <= percent <= 100:
            errors[p + "min_score"] = _("enter a percentage from 0 to 100")
        else:
            criterion["min_score"] = percent / 100
    if form.get(p + "success"):
        criterion["success"] = True
    if form.get(p + "with_response"):
        criterion["with_response"] = True
    return criterion


#: The payload's criterion fields, by the form field a manager sees.
FORM_FIELD = {"activity_ids": "activity_search", "parent_ids": "parent_iris"}


def _plain(messages, indices: list[int]) -> dict[str, str]:
    """Marshmallow's messages as {form field: plain words}."""
    out: dict[str, str] = {}
    for key, value in (messages or {}).items():
        if key == "criteria" and isinstance(value, dict):
            for position, fields in value.items():
                index = indices[int(position)] if int(position) < len(indices) else 0
                for name, words in (fields if isinstance(fields, dict) else {}).items():
                    field = (
                        f"c{index}"
                        if name == "_schema"
                        else f"c{index}-" + FORM_FIELD.get(name, name)
                    )
                    out[field] = _words(name, words)
        else:
            out["form" if key == "_schema" else str(key)] = _words(str(key), value)
    return out


def _words(name: str, value) -> str:
    if isinstance(value, dict):  # per list item: {0: ["must be an IRI"]}
        value = [m for item in value.values() for m in item]
    if isinstance(value, str):
        value = [value]
    special = FIELD_WORDS.get(name, {})
    return "; ".join(str(special.get(m) or PLAIN.get(m) or m) for m in value)


def rebuild(form, add: bool = False, remove: int | None = None) -> dict[str, list[str]]:
    """The form's values (for showing it again), with a criterion added or removed."""
    values = {k: [v for v in form.getlist(k)] for k in form}
    values.pop("csrf_token", None)
    for key in ("add_criterion", "remove_criterion", "find"):
        values.pop(key, None)
    indices = criterion_indices(form)
    if remove is not None and len(indices) > 1:
        values = {k: v for k, v in values.items() if not k.startswith(f"c{remove}-")}
    if add and len(indices) < MAX_CRITERIA:
        values[f"c{max(indices) + 1}-source"] = ["any"]
    return values


def safe_next(target: str | None) -> str | None:
    """Where to go after signing in: a path on this site, or None.

    Refuses what a browser could read as another site: ``//host``, a backslash anywhere
    (browsers treat it as ``/``), a scheme, and control characters or spaces browsers drop.
    """
    if not target or not target.startswith("/") or len(target) > 2000:
        return None
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


def statement_query(filters: dict[str, str]) -> dict[str, str]:
    """Statement Resource parameters from the browser's filters (an email becomes an agent)."""
    params = dict(filters)
    agent = params.get("agent")
    if agent and not agent.startswith("{"):
        params["agent"] = json.dumps(
            {"mbox": agent if agent.startswith("mailto:") else "mailto:" + agent}
        )
    params.setdefault("limit", "25")
    return params


def form_of_objective(template) -> dict[str, list[str]]:
    """The criteria form's values of a stored template (or objective), to edit it.

    Verbs and activity types of the vocabulary go to their pickers, others to the advanced
    IRI fields; activities stay picked by id (the page names them).
    """
    from lrs import vocabulary

    picker_verbs = {t.iri for t in vocabulary.VERBS if t.sources}
    picker_types = {t.iri for t in vocabulary.ACTIVITY_TYPES if t.sources}
    values: dict[str, list[str]] = {
        "title": [template.title],
        "description": [template.description or ""],
        "rule": [template.rule or "all"],
    }
    if template.k:
        values["k"] = [str(template.k)]
    for i, c in enumerate(json.loads(template.criteria or "[]")):
        p = f"c{i}-"
        verbs = c.get("verbs", [])
        values[p + "source"] = [c.get("source") or "any"]
        values[p + "verbs"] = [v for v in verbs if v in picker_verbs]
        values[p + "verb_iris"] = ["\n".join(v for v in verbs if v not in picker_verbs)]
        values[p + "activity_ids"] = list(c.get("activity_ids", []))
        values[p + "parent_iris"] = ["\n".join(c.get("parent_ids", []))]
        kind = c.get("activity_type")
        if kind:
            values[p + ("activity_type" if kind in picker_types else "type_iri")] = [kind]
        if c.get("activity_prefix"):
            values[p + "activity_prefix"] = [c["activity_prefix"]]
        values[p + "min_count"] = [str(c.get("min_count", 1))]
        values[p + "count"] = [c.get("count", "statements")]
        if c.get("min_score") is not None:
            values[p + "min_score"] = [f"{c['min_score'] * 100:g}"]
        if c.get("success"):
            values[p + "success"] = ["1"]
        if c.get("with_response"):
            values[p + "with_response"] = ["1"]
    return values


def refusal_errors(exc: LrsError) -> dict[str, str]:
    """A refusal as the pages show it: each field's message, and the whole as ``form``.

    Both in the page's language where the service wrote a ``Message``.
    """
    found = {e.path: say(e.message) for e in exc.errors if e.path}
    found["form"] = say(exc.message)
    return found


def refusal_status(exc: LrsError) -> int:
    """The status a page answers a refusal with; 401 and 403 go to the error page instead."""
    if exc.status in (401, 403):
        raise exc
    return exc.status
