"""The statements page's Download form in a real browser with JavaScript switched off (issue 17).

An admin filters the statement browser, picks CSV and downloads: the file holds the statements
the page is filtered by, named after the organisation, with the statement's JSON last.
"""

import csv
import json

from tests.web.conftest import sign_in


def test_an_admin_downloads_the_filtered_statements_as_csv_without_javascript(browser, site):
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    try:
        sign_in(page, site["base"], "admin@example.com")
        page.goto(site["base"] + "/admin/statements")
        page.get_by_label("Agent (email or JSON)").fill("ann@example.com")
        page.get_by_role("button", name="Filter").click()
        page.wait_for_load_state()
        page.get_by_label("File", exact=True).select_option("csv")
        with page.expect_download() as started:
            page.get_by_role("button", name="Download").click()
        download = started.value
        name = download.suggested_filename
        assert name.startswith("statements-acme-") and name.endswith(".csv")
        with open(download.path(), newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
        assert len(rows) > 3
        for row in rows:
            statement = json.loads(row["statement"])
            assert row["id"] == statement["id"]
            assert "mailto:ann@example.com" in json.dumps(statement)
    finally:
        context.close()
