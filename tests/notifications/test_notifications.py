"""Notifications end to end on SQLite and PostgreSQL (issue 21): events from the real actions
(/api, statements through the worker), e-mail received by a real SMTP server (aiosmtpd), the
one-click unsubscribe, the weekly digest under a moved clock, the inbox and its bell, chat."""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import urlsplit

import pytest

from lrs import deliveries
from lrs.db import read_transaction, write_transaction
from lrs.vocabulary import COMPLETED
from notifications import services, tasks
from notifications.settings import MailConfig
from objectives.accounts import session_fields, set_locale
from objectives.models import Account
from tests.forwarding.receiver import Receiver
from tests.notifications.conftest import FROM
from tests.notifications.smtp import parts
from tests.support.worker import drain

COURSE = "https://lms.acme.test/courses/notify-101"


def attach(team, who, title="Finish Notify 101"):
    review_id = team.review(who)
    made = team.client("maya").post(
        f"/reviews/{review_id}/objectives",
        json={"title": title, "criteria": [{"verbs": [COMPLETED], "activity_ids": [COURSE]}]},
    )
    assert made.status_code == 201, made.get_json()
    return review_id, made.get_json()["id"]


def completed(team, who, when=None):
    moment = when or dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    team.write(
        [
            {
                "actor": {"mbox": f"mailto:{team.address(who)}"},
                "verb": {"id": COMPLETED},
                "object": {"id": COURSE},
                "timestamp": moment.isoformat().replace("+00:00", "Z"),
            }
        ]
    )


def email_log(team):
    with read_transaction(team.app.extensions["learnloop"].sessions) as session:
        rows = deliveries.recent(session, team.store_id, tasks.CHANNEL)
        session.expunge_all()
        return list(reversed(rows))


def test_an_attached_objective_is_emailed_to_the_learner_and_one_click_turns_it_off(team):
    review_id, _ = attach(team, "ann")
    [opened, message] = team.smtp.mailbox.to(team.address("ann"))
    assert "review is open" in opened["Subject"]
    assert message["From"] == FROM
    assert message["To"] == "Ann <" + team.address("ann") + ">"
    assert (
        message["Subject"] == "[Learnloop] New objective on your Winter review: Finish Notify 101"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = message["List-Unsubscribe"].strip().strip("<>")
    body = parts(message)
    for text in (body["text/plain"], body["text/html"]):
        assert "Hello Ann," in text
        assert "Finish Notify 101" in text and "Maya" in text
        assert f"http://localhost/reviews/{review_id}" in text
        assert unsubscribe in text
        assert "http://localhost/notifications/preferences" in text
    assert "<strong>Finish Notify 101</strong>" in body["text/html"]
    assert [(e.outcome, e.event_type, e.target_id) for e in email_log(team)][-1] == (
        "delivered",
        "objective.attached",
        team.people["ann"],
    )

    # RFC 8058: a POST with no session and the one-click body turns the kind off.
    anonymous = team.app.test_client()
    page = anonymous.get(urlsplit(unsubscribe).path)
    assert page.status_code == 200 and b"Stop these e-mails" in page.data
    done = anonymous.post(
        urlsplit(unsubscribe).path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert done.status_code == 200 and b"no more e-mail" in done.data
    with read_transaction(team.app.extensions["learnloop"].sessions) as session:
        assert services.mode_of(session, team.people["ann"], "objective.attached") == "off"
    team.client("maya").post(
        f"/reviews/{review_id}/objectives",
        json={"title": "Second one", "criteria": [{"verbs": [COMPLETED]}]},
    )
    assert len(team.smtp.mailbox.to(team.address("ann"))) == 2  # no more mail of that kind
    assert team.inbox("ann")[-1].title.endswith("Second one")  # the inbox still has it
    forged = anonymous.post(urlsplit(unsubscribe).path[:-3] + "abc")
    assert forged.status_code == 404


def test_a_german_speaking_recipient_gets_the_email_in_german_and_others_in_english(team):
    """The account's language (``de-DE``, as an LMS or the preferences page sets it) chooses
    the letter's, its subject included, and the inbox's; maya, who chose none, still reads
    English."""
    with write_transaction(team.app.extensions["learnloop"].sessions) as session:
        set_locale(session, team.accounts["ann"], "de-DE")
    review_id, _ = attach(team, "ann", title="<Notify & 101>")
    [opened, message] = team.smtp.mailbox.to(team.address("ann"))
    body = parts(message)
    assert body["text/plain"].startswith(
        'Hallo Ann,\n\nMaya hat Ihrer Beurteilung Winter ein Ziel hinzugefügt: "<Notify & 101>".'
    )
    assert "Öffnen: http://localhost/reviews/" in body["text/plain"]
    assert "Stop these e-mails" not in body["text/plain"]
    html = body["text/html"]
    assert '<html lang="de" dir="ltr">' in html
    assert "<p>Hallo Ann,</p>" in html
    assert "ein Ziel hinzugefügt: <strong>&lt;Notify &amp; 101&gt;</strong>." in html
    assert ">In Learnloop öffnen</a>" in html and "Open it" not in html
    assert "Beurteilung Winter" in parts(opened)["text/plain"]
    assert (
        message["Subject"] == "[Learnloop] Neues Ziel in Ihrer Beurteilung Winter: <Notify & 101>"
    )
    assert parts(opened)["text/plain"].startswith("Hallo Ann,")
    assert "Ihre Beurteilung Winter ist eröffnet" in opened["Subject"]

    # The same notice in the inbox, in German for Ann (her account's language).
    pages = team.app.test_client()
    with read_transaction(team.app.extensions["learnloop"].sessions) as session:
        fields = session_fields(session.get(Account, team.accounts["ann"]), dt.datetime.now(dt.UTC))
    with pages.session_transaction() as cookie:
        cookie.update(fields)
    listed = pages.get("/notifications").get_data(as_text=True)
    assert "Neues Ziel in Ihrer Beurteilung Winter: &lt;Notify &amp; 101&gt;" in listed
    assert "New objective on your" not in listed
    # The English line stays stored as well (for exports and the API).
    assert team.inbox("ann")[-1].title == "New objective on your Winter review: <Notify & 101>"

    attach(team, "ben")
    [_, english] = [m for m in team.smtp.mailbox.to(team.address("ben"))]
    assert "Maya attached an objective to your Winter review" in parts(english)["text/plain"]
    assert '<html lang="en" dir="ltr">' in parts(english)["text/html"]


def test_a_met_objective_tells_learner_manager_inbox_bell_and_the_teams_chat(team):
    slack, teams = Receiver(), Receiver(answers=[500])
    try:
        runtime = team.app.extensions["learnloop"]
        with write_transaction(runtime.sessions) as session:
            for flavor, receiver in (("slack", slack), ("teams", teams)):
                services.add_chat_hook(
                    session,
                    team.store_id,
                    team.people["maya"],
                    flavor,
                    receiver.url,
                    team.app.extensions["lrs.forwarding"].outbound_guard(),
                    services.chat_box(runtime.instance_secret()),
                    runtime.clock(),
                )
        review_id, _ = attach(team, "ann")
        completed(team, "ann")
        drain(team.app, horizon_ms=5_000, backoff_base_ms=50)

        [met] = [m for m in team.smtp.mailbox.to(team.address("ann")) if "You met" in m["Subject"]]
        assert "You met" in parts(met)["text/plain"]
        [told] = team.smtp.mailbox.to(team.address("maya"))
        assert told["Subject"] == "[Learnloop] Ann met Finish Notify 101"
        assert "Hello Maya," in parts(told)["text/plain"]

        [(_, body)] = slack.received
        payload = json.loads(body)
        assert payload["text"].startswith("Ann met Finish Notify 101")
        assert payload["blocks"][0]["text"]["type"] == "mrkdwn"
        assert (
            f"<http://localhost/reviews/{review_id}|Open in Learnloop>"
            in (payload["blocks"][0]["text"]["text"])
        )
        assert len(teams.received) == 2  # a 500, then again with backoff
        card = json.loads(teams.received[-1][1])
        assert card["type"] == "message"
        attachment = card["attachments"][0]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert attachment["content"]["type"] == "AdaptiveCard"
        assert attachment["content"]["body"][0]["text"] == "Ann met Finish Notify 101"

        # The bell on every page: maya's unread count, the list, mark as read.
        browser = team.app.test_client()
        with read_transaction(runtime.sessions) as session:
            account = session.get(Account, team.accounts["maya"])
            fields = session_fields(account, dt.datetime.now(dt.UTC))
        with browser.session_transaction() as cookie:
            cookie.update(fields)
            cookie["csrf"] = "t"
        assert b'aria-label="Notifications, 1 unread"' in browser.get("/team").data
        listed = browser.get("/notifications")
        assert b"Ann met Finish Notify 101" in listed.data
        assert browser.post("/notifications/read", data={"csrf_token": "t"}).status_code == 303
        assert b'aria-label="Notifications, 0 unread"' in browser.get("/notifications").data
    finally:
        slack.close()
        teams.close()


def test_the_weekly_digest_goes_out_on_its_day_and_lists_what_the_team_met(team, monkeypatch):
    runtime = team.app.extensions["learnloop"]
    wall = runtime.clock
    with write_transaction(runtime.sessions) as session:
        services.set_mode(session, team.store_id, team.people["ann"], "review.opened", "digest", 0)
        set_locale(session, team.accounts["ann"], "de")  # Ann reads her digest in German
    attach(team, "ann")
    attach(team, "ben", "Pair on a review")
    completed(team, "ann")
    opened = [m for m in team.smtp.mailbox.to(team.address("ann")) if "eröffnet" in m["Subject"]]
    assert opened == []  # held for the digest
    team.smtp.mailbox.messages.clear()

    digest_at = team.app.extensions["notifications"].next_digest_ms(wall())
    monkeypatch.setattr(runtime, "clock", lambda: digest_at - 60_000)
    drain(team.app, horizon_ms=0)
    assert not team.smtp.mailbox.to(team.address("maya"))  # not yet its day
    monkeypatch.setattr(runtime, "clock", lambda: digest_at + 1_000)
    drain(team.app, horizon_ms=0)

    [digest] = [m for m in team.smtp.mailbox.to(team.address("maya")) if "week" in m["Subject"]]
    assert digest["Subject"].startswith("[Learnloop] Your week in Learnloop")
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = parts(digest)["text/plain"]
    assert "Objectives your people met this week:\n- Ann: Finish Notify 101" in text
    assert "Reviews due soon or overdue:" in text and "Ben, Winter" in text
    assert "- Ben: 0 of 1 objectives met" in text
    [learner] = [m for m in team.smtp.mailbox.to(team.address("ann")) if "Woche" in m["Subject"]]
    # German, the week too: "24. Nov. – 1. Dez. 2026", not "24 Nov – 1 Dec 2026".
    assert learner["Subject"].startswith("[Learnloop] Ihre Woche in Learnloop, ")
    assert re.search(r"\d\. \w+", learner["Subject"]), learner["Subject"]  # "24. Nov."
    ann = parts(learner)["text/plain"]
    assert "Diese Woche haben Sie erreicht:\n- Finish Notify 101" in ann
    assert "Außerdem diese Woche:\n- Ihre Beurteilung Winter ist eröffnet" in ann  # held
    assert "Hallo Ann," in parts(learner)["text/html"]

    with read_transaction(runtime.sessions) as session:  # the next one, a week later
        next_at = session.execute(
            __import__("sqlalchemy").text(
                "SELECT run_at_ms FROM jobs WHERE kind = 'digest' AND key = :key "
                "AND state = 'pending'"
            ),
            {"key": f"digest:{team.store_id}"},
        ).scalar()
    assert next_at == digest_at + tasks.WEEK_MS


def test_a_review_due_is_told_once_and_a_refusing_server_is_retried_with_backoff(team, monkeypatch):
    runtime = team.app.extensions["learnloop"]
    team.review("ben")
    team.smtp.mailbox.answers_for[team.address("ben")] = ["451 4.3.0 try again later"]
    wall = runtime.clock
    due_at = team.app.extensions["notifications"].next_daily_ms(wall())
    offset = due_at + 1_000 - wall()
    monkeypatch.setattr(runtime, "clock", lambda: wall() + offset)  # moved, and running
    drain(team.app, horizon_ms=10_000, backoff_base_ms=50)
    [ben] = [m for m in team.smtp.mailbox.to(team.address("ben")) if "due" in m["Subject"]]
    assert "Winter review is due on" in ben["Subject"]
    log = [
        (e.outcome, e.attempt, e.status) for e in email_log(team) if e.event_type == "review.due"
    ]
    assert ("retrying", 1, 451) in log and ("delivered", 2, 250) in log
    assert any(
        "Ben's Winter review is due" in m["Subject"]
        for m in team.smtp.mailbox.to(team.address("maya"))
    )
    monkeypatch.setattr(runtime, "clock", lambda: wall() + offset + 86_400_000)
    drain(team.app, horizon_ms=0)  # the next day's scan: told already
    assert len([n for n in team.inbox("ben") if n.kind == "review.due"]) == 1


def test_quiet_by_default_the_inbox_fills_and_nothing_is_emailed(team, smtp):
    team.app.extensions["notifications"] = MailConfig()
    attach(team, "ann")
    assert [n.kind for n in team.inbox("ann")] == ["review.opened", "objective.attached"]
    assert smtp.mailbox.messages == []


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"LEARNLOOP_SMTP_HOST": "mail"}, "LEARNLOOP_SMTP_FROM_ADDRESS must be set"),
        ({"LEARNLOOP_SMTP_SECURITY": "ssl"}, "LEARNLOOP_SMTP_SECURITY must be one of"),
        ({"LEARNLOOP_SMTP_PORT": "x"}, "LEARNLOOP_SMTP_PORT must be a whole number"),
        ({"LEARNLOOP_SMTP_DIGEST_TIME": "8"}, "LEARNLOOP_SMTP_DIGEST_TIME must be a time"),
        ({"LEARNLOOP_SMTP_PASSWORD": "hunter2"}, "go together"),
    ],
)
def test_bad_smtp_settings_are_named_without_their_values(env, problem):
    from learnloop.settings import problems

    [found] = problems(env)
    assert problem in found and "hunter2" not in found


def test_the_digest_day_and_time_are_the_next_ones_after_now():
    config = MailConfig(digest_day="monday", digest_time="08:00")
    wednesday = int(dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC).timestamp() * 1000)
    monday = dt.datetime.fromtimestamp(config.next_digest_ms(wednesday) / 1000, dt.UTC)
    assert monday == dt.datetime(2026, 12, 7, 8, tzinfo=dt.UTC)
    at = int(monday.timestamp() * 1000)
    assert config.next_digest_ms(at) == at + tasks.WEEK_MS
    assert config.next_daily_ms(at) == at + 86_400_000


def test_kudos_received_reaches_the_receiver_and_the_teams_chat_through_the_recognition_hook(
    team,
):
    from recognition import kudos

    slack = Receiver()
    try:
        runtime = team.app.extensions["learnloop"]
        with team.app.app_context(), write_transaction(runtime.sessions) as session:
            services.add_chat_hook(
                session,
                team.store_id,
                team.people["maya"],
                "slack",
                slack.url,
                team.app.extensions["lrs.forwarding"].outbound_guard(),
                services.chat_box(runtime.instance_secret()),
                runtime.clock(),
            )
            kudos.give(
                session,
                team.store_id,
                team.people["ben"],
                team.people["ann"],
                5,
                "Thanks for the pairing",
                "help",
                None,
                "http://localhost",
                runtime.clock(),
            )
        drain(team.app)
        [message] = team.smtp.mailbox.to(team.address("ann"))
        assert message["Subject"] == "[Learnloop] Ben gave you 5 kudos"
        assert "Thanks for the pairing" in parts(message)["text/plain"]
        assert "http://localhost/kudos" in parts(message)["text/html"]
        [(_, body)] = slack.received
        assert json.loads(body)["text"].startswith("Ben gave Ann kudos: Thanks for the pairing")
    finally:
        slack.close()


def test_a_digest_batch_refused_for_now_goes_out_again_after_the_backoff(team, monkeypatch):
    runtime = team.app.extensions["learnloop"]
    wall = runtime.clock
    attach(team, "ann")
    team.smtp.mailbox.messages.clear()
    team.smtp.mailbox.answers_for[team.address("maya")] = ["421 4.7.0 slow down"]
    offset = team.app.extensions["notifications"].next_digest_ms(wall()) + 1_000 - wall()
    monkeypatch.setattr(runtime, "clock", lambda: wall() + offset)
    drain(team.app, horizon_ms=3_000)
    digests = [e for e in email_log(team) if e.event_type == "digest"]
    # maya's (the batch's first) is refused for now: the batch goes again after the backoff
    assert [(e.outcome, e.attempt, e.status, e.target_id) for e in digests] == [
        ("retrying", 1, 421, team.people["maya"]),
        ("delivered", 2, 250, team.people["maya"]),
        ("delivered", 2, 250, team.people["ann"]),
    ]
    weekly = [
        m
        for m in team.smtp.mailbox.messages
        if "Your week" in m["Subject"] and team.domain in str(m["To"])
    ]
    assert sorted(str(m["To"]).split("<")[1].split("@")[0] for m in weekly) == ["ann", "maya"]


def signed_in_client(team, account_id):
    client = team.app.test_client()
    with read_transaction(team.app.extensions["learnloop"].sessions) as session:
        fields = session_fields(session.get(Account, account_id), dt.datetime.now(dt.UTC))
    with client.session_transaction() as cookie:
        cookie.update(fields)
        cookie["csrf"] = "t"
    return client


def test_the_preferences_page_and_the_admins_chat_hooks_page(team):
    from objectives import accounts

    ann = signed_in_client(team, team.accounts["ann"])
    page = ann.get("/notifications/preferences")
    assert page.status_code == 200 and b"In the weekly digest" in page.data
    saved = ann.post(
        "/notifications/preferences",
        data={"csrf_token": "t", "objective.met": "digest", "digest": "off"},
    )
    assert saved.status_code == 200 and b"Saved." in saved.data
    with read_transaction(team.app.extensions["learnloop"].sessions) as session:
        modes = services.modes_of(session, team.people["ann"])
    assert (modes["objective.met"], modes["digest"], modes["review.opened"]) == (
        "digest",
        "off",
        "immediately",
    )
    refused = ann.post("/notifications/preferences", data={"csrf_token": "t", "digest": "x"})
    assert refused.status_code == 400
    assert ann.get("/admin/notifications").status_code == 403

    with write_transaction(team.app.extensions["learnloop"].sessions) as session:
        admin = accounts.create_account(
            session, team.store_id, team.address("admin"), None, is_admin=True
        ).id
    boss = signed_in_client(team, admin)
    listed = boss.get("/admin/notifications")
    assert listed.status_code == 200 and b"Maya" in listed.data
    receiver = Receiver()
    try:
        added = boss.post(
            "/admin/notifications",
            data={
                "csrf_token": "t",
                "action": "add",
                "manager_id": team.people["maya"],
                "flavor": "teams",
                "url": receiver.url,
            },
        )
        assert b"Microsoft Teams hook added (127.0.0.1)" in added.data
        assert receiver.url.encode() not in added.data  # a secret: shown by its host only
    finally:
        receiver.close()


def test_a_chat_address_the_guard_refuses_is_given_up_without_its_url_in_the_log(team):
    from lrs.forwarding.settings import ForwardingConfig

    receiver = Receiver()
    try:
        runtime = team.app.extensions["learnloop"]
        with write_transaction(runtime.sessions) as session:
            hook = services.add_chat_hook(
                session,
                team.store_id,
                team.people["maya"],
                "slack",
                receiver.url,
                team.app.extensions["lrs.forwarding"].outbound_guard(),
                services.chat_box(runtime.instance_secret()),
                runtime.clock(),
            )
            hook_id = hook.id
        team.app.extensions["lrs.forwarding"] = ForwardingConfig()  # loopback refused again
        attach(team, "ann")
        completed(team, "ann")
        assert receiver.received == []
        with read_transaction(runtime.sessions) as session:
            [entry] = deliveries.recent(session, team.store_id, "chat", hook_id)
            assert entry.outcome == "failed" and "refused" in entry.message
            assert receiver.url not in entry.message
    finally:
        receiver.close()
