"""Journey 1, Evaluate: "A newcomer runs the README's first command, sends the README's curl
statement, signs in with the printed account, and finds that statement on the pages."

(The journey's last step, running the README's second command, is the CI run itself.)
"""

import json
import re

import pytest
import requests

from tests.journeys.support import (
    HTTP_TIMEOUT,
    LEARNLOOP,
    README,
    REPOSITORY,
    printed_admin,
    readme_curl,
    readme_first_command,
    rebase,
    sign_in,
)

# ---- the newcomer's steps ------------------------------------------------------------------


def command_behind_the_readmes_first_command() -> list[str]:
    """The README's first command is a script; the `learnloop` command line it ends in."""
    script = REPOSITORY / readme_first_command()
    assert script.is_file(), f"the README's first command {readme_first_command()!r} is not a file"
    runs = re.search(r"^exec \S*/(learnloop .*)$", script.read_text(), flags=re.MULTILINE)
    assert runs, f"{script.name} does not end by running `learnloop`"
    return runs.group(1).replace('"$@"', "").split()


def send_the_readmes_curl_statement(printed) -> tuple[str, dict]:
    """Send the README's curl request to the printed endpoint with the printed credential."""
    curl = readme_curl(containing="-d")
    # The README shows the default address; the demo runs on the address it printed.
    documented_endpoint = re.search(r"prints the xAPI endpoint \(`(\S+)`\)", README.read_text())
    assert documented_endpoint, "README.md does not say which endpoint the demo prints"
    url = rebase(curl.url, documented_endpoint.group(1), printed.xapi_endpoint)
    assert curl.user == (printed.key, printed.secret), (
        "the README's curl uses a credential the demo does not print"
    )
    response = requests.request(
        curl.method,
        url,
        auth=(printed.key, printed.secret),
        headers=curl.headers,
        data=curl.body.encode(),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    [statement_id] = response.json()
    return statement_id, json.loads(curl.body)


def get_the_statement_back(printed, statement_id: str) -> dict:
    response = requests.get(
        printed.xapi_endpoint + "statements",
        params={"statementId": statement_id},
        auth=(printed.key, printed.secret),
        headers={"X-Experience-API-Version": readme_curl().headers["X-Experience-API-Version"]},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()


def open_the_statement_browser(page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Statements").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Statements", level=1).is_visible()


def filter_statements_by_activity(page, activity_id: str) -> None:
    page.get_by_label("Activity IRI").fill(activity_id)
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()


# ---- the journey -----------------------------------------------------------------------------


def test_the_readmes_first_command_is_the_demo_these_tests_start():
    """`./scripts/serve-demo` installs, then runs `learnloop demo`: the command started here."""
    assert command_behind_the_readmes_first_command() == ["learnloop", "demo"]
    assert LEARNLOOP.is_file()


@pytest.mark.browser
def test_newcomer_sends_the_readme_statement_and_finds_it_on_the_pages(demo, new_page):
    """Sends the README's curl statement, reads it back, finds it signed in as the printed admin."""
    printed = demo.printed
    assert printed.xapi_endpoint == f"{demo.base_url}/xapi/"

    statement_id, sent = send_the_readmes_curl_statement(printed)

    stored = get_the_statement_back(printed, statement_id)
    assert stored["id"] == statement_id
    for part in ("actor", "verb", "object"):
        for name, value in sent[part].items():
            assert stored[part][name] == value

    admin = printed_admin(demo)
    page = new_page()
    sign_in(page, printed.sign_in_url, printed.organisation, admin, printed.password)
    open_the_statement_browser(page)
    filter_statements_by_activity(page, sent["object"]["id"])
    listed = page.get_by_role("listitem").filter(has=page.get_by_text(statement_id, exact=True))
    assert listed.count() == 1, (
        "the statement sent with the printed credential is not in the printed account's "
        "statement browser"
    )
    assert sent["object"]["id"] in listed.inner_text()
    assert page.console_errors == []
