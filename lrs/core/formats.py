"""The ``format`` parameter of GET /statements: ids, exact, canonical (Communication 2.1.3).

``exact`` is the stored JSON itself and never passes through here. ``ids`` keeps only what
identifies each Agent, Group, Verb and Activity. ``canonical`` replaces each Activity's definition
with the LRS's canonical one and keeps one language per language map, chosen by Accept-Language.
"""

from __future__ import annotations

from collections.abc import Callable

from lrs.core.agents import ifi_only

LANGUAGE_MAP_KEYS = ("name", "description")
INTERACTION_COMPONENT_KEYS = ("choices", "scale", "source", "target", "steps")


def as_ids(statement: dict) -> dict:
    """The statement with Agents, Groups, Verbs and Activities reduced to their identifiers."""
    return _reshape(
        statement, agent=ifi_only, activity=lambda a: {"id": a["id"]}, verb_display=None
    )


def as_canonical(
    statement: dict, canonical: Callable[[str], dict | None], languages: list[str]
) -> dict:
    """The statement with canonical Activity definitions and one language per language map.

    ``canonical(activity_id)`` returns the LRS's definition or None; ``languages`` is the
    client's Accept-Language preference order.
    """

    def activity(a: dict) -> dict:
        out = {k: v for k, v in a.items() if k != "definition"}
        definition = canonical(a["id"]) or a.get("definition")
        if definition:
            out["definition"] = filter_definition(definition, languages)
        return out

    return _reshape(statement, agent=lambda a: a, activity=activity, verb_display=languages)


def _reshape(statement: dict, *, agent, activity, verb_display) -> dict:
    out = dict(statement)
    out["actor"] = agent(statement["actor"])
    verb = statement["verb"]
    if verb_display is None:
        out["verb"] = {"id": verb["id"]}
    elif "display" in verb:
        out["verb"] = {"id": verb["id"], "display": pick_language(verb["display"], verb_display)}
    out["object"] = _reshape_object(statement["object"], agent, activity, verb_display)
    if "authority" in statement:
        out["authority"] = agent(statement["authority"])
    if "context" in statement:
        out["context"] = _reshape_context(statement["context"], agent, activity)
    return out


def _reshape_object(obj: dict, agent, activity, verb_display) -> dict:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return activity(obj)
    if kind in ("Agent", "Group"):
        return agent(obj)
    if kind == "SubStatement":
        return _reshape(obj, agent=agent, activity=activity, verb_display=verb_display)
    return obj


def _reshape_context(context: dict, agent, activity) -> dict:
    out = dict(context)
    for key in ("instructor", "team"):
        if key in context:
            out[key] = agent(context[key])
    if "contextAgents" in context:
        out["contextAgents"] = [dict(c, agent=agent(c["agent"])) for c in context["contextAgents"]]
    if "contextGroups" in context:
        out["contextGroups"] = [dict(c, group=agent(c["group"])) for c in context["contextGroups"]]
    if "contextActivities" in context:
        out["contextActivities"] = {
            key: [activity(a) for a in value] for key, value in context["contextActivities"].items()
        }
    return out


def filter_definition(definition: dict, languages: list[str]) -> dict:
    """An Activity definition with every language map cut to its best language."""
    out = dict(definition)
    for key in LANGUAGE_MAP_KEYS:
        if key in definition:
            out[key] = pick_language(definition[key], languages)
    for key in INTERACTION_COMPONENT_KEYS:
        if key in definition:
            out[key] = [
                dict(c, description=pick_language(c["description"], languages))
                if "description" in c
                else c
                for c in definition[key]
            ]
    return out


def parse_accept_language(header: str | None) -> list[str]:
    """Language ranges of an Accept-Language header, best first (RFC 7231 §5.3.5)."""
    if not header:
        return []
    ranked = []
    for position, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(ranked)]


def pick_language(language_map: dict, languages: list[str]) -> dict:
    """One entry of a language map: the best match for the client's languages.

    Exact tag first, then a prefix match in either direction (``en`` ~ ``en-US``), then ``*``
    or nothing matched: the first entry of the map.
    """
    if not language_map:
        return language_map
    lowered = {k.lower(): k for k in language_map}
    for wanted in languages:
        want = wanted.lower()
        if want == "*":
            break
        if want in lowered:
            key = lowered[want]
            return {key: language_map[key]}
        for low, key in lowered.items():
            if low.startswith(want + "-") or want.startswith(low + "-"):
                return {key: language_map[key]}
    key = next(iter(language_map))
    return {key: language_map[key]}
