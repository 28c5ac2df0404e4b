"""Round trips to the database per request, counted by the driver (libpq's trace, sqlite3's).

A page that only reads sends its SELECTs and nothing else: no BEGIN before them and no
ROLLBACK after, which on PostgreSQL are a round trip each. A write made while answering a GET
still runs in a transaction of its own. Runs on SQLite and, under TEST_DATABASE=postgres, on
PostgreSQL, where a round trip is a network wait.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests import routes
from tests.test_budget import CONTROL, MAX_STATEMENTS, PER_TABLE
from webapp import db as database
from webapp.db import counting_round_trips
from webapp.models import UserSession

PAGES = [r.rule for r in routes.get_pages() if r.endpoint not in PER_TABLE]


def _control(trips: list[str]) -> list[str]:
    return [t for t in trips if t.lstrip().upper().startswith(CONTROL)]


def _most(engine) -> int:
    """Round trips a read-only page may take: one on PostgreSQL (its reads go out together
    with the person's, in one pipeline); SQLite runs each statement in turn, in process."""
    return 1 if engine.dialect.name == "postgresql" else MAX_STATEMENTS


@pytest.mark.parametrize("who", ["person", "staff"])
def test_a_signed_in_page_sends_only_its_reads(who, request, app, client, count_queries):
    request.getfixturevalue(who)
    with count_queries():
        pass  # warms the process's policy timeline, as a running site has it
    engine = app.extensions["sentro.engine"]
    over = {}
    for path in PAGES:
        client.get(path)  # warm: first use may load metadata or caches
        with counting_round_trips(engine) as trips:
            response = client.get(path)
        assert response.status_code < 500, path
        if _control(trips) or len(trips) > _most(engine):
            over[path] = trips
    assert not over, "\n".join(f"{p}: {len(t)} round trips: {t}" for p, t in over.items())


@pytest.mark.parametrize("path", ["/account", "/account/profile", "/account/email-preferences"])
def test_a_page_read_with_the_person_is_one_round_trip_on_postgresql(
    path, app, client, person, count_queries
):
    """The person with their session, and the page's own read (what is waiting for them; the
    cards and the pending email change; the list choices): two statements, sent together on
    PostgreSQL (a pipeline: one network wait); SQLite runs them in turn."""
    with count_queries():
        pass
    client.get(path)
    engine = app.extensions["sentro.engine"]
    with count_queries() as statements, counting_round_trips(engine) as trips:
        assert client.get(path).status_code == 200
    assert len(statements) == 2, statements
    expected = 1 if engine.dialect.name == "postgresql" else 2
    assert len(trips) == expected and not _control(trips), trips


def test_a_get_that_writes_does_so_in_its_own_transaction(app, client, person, db):
    """The last-active time a GET writes now and then: BEGIN, the UPDATE, COMMIT."""
    row = db.query(UserSession).one()
    row.last_active_at -= timedelta(minutes=6)
    db.commit()
    stale = row.last_active_at
    with counting_round_trips(app.extensions["sentro.engine"]) as trips:
        assert client.get("/account").status_code == 200
    writes = [t.split()[0].upper() for t in trips if not t.upper().startswith("SELECT")]
    assert writes == ["BEGIN", "UPDATE", "COMMIT"], trips
    db.expire_all()
    assert db.get(UserSession, row.id).last_active_at > stale


def test_writes_during_a_get_roll_back_together(app):
    """The session of a GET reads in autocommit, yet its writes are one transaction."""
    with app.test_request_context("/account", method="GET"):
        session = database.session()
        session.execute(text("SELECT 1"))  # a read first: outside any transaction
        session.execute(text("CREATE TABLE IF NOT EXISTS rt_probe (n integer)"))
        session.commit()
        session.execute(text("INSERT INTO rt_probe (n) VALUES (1)"))
        session.execute(text("INSERT INTO rt_probe (n) VALUES (2)"))
        session.rollback()
        assert session.execute(text("SELECT count(*) FROM rt_probe")).scalar_one() == 0
        session.execute(text("DROP TABLE rt_probe"))
        session.commit()


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("SELECT * FROM user", False),
        ("  select 1", False),
        ("SELECT * FROM user FOR UPDATE", True),
        ("SELECT id FROM outbox FOR UPDATE SKIP LOCKED", True),
        ("SELECT * FROM user FOR NO KEY UPDATE", True),
        ("SELECT * FROM user FOR SHARE", True),
        ("SELECT pg_advisory_xact_lock(1)", True),
        ("UPDATE user SET name = 'x'", True),
        ("INSERT INTO user DEFAULT VALUES", True),
        ("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", True),
    ],
)
def test_what_begins_a_transaction(statement, writes):
    assert database._is_write(statement) is writes


def test_a_page_that_streams_its_rows_reads_them_in_a_transaction(app, client, person):
    """PostgreSQL keeps a server-side cursor only inside a transaction: "Your data" streams."""
    engine = app.extensions["sentro.engine"]
    with counting_round_trips(engine) as trips:
        assert client.get("/account/your-data").status_code == 200
    if engine.dialect.name == "postgresql":
        assert _control(trips)[:1] == ["BEGIN"], trips
