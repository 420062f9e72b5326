"""Answers whose words follow the reader's language say so (issue 22): a page and the /api's
JSON carry ``Content-Language`` and ``Vary: Accept-Language``, so a shared cache never serves
one reader's German to another's French; the LRS's answers and static files are not marked.
"""

import pytest

from learnloop import create_app
from learnloop.cli import upgrade_database


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('lang') / 'learnloop.sqlite3'}"
    upgrade_database(url)
    app = create_app({"database_url": url, "public_url": "http://localhost"})
    yield app.test_client()
    app.extensions["learnloop"].engine.dispose()


@pytest.mark.parametrize("language, said", [("de-DE,de;q=0.9", "de"), ("fr", "fr"), ("", "en")])
def test_a_page_and_the_api_say_their_language_and_vary_by_it(client, language, said):
    headers = {"Accept-Language": language} if language else {}
    for path in ("/sign-in", "/api/vocabulary"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 200, (path, answer.status_code)
        assert answer.headers["Content-Language"] == said, path
        assert "Accept-Language" in answer.headers["Vary"], path
    assert f'<html lang="{said}"' in client.get("/sign-in", headers=headers).get_data(True)


def test_the_lrs_and_static_files_are_not_marked(client):
    about = client.get("/xapi/about", headers={"Accept-Language": "de"})
    assert about.status_code == 200
    assert "Content-Language" not in about.headers
    assert "Accept-Language" not in about.headers.get("Vary", "")
    css = client.get("/static/app.css", headers={"Accept-Language": "de"})
    assert css.status_code == 200 and "Content-Language" not in css.headers
