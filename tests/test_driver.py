"""`webapp.driver`: the request path's statements past SQLAlchemy's execution layer, with the
same values.

Runs on SQLite and, under TEST_DATABASE=postgres, on PostgreSQL, where several reads share
one round trip.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from sqlalchemy import bindparam, column, table
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from webapp import audit, driver
from webapp.account import service as account
from webapp.auth import sessions
from webapp.db import DatabaseUnavailable, counting_round_trips, make_engine
from webapp.models import AuditEvent, ClosureRequest, Inquiry, UserSession


@pytest.fixture
def engine(app):
    return app.extensions["sentro.engine"]


@pytest.fixture
def with_matters(db, person):
    """The person has an open closure request and two privacy requests."""
    db.add(ClosureRequest(user_id=person.id, due_on=date(2031, 1, 1)))
    for subject in ("One", "Two"):
        db.add(Inquiry(user_id=person.id, kind="access", subject=subject, due_on=date(2031, 2, 1)))
    db.commit()
    return person


def test_the_person_arrives_as_connection_execute_gives_them(engine, person, db):
    token_hash = db.exec(select(UserSession.token_hash)).one()
    params = {"token_hash": token_hash}
    (fast,) = driver.fetch(engine, (sessions.LOAD, params))
    with engine.connect() as connection:
        slow = connection.execute(sessions.LOAD, params).all()
    assert fast == [tuple(r) for r in slow] and len(fast) == 1
    times = [v for v in fast[0] if isinstance(v, datetime)]
    assert times and all(t.tzinfo is not None for t in times)


def test_in_lists_and_typed_parameters_work_as_in_core(engine, with_matters):
    params = {"user_id": with_matters.id, "now": datetime.now(UTC)}
    (fast,) = driver.fetch(engine, (account.STATUS, params))
    with engine.connect() as connection:
        slow = connection.execute(account.STATUS, params).all()
    assert sorted(fast, key=repr) == sorted((tuple(r) for r in slow), key=repr)
    assert {row[0] for row in fast} == {"closure", "request"}


def test_several_reads_are_one_round_trip_on_postgresql(engine, with_matters, db):
    token_hash = db.exec(select(UserSession.token_hash)).one()
    by_session = {"token_hash": token_hash, "now": datetime.now(UTC)}
    with counting_round_trips(engine) as trips:
        person, matters = driver.fetch(
            engine,
            (sessions.LOAD, {"token_hash": token_hash}),
            (account.STATUS_BY_SESSION, by_session),
        )
    assert len(person) == 1 and len(matters) == 3
    assert len(trips) == (1 if engine.dialect.name == "postgresql" else 2), trips


def test_statement_counters_see_these_reads(engine, person, count_queries):
    with count_queries() as statements:
        driver.fetch(engine, (sessions.LOAD, {"token_hash": "0" * 64}))
    assert len(statements) == 1 and "user_session" in statements[0]


def test_a_session_of_another_person_reads_nothing(engine, with_matters):
    params = {"token_hash": sessions.reference_hash("not-a-session"), "now": datetime.now(UTC)}
    person, matters = driver.fetch(
        engine, (sessions.LOAD, params), (account.STATUS_BY_SESSION, params)
    )
    assert person == [] and matters == []


def test_a_driver_error_is_sqlalchemys(engine):
    missing = select(column("x")).select_from(table("no_such_table"))
    with pytest.raises(DBAPIError):
        driver.fetch(engine, (missing, {}))
    assert driver.fetch(engine, (select(bindparam("n", type_=None)), {"n": 1})) == [[(1,)]]


def test_a_database_that_cannot_be_reached_is_unavailable():
    gone = make_engine("postgresql://postgres@127.0.0.1:9/none")  # nothing listens on port 9
    with pytest.raises(DatabaseUnavailable):
        driver.fetch(gone, (sessions.LOAD, {"token_hash": "0" * 64}))
    gone.dispose()


def _kill_the_pooled_connection(engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("a server-side disconnect needs PostgreSQL")
    raw = engine.raw_connection()
    pid = raw.driver_connection.info.backend_pid
    raw.close()
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as killer:  # not from the pool
        killer.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_lost_connection_is_dropped_from_the_pool(engine):
    _kill_the_pooled_connection(engine)
    with pytest.raises(DatabaseUnavailable):  # the pooled connection was the killed one
        driver.fetch(engine, (select(bindparam("n", type_=None)), {"n": 1}))
    assert driver.fetch(engine, (select(bindparam("n", type_=None)), {"n": 2})) == [[(2,)]]


@pytest.mark.parametrize("transaction", [False, True])
def test_a_write_on_a_lost_connection_is_unavailable_not_an_error(engine, transaction):
    """As the one-click POST met it when PostgreSQL restarted (the soak): a 503, and the next
    write gets a fresh connection. It was an AttributeError (a 500) on the invalidated one."""
    _kill_the_pooled_connection(engine)
    with (
        pytest.raises(DatabaseUnavailable),
        driver.plain_connection(engine, transaction=transaction) as connection,
    ):
        connection.execute(select(bindparam("n", type_=None)), {"n": 1})
    with driver.plain_connection(engine, transaction=transaction) as connection:
        assert connection.execute(select(bindparam("n", type_=None)), {"n": 2}).one() == (2,)


def test_the_expiry_is_compared_in_utc(engine, person, db):
    row = db.exec(select(UserSession)).one()
    (found,) = driver.fetch(engine, (sessions.LOAD, {"token_hash": row.token_hash}))
    user_and_row = sessions.from_row(
        found[0], now=datetime.now(UTC), lifetimes=sessions.Lifetimes()
    )
    assert user_and_row is not None and user_and_row[0].id == person.id
    later = datetime.now(UTC) + timedelta(days=2)
    assert sessions.from_row(found[0], now=later, lifetimes=sessions.Lifetimes()) is None


def test_a_fresh_process_can_make_its_first_request_a_signed_in_one(tmp_path):
    """The person is built without an ORM query: the models must be mapped at start-up."""
    script = f"""
from sqlalchemy import inspect
from webapp import create_app
from webapp.models import User
create_app({{"SENTRO_ENV": "testing", "SECRET_KEY": "x" * 40,
    "DATABASE_URL": "sqlite:///{tmp_path / "fresh.db"}", "OIDC_ISSUER": "http://127.0.0.1:9",
    "OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s", "SMTP_URL": "smtp://127.0.0.1:9",
    "BASE_URL": "http://localhost"}})
assert inspect(User).configured
"""
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_a_write_converts_its_parameters_as_their_types_do(engine, person, db):
    """A sealed value is sealed and a time stored as the ORM stores it: both read back."""
    entry = audit.entry(person.id, "probe", ip="192.0.2.1", field="x", old="a", new="b")
    with driver.plain_connection(engine, transaction=True) as connection:
        audit.record_all(connection, [entry])
        connection.commit()
    stored = db.exec(select(AuditEvent).where(AuditEvent.action == "probe")).one()
    assert stored.ip == "192.0.2.1" and stored.at == entry["at"]
    with engine.connect() as connection:
        raw_ip = connection.exec_driver_sql(
            "SELECT ip FROM audit_event WHERE action = 'probe'"
        ).scalar()
    assert "192.0.2.1" not in raw_ip  # sealed at rest


def test_a_write_not_committed_is_rolled_back(engine, person, db):
    entry = audit.entry(person.id, "never", field="x")
    with driver.plain_connection(engine, transaction=True) as connection:
        audit.record_all(connection, [entry])
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "never")).first() is None
