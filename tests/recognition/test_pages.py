"""The recognition pages: give kudos by name, my kudos, badges on the record with the own
opt-in, the admin's catalogue, redemptions and badges. Pages are the same on both databases:
SQLite only."""

import pytest

from tests.recognition.conftest import csrf, pages_client
from tests.support.worker import drain

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_give_kudos_to_a_colleague_found_by_name(org):
    ann = pages_client(org, "ann")
    page = ann.get("/kudos?q=be").get_data(as_text=True)
    assert 'id="allowance-left">100<' in page and "Ben" in page and "Maya" not in page
    answer = ann.post(
        "/kudos?q=be",
        data={
            "csrf_token": csrf(page),
            "action": "give",
            "receiver_id": str(org.people["ben"]),
            "points": "30",
            "reason": "mentoring",
            "message": "thanks for the pairing",
        },
    )
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "30 points of kudos sent to Ben" in html
    assert 'id="allowance-left">70<' in html
    again = ann.post(
        "/kudos?q=be",
        data={
            "csrf_token": csrf(html),
            "action": "give",
            "receiver_id": str(org.people["ben"]),
            "points": "71",
            "message": "more",
        },
    )
    assert again.status_code == 409 and 'id="e-points"' in again.get_data(as_text=True)
    drain(org.app)
    ben = pages_client(org, "ben").get("/kudos").get_data(as_text=True)
    assert 'id="balance">30<' in ben and "thanks for the pairing" in ben


def test_admins_keep_the_catalogue_fulfil_redemptions_and_define_badges(org):
    admin = pages_client(org, "admin")
    page = admin.get("/admin/recognition").get_data(as_text=True)
    added = admin.post(
        "/admin/recognition",
        data={
            "csrf_token": csrf(page),
            "action": "add_item",
            "name": "Book",
            "cost": "20",
            "stock": "2",
        },
    )
    assert added.status_code == 200 and "Book added" in added.get_data(as_text=True)
    bad = admin.post(
        "/admin/recognition",
        data={
            "csrf_token": csrf(page),
            "action": "add_item",
            "name": "Mug",
            "cost": "0",
            "stock": "2",
        },
    )
    assert bad.status_code == 400 and 'id="e-cost"' in bad.get_data(as_text=True)
    badge = admin.post(
        "/admin/recognition",
        data={
            "csrf_token": csrf(page),
            "action": "add_badge",
            "name": "Thanked",
            "verb": "http://activitystrea.ms/schema/1.0/receive",
            "min_count": "1",
        },
    )
    assert badge.status_code == 200 and "Badge Thanked defined" in badge.get_data(as_text=True)
    ann = pages_client(org, "ann")
    form = ann.get("/kudos?q=ben").get_data(as_text=True)
    ann.post(
        "/kudos",
        data={
            "csrf_token": csrf(form),
            "action": "give",
            "points": "25",
            "receiver_id": str(org.people["ben"]),
            "message": "great review",
        },
    )
    drain(org.app)
    ben = pages_client(org, "ben")
    kudos_page = ben.get("/kudos").get_data(as_text=True)
    redeemed = ben.post(
        "/kudos",
        data={"csrf_token": csrf(kudos_page), "action": "redeem", "item_id": _item_id(org)},
    )
    assert "Redeemed Book" in redeemed.get_data(as_text=True)
    admin_page = admin.get("/admin/recognition").get_data(as_text=True)
    assert "Mark Book for Ben handed over" in admin_page
    record = ben.get(f"/people/{org.people['ben']}").get_data(as_text=True)
    assert "Thanked" in record and "Download the credential" in record
    assert "Appear on leaderboards" in record
    assert "Appear on leaderboards" not in admin.get(f"/people/{org.people['ben']}").get_data(
        as_text=True
    )  # the choice is the person's own
    opt = ben.post("/leaderboard/opt-in", data={"csrf_token": csrf(record), "opt_in": "yes"})
    assert opt.status_code == 302
    assert "You appear on leaderboards" in ben.get(f"/people/{org.people['ben']}").get_data(
        as_text=True
    )
    awards = org.client("ben").get(f"/people/{org.people['ben']}/badges").get_json()
    download = ben.get(f"/badges/awards/{awards[0]['id']}/credential.jwt")
    assert download.status_code == 200 and download.get_data(as_text=True).count(".") == 2
    assert (
        pages_client(org, "cora")
        .get(f"/badges/awards/{awards[0]['id']}/credential.jwt")
        .status_code
        == 404
    )


def _item_id(org) -> str:
    return str(org.client("admin").get("/rewards").get_json()[0]["id"])
