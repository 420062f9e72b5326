"""The set-up pages per role (issue 14): admins administer the store, managers their reports,
reviewers and learners none of it, and signed-out visitors are sent to sign in.

Flask's test client through the real routes: each page and form as admin, manager of the person
(Maya, Ann's manager), another manager (Nick), a reviewer (Rita, granted Ann's review), a learner
(Ann) and signed out; then what each form leaves in the database.
"""

import datetime as dt
import io
import time
import uuid

import pytest
from sqlalchemy import select

from lrs.auth import get_or_create_store
from lrs.db import read_transaction, write_transaction
from lrs.people.models import Person
from lrs.people.services import ensure_person
from objectives import accounts
from objectives.models import (
    Account,
    Objective,
    ObjectiveTemplate,
    ReportingLine,
    Review,
    ReviewCycle,
    ReviewGrant,
)

ROLES = ("admin", "maya", "nick", "rita", "ann", None)


class Org:
    def __init__(self, app):
        self.app = app
        self.sessions = app.extensions["learnloop"].sessions
        self.people: dict[str, int] = {}
        self.accounts: dict[str, Account] = {}

    def client(self, who):
        client = self.app.test_client()
        if who is not None:
            account = self.accounts[who]
            with client.session_transaction() as cookie:
                cookie.update(
                    {
                        "account_id": account.id,
                        "epoch": account.session_epoch,
                        "at": int(time.time()),
                        "csrf": "token",
                    }
                )
        return client

    def post(self, who, path, data=None, **kwargs):
        return self.client(who).post(path, data={"csrf_token": "token", **(data or {})}, **kwargs)

    def get(self, who, path):
        return self.client(who).get(path)


@pytest.fixture
def org(app):
    result = Org(app)
    with write_transaction(result.sessions) as db:
        store = get_or_create_store(db, f"pages-{uuid.uuid4().hex[:10]}")
        result.store_id = store.id
        for who in ("adam", "maya", "ann", "ben", "nick", "cora", "rita"):
            person = ensure_person(
                db, store.id, {"mbox": f"mailto:{who}@example.com"}, name=who.title()
            )
            result.people[who] = person.id
        for report, manager in (("ann", "maya"), ("ben", "maya"), ("cora", "nick")):
            accounts.set_manager(db, store.id, result.people[report], result.people[manager])
        for who in ("maya", "nick", "rita", "ann", "cora"):
            result.accounts[who] = accounts.create_account(
                db, store.id, f"{who}@example.com", None, person_id=result.people[who]
            )
        result.accounts["admin"] = accounts.create_account(
            db, store.id, "adam@example.com", None, person_id=result.people["adam"], is_admin=True
        )
        cycle = ReviewCycle(
            store_id=store.id,
            name="2027 H1",
            starts_on=dt.date(2027, 1, 1),
            ends_on=dt.date(2027, 6, 30),
        )
        db.add(cycle)
        db.flush()
        result.cycle_id = cycle.id
        review = Review(store_id=store.id, cycle_id=cycle.id, person_id=result.people["ann"])
        db.add(review)
        db.flush()
        result.review_id = review.id
        db.add(ReviewGrant(review_id=review.id, person_id=result.people["rita"]))
    return result


def expect(org, method, path, statuses, data=None):
    """Each role's status for one request; signed-out POSTs fail the form check (400)."""
    got = {}
    for who in ROLES:
        if method == "GET":
            answer = org.get(who, path)
        else:
            answer = org.post(who, path, data)
        got[who] = answer.status_code
        if who is None and method == "GET":
            assert "/sign-in" in answer.headers["Location"]
    wanted = dict(zip(ROLES, [*statuses, 302 if method == "GET" else 400], strict=True))
    assert got == wanted, path


def test_each_page_answers_each_role(org):
    ann, cora = org.people["ann"], org.people["cora"]
    #                                         admin maya nick rita ann
    expect(org, "GET", "/admin/people", (200, 200, 200, 403, 403))
    expect(org, "GET", f"/admin/people/{ann}", (200, 200, 404, 403, 403))
    expect(org, "GET", f"/admin/people/{cora}", (200, 404, 200, 403, 403))
    expect(org, "GET", "/admin/people/import", (200, 403, 403, 403, 403))
    expect(org, "GET", "/admin/accounts", (200, 403, 403, 403, 403))
    expect(org, "GET", "/admin/cycles", (200, 200, 200, 403, 403))
    expect(org, "GET", f"/admin/cycles/{org.cycle_id}", (200, 200, 200, 403, 403))
    expect(org, "GET", "/admin/templates", (200, 200, 200, 403, 403))
    expect(org, "GET", "/admin/templates/new", (200, 200, 200, 403, 403))
    expect(org, "GET", f"/admin/reviews/{org.review_id}/reviewers", (200, 200, 404, 403, 403))


def test_each_form_answers_each_role(org):
    ann = org.people["ann"]
    review, cycle = org.review_id, org.cycle_id
    rename = {"name": "Ann", "email": "ann@example.com"}
    expect(org, "POST", f"/admin/people/{ann}", (302, 302, 404, 403, 403), rename)
    expect(org, "POST", f"/admin/people/{ann}/identities", (302, 302, 404, 403, 403),
           {"kind": "github", "login": "ann-gh"})  # fmt: skip
    expect(org, "POST", "/admin/people", (302, 403, 403, 403, 403),
           {"name": "Zoe", "email": f"zoe{uuid.uuid4().hex[:6]}@example.com"})  # fmt: skip
    expect(org, "POST", f"/admin/people/{ann}/manager", (302, 302, 404, 403, 403),
           {"manager_id": org.people["maya"]})  # fmt: skip
    new_cycle = {"name": "2027 H2", "starts_on": "2027-07-01", "ends_on": "2027-12-31"}
    expect(org, "POST", "/admin/cycles", (302, 403, 403, 403, 403), new_cycle)
    expect(org, "POST", f"/admin/cycles/{cycle}/team-reviews", (302, 302, 404, 403, 403),
           {"manager_id": org.people["maya"]})  # fmt: skip
    expect(org, "POST", f"/admin/reviews/{review}/reviewers", (302, 302, 404, 403, 403),
           {"person_id": org.people["ben"]})  # fmt: skip
    account = org.accounts["cora"].id  # nobody signed in as Cora here
    for action in ("disable", "enable", "reset"):
        expect(org, "POST", f"/admin/accounts/{account}/{action}", (302, 403, 403, 403, 403))
    expect(org, "POST", "/admin/accounts", (302, 403, 403, 403, 403),
           {"email": f"n{uuid.uuid4().hex[:6]}@example.com", "name": "New"})  # fmt: skip
    ben = org.people["ben"]  # Maya's report, without an account
    expect(org, "POST", f"/admin/people/{ben}/deactivate", (302, 403, 403, 403, 403))


def test_a_manager_cannot_change_people_outside_their_reports(org):
    cora = org.people["cora"]
    answer = org.post("maya", f"/admin/people/{cora}", {"name": "Renamed", "email": "c@x.test"})
    assert answer.status_code == 404
    moved = org.post("maya", f"/admin/people/{org.people['ann']}/manager",
                     {"manager_id": org.people["nick"]})  # fmt: skip
    assert moved.status_code == 403  # Nick is not in Maya's team
    with read_transaction(org.sessions) as db:
        assert db.get(Person, cora).name == "Cora"
        assert db.get(ReportingLine, org.people["ann"]).manager_id == org.people["maya"]


def test_a_reporting_loop_is_refused_in_plain_words_next_to_the_field(org):
    client = org.client("admin")
    maya = org.people["maya"]
    answer = client.post(f"/admin/people/{maya}/manager",
                         data={"csrf_token": "token", "manager_id": org.people["ann"]})  # fmt: skip
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert (
        '<p class="field-error" id="e-manager">Ann reports to Maya, directly or through others, '
        "so Maya cannot report to Ann</p>" in page
    )
    assert 'aria-invalid="true" aria-describedby="e-manager"' in page


def test_a_refusal_is_said_in_the_pages_language(org):
    """The service's message (issue 22) in German and French on the page, next to the field
    (the English of the test above is the same refusal)."""
    client = org.client("admin")
    maya = org.people["maya"]
    for language, words in (
        ("de", "Ann berichtet direkt oder über andere an Maya, daher kann Maya nicht an Ann"),
        ("fr", "Ann rend compte à Maya, directement ou par d’autres, donc Maya ne peut pas"),
    ):
        answer = client.post(
            f"/admin/people/{maya}/manager",
            data={"csrf_token": "token", "manager_id": org.people["ann"]},
            headers={"Accept-Language": language},
        )
        page = client.get(answer.headers["Location"], headers={"Accept-Language": language})
        assert f'<p class="field-error" id="e-manager">{words}' in page.get_data(as_text=True)
    answer = client.post(
        "/admin/people",
        data={"csrf_token": "token", "name": "Zed", "email": "zed"},
        headers={"Accept-Language": "de"},
    )
    page = client.get(answer.headers["Location"], headers={"Accept-Language": "de"})
    assert 'id="e-email">geben Sie eine E-Mail-Adresse wie ann@example.com ein</p>' in (
        page.get_data(as_text=True)
    )


def test_a_refused_person_keeps_the_values_and_says_which_field(org):
    client = org.client("admin")
    answer = client.post(
        "/admin/people", data={"csrf_token": "token", "name": "Zed", "email": "zed"}
    )
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert 'id="e-email">write an e-mail address like ann@example.com</p>' in page
    assert 'value="Zed"' in page
    taken = client.post("/admin/people", data={"csrf_token": "token", "name": "Twin",
                                                "email": "ANN@example.com"})  # fmt: skip
    page = client.get(taken.headers["Location"]).get_data(as_text=True)
    assert 'id="e-email">Ann already has ann@example.com</p>' in page


def test_disabling_and_resetting_end_every_session(org):
    rita = org.client("rita")
    assert rita.get(f"/reviews/{org.review_id}").status_code == 200
    account = org.accounts["rita"].id
    org.post("admin", f"/admin/accounts/{account}/reset")
    assert rita.get(f"/reviews/{org.review_id}").status_code == 302  # signed out
    with read_transaction(org.sessions) as db:
        assert db.get(Account, account).password_hash is None
    org.accounts["rita"] = read_account(org, account)
    rita = org.client("rita")
    assert rita.get(f"/reviews/{org.review_id}").status_code == 200
    org.post("admin", f"/admin/accounts/{account}/disable")
    assert rita.get(f"/reviews/{org.review_id}").status_code == 302


def read_account(org, account_id):
    with read_transaction(org.sessions) as db:
        account = db.get(Account, account_id)
        db.expunge(account)
        return account


def test_an_invitation_link_works_once_and_signs_in(org):
    admin = org.client("admin")
    admin.post("/admin/accounts", data={"csrf_token": "token", "email": "ben@example.com"})
    page = admin.get("/admin/accounts").get_data(as_text=True)
    link = page.split('<code class="welcome-link">')[1].split("</code>")[0]
    path = link.split("localhost", 1)[1]
    ben = org.app.test_client()
    form = ben.get(path)
    assert form.status_code == 200 and "ben@example.com" in form.get_data(as_text=True)
    csrf = form.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    short = ben.post(path, data={"csrf_token": csrf, "password": "short", "confirm": "short"})
    assert short.status_code == 400
    assert 'id="e-password">use at least 12 characters</p>' in short.get_data(as_text=True)
    differ = ben.post(path, data={"csrf_token": csrf, "password": "a" * 12, "confirm": "b" * 12})
    assert 'id="e-confirm">the two passwords are not the same</p>' in differ.get_data(as_text=True)
    done = ben.post(path, data={"csrf_token": csrf, "password": "p" * 14, "confirm": "p" * 14})
    assert done.status_code == 302
    assert ben.get("/").status_code == 302  # signed in: home sends Ben on to his record
    assert ben.get(f"/people/{org.people['ben']}").status_code == 200
    again = org.app.test_client().get(path)
    assert again.status_code == 404 and "used or has expired" in again.get_data(as_text=True)


def test_team_reviews_with_a_template_in_one_step_then_grants(org):
    client = org.client("maya")
    page = client.get("/admin/templates/new")
    assert page.status_code == 200
    saved = client.post("/admin/templates", data={
        "csrf_token": "token", "title": "Finish the security course", "rule": "all",
        "c0-source": "any", "c0-verbs": "http://adlnet.gov/expapi/verbs/completed",
        "c0-min_count": "1", "c0-count": "statements",
    })  # fmt: skip
    assert saved.status_code == 302 and saved.headers["Location"].endswith("/admin/templates")
    with read_transaction(org.sessions) as db:
        template = db.scalar(
            select(ObjectiveTemplate).where(ObjectiveTemplate.store_id == org.store_id)
        )
        db.expunge(template)
    edit = client.get(f"/admin/templates/{template.id}").get_data(as_text=True)
    assert 'value="Finish the security course"' in edit
    assert 'value="http://adlnet.gov/expapi/verbs/completed" checked' in edit
    data = {"csrf_token": "token", "manager_id": org.people["maya"], "template_id": template.id}
    first = client.post(f"/admin/cycles/{org.cycle_id}/team-reviews", data=data)
    notice = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "1 review created, 1 already there; the template attached to 2." in notice
    second = client.post(f"/admin/cycles/{org.cycle_id}/team-reviews", data=data)
    notice = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "0 reviews created, 2 already there; the template attached to 0." in notice
    with read_transaction(org.sessions) as db:
        reviews = db.scalars(select(Review).where(Review.cycle_id == org.cycle_id)).all()
        assert {r.person_id for r in reviews} == {org.people["ann"], org.people["ben"]}
        objectives = db.scalars(select(Objective).where(Objective.template_id == template.id))
        assert len(objectives.all()) == 2
    retire = client.post(f"/admin/templates/{template.id}/retire", data={"csrf_token": "token"})
    assert retire.status_code == 302
    review_page = client.get(f"/reviews/{org.review_id}").get_data(as_text=True)
    assert f'<option value="{template.id}">' not in review_page  # no longer offered


def test_closing_a_cycle_stops_new_reviews(org):
    org.post("admin", f"/admin/cycles/{org.cycle_id}/close")
    client = org.client("maya")
    data = {"csrf_token": "token", "manager_id": org.people["maya"]}
    answer = client.post(f"/admin/cycles/{org.cycle_id}/team-reviews", data=data)
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert '<p class="error" role="alert">2027 H1 is closed; open a new cycle</p>' in page


def test_the_import_page_previews_then_applies(org):
    client = org.client("admin")
    csv = (
        "email,name,manager_email\n"
        "ann@example.com,Ann,maya@example.com\n"
        "dora@example.com,Dora,ann@example.com\n"
        "eve@example.com,Eve,nobody@example.com\n"
    )
    preview = client.post("/admin/people/import", data={
        "csrf_token": "token", "file": (io.BytesIO(csv.encode()), "people.csv"),
    }, content_type="multipart/form-data")  # fmt: skip
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "1 created, 0 updated, 1 unchanged, 1 rejected." in page
    assert "nobody@example.com is neither in the file nor in Learnloop" in page
    with read_transaction(org.sessions) as db:
        assert db.scalar(select(Person).where(Person.email == "dora@example.com")) is None
    applied = client.post("/admin/people/import", data={
        "csrf_token": "token", "apply": "1", "csv_text": csv,
    })  # fmt: skip
    assert "1 created, 0 updated, 1 unchanged, 1 rejected." in applied.get_data(as_text=True)
    with read_transaction(org.sessions) as db:
        dora = db.scalar(
            select(Person).where(
                Person.email == "dora@example.com", Person.store_id == org.store_id
            )
        )
        assert db.get(ReportingLine, dora.id).manager_id == org.people["ann"]
    bad = client.post("/admin/people/import", data={
        "csrf_token": "token", "file": (io.BytesIO(b"name\nx\n"), "p.csv"),
    }, content_type="multipart/form-data")  # fmt: skip
    assert bad.status_code == 400
    assert 'id="e-file">the header row has no email column' in bad.get_data(as_text=True)


def test_managers_find_the_set_up_pages_from_their_team(org):
    set_up = 'aria-label="Set up"'
    assert set_up in org.get("maya", "/team").get_data(as_text=True)
    assert set_up in org.get("admin", "/team").get_data(as_text=True)
    assert set_up not in org.get("rita", "/team").get_data(as_text=True)


def test_a_retired_template_is_not_attached_and_a_closed_cycle_takes_no_review(org):
    with write_transaction(org.sessions) as db:
        template = ObjectiveTemplate(
            store_id=org.store_id, title="Old course", rule="all", criteria="[]",
            retired_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        )  # fmt: skip
        db.add(template)
        db.flush()
        template_id = template.id
    answer = org.post("maya", f"/reviews/{org.review_id}/objectives", {"template_id": template_id})
    assert answer.status_code == 400
    assert "the template Old course is retired" in answer.get_data(as_text=True)
    org.post("admin", f"/admin/cycles/{org.cycle_id}/close")
    from objectives import services as svc

    with write_transaction(org.sessions) as db:
        viewer = accounts.viewer_of(db.get(Account, org.accounts["admin"].id))
        with pytest.raises(Exception, match="the cycle 2027 H1 is closed"):
            svc.create_review(
                db, viewer, {"cycle_id": org.cycle_id, "person_id": org.people["ben"]}
            )


def test_the_other_forms_answer_each_role(org):
    with write_transaction(org.sessions) as db:
        template = ObjectiveTemplate(store_id=org.store_id, title="T", rule="all", criteria="[]")
        db.add(template)
        db.flush()
        template_id = template.id
    cycle, review = org.cycle_id, org.review_id
    ben, rita = org.people["ben"], org.people["rita"]
    #                                                             admin maya nick rita ann
    expect(org, "GET", f"/admin/templates/{template_id}", (200, 200, 200, 403, 403))
    for action in ("retire", "restore"):
        expect(org, "POST", f"/admin/templates/{template_id}/{action}", (302, 302, 302, 403, 403))
    criteria = {"title": "T2", "rule": "all", "c0-source": "any", "c0-min_count": "1",
                "c0-verbs": "http://adlnet.gov/expapi/verbs/completed"}  # fmt: skip
    expect(org, "POST", f"/admin/templates/{template_id}", (302, 302, 302, 403, 403), criteria)
    expect(org, "POST", "/admin/templates", (302, 302, 302, 403, 403), criteria)
    expect(org, "POST", f"/admin/reviews/{review}/reviewers/{rita}/remove",
           (302, 302, 404, 403, 403))  # fmt: skip
    expect(org, "POST", f"/admin/people/{ben}/reactivate", (302, 403, 403, 403, 403))
    expect(org, "POST", f"/admin/accounts/{org.accounts['cora'].id}/role",
           (302, 403, 403, 403, 403), {"is_admin": "0"})  # fmt: skip
    upload = {"csv_text": "email,name\nzed@example.com,Zed\n"}
    expect(org, "POST", "/admin/people/import", (200, 403, 403, 403, 403), upload)
    for action in ("close", "reopen"):
        expect(org, "POST", f"/admin/cycles/{cycle}/{action}", (302, 403, 403, 403, 403))
    with read_transaction(org.sessions) as db:
        assert db.get(ObjectiveTemplate, template_id).title == "T2"
        assert db.get(ReviewCycle, cycle).closed_at is None


def test_an_admin_cannot_lock_themselves_out(org):
    me = org.accounts["admin"].id
    client = org.client("admin")
    client.post(f"/admin/accounts/{me}/role", data={"csrf_token": "token", "is_admin": "0"})
    page = client.get("/admin/accounts").get_data(as_text=True)
    assert "you cannot take the admin role from yourself; ask another admin" in page
    assert f'/admin/accounts/{me}/disable"' not in page  # no button to disable oneself


def test_the_review_links_its_reviewers_page_for_its_managers(org):
    link = f'href="/admin/reviews/{org.review_id}/reviewers"'
    assert link in org.get("maya", f"/reviews/{org.review_id}").get_data(as_text=True)
    assert link not in org.get("rita", f"/reviews/{org.review_id}").get_data(as_text=True)
