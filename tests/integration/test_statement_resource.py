"""The Statement Resource over HTTP on SQLite and real PostgreSQL (Communication 2.1, Data 2.3-2.5).

Each test gets its own store (tenant); assertions check the response, then what is stored.
"""

import json
import threading
import uuid

import pytest

from lrs import vocabulary as v

VERB = v.COMPLETED
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def statement(n=0, **extra):
    base = {
        "actor": {
            "objectType": "Agent",
            "name": f"Learner {n}",
            "mbox": f"mailto:learner{n}@example.com",
        },
        "verb": {"id": VERB, "display": {"en-US": "completed", "fr-FR": "a terminé"}},
        "object": {
            "id": f"http://example.com/activities/{n}",
            "definition": {"name": {"en-US": f"Activity {n}", "de-DE": f"Aktivität {n}"}},
        },
    }
    base.update(extra)
    return base


def ids_of(response):
    return [s["id"] for s in response.get_json()["statements"]]


def post(lrs, body, **kw):
    response = lrs.post("/statements", json=body, **kw)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


class TestVersionNegotiation:
    def test_missing_header_is_400_with_version_header(self, lrs):
        # Communication 3.3 / XAPI-00321: no header -> 400, and the response still carries one.
        response = lrs.get("/statements", headers={"X-Experience-API-Version": None})
        assert response.status_code == 400
        assert response.headers["X-Experience-API-Version"]
        assert "X-Experience-API-Version" in response.get_json()["message"]

    @pytest.mark.parametrize("header", ["0.95", "1.1.0", "2.1.0"])
    def test_unsupported_versions_are_400(self, lrs, header):
        assert lrs.get("/statements", version=header).status_code == 400

    @pytest.mark.parametrize(
        ("header", "served"),
        [("1.0.2", "1.0.3"), ("1.0.3", "1.0.3"), ("2.0", "2.0.0"), ("2.0.0", "2.0.0")],
    )
    def test_the_response_names_the_version_that_served_it(self, lrs, header, served):
        response = lrs.get("/statements", version=header)
        assert response.status_code == 200
        assert response.headers["X-Experience-API-Version"] == served

    def test_about_needs_neither_version_nor_credentials(self, app):
        response = app.test_client().get("/xapi/about")
        assert response.status_code == 200
        assert response.get_json()["version"] == ["1.0.3", "2.0.0"]
        under_2 = app.test_client().get(
            "/xapi/about", headers={"X-Experience-API-Version": "2.0.0"}
        )
        assert under_2.get_json()["version"] == ["1.0.3", "2.0.0"]
        under_1 = app.test_client().get(
            "/xapi/about", headers={"X-Experience-API-Version": "1.0.1"}
        )
        assert under_1.get_json()["version"] == ["1.0.3"]

    def test_context_agents_are_unknown_under_1_0_3_and_valid_under_2_0(self, lrs):
        context = {
            "contextAgents": [
                {"objectType": "contextAgent", "agent": {"mbox": "mailto:coach@example.com"}}
            ]
        }
        bad = lrs.post("/statements", json=statement(context=context), version="1.0.3")
        assert bad.status_code == 400
        assert "statement.context.contextAgents" in bad.get_json()["message"]
        assert (
            lrs.post("/statements", json=statement(context=context), version="2.0.0").status_code
            == 200
        )

    def test_default_statement_version_follows_the_request(self, lrs):
        (old,) = post(lrs, statement(), version="1.0.3")
        (new,) = post(lrs, statement(), version="2.0.0")
        assert lrs.get(f"/statements?statementId={old}").get_json()["version"] == "1.0.0"
        assert lrs.get(f"/statements?statementId={new}").get_json()["version"] == "2.0.0"


class TestAuthentication:
    def test_no_credentials_is_401_with_challenge(self, app):
        response = app.test_client().get(
            "/xapi/statements", headers={"X-Experience-API-Version": "2.0.0"}
        )
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")

    def test_wrong_secret_is_401(self, lrs):
        lrs.secret = "wrong"
        assert lrs.get("/statements").status_code == 401

    def test_stores_are_isolated(self, app, lrs):
        from tests.conftest import XapiClient, make_credential

        (sid,) = post(lrs, statement())
        _, key, secret = make_credential(app)
        other = XapiClient(app, key, secret)
        assert other.get(f"/statements?statementId={sid}").status_code == 404
        assert other.get("/statements").get_json()["statements"] == []

    def test_read_only_credential_cannot_write(self, app):
        from tests.conftest import XapiClient, make_credential

        _, key, secret = make_credential(app, scopes=["statements/read"])
        reader = XapiClient(app, key, secret)
        response = reader.post("/statements", json=statement())
        assert response.status_code == 403
        assert reader.get("/statements").status_code == 200

    def test_read_mine_sees_only_its_own_statements(self, app):
        from tests.conftest import XapiClient, make_credential

        store, key, secret = make_credential(
            app, scopes=["statements/write", "statements/read/mine"]
        )
        _, key2, secret2 = make_credential(app, scopes=["all"], store=store)
        mine = XapiClient(app, key, secret)
        admin = XapiClient(app, key2, secret2)
        (own,) = post(mine, statement(1))
        (theirs,) = post(admin, statement(2))
        assert ids_of(mine.get("/statements")) == [own]
        assert mine.get(f"/statements?statementId={theirs}").status_code == 404
        assert set(ids_of(admin.get("/statements"))) == {own, theirs}


class TestWrites:
    def test_post_single_and_batch_return_ids_in_order(self, lrs):
        given = str(uuid.uuid4())
        ids = post(lrs, [statement(1), statement(2, id=given), statement(3)])
        assert len(ids) == 3 and ids[1] == given
        fetched = ids_of(lrs.get("/statements?ascending=true"))
        assert fetched == ids

    def test_put_stores_under_statement_id(self, lrs):
        sid = str(uuid.uuid4())
        response = lrs.put(f"/statements?statementId={sid}", json=statement())
        assert response.status_code == 204
        assert lrs.get(f"/statements?statementId={sid}").get_json()["id"] == sid

    def test_put_needs_statement_id_and_a_matching_id(self, lrs):
        assert lrs.put("/statements", json=statement()).status_code == 400
        sid = str(uuid.uuid4())
        response = lrs.put(f"/statements?statementId={sid}", json=statement(id=str(uuid.uuid4())))
        assert response.status_code == 400

    @pytest.mark.parametrize("given", ["not-a-uuid", "\u0080\U000b9371`", "x" * 40, "1" * 36])
    def test_put_statement_id_must_be_a_uuid_when_the_body_has_no_id(self, lrs, given):
        # The body was validated, then given this id unchecked: stored (a 500 on PostgreSQL
        # beyond 36 characters). Schemathesis found it against /xapi/openapi.json.
        response = lrs.put("/statements", query_string={"statementId": given}, json=statement())
        assert response.status_code == 400
        assert response.get_json()["errors"] == [
            {"path": "statementId", "message": "must be a UUID"}
        ]
        assert ids_of(lrs.get("/statements")) == []

    def test_put_statement_id_in_capitals_is_the_same_statement(self, lrs):
        sid = str(uuid.uuid4())
        assert (
            lrs.put(f"/statements?statementId={sid.upper()}", json=statement()).status_code == 204
        )
        assert lrs.get(f"/statements?statementId={sid}").get_json()["id"] == sid

    @pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
    @pytest.mark.parametrize(
        "timestamp", ["9999-12-31T23:59:59.999-23:59", "0001-01-01T00:00:00+00:01"]
    )
    def test_a_timestamp_outside_the_utc_calendar_is_a_400(self, lrs, version, timestamp):
        # 2.0.0 converts timestamps to UTC: that was an OverflowError, a 500. 1.0.3 stored it,
        # and the learner's record failed with "year 10000" whenever it was read.
        response = lrs.post("/statements", json=statement(timestamp=timestamp), version=version)
        assert response.status_code == 400
        (error,) = response.get_json()["errors"]
        assert error["path"] == "statement.timestamp" and "out of range" in error["message"]
        assert ids_of(lrs.get("/statements")) == []

    def test_lrs_assigns_stored_authority_and_timestamp(self, lrs):
        (sid,) = post(lrs, statement(authority={"mbox": "mailto:forged@example.com"}))
        stored = lrs.get(f"/statements?statementId={sid}").get_json()
        assert stored["authority"]["account"]["name"] == lrs.key  # Data 2.4.9: credential decides
        assert stored["timestamp"] == stored["stored"]  # 2.0: timestamp := stored when absent
        assert stored["stored"].endswith("Z")

    def test_identical_resend_is_accepted_and_stores_nothing_new(self, lrs):
        # Communication 2.1.2: same id, same statement -> no change, no error.
        sid = str(uuid.uuid4())
        post(lrs, statement(id=sid))
        again = dict(statement(id=sid), verb={"id": VERB, "display": {"de": "abgeschlossen"}})
        assert post(lrs, again) == [sid]
        assert lrs.put(f"/statements?statementId={sid}", json=again).status_code == 204
        assert ids_of(lrs.get("/statements")) == [sid]

    def test_differing_resend_is_409_and_the_whole_batch_fails(self, lrs):
        # Communication 2.1.2 + 3.2: 409 for a different statement with a stored id; nothing stored.
        sid = str(uuid.uuid4())
        post(lrs, statement(id=sid))
        response = lrs.post(
            "/statements", json=[statement(7), dict(statement(id=sid), result={"success": True})]
        )
        assert response.status_code == 409
        assert response.get_json()["errors"][0]["path"] == "statements[1]"
        assert ids_of(lrs.get("/statements")) == [sid]

    def test_duplicate_ids_in_one_batch_are_400(self, lrs):
        # 9274.1.1 §4.1.6.1 (delta C9).
        sid = str(uuid.uuid4())
        response = lrs.post("/statements", json=[statement(1, id=sid), statement(2, id=sid)])
        assert response.status_code == 400
        assert response.get_json()["errors"][0]["path"] == "statements[1].id"
        assert lrs.get("/statements").get_json()["statements"] == []

    def test_one_invalid_statement_rejects_the_batch_with_its_path(self, lrs):
        bad = statement(actor={"mbox": "learner@example.com"})
        response = lrs.post("/statements", json=[statement(1), statement(2), bad])
        assert response.status_code == 400
        body = response.get_json()
        assert body["errors"][0]["path"] == "statements[2].actor.mbox"
        assert "statements[2].actor.mbox" in body["message"]
        assert lrs.get("/statements").get_json()["statements"] == []

    def test_invalid_json_is_400(self, lrs):
        response = lrs.post(
            "/statements", data=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400
        assert "JSON" in response.get_json()["message"]

    def test_unknown_parameter_on_post_is_400(self, lrs):
        assert lrs.post("/statements?foo=bar", json=statement()).status_code == 400

    def test_concurrent_puts_of_one_id_store_one_statement(self, lrs):
        # DESIGN: uniqueness holds under concurrency, not only in sequence; never a 500.
        sid = str(uuid.uuid4())
        results = []

        def put(n):
            client = type(lrs)(lrs.app, lrs.key, lrs.secret)
            body = statement(n, id=sid)
            results.append(client.put(f"/statements?statementId={sid}", json=body).status_code)

        threads = [threading.Thread(target=put, args=(n % 2,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(set(results)) in ([204, 409], [204])
        assert 500 not in results
        assert ids_of(lrs.get("/statements")) == [sid]


class TestQueries:
    def test_filters_by_agent_verb_activity_and_registration(self, lrs):
        registration = str(uuid.uuid4())
        a = post(lrs, statement(1, context={"registration": registration}))[0]
        b = post(lrs, statement(2, verb={"id": "http://example.com/verbs/attempted"}))[0]
        c = post(lrs, statement(1, object={"id": "http://example.com/activities/99"}))[0]
        agent1 = json.dumps({"mbox": "mailto:learner1@example.com"})
        assert set(ids_of(lrs.get("/statements", query_string={"agent": agent1}))) == {a, c}
        assert ids_of(
            lrs.get("/statements", query_string={"verb": "http://example.com/verbs/attempted"})
        ) == [b]
        assert ids_of(
            lrs.get("/statements", query_string={"activity": "http://example.com/activities/99"})
        ) == [c]
        assert ids_of(lrs.get("/statements", query_string={"registration": registration})) == [a]
        assert ids_of(
            lrs.get(
                "/statements",
                query_string={
                    "agent": agent1,
                    "verb": VERB,
                    "activity": "http://example.com/activities/1",
                },
            )
        ) == [a]

    def test_related_agents_and_activities(self, lrs):
        context = {
            "instructor": {"mbox": "mailto:teacher@example.com"},
            "contextActivities": {"parent": {"id": "http://example.com/course"}},
        }
        (sid,) = post(lrs, statement(1, context=context))
        teacher = json.dumps({"mbox": "mailto:teacher@example.com"})
        assert ids_of(lrs.get("/statements", query_string={"agent": teacher})) == []
        assert ids_of(
            lrs.get("/statements", query_string={"agent": teacher, "related_agents": "true"})
        ) == [sid]
        course = "http://example.com/course"
        assert ids_of(lrs.get("/statements", query_string={"activity": course})) == []
        assert ids_of(
            lrs.get("/statements", query_string={"activity": course, "related_activities": "true"})
        ) == [sid]

    def test_group_actor_matches_its_members(self, lrs):
        group = {"objectType": "Group", "member": [{"mbox": "mailto:member@example.com"}]}
        (sid,) = post(lrs, statement(actor=group))
        member = json.dumps({"mbox": "mailto:member@example.com"})
        assert ids_of(lrs.get("/statements", query_string={"agent": member})) == [sid]

    def test_newest_first_by_default_and_ascending_on_request(self, lrs):
        first = post(lrs, statement(1))[0]
        second = post(lrs, statement(2))[0]
        assert ids_of(lrs.get("/statements")) == [second, first]
        assert ids_of(lrs.get("/statements?ascending=true")) == [first, second]

    def test_since_until_are_exclusive_and_inclusive(self, lrs):
        (a,) = post(lrs, statement(1))
        stored_a = lrs.get(f"/statements?statementId={a}").get_json()["stored"]
        (b,) = post(lrs, statement(2))
        stored_b = lrs.get(f"/statements?statementId={b}").get_json()["stored"]
        assert a not in ids_of(lrs.get("/statements", query_string={"since": stored_a}))
        assert a in ids_of(lrs.get("/statements", query_string={"until": stored_a}))
        if stored_a != stored_b:
            assert ids_of(lrs.get("/statements", query_string={"since": stored_a})) == [b]

    def test_more_pages_through_everything_once(self, lrs):
        ids = post(lrs, [statement(n) for n in range(7)])
        seen, url = [], "/statements?limit=3"
        pages = 0
        while url:
            body = lrs.get(url).get_json()
            seen.extend(s["id"] for s in body["statements"])
            url = body["more"].removeprefix("/xapi") if body["more"] else None
            pages += 1
        assert pages == 3
        assert sorted(seen) == sorted(ids) and len(seen) == 7

    def test_more_keeps_the_filters(self, lrs):
        post(lrs, [statement(1) for _ in range(3)] + [statement(2)])
        agent1 = json.dumps({"mbox": "mailto:learner1@example.com"})
        first = lrs.get("/statements", query_string={"agent": agent1, "limit": 2}).get_json()
        second = lrs.get(first["more"].removeprefix("/xapi")).get_json()
        assert len(first["statements"]) == 2 and len(second["statements"]) == 1
        assert second["more"] == ""
        assert all(
            s["actor"]["mbox"] == "mailto:learner1@example.com" for s in second["statements"]
        )

    def test_empty_result_is_200_with_empty_list(self, lrs):
        response = lrs.get("/statements", query_string={"verb": "http://example.com/never"})
        assert response.status_code == 200
        assert response.get_json() == {"statements": [], "more": ""}

    def test_headers_consistent_through_and_last_modified(self, lrs):
        (sid,) = post(lrs, statement())
        single = lrs.get(f"/statements?statementId={sid}")
        assert single.headers["X-Experience-API-Consistent-Through"]
        assert single.headers["Last-Modified"].endswith("GMT")
        listing = lrs.get("/statements")
        assert listing.headers["X-Experience-API-Consistent-Through"]
        assert listing.headers["Last-Modified"] == single.headers["Last-Modified"]

    def test_unknown_and_conflicting_parameters_are_400(self, lrs):
        assert lrs.get("/statements?foo=1").status_code == 400
        sid = str(uuid.uuid4())
        assert lrs.get(f"/statements?statementId={sid}&voidedStatementId={sid}").status_code == 400
        assert lrs.get(f"/statements?statementId={sid}&limit=1").status_code == 400
        assert lrs.get("/statements?verb=not-an-iri").status_code == 400

    def test_unknown_statement_is_404(self, lrs):
        assert lrs.get(f"/statements?statementId={uuid.uuid4()}").status_code == 404

    def test_head_has_headers_and_no_body(self, lrs):
        (sid,) = post(lrs, statement())
        response = lrs.head(f"/statements?statementId={sid}")
        assert response.status_code == 200
        assert response.data == b""
        assert response.headers["X-Experience-API-Version"] == "2.0.0"

    def test_format_ids_and_canonical(self, lrs):
        (sid,) = post(lrs, statement(1))
        ids = lrs.get(f"/statements?statementId={sid}&format=ids").get_json()
        assert ids["verb"] == {"id": VERB}
        assert ids["object"] == {"id": "http://example.com/activities/1"}
        assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:learner1@example.com"}
        canonical = lrs.get(
            f"/statements?statementId={sid}&format=canonical", headers={"Accept-Language": "de-DE"}
        ).get_json()
        assert canonical["object"]["definition"]["name"] == {"de-DE": "Aktivität 1"}
        exact = lrs.get(
            f"/statements?statementId={sid}", headers={"Accept-Language": "de-DE"}
        ).get_json()
        assert exact["object"]["definition"]["name"] == {
            "en-US": "Activity 1",
            "de-DE": "Aktivität 1",
        }

    def test_canonical_definition_merges_languages_from_later_statements(self, lrs):
        (sid,) = post(lrs, statement(1))
        post(
            lrs,
            statement(
                1,
                object={
                    "id": "http://example.com/activities/1",
                    "definition": {"name": {"fr-FR": "Activité 1"}},
                },
            ),
        )
        canonical = lrs.get(
            f"/statements?statementId={sid}&format=canonical", headers={"Accept-Language": "fr-FR"}
        ).get_json()
        assert canonical["object"]["definition"]["name"] == {"fr-FR": "Activité 1"}

    def test_timestamps_return_in_utc_under_2_0(self, lrs):
        (sid,) = post(lrs, statement(timestamp="2023-05-04T12:00:00-05:00"))
        assert (
            lrs.get(f"/statements?statementId={sid}").get_json()["timestamp"]
            == "2023-05-04T17:00:00Z"
        )

    def test_context_activities_are_returned_as_arrays(self, lrs):
        (sid,) = post(
            lrs,
            statement(context={"contextActivities": {"parent": {"id": "http://example.com/p"}}}),
        )
        got = lrs.get(f"/statements?statementId={sid}").get_json()
        assert got["context"]["contextActivities"]["parent"] == [{"id": "http://example.com/p"}]


class TestVoidingAndStatementRefs:
    def void(self, lrs, target):
        return post(
            lrs,
            {
                "actor": {"mbox": "mailto:admin@example.com"},
                "verb": {"id": VOIDED},
                "object": {"objectType": "StatementRef", "id": target},
            },
        )[0]

    def test_voided_statement_is_hidden_but_fetchable_by_voided_statement_id(self, lrs):
        # Data 2.3.2; Communication 2.1.4.
        (target,) = post(lrs, statement(1))
        voiding = self.void(lrs, target)
        assert lrs.get(f"/statements?statementId={target}").status_code == 404
        assert lrs.get(f"/statements?voidedStatementId={target}").get_json()["id"] == target
        assert lrs.get(f"/statements?voidedStatementId={voiding}").status_code == 404
        assert ids_of(lrs.get("/statements")) == [voiding]

    def test_voiding_statement_is_returned_by_the_voided_statements_filters(self, lrs):
        # Communication 2.1.4: statements targeting the voided one are still returned.
        (target,) = post(lrs, statement(1))
        voiding = self.void(lrs, target)
        agent1 = json.dumps({"mbox": "mailto:learner1@example.com"})
        assert ids_of(lrs.get("/statements", query_string={"agent": agent1})) == [voiding]

    def test_a_voiding_statement_cannot_be_voided(self, lrs):
        (target,) = post(lrs, statement(1))
        voiding = self.void(lrs, target)
        self.void(lrs, voiding)
        assert lrs.get(f"/statements?statementId={voiding}").status_code == 200

    def test_voiding_before_its_target_arrives_still_voids_it(self, lrs):
        # Data 2.3.2: voided iff a voiding statement refers to it, whatever the order.
        target = str(uuid.uuid4())
        self.void(lrs, target)
        post(lrs, statement(1, id=target))
        assert lrs.get(f"/statements?statementId={target}").status_code == 404
        assert lrs.get(f"/statements?voidedStatementId={target}").status_code == 200

    def test_statement_refs_meet_the_filters_of_their_target_recursively(self, lrs):
        # Communication 2.1.3 "Filter Conditions for StatementRefs".
        (a,) = post(lrs, statement(1))
        ref = {
            "actor": {"mbox": "mailto:reviewer@example.com"},
            "verb": {"id": "http://example.com/verbs/confirmed"},
        }
        (b,) = post(lrs, dict(ref, object={"objectType": "StatementRef", "id": a}))
        (c,) = post(lrs, dict(ref, object={"objectType": "StatementRef", "id": b}))
        found = ids_of(
            lrs.get("/statements", query_string={"activity": "http://example.com/activities/1"})
        )
        assert found == [c, b, a]

    def test_ref_stored_before_its_target_matches_once_the_target_arrives(self, lrs):
        target = str(uuid.uuid4())
        ref = {
            "actor": {"mbox": "mailto:reviewer@example.com"},
            "verb": {"id": "http://example.com/verbs/confirmed"},
            "object": {"objectType": "StatementRef", "id": target},
        }
        (b,) = post(lrs, ref)
        post(lrs, statement(5, id=target))
        found = ids_of(lrs.get("/statements", query_string={"verb": VERB}))
        assert found == [target, b]
