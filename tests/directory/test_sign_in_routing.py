"""Sign-in without guessing the organisation (issue 14, item 5): the store comes from the URL,
from being the only one, or from the email's domain; the organisation field is asked last."""

import pytest

from learnloop import create_app
from learnloop.cli import upgrade_database
from tests.support import sign_in as support


def _app(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('routing') / 'db.sqlite3'}"
    upgrade_database(url)
    return create_app({"database_url": url, "instance_path": str(tmp_path_factory.mktemp("i"))})


def _post(client, path, **form):
    token = support.csrf(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **form})


@pytest.fixture(scope="module")
def one_store(tmp_path_factory):
    app = _app(tmp_path_factory)
    store = support.add_store(app, "solo")
    support.add_account(app, store, "ann@solo.test")
    yield app
    app.extensions["learnloop"].engine.dispose()


@pytest.fixture(scope="module")
def two_stores(backend, tmp_path_factory):
    """Two stores on SQLite and on PostgreSQL (the settings and domains tables of 0016)."""
    upgrade_database(backend)
    app = create_app({"database_url": backend, "instance_path": str(tmp_path_factory.mktemp("i"))})
    north = support.add_store(app, "north")
    south = support.add_store(app, "south")
    support.add_account(app, north, "ann@north.test")
    support.add_account(app, south, "ann@south.test")
    support.add_account(app, south, "bob@gmail.test")
    support.configure(app, north, domains=("north.test",))
    support.configure(app, south, domains=("south.test", "south-labs.test"))
    app.north = north
    yield app
    app.extensions["learnloop"].engine.dispose()


def test_with_one_store_the_form_has_no_organisation_field(one_store):
    page = one_store.test_client().get("/sign-in").get_data(as_text=True)
    assert 'name="store"' not in page
    assert "Organisation" not in page
    assert "to solo" in page


def test_with_one_store_email_and_password_sign_in(one_store):
    client = one_store.test_client()
    answer = _post(client, "/sign-in", email="ann@solo.test", password=support.PASSWORD)
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_with_several_stores_the_form_asks_for_the_organisation(two_stores):
    page = two_stores.test_client().get("/sign-in").get_data(as_text=True)
    assert 'name="store"' in page
    assert "Use single sign-on" in page


def test_the_email_domain_chooses_the_store(two_stores):
    client = two_stores.test_client()
    answer = _post(client, "/sign-in", email="ann@south.test", password=support.PASSWORD)
    assert answer.status_code == 302
    assert client.get("/account/api-token").status_code == 200


def test_the_same_email_name_in_the_other_store_is_found_by_its_domain(two_stores):
    client = two_stores.test_client()
    answer = _post(client, "/sign-in", email="ann@north.test", password=support.PASSWORD)
    assert answer.status_code == 302


def test_an_unknown_domain_asks_which_organisation(two_stores):
    client = two_stores.test_client()
    answer = _post(client, "/sign-in", email="bob@gmail.test", password=support.PASSWORD)
    assert answer.status_code == 400
    assert "Which organisation?" in answer.get_data(as_text=True)
    named = _post(
        client, "/sign-in", email="bob@gmail.test", password=support.PASSWORD, store="south"
    )
    assert named.status_code == 302


def test_the_store_in_the_url_needs_no_field(two_stores):
    client = two_stores.test_client()
    page = client.get("/s/south/sign-in").get_data(as_text=True)
    assert 'name="store"' not in page and "to south" in page
    answer = _post(client, "/s/south/sign-in", email="bob@gmail.test", password=support.PASSWORD)
    assert answer.status_code == 302


def test_the_store_in_the_url_is_the_only_one_tried(two_stores):
    client = two_stores.test_client()
    answer = _post(client, "/s/north/sign-in", email="ann@south.test", password=support.PASSWORD)
    assert answer.status_code == 401


def test_an_unknown_store_in_the_url_is_not_found(two_stores):
    assert two_stores.test_client().get("/s/nowhere/sign-in").status_code == 404


def test_next_is_kept_on_this_site(two_stores):
    form = {"email": "bob@gmail.test", "password": support.PASSWORD}
    inside = _post(two_stores.test_client(), "/s/south/sign-in?next=/team", **form)
    assert inside.headers["Location"] == "/team"
    outside = _post(two_stores.test_client(), "/s/south/sign-in?next=//evil.test/x", **form)
    assert outside.headers["Location"] == "/"


def test_single_sign_on_without_it_set_up_says_so(two_stores):
    client = two_stores.test_client()
    answer = _post(client, "/sign-in", email="ann@south.test", sso="1")
    assert answer.status_code == 400
    assert "does not use single sign-on" in answer.get_data(as_text=True)
    assert client.get("/s/south/sign-in/sso").status_code == 404


def test_a_form_without_its_token_changes_nothing(two_stores):
    answer = two_stores.test_client().post(
        "/s/south/sign-in", data={"email": "bob@gmail.test", "password": support.PASSWORD}
    )
    assert answer.status_code == 400


def test_wrong_passwords_are_throttled_whichever_way_the_store_was_chosen(two_stores):
    client = two_stores.test_client()
    statuses = [
        _post(client, "/sign-in", email="ann@north.test", password="wrong-password-1").status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [401] * 10
    assert statuses[10] == 429
    blocked = _post(client, "/s/north/sign-in", email="ann@north.test", password=support.PASSWORD)
    assert blocked.status_code == 429 and blocked.headers["Retry-After"]


def test_a_domain_belongs_to_one_store(two_stores):
    from lrs.errors import Conflict

    with pytest.raises(Conflict, match="south.test already belongs"):
        support.configure(two_stores, two_stores.north, domains=("north.test", "south.test"))
