"""The catalogue and redemptions: points and stock stay exact under concurrency."""

import threading

from lrs.db import read_transaction, write_transaction
from lrs.errors import Conflict
from recognition import kudos, rewards
from tests.recognition.conftest import give


def test_twenty_redemptions_at_once_never_overspend_points_or_stock(org):
    """ann received 50 points; an item costs 10 with 3 in stock: exactly 3 go through."""
    give(org, "ben", "ann", 25)
    give(org, "maya", "ann", 25)
    admin = org.client("admin")
    item = admin.post("/rewards", json={"name": "Book", "cost": 10, "stock": 3}).get_json()
    app, sessions = org.app, org.app.extensions["learnloop"].sessions
    outcomes: list[str] = []
    start = threading.Barrier(20)

    def one() -> None:
        start.wait()
        try:
            with app.app_context(), write_transaction(sessions) as session:
                rewards.redeem(session, org.store_id, org.people["ann"], item["id"], 1)
            outcomes.append("redeemed")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["redeemed"] * 3 + ["refused"] * 17
    with read_transaction(sessions) as session:
        assert kudos.wallet_of(session, org.people["ann"]).available == 20
        assert rewards.get_item(session, org.store_id, item["id"]).stock == 0
        assert len(rewards.redemptions(session, org.store_id, org.people["ann"])) == 3


def test_a_redemption_beyond_ones_points_says_so_and_admins_fulfil_the_rest(org):
    give(org, "ben", "ann", 15)
    admin = org.client("admin")
    mug = admin.post("/rewards", json={"name": "Mug", "cost": 10, "stock": 5}).get_json()
    ann = org.client("ann")
    assert ann.post(f"/rewards/{mug['id']}/redemptions").status_code == 201
    short = ann.post(f"/rewards/{mug['id']}/redemptions")
    assert short.status_code == 409 and short.get_json()["errors"][0]["path"] == "points"
    (waiting,) = admin.get("/redemptions").get_json()
    assert waiting["person"]["name"] == "Ann" and waiting["fulfilled_at"] is None
    assert ann.post(f"/redemptions/{waiting['id']}/fulfilment").status_code == 403
    done = admin.post(f"/redemptions/{waiting['id']}/fulfilment")
    assert done.status_code == 200 and done.get_json()["fulfilled_at"]
    assert admin.post(f"/redemptions/{waiting['id']}/fulfilment").status_code == 409
    assert org.client("ben").get("/redemptions").get_json() == []  # only one's own
