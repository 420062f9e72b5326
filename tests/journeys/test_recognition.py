"""Journey 8, Learn and recognise (the recognition slice): "A learner gives kudos to a colleague,
earns a badge."

The printed admin defines a badge through /api with the terms the served recognition profile
names (never a constant of the code); a newcomer's account is made with `learnloop accounts
create`; the printed manager gives the newcomer kudos on the pages (Chromium), twice. The
newcomer's points move at once, and the badge comes after the second gift, not the first,
dated by it, with a credential that verifies with the issuer's published keys.
"""

import re
import time

import jwt

from tests.journeys.support import Api, printed_admin, sign_in

RECEIVER_EMAIL = "rowan.receiver@example.com"
RECEIVER_NAME = "Rowan Receiver"
RECEIVER_PASSWORD = "rowan-is-recognised-today"


def kudos_terms(demo) -> tuple[str, str]:
    """The verb and activity type of a received-kudos statement, from the served profile."""
    profile = (
        Api(
            demo.base_url,
            demo.printed.organisation,
            demo.printed.accounts[-1],
            demo.printed.password,
        )
        .get("/profiles/recognition")
        .json()
    )
    (template,) = [t for t in profile["templates"] if t["prefLabel"]["en"] == "received kudos"]
    return template["verb"], template["objectActivityType"]


def create_the_receiver(demo) -> int:
    printed = demo.learnloop(
        "accounts",
        "create",
        "--store",
        demo.printed.organisation,
        "--email",
        RECEIVER_EMAIL,
        "--name",
        RECEIVER_NAME,
        input=f"{RECEIVER_PASSWORD}\n{RECEIVER_PASSWORD}\n",
    )
    person = re.search(rf"account \d+ for {re.escape(RECEIVER_EMAIL)} \(person (\d+)\)", printed)
    assert person, printed
    return int(person.group(1))


def give_kudos_on_the_pages(page, points: int, message: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Kudos").click()
    page.get_by_label("Find a colleague by name").fill("Rowan")
    page.get_by_role("button", name="Search").click()
    page.get_by_label(RECEIVER_NAME).check()
    page.get_by_label("Points").fill(str(points))
    page.get_by_label("Message").fill(message)
    page.get_by_role("button", name="Give kudos").click()
    page.get_by_role("status").filter(has_text=f"sent to {RECEIVER_NAME}").wait_for()


def badges_of(receiver: Api, person_id: int, wait_s: float) -> list[dict]:
    deadline = time.monotonic() + wait_s
    while True:
        found = receiver.get(f"/api/people/{person_id}/badges").json()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_kudos_given_on_the_pages_move_points_and_earn_a_badge(demo, new_page):
    printed = demo.printed
    admin = Api(demo.base_url, printed.organisation, printed_admin(demo), printed.password)
    verb, kudos_type = kudos_terms(demo)
    badge = {
        "name": "Appreciated colleague",
        "description": "Received kudos twice",
        "criteria": [{"verbs": [verb], "activity_type": kudos_type, "min_count": 2}],
    }
    assert admin.post("/api/badges", badge).status_code == 201
    receiver_id = create_the_receiver(demo)
    receiver = Api(demo.base_url, printed.organisation, RECEIVER_EMAIL, RECEIVER_PASSWORD)

    giver = new_page()
    manager = next(a for a in printed.accounts if a.startswith("maya"))
    sign_in(giver, printed.sign_in_url, printed.organisation, manager, printed.password)
    give_kudos_on_the_pages(giver, 20, "Thanks for running the onboarding session")

    rowan = new_page()
    sign_in(rowan, printed.sign_in_url, printed.organisation, RECEIVER_EMAIL, RECEIVER_PASSWORD)
    rowan.get_by_role("navigation", name="Main").get_by_role("link", name="Kudos").click()
    assert rowan.locator("#balance").inner_text() == "20"
    assert badges_of(receiver, receiver_id, wait_s=2) == []  # one gift is not enough

    give_kudos_on_the_pages(giver, 15, "And for the clear code review")
    rowan.reload()
    assert rowan.locator("#balance").inner_text() == "35"
    (award,) = badges_of(receiver, receiver_id, wait_s=15)
    assert award["badge"]["name"] == "Appreciated colleague"
    last_gift = receiver.get("/api/kudos").json()["received"][0]
    assert award["awarded_at"] == last_gift["given_at"]  # dated by the deciding statement

    rowan.get_by_role("navigation", name="Main").get_by_role("link", name="My record").click()
    assert "Appreciated colleague" in rowan.locator("#badges").inner_text()
    detail = receiver.get(f"/api/badge-awards/{award['id']}").json()
    keys = receiver.get(award["credential_jwks"].removeprefix(demo.base_url)).json()["keys"]
    claims = jwt.decode(detail["credential"], jwt.PyJWK(keys[0]).key, algorithms=["RS256"])
    assert claims["vc"]["credentialSubject"]["achievement"]["name"] == "Appreciated colleague"
    assert giver.console_errors == [] and rowan.console_errors == []

    # Rowan downloads their data (GDPR art. 15 and 20): the kudos, the wallet and the badge
    # with its credential are in it, counted by the manifest.
    archive = receiver.get(f"/api/people/{receiver_id}/archive").json()
    assert archive["manifest"]["kudos"] == len(archive["kudos"]) == 2
    assert sorted(g["points"] for g in archive["kudos"] if not g["given"]) == [15, 20]
    assert archive["kudos_wallet"] == [{"received": 35, "redeemed": 0}]
    (earned,) = archive["badges"]
    assert earned["badge"] == "Appreciated colleague"
    assert earned["credential"] == detail["credential"]
