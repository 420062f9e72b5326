"""A sample organisation with a learning history, for the demo, screenshots and browser tests.

Maya manages Ann, Ben and Chen (Ann ahead, Ben in the middle, Chen behind); Rita reviews Ann;
the current cycle's reviews carry objectives from three templates.

Issue 12, item 2: the history is produced by the code that handles real data, from recorded
inputs in ``web/sample_data/``, so the sample can never drift from what the connectors emit:

* **Code review.** Recorded GitHub and GitLab webhook payloads, varied per reviewer, pull
  request and time, signed with the secret of a real connector of the sample store and received
  as a webhook request is (``connectors.services``: verify_and_parse, map_event, record_event),
  only without HTTP. The forge logins are linked to the people first, so the statements resolve
  to them.
* **Micro-learning.** A badge platform's CSV export with its column mapping, moved to the last
  weeks and imported row by row as ``learnloop import microlearning`` does (map_row, store_row),
  so badges carry their trail as ``contextActivities.parent`` like every import.
* **LMS.** Launch records of the sample's Moodle (the claims of an id_token), checked by the
  launch's claim rules and stored by ``lti.launches.record_launch`` like every launch (the
  ``launched`` statement, the course, the link, the learner's LMS account joined to their
  person); then what the course content sends about the launched activity with the launch's
  context: lessons completed and the course package passed, with scores. The package was placed
  with Learnloop's Deep Linking, so its link carries the activity as a custom parameter.

The templates name what these converters produce (activity ids, types, parents, verbs), read
from their output (``templates``), never typed here. Titles are the sample's own words.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
import random
import secrets
import tomllib
import uuid
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from sqlalchemy.orm import Session

from connectors import github, gitlab, microlearning
from connectors import services as connectors
from connectors.common import Event, WebhookRequest
from connectors.crypto import SecretBox
from connectors.schemas import ColumnMappingSchema
from lrs import vocabulary as v
from lrs.api import source_principal, write_statements
from lrs.auth import Principal, create_credential, get_or_create_store
from lrs.db import write_transaction
from lrs.people.services import ensure_person
from lti import claims as c
from lti import launch as launch_rules
from lti import statements as st
from lti.deep_linking import content_item
from lti.launches import BoundState, record_launch
from lti.models import ResourceLink
from lti.placements import ActivityPlacements
from lti.registrations import (
    RegistrationData,
    create_registration,
    deployment_ids,
    platform_origins,
)
from objectives import accounts
from objectives import services as svc
from objectives.models import Review, ReviewCycle, ReviewGrant
from schemas.connectors import load
from schemas.objectives import TemplateSchema

DEFAULT_PUBLIC_URL = "http://localhost:8080"
PEOPLE = (
    ("maya", "Maya Patel"),
    ("ann", "Ann Okafor"),
    ("ben", "Ben Lindqvist"),
    ("chen", "Chen Wei"),
    ("rita", "Rita Alves"),
)
#: How much each report learns: Ann ahead, Ben in the middle, Chen behind.
INTENSITY = {"ann": 1.6, "ben": 1.0, "chen": 0.6}
#: Scaled score of the Secure Coding final assessment; Ann and Ben pass it, Chen has not sat it.
FINAL_SCORES = {"ann": 0.92, "ben": 0.85}
WEEKS = 10
#: Lessons completed and code reviews given in those weeks, times each report's intensity.
LESSONS = 9
REVIEWS = 14

# The people's logins on the forges (linked to them before their deliveries arrive).
GITHUB_HOME = "https://github.com"
GITHUB_LOGINS = {"ann": "ann-okafor", "ben": "blindqvist", "chen": "chenwei", "maya": "maya-p"}
GITHUB_REPOSITORY = "acme/app"
GITLAB_HOME = "https://gitlab.example.com"
GITLAB_USERS = {"chen": "chen.wei"}
GITLAB_PROJECT = "acme/infrastructure"
# The recorded GitHub deliveries: a review that comments, one that approves, a diff comment.
REVIEW = "pull_request_review.commented.json"
APPROVAL = "pull_request_review.approved.json"
COMMENT = "pull_request_review_comment.created.json"

PULL_REQUEST_TITLES = (
    "Validate webhook payload sizes",
    "Rotate session keys on sign-in",
    "Cache the activity names of a page",
    "Parameterise the report queries",
    "Retry grade delivery with backoff",
    "Drop the unused export endpoint",
    "Explain the migration in the changelog",
    "Bound the JSON reader's depth",
)
REVIEW_BODIES = (
    "Looks good; one suggestion inline about the error message.",
    "Nice and small. Could the test also cover the empty case?",
    "I'd move the constant next to its only user, otherwise fine.",
    "Thanks! The naming reads much better now.",
    "Please check the timeout: 10 s seems long for this call.",
    "Approving; left two nits you can ignore.",
)


@dataclass
class SampleOrg:
    store_id: int
    store_name: str
    people: dict[str, int] = field(default_factory=dict)
    reviews: dict[str, int] = field(default_factory=dict)
    templates: list[int] = field(default_factory=list)
    cycle_id: int = 0


# ---- Recorded inputs -----------------------------------------------------------------------


@cache
def _text(*path: str) -> str:
    """A file of ``web/sample_data`` (package data: there in every installation)."""
    return resources.files("web").joinpath("sample_data", *path).read_text(encoding="utf-8")


def _recorded(*path: str) -> dict:
    return json.loads(_text(*path))


def _mapping() -> microlearning.ColumnMapping:
    """The export's column mapping, loaded as ``learnloop import microlearning --mapping``."""
    mapping = load(
        ColumnMappingSchema(),
        tomllib.loads(_text("microlearning", "mapping.toml")),
        "the mapping file",
    )
    assert isinstance(mapping, microlearning.ColumnMapping)
    return mapping


def _export_records(mapping: microlearning.ColumnMapping, now: dt.datetime | None) -> list:
    """The export's rows, moved in time (when ``now`` is given) to end three days before now."""
    text = _text("microlearning", "export.csv")
    if now is not None:
        text = _moved_export(text, mapping, now - dt.timedelta(days=3))
    records = microlearning.read_records(text, "csv", mapping.records)
    problem = microlearning.missing_columns(list(records[0]), mapping)
    if problem:
        raise ValueError(f"sample_data/microlearning/export.csv: {problem}")
    return records


def _moved_export(text: str, mapping: microlearning.ColumnMapping, last: dt.datetime) -> str:
    """The CSV with every time shifted by one offset, so that its latest row is at ``last``."""
    column = mapping.columns["timestamp"]
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    times = [dt.datetime.fromisoformat(row[column]) for row in rows]
    offset = last.astimezone(dt.UTC).replace(tzinfo=None) - max(times)
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=reader.fieldnames or [], lineterminator="\n")
    writer.writeheader()
    for row, moment in zip(rows, times, strict=True):
        writer.writerow({**row, column: (moment + offset).strftime("%Y-%m-%d %H:%M:%S")})
    return out.getvalue()


def _course() -> dict:
    return _recorded("lti", "course.json")


def _link_custom(session: Session, link: dict, launch_url: str) -> dict:
    """The custom parameters the LMS keeps for a link (none for a plain link).

    Those of the Deep Linking content item Learnloop returned when a teacher placed the link's
    activity; the LMS sends them back in every launch of the link.
    """
    placed = link.get("placed_activity")
    if not placed:
        return {}
    placement = ActivityPlacements().resolve(session, 0, placed["id"], placed["title"])
    return content_item(placement, launch_url, graded=False, score_maximum=1).get("custom", {})


def _package_link(course: dict) -> dict:
    [link] = [link for link in course["links"] if link.get("placed_activity")]
    return link


def _launch_claims(
    recorded: dict,
    *,
    client_id: str,
    link: dict,
    custom: dict,
    sub: str,
    name: str,
    email: str,
    at: dt.datetime,
) -> dict:
    """The recorded launch for another learner, link and time (a fresh nonce, like a platform)."""
    claims = copy.deepcopy(recorded)
    iat = int(at.timestamp())
    given, _, family = name.partition(" ")
    claims.update(
        aud=client_id,
        sub=sub,
        name=name,
        given_name=given,
        family_name=family,
        email=email,
        iat=iat,
        exp=iat + 60,
        nonce=secrets.token_urlsafe(24),
    )
    claims[c.RESOURCE_LINK] = {"title": link["title"], "description": "", "id": link["id"]}
    claims[c.CUSTOM] = custom
    presentation = claims.get(c.LAUNCH_PRESENTATION) or {}
    if "return_url" in presentation:
        base = presentation["return_url"].split("&instanceid=")[0]
        presentation["return_url"] = f"{base}&instanceid={link['id']}"
    return claims


def _checked_launch(claims: dict, deployments: frozenset[str]) -> c.LaunchMessage:
    """The claim rules every launch passes (signature, times and nonce belong to a live login)."""
    launch_rules.check_is_lti_message(claims)
    launch_rules.check_version(claims)
    message_type = launch_rules.check_message_type(claims)
    launch_rules.check_deployment(claims, deployments)
    launch_rules.check_required_claims(claims, message_type)
    return c.LaunchMessage(claims)


def _github_payload(name: str) -> dict:
    return _recorded("github", name)


# ---- Templates: what the converters produce --------------------------------------------------


def templates(session: Session) -> list[dict]:
    """The sample's objective templates, in terms of what the converters produce.

    The activity ids, types, parents and verbs are read from the output of the launch
    conversion, the GitHub mapping and the micro-learning recipe on the recorded inputs
    (``session``: the course package's placement is resolved as Deep Linking resolves it).
    """
    # LMS: the course package a Secure Coding launch carries (its placed activity).
    course = _course()
    package_link = _package_link(course)
    recorded = _recorded("lti", "launch.json")
    claims = _launch_claims(
        recorded,
        client_id=recorded["aud"],
        link=package_link,
        custom=_link_custom(session, package_link, DEFAULT_PUBLIC_URL + "/lti/launch"),
        sub=recorded["sub"],
        name=recorded["name"],
        email=recorded["email"],
        at=dt.datetime.fromtimestamp(recorded["iat"], dt.UTC),
    )
    message = c.LaunchMessage(claims)
    launched = st.launch_statement(message, message.custom.get(st.CUSTOM_ACTIVITY))
    [package] = launched["context"]["contextActivities"]["other"]

    # Code review: what a submitted review and a review comment become.
    [reviewed] = github.map_event(
        Event(github.SOURCE, "pull_request_review", "template", _github_payload(REVIEW))
    ).statements
    [commented] = github.map_event(
        Event(github.SOURCE, "pull_request_review_comment", "template", _github_payload(COMMENT))
    ).statements

    # Micro-learning: what a badge row of the export becomes (its trail is the parent).
    mapping = _mapping()
    kind_column = mapping.columns["kind"]
    [badge, *_] = [
        statement
        for row in _export_records(mapping, None)
        if mapping.kinds.get(row[kind_column]) == microlearning.BADGE_EARNED
        for statement in microlearning.map_row(row, mapping)
    ]
    [trail] = badge["context"]["contextActivities"]["parent"]

    return [
        {
            "title": "Complete Secure Coding with at least 80%",
            "description": "The LMS course every engineer takes this half.",
            "criteria": [
                {
                    "verbs": [v.COMPLETED, v.PASSED],
                    "activity_ids": [package["id"]],
                    "source": "lms",
                    "min_score": 0.8,
                }
            ],
        },
        {
            "title": "Give 15 code reviews with comments",
            "criteria": [
                {
                    "verbs": [reviewed["verb"]["id"], commented["verb"]["id"]],
                    "activity_type": reviewed["object"]["definition"]["type"],
                    "source": "code_review",
                    "with_response": True,
                    "min_count": 15,
                }
            ],
        },
        {
            "title": "Earn 3 badges in the Cloud trail",
            "criteria": [
                {
                    "verbs": [badge["verb"]["id"]],
                    "activity_type": badge["object"]["definition"]["type"],
                    "parent_ids": [trail["id"]],
                    "source": "microlearning",
                    "min_count": 3,
                }
            ],
        },
    ]


# ---- The organisation ------------------------------------------------------------------------


def seed(
    sessions,
    password: str,
    store_name: str | None = None,
    now: dt.datetime | None = None,
    history: bool = True,
    *,
    instance_secret: str | None = None,
    public_url: str = "",
) -> SampleOrg:
    """Create the sample organisation; every account's password is ``password``.

    ``instance_secret`` seals the secrets of the sample's connectors (the app's, so they can
    receive deliveries; without it they are sealed with a key nobody keeps, and work once an
    admin rotates their secret). ``public_url`` is where Learnloop is served (authorities).
    """
    now = now or dt.datetime.now(dt.UTC)
    store_name = store_name or f"sample-{uuid.uuid4().hex[:8]}"
    public_url = (public_url or DEFAULT_PUBLIC_URL).rstrip("/")
    with write_transaction(sessions) as session:
        store = get_or_create_store(session, store_name)
        org = SampleOrg(store.id, store.name)
        for who, name in PEOPLE:
            person = ensure_person(
                session, store.id, {"mbox": f"mailto:{who}@example.com"}, name=name
            )
            org.people[who] = person.id
            accounts.create_account(
                session, store.id, f"{who}@example.com", password, person_id=person.id
            )
        accounts.create_account(session, store.id, "admin@example.com", password, is_admin=True)
        for report in INTENSITY:
            accounts.set_manager(session, store.id, org.people[report], org.people["maya"])
        start = (now - dt.timedelta(days=60)).date()
        cycle = ReviewCycle(
            store_id=store.id,
            name=f"{now.year} review",
            starts_on=start,
            ends_on=start + dt.timedelta(days=180),
        )
        session.add(cycle)
        session.flush()
        org.cycle_id = cycle.id
        for who in INTENSITY:
            review = Review(
                store_id=store.id,
                cycle_id=cycle.id,
                person_id=org.people[who],
                status="in_progress",
            )
            session.add(review)
            session.flush()
            org.reviews[who] = review.id
        session.add(ReviewGrant(review_id=org.reviews["ann"], person_id=org.people["rita"]))
        manager = accounts.Viewer(0, store.id, org.people["maya"], False)
        for template in templates(session):
            org.templates.append(
                svc.create_template(session, manager, TemplateSchema().load(template)).id
            )
        for who, attached in (
            ("ann", org.templates[:2]),
            ("ben", org.templates),
            ("chen", org.templates[1:]),
        ):
            for template_id in attached:
                svc.attach_objective(
                    session, manager, org.reviews[who], {"template_id": template_id}
                )
    if history:
        rng = random.Random(7)
        _lms_history(sessions, org, now, rng, public_url)
        _code_review_history(sessions, org, now, rng, public_url, instance_secret)
        _microlearning_import(sessions, org, now, public_url)
    return org


def _at(now: dt.datetime, days_ago: float) -> dt.datetime:
    return (now - dt.timedelta(days=days_ago)).replace(microsecond=0)


def _times(now: dt.datetime, rng: random.Random, count: int) -> list[dt.datetime]:
    """``count`` moments spread over the last WEEKS weeks, oldest first."""
    return sorted(_at(now, rng.random() * WEEKS * 7) for _ in range(count))


# ---- LMS: launch records through record_launch, then the course content's statements --------


def _lms_history(
    sessions, org: SampleOrg, now: dt.datetime, rng: random.Random, public_url: str
) -> None:
    """Launches of Secure Coding in the sample's Moodle, and what its content reports.

    Every report launches lessons and completes them; Ann and Ben sit the final assessment
    (the placed course package) and pass it.
    """
    with write_transaction(sessions) as session:
        lms = _SampleLms.register(session, org, public_url)
    lessons = [link for link in lms.course["links"] if not link.get("placed_activity")]
    package_link = _package_link(lms.course)
    for who, intensity in INTENSITY.items():
        with write_transaction(sessions) as session:
            sent = []
            for at in _times(now, rng, round(LESSONS * intensity)):
                launched = lms.launch(session, who, rng.choice(lessons), at)
                score = round(min(1.0, 0.55 + rng.random() * 0.3 + 0.1 * intensity), 2)
                sent.append(_completed_lesson(launched, score, at, rng))
            if who in FINAL_SCORES:
                at = _at(now, 3 + rng.random())
                launched = lms.launch(session, who, package_link, at)
                sent.append(_passed_package(launched, package_link, FINAL_SCORES[who], at))
            write_statements(session, lms.content, sent)  # one batch, as a course player sends


@dataclass
class _SampleLms:
    """The sample's Moodle: registered for the organisation, its launches recorded."""

    recorded: dict
    course: dict
    bound: BoundState
    content: Principal
    launch_url: str

    @classmethod
    def register(cls, session: Session, org: SampleOrg, public_url: str) -> _SampleLms:
        """Register the platform of the recorded launch, one client per organisation.

        Also makes the credential its course content sends statements with.
        """
        recorded = _recorded("lti", "launch.json")
        issuer = recorded["iss"]
        platform = recorded[c.TOOL_PLATFORM].get("name") or issuer
        registration = create_registration(
            session,
            org.store_id,
            RegistrationData(
                issuer=issuer,
                client_id=f"{recorded['aud']}-{org.store_name}",
                auth_login_url=issuer + "/mod/lti/auth.php",
                auth_token_url=issuer + "/mod/lti/token.php",
                key_set_url=issuer + "/mod/lti/certs.php",
                deployment_ids=[recorded[c.DEPLOYMENT_ID]],
                name=platform,
            ),
            source="sample",
        )
        # What a launch's login established: the registration it answers (record_launch
        # reads the store and registration of it).
        bound = BoundState(
            state_pk=0,
            state="",
            nonce="",
            registration_id=registration.id,
            store_id=org.store_id,
            issuer=registration.issuer,
            client_id=registration.client_id,
            key_set_url=registration.key_set_url,
            deployment_ids=frozenset(deployment_ids(session, registration.id)),
            storage_target=None,
            platform_origin=launch_rules.origin(registration.auth_login_url),
            frame_origins=platform_origins(registration),
        )
        content = _content_principal(session, org, platform, public_url)
        return cls(recorded, _course(), bound, content, public_url + "/lti/launch")

    def launch(self, session: Session, who: str, link: dict, at: dt.datetime) -> dict:
        """Record ``who`` launching ``link`` at ``at``; returns the ``launched`` statement."""
        email = f"{who}@example.com"
        claims = _launch_claims(
            self.recorded,
            client_id=self.bound.client_id,
            link=link,
            custom=_link_custom(session, link, self.launch_url),
            sub=self.course["members"][email],
            name=dict(PEOPLE)[who],
            email=email,
            at=at,
        )
        message = _checked_launch(claims, self.bound.deployment_ids)
        record = record_launch(session, self.bound, message, int(at.timestamp() * 1000), 60)
        link_row = session.get(ResourceLink, record.resource_link_pk)
        placed = link_row.placed_activity if link_row else None
        return st.launch_statement(message, placed)  # the statement record_launch stored


def _content_principal(session: Session, org: SampleOrg, platform: str, public_url: str):
    """The credential the course content of the sample's LMS sends statements with."""
    credential, _ = create_credential(
        session,
        org.store_name,
        ["statements/write"],
        key=f"course-content-{org.store_name}",
        label=f"{platform} course content",
        home_page=public_url + "/",
    )
    return Principal.of(credential)


def _content_context(launched: dict) -> dict:
    """The context a course's content gives its statements: its launch's.

    As cmi5's context template: the registration, the session, the platform, the course and
    the LMS.
    """
    context = launched["context"]
    activities = context["contextActivities"]
    return {
        "registration": context["registration"],
        "platform": context["platform"],
        "contextActivities": {
            kind: copy.deepcopy(activities[kind])
            for kind in ("parent", "grouping")
            if kind in activities
        },
        "extensions": {st.CMI5_SESSION_ID: context["extensions"][st.CMI5_SESSION_ID]},
    }


def _verb(iri: str) -> dict:
    return {"id": iri, "display": {"en-US": v.name_of(iri)}}


def _completed_lesson(launched: dict, score: float, at: dt.datetime, rng: random.Random) -> dict:
    """A lesson's content reports completion of the launched activity, with its score."""
    minutes = 10 + int(rng.random() * 35)
    return {
        "actor": launched["actor"],
        "verb": _verb(v.COMPLETED),
        "object": copy.deepcopy(launched["object"]),
        "result": {
            "score": {"scaled": score},
            "completion": True,
            "duration": f"PT{minutes}M",
        },
        "context": _content_context(launched),
        "timestamp": _timestamp(at + dt.timedelta(minutes=minutes)),
    }


def _passed_package(launched: dict, link: dict, score: float, at: dt.datetime) -> dict:
    """The placed course package reports the final assessment passed, on its own activity."""
    [package] = launched["context"]["contextActivities"]["other"]
    return {
        "actor": launched["actor"],
        "verb": _verb(v.PASSED),
        "object": {
            "objectType": "Activity",
            "id": package["id"],
            "definition": {
                "type": v.COURSE,
                "name": {"en-US": link["placed_activity"]["title"]},
            },
        },
        "result": {"score": {"scaled": score}, "success": True, "completion": True},
        "context": _content_context(launched),
        "timestamp": _timestamp(at + dt.timedelta(minutes=40)),
    }


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# ---- Code review: recorded deliveries through a real connector ------------------------------


def _code_review_history(
    sessions,
    org: SampleOrg,
    now: dt.datetime,
    rng: random.Random,
    public_url: str,
    instance_secret: str | None,
) -> None:
    """Reviews and comments, each delivery signed and received by the sample's connectors.

    Reviews and review comments on GitHub for everyone, notes on GitLab merge requests for
    Chen too.
    """
    box = SecretBox(instance_secret or secrets.token_hex(32))
    with write_transaction(sessions) as session:
        hub, hub_secret = connectors.create_connector(
            session, org.store_id, "github", box, label=GITHUB_REPOSITORY
        )
        lab, lab_secret = connectors.create_connector(
            session, org.store_id, "gitlab", box, label=GITLAB_PROJECT
        )
        for who, login in GITHUB_LOGINS.items():  # the pull requests' authors too
            links = [("github", login, GITHUB_HOME)]
            if who in GITLAB_USERS:
                links.append(("gitlab", GITLAB_USERS[who], GITLAB_HOME))
            connectors.link_person(session, org.store_id, person_id=org.people[who], links=links)
        github_ref, gitlab_ref = connectors.ConnectorRef.of(hub), connectors.ConnectorRef.of(lab)
    for who, intensity in INTENSITY.items():
        with write_transaction(sessions) as session:
            for at in _times(now, rng, round(REVIEWS * intensity)):
                if who in GITLAB_USERS and rng.random() < 0.4:
                    request = _gitlab_note(GITLAB_USERS[who], at, rng, lab_secret)
                    ref, secret = gitlab_ref, lab_secret
                else:
                    request = _github_delivery(who, at, rng, hub_secret)
                    ref, secret = github_ref, hub_secret
                event = connectors.verify_and_parse(ref, request, secret, None)
                mapped = connectors.SOURCES[ref.kind].map_event(event)
                connectors.record_event(session, ref, mapped, public_url)


def _github_delivery(who: str, at: dt.datetime, rng: random.Random, secret: str):
    """A recorded review or review comment by ``who``, as GitHub delivers it (signed).

    A review that comments or approves, or a comment on the diff, on a teammate's pull request.
    """
    recording = rng.choice((REVIEW, REVIEW, APPROVAL, COMMENT))
    payload = _github_payload(recording)
    number = rng.randrange(100, 900)
    author = rng.choice([login for person, login in GITHUB_LOGINS.items() if person != who])
    opened = at - dt.timedelta(hours=2 + rng.random() * 30)
    url = f"{GITHUB_HOME}/{GITHUB_REPOSITORY}/pull/{number}"
    owner, _, name = GITHUB_REPOSITORY.partition("/")
    repository = payload["repository"]
    repository.update(
        name=name, full_name=GITHUB_REPOSITORY, html_url=f"{GITHUB_HOME}/{GITHUB_REPOSITORY}"
    )
    repository["owner"]["login"] = owner
    pull = payload["pull_request"]
    pull.update(
        number=number,
        html_url=url,
        title=rng.choice(PULL_REQUEST_TITLES),
        created_at=_timestamp(opened),
        updated_at=_timestamp(at),
    )
    pull["user"]["login"] = author
    acting = {"login": GITHUB_LOGINS[who], "id": 9000 + len(who), "type": "User"}
    payload["sender"].update(acting)
    body = rng.choice(REVIEW_BODIES)
    if recording == COMMENT:
        event = "pull_request_review_comment"
        comment = payload["comment"]
        comment_id = rng.randrange(10**8, 10**9)
        comment["user"].update(acting)
        comment.update(
            id=comment_id,
            body=body,
            created_at=_timestamp(at),
            updated_at=_timestamp(at),
            html_url=f"{url}#discussion_r{comment_id}",
        )
    else:
        event = "pull_request_review"
        review = payload["review"]
        review_id = rng.randrange(10**8, 10**9)
        review["user"].update(acting)
        review.update(
            id=review_id,
            body=body,
            submitted_at=_timestamp(at),
            html_url=f"{url}#pullrequestreview-{review_id}",
        )
    raw = json.dumps(payload).encode()
    return WebhookRequest.of(
        {
            "Content-Type": "application/json",
            github.EVENT_HEADER: event,
            github.DELIVERY_HEADER: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            github.SIGNATURE_HEADER: github.signature(raw, secret),
        },
        raw,
        received_at=at.timestamp(),
    )


def _gitlab_note(username: str, at: dt.datetime, rng: random.Random, secret: str):
    """A recorded note on a merge request by ``username``, as GitLab delivers it."""
    payload = copy.deepcopy(_recorded("gitlab", "note.merge_request.json"))
    project_url = f"{GITLAB_HOME}/{GITLAB_PROJECT}"
    iid = rng.randrange(10, 400)
    note_id = rng.randrange(10**5, 10**6)
    payload["user"].update(username=username, name=username)
    payload["project"].update(
        name=GITLAB_PROJECT.rpartition("/")[2],
        web_url=project_url,
        path_with_namespace=GITLAB_PROJECT,
        homepage=project_url,
    )
    payload["object_attributes"].update(
        id=note_id,
        note=rng.choice(REVIEW_BODIES),
        created_at=at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        updated_at=at.strftime("%Y-%m-%d %H:%M:%S UTC"),
        url=f"{project_url}/-/merge_requests/{iid}#note_{note_id}",
    )
    opened = at - dt.timedelta(hours=3 + rng.random() * 40)
    payload["merge_request"].update(
        iid=iid,
        title=rng.choice(PULL_REQUEST_TITLES),
        created_at=opened.strftime("%Y-%m-%d %H:%M:%S UTC"),
        url=f"{project_url}/-/merge_requests/{iid}",
    )
    raw = json.dumps(payload).encode()
    return WebhookRequest.of(
        {
            "Content-Type": "application/json",
            gitlab.EVENT_HEADER: "Note Hook",
            gitlab.TOKEN_HEADER: secret,
            "Idempotency-Key": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        },
        raw,
        received_at=at.timestamp(),
    )


# ---- Micro-learning: the badge platform's export through the importer -----------------------


def _microlearning_import(sessions, org: SampleOrg, now: dt.datetime, public_url: str) -> None:
    """Import the export as ``learnloop import microlearning`` does.

    Each row is mapped by the recipe and stored (or skipped as a duplicate) under the
    importer's authority.
    """
    mapping = _mapping()
    principal = source_principal(
        org.store_id, f"connector:{microlearning.SOURCE}", public_url + "/"
    )
    seen: set[str] = set()
    with write_transaction(sessions) as session:
        for record in _export_records(mapping, now):
            statements = microlearning.map_row(record, mapping)
            connectors.store_row(session, principal, statements, seen)
