"""A round trip through a real third-party xAPI client: Rustici's TinCanPython (``tincan``).

The client speaks xAPI 1.0.x over real HTTP to a live server on SQLite and on PostgreSQL.
"""

import threading
import uuid

import pytest
from tincan import (
    Activity,
    ActivityDefinition,
    Agent,
    Context,
    LanguageMap,
    RemoteLRS,
    Result,
    Score,
    Statement,
    StatementRef,
    Verb,
)
from werkzeug.serving import make_server

from lrs import vocabulary as v
from tests.conftest import make_credential

COMPLETED = v.COMPLETED
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


@pytest.fixture(scope="module")
def live_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/xapi/"
    server.shutdown()


@pytest.fixture
def remote(app, live_url):
    _, key, secret = make_credential(app)
    return RemoteLRS(endpoint=live_url, username=key, password=secret, version="1.0.1")


def make_statement(email="ann@example.com", verb=COMPLETED, score=0.9):
    return Statement(
        actor=Agent(name="Ann", mbox=f"mailto:{email}"),
        verb=Verb(id=verb, display=LanguageMap({"en-US": "completed"})),
        object=Activity(
            id="http://example.com/courses/secure-coding",
            definition=ActivityDefinition(name=LanguageMap({"en-US": "Secure Coding"})),
        ),
        result=Result(score=Score(scaled=score), success=score >= 0.8, completion=True),
        context=Context(registration=uuid.uuid4()),
    )


def test_about_answers_a_1_0_client_in_terms_it_understands(remote):
    # TinCanPython rejects an About listing a version it does not know (2.0.0), so a request
    # declaring 1.0.x is answered by the 1.0.3 implementation alone.
    response = remote.about()
    assert response.success, response.data
    assert [str(v) for v in response.content.version] == ["1.0.3"]


def test_save_and_retrieve_a_statement(remote):
    saved = remote.save_statement(make_statement())
    assert saved.success, saved.data
    statement_id = saved.content.id
    fetched = remote.retrieve_statement(statement_id)
    assert fetched.success
    assert str(fetched.content.id) == str(statement_id)
    assert fetched.content.actor.mbox == "mailto:ann@example.com"
    assert fetched.content.result.score.scaled == 0.9
    assert fetched.content.authority is not None  # set by the LRS from the credential


def test_batch_query_filters_and_more(remote):
    saved = remote.save_statements([make_statement(score=s / 10) for s in range(5)])
    assert saved.success, saved.data
    remote.save_statement(make_statement(email="bob@example.com"))
    query = remote.query_statements(
        {"agent": Agent(mbox="mailto:ann@example.com"), "verb": Verb(id=COMPLETED), "limit": 2}
    )
    assert query.success, query.data
    first = query.content
    assert len(first.statements) == 2
    assert all(s.actor.mbox == "mailto:ann@example.com" for s in first.statements)
    seen = [s.id for s in first.statements]
    more = first.more
    while more:
        page = remote.more_statements(first)
        assert page.success, page.data
        seen.extend(s.id for s in page.content.statements)
        first, more = page.content, page.content.more
    assert len(seen) == 5 and len(set(seen)) == 5


def test_voided_statement_is_only_retrievable_as_voided(remote):
    target = remote.save_statement(make_statement()).content
    voiding = Statement(
        actor=Agent(mbox="mailto:admin@example.com"),
        verb=Verb(id=VOIDED, display=LanguageMap({"en-US": "voided"})),
        object=StatementRef(id=target.id),
    )
    assert remote.save_statement(voiding).success
    assert not remote.retrieve_statement(target.id).success
    voided = remote.retrieve_voided_statement(target.id)
    assert voided.success
    assert str(voided.content.id) == str(target.id)
