"""From HTML forms to the payloads the services take (validated by ``schemas.objectives``)."""

from __future__ import annotations

import json

from marshmallow import ValidationError

from schemas import objectives as schemas

FIELD_HELP = {
    "title": "What the employee should achieve, in a sentence.",
    "verbs": "xAPI verb IRIs that count, one per line "
    "(e.g. http://adlnet.gov/expapi/verbs/completed).",
    "activity_ids": "Activity IRIs that count, one per line. "
    "Leave empty to use a prefix or a type.",
    "activity_prefix": "Count activities whose IRI starts with this (e.g. a trail, a repository).",
    "activity_type": "Count activities of this type IRI (e.g. pull requests, badges, courses).",
    "source": "Where the learning must come from.",
    "min_count": "How many distinct learning events (or activities) are needed.",
    "count": 'Count events, or different activities ("any two of these four courses").',
    "min_score": "Lowest scaled score that counts, as a percentage (e.g. 80). Empty: any score.",
    "success": "Only results marked successful count.",
    "with_response": "Only events with a written response count (e.g. review comments).",
    "due_on": "When the objective is due.",
}
BROWSER_FIELDS = ("agent", "verb", "activity", "registration", "since", "until", "limit")


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def objective_from_form(form) -> dict:
    """The payload of ObjectiveFromTemplateSchema or ObjectiveSchema; ValidationError if bad."""
    if form.get("template_id"):
        return schemas.ObjectiveFromTemplateSchema().load(
            {"template_id": form.get("template_id"), "due_on": form.get("due_on") or None}
        )
    criterion: dict = {
        "verbs": _lines(form.get("verbs", "")),
        "activity_ids": _lines(form.get("activity_ids", "")),
        "source": form.get("source") or "any",
        "count": form.get("count") or "statements",
        "min_count": form.get("min_count") or 1,
    }
    for key in ("activity_prefix", "activity_type"):
        if form.get(key, "").strip():
            criterion[key] = form[key].strip()
    if form.get("min_score", "").strip():
        try:
            criterion["min_score"] = float(form["min_score"]) / 100
        except ValueError:
            raise ValidationError({"min_score": ["must be a number between 0 and 100"]}) from None
    if form.get("success"):
        criterion["success"] = True
    if form.get("with_response"):
        criterion["with_response"] = True
    return schemas.ObjectiveSchema().load(
        {
            "title": form.get("title", "").strip(),
            "description": form.get("description", "").strip(),
            "due_on": form.get("due_on") or None,
            "criteria": [criterion],
        }
    )


def flat_errors(messages, prefix: str = "") -> dict[str, str]:
    """Marshmallow messages as {field: message} for showing next to form fields."""
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key)
            if name == "criteria" and isinstance(value, dict):
                out.update(flat_errors(next(iter(value.values()), {}), ""))
            elif isinstance(value, dict):
                out.update(flat_errors(value, name))
            else:
                out["form" if name == "_schema" else name] = "; ".join(map(str, value))
    return out


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
