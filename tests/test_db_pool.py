"""The PostgreSQL pool checks no connection before use: a dropped one costs one 503, no more."""

from __future__ import annotations

import psycopg
import pytest


def _drop_every_other_connection(engine) -> int:
    """Have the server end every connection to this database but the one asking (not pooled)."""
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as connection:
        return connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]


def test_no_ping_before_each_checkout_and_idle_connections_are_recycled(app):
    pool = app.extensions["sentro.engine"].pool
    if app.extensions["sentro.engine"].dialect.name != "postgresql":
        pytest.skip("SQLite opens files, not server connections")
    assert pool._pre_ping is False
    assert 0 < pool._recycle <= 3600


def test_after_the_server_drops_the_connections_one_request_fails_cleanly_then_all_work(
    app, client, person
):
    engine = app.extensions["sentro.engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("only a database server can drop connections")
    assert client.get("/account").status_code == 200
    assert _drop_every_other_connection(engine) >= 1

    first = client.get("/account")
    assert first.status_code in {200, 503}  # 503 in the layout when it met a dropped connection
    assert b"Traceback" not in first.data
    for _ in range(3):
        assert client.get("/account").status_code == 200


def _begins(app, client, method: str, path: str, **kwargs) -> list[str]:
    from sqlalchemy import event

    seen: list[str] = []

    def record(conn, cursor, statement, *_args) -> None:
        if statement.startswith("BEGIN"):
            seen.append(statement)

    engine = app.extensions["sentro.engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        client.open(path, method=method, **kwargs)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_on_sqlite_a_writing_request_takes_the_write_lock_when_it_begins(app, client, person):
    if app.extensions["sentro.engine"].dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks rows, not the database")
    saved = _begins(app, client, "POST", "/account/profile/name", data={"name": "Ana", "seen": "x"})
    assert saved and set(saved) == {"BEGIN IMMEDIATE"}
    assert _begins(app, client, "GET", "/account/profile") == []  # a read begins nothing
