"""The pages in the learner's language (issue 22): launched from an LMS whose user speaks German,
Learnloop answers in German, activity names come from the statements' German entries; the
account's own choice and the browser's Accept-Language follow, English last.
"""

import base64
import re
import time

import pytest
import requests

from learnloop.worker import wait_until_idle
from lrs.auth import create_credential
from lrs.db import write_transaction
from lti.registrations import create_invite
from tests.lti.platform import INSTRUCTOR, LEARNER, LmsPlatform, User, form_of
from tests.lti.support import browser as requests_browser
from tests.lti.support import serve
from tests.web.conftest import serve_site, sign_in
from tests.web.test_browser import post_statement

pytestmark = pytest.mark.browser

DANA = User("lms-dana", "Dana Dietrich", "dana.dietrich@example.de", [LEARNER], locale="de-DE")
TEACHER = User("lms-tom", "Tom Teacher", "tom.teacher@example.fr", [INSTRUCTOR], locale="fr-FR")
COURSE = "https://learn.example.com/courses/sichere-programmierung"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The sample organisation, allowed to call the test LMS on http://127.0.0.1."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEARNLOOP_LTI_ALLOW_HTTP_LOOPBACK", "1")
        yield from serve_site(tmp_path_factory)


@pytest.fixture(scope="module")
def lms(site):
    """A third-party LMS registered in the sample organisation; its user Dana speaks German."""
    with write_transaction(site["app"].extensions["learnloop"].sessions) as session:
        _, secret = create_credential(session, "acme", ["all"], key="languages-lms")
    platform = LmsPlatform()
    with serve(platform.app) as base:
        platform.start(base, site["base"])
        created = requests.post(
            site["base"] + "/api/admin/lti/registrations",
            json=platform.registration_payload(),
            auth=("languages-lms", secret),
            timeout=10,
        )
        assert created.status_code == 201, created.text
        platform.add_user(DANA)
        platform.add_user(TEACHER)
        yield {"platform": platform, "key": "languages-lms", "secret": secret}


def launch(lms, user, kind="resource"):
    """The user clicks Learnloop in the LMS: OIDC login, then the form_post launch."""
    session = requests_browser()
    page = session.get(lms["platform"].launch_url(user.user_id, kind), timeout=10)
    assert page.status_code == 200, page.text
    action, fields = form_of(page.text)
    return session.post(action, data=fields, timeout=10)


def test_a_launch_with_locale_de_DE_shows_german_pages_and_german_activity_names(lms, site, page):
    platform = lms["platform"]
    landing = launch(lms, DANA)
    assert landing.status_code == 200, landing.text
    assert '<html lang="de" dir="ltr">' in landing.text
    assert "Meinen vollständigen Lernverlauf und meine Ziele öffnen" in landing.text
    # Her course reports in German and English; the verb's display too.
    statement = {
        "actor": {"account": {"homePage": platform.base, "name": DANA.user_id}},
        "verb": {
            "id": "http://adlnet.gov/expapi/verbs/completed",
            "display": {"en-US": "completed", "de-DE": "abgeschlossen"},
        },
        "object": {
            "id": COURSE,
            "definition": {
                "name": {"en-US": "Secure programming", "de-DE": "Sichere Programmierung"}
            },
        },
        "result": {"score": {"scaled": 0.9}},
    }
    assert post_statement(site["base"], lms["key"], lms["secret"], statement) == 200
    # A verb outside Learnloop's vocabulary is named by the statement's own display.
    statement["verb"] = {
        "id": "https://learn.example.com/verbs/reflected",
        "display": {"en-US": "reflected on", "de": "reflektierte über"},
    }
    assert post_statement(site["base"], lms["key"], lms["secret"], statement) == 200
    assert wait_until_idle(site["app"], timeout=10)

    record_url = re.search(r'href="([^"]*/people/\d+\?lt=[^"]+)"', launch(lms, DANA).text)
    assert record_url, "the landing page links to the learner's record"
    page.goto(site["base"] + record_url.group(1).replace("&amp;", "&"))
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", name="Wöchentliche Aktivität nach Quelle").is_visible()
    assert page.get_by_role("heading", name="Zeitleiste").is_visible()
    assert page.get_by_role("link", name="Mein Lernverlauf").is_visible()
    timeline = page.locator(".timeline").inner_text()
    assert "Sichere Programmierung" in timeline
    assert "Secure programming" not in timeline
    assert "abgeschlossen" in timeline and "reflektierte über" in timeline  # the verbs too
    assert "completed" not in timeline and "reflected on" not in timeline
    top = page.locator("h2", has_text="Häufigste Aktivitäten").locator("xpath=..").inner_text()
    assert "Sichere Programmierung" in top
    # Dates in German: the week table's first column ("14.09.2026" style or "14. Sept. 2026").
    week = page.locator("#weekly-table tbody tr td").first.inner_text()
    assert re.search(r"\d{1,2}\.", week) and not re.fullmatch(r"\d{4}-\d\d-\d\d", week), week
    assert page.csp_errors == []


@pytest.mark.parametrize(
    ("accept", "lang", "password"),
    [(None, "en", "Password"), ("fr-CH, fr;q=0.9, en;q=0.5", "fr", "Mot de passe")],
)
def test_english_stays_the_default_and_accept_language_chooses_french(
    browser, site, accept, lang, password
):
    headers = {"Accept-Language": accept} if accept else {}
    context = browser.new_context(extra_http_headers=headers)
    page = context.new_page()
    page.goto(site["base"] + "/sign-in")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.get_by_label(password).is_visible()
    context.close()


def test_the_account_setting_beats_the_browser_and_the_launch_beats_both(browser, site, lms):
    context = browser.new_context(extra_http_headers={"Accept-Language": "fr"})
    page = context.new_page()
    page.goto(site["base"] + "/sign-in")
    page.get_by_label("E-mail").fill("maya@example.com")
    page.get_by_label("Mot de passe").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Se connecter").first.click()
    page.wait_for_url("**/team**")
    assert page.get_by_role("heading", name="Objectifs de l’équipe").is_visible()
    page.goto(site["base"] + "/notifications/preferences")
    page.get_by_label("Langue des pages").select_option("de")
    page.get_by_role("button", name="Enregistrer la langue").click()
    page.wait_for_url("**done=language**")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("status").first.inner_text() == "Sprache gespeichert."
    page.goto(site["base"] + "/team")
    assert page.get_by_role("heading", name="Ziele des Teams").is_visible()
    # Back to the browser's language for the other tests of this module.
    page.goto(site["base"] + "/notifications/preferences")
    page.get_by_label("Sprache der Seiten").select_option("")
    page.get_by_role("button", name="Sprache speichern").click()
    page.wait_for_url("**done=language**")
    assert page.locator("html").get_attribute("lang") == "fr"
    context.close()
    # A German launch is shown in German even to a browser that asks for French.
    session = requests_browser()
    session.headers["Accept-Language"] = "fr"
    start = session.get(lms["platform"].launch_url(DANA.user_id), timeout=10)
    action, fields = form_of(start.text)
    landing = session.post(action, data=fields, timeout=10)
    assert '<html lang="de" dir="ltr">' in landing.text


INK_CENTRE = """async (src) => {
  const img = new Image(); img.src = src; await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.width; canvas.height = img.height;
  const g = canvas.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, img.width, img.height).data;
  let sum = 0, n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] < 100 && d[i + 1] < 100 && d[i + 2] < 100) { sum += (i / 4) % img.width; n++; }
  }
  return sum / n / img.width;
}"""


def ink_centre(page, selector: str) -> float:
    """Where an element's dark text sits in a screenshot of it: 0 its left edge, 1 its right."""
    shot = page.locator(selector).screenshot()
    source = "data:image/png;base64," + base64.b64encode(shot).decode()
    return page.evaluate(INK_CENTRE, source)


def test_an_arabic_page_is_right_to_left_and_its_layout_mirrors(browser, site):
    """The same page in English and in Arabic: the brand and the navigation swap sides, tables
    start on the right, and a screenshot of the person's name (the same glyphs in both) shows
    it at the other end of its line."""
    seen = {}
    for accept in ("en", "ar"):
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, extra_http_headers={"Accept-Language": accept}
        )
        page = context.new_page()
        sign_in(
            page,
            site["base"],
            "maya@example.com",
            submit="تسجيل الدخول" if accept == "ar" else "Sign in",
        )
        page.goto(site["base"] + f"/people/{site['org'].people['ann']}")
        brand = page.locator(".brand").bounding_box()
        nav = page.locator("header nav").bounding_box()
        cell = page.locator("#weekly-table th").first.bounding_box()
        table = page.locator("#weekly-table").bounding_box()
        seen[accept] = {
            "dir": page.locator("html").get_attribute("dir"),
            "brand_first": brand["x"] < nav["x"],
            "first_column_left": cell["x"] - table["x"] < 10,
            "name_centre": ink_centre(page, "h1"),
        }
        context.close()
    en, ar = seen["en"], seen["ar"]
    assert (en["dir"], ar["dir"]) == ("ltr", "rtl")
    assert en["brand_first"] and not ar["brand_first"]
    assert en["first_column_left"] and not ar["first_column_left"]
    assert en["name_centre"] < 0.25 and ar["name_centre"] > 0.75, seen


def serving(body: str):
    """A route handler answering with ``body``: a launch's page shown at its own address."""

    def fulfill(route):
        route.fulfill(body=body, content_type="text/html; charset=utf-8")

    return fulfill


def test_inside_the_lms_in_german_the_pages_have_no_wcag_21_aa_violation(lms, site, browser):
    """The launch's landing page and the learner's record as the LMS frame shows them, and an
    instructor's course page and content picker."""
    from axe_playwright_python.sync_playwright import Axe

    from tests.web.test_accessibility import scan

    landing = launch(lms, DANA)
    record = re.search(r'href="([^"]*/people/\d+\?lt=[^"]+)"', landing.text).group(1)
    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True)
    page = context.new_page()
    # The landing page is the answer to the LMS's form_post: shown here at its own address.
    page.route(site["base"] + "/lti/launch", serving(landing.text))
    page.goto(site["base"] + "/lti/launch")
    violations = scan(page, Axe())
    page.goto(site["base"] + record.replace("&amp;", "&"))
    violations += scan(page, Axe())
    # The instructor's course page and the content picker (English pages, French launch).
    for kind in ("resource", "deeplink"):
        shown = launch(lms, TEACHER, kind)
        assert shown.status_code == 200, shown.text
        page.unroute(site["base"] + "/lti/launch")
        page.route(site["base"] + "/lti/launch", serving(shown.text))
        page.goto(site["base"] + "/lti/launch")
        violations += scan(page, Axe())
    context.close()
    assert violations == [], "\n".join(violations)


def test_the_pages_between_the_lms_and_learnloop_have_no_wcag_21_aa_violation(lms, site, browser):
    """The content picker's return to the LMS (in the teacher's launch language, French), the
    result of a dynamic registration, the platform-storage step of a login and the page of a
    refused launch (German, from Accept-Language): translated, and clean for axe-core. Their
    scripts (auto-submit, close, storage) are held back so each page stays to be scanned."""
    from axe_playwright_python.sync_playwright import Axe

    from tests.web.test_accessibility import scan

    german = {"Accept-Language": "de"}
    shown: dict[str, str] = {}

    # A teacher places the first offered item: the page that returns to the LMS.
    teacher = requests_browser()
    login = teacher.get(lms["platform"].launch_url(TEACHER.user_id, "deeplink"), timeout=10)
    action, fields = form_of(login.text)
    picker = teacher.post(action, data=fields, timeout=10)
    action, fields = form_of(picker.text, "/lti/deep-link")
    fields["choice"] = re.search(r'name="choice"[^>]*value="([^"]+)"', picker.text).group(1)
    back = teacher.post(site["base"] + action, data=fields, timeout=10)
    assert back.status_code == 200 and "Continuer" in back.text, back.text
    shown["deep-link-return"] = back.text

    # A second LMS registers Learnloop by LTI Dynamic Registration, with an invite.
    other = LmsPlatform()
    with serve(other.app) as other_base:
        other.start(other_base, site["base"])
        with write_transaction(site["app"].extensions["learnloop"].sessions) as session:
            invite = create_invite(session, site["org"].store_id, int(time.time() * 1000), 600)
        registered = requests.get(
            site["base"] + "/lti/register",
            params={
                "invite": invite,
                "openid_configuration": other_base + "/.well-known/openid-configuration",
                "registration_token": other.registration_token,
            },
            headers=german,
            timeout=10,
        )
    assert registered.status_code == 200 and "Learnloop ist registriert" in registered.text
    shown["registered"] = registered.text

    # A login from an LMS that offers platform storage: the step that keeps the state there.
    storage = requests.get(
        site["base"] + "/lti/login",
        params={
            "iss": lms["platform"].base,
            "client_id": lms["platform"].client_id,
            "login_hint": DANA.user_id,
            "target_link_uri": site["base"] + "/lti/launch",
            "lti_storage_target": "_parent",
        },
        headers=german,
        timeout=10,
    )
    assert storage.status_code == 200 and "Anmeldung" in storage.text, storage.text
    shown["storage"] = storage.text

    # A launch without its LMS's token: refused, in words.
    refused = requests.post(site["base"] + "/lti/launch", data={}, headers=german, timeout=10)
    assert refused.status_code == 400 and "konnte nicht geöffnet werden" in refused.text
    shown["refused"] = refused.text

    context = browser.new_context(viewport={"width": 390, "height": 800}, is_mobile=True)
    page = context.new_page()
    page.route("**/lti/static/*.js", lambda route: route.abort())
    violations = []
    for name, body in shown.items():
        address = f"{site['base']}/lti/shown-{name}"
        page.route(address, serving(body))
        page.goto(address)
        violations += scan(page, Axe())
    context.close()
    assert violations == [], "\n".join(violations)
