"""The database: one engine per app, one ORM session per request (or per CLI command)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlmodel import Session, create_engine

#: What a failing database raises; pages answer 503 for these (see `errors.py`).
DatabaseUnavailable = (OperationalError, InterfaceError, PoolTimeout)
#: How long an SQLite statement waits for a lock, and a checkpoint after erasure for readers.
BUSY_TIMEOUT_MS, CHECKPOINT_WAIT_MS = 15_000, 2_000


#: An execution option: on SQLite, transactions begin with BEGIN IMMEDIATE (requests that may
#: write: every method but GET, HEAD and OPTIONS); other databases ignore it.
IMMEDIATE = "sentro_begin_immediate"
#: An execution option: reads run outside a transaction, which begins only at the first write
#: (the session of a GET, HEAD or OPTIONS request; see `_read_without_transaction`).
READING = "sentro_read_only"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and real transactions."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        # No ping round trip per checkout: a connection the server dropped fails its
        # request (503), and SQLAlchemy then discards the whole pool; recycling keeps idle
        # connections younger than any server or proxy idle timeout.
        engine = create_engine(
            url, pool_recycle=1800, pool_size=5, max_overflow=5, hide_parameters=True
        )
        _read_without_transaction(engine)
        return engine

    # hide_parameters: a database error's text (logged, shown in tracebacks) never carries
    # the row's values, such as an email address.
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 15}, hide_parameters=True
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # pragma: no cover - driver hook
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content is zeroed in the file, not only unlinked, so an
        # erased value cannot be read back from free pages (see `checkpoint_after_commit`).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    _read_without_transaction(engine)
    return engine


def _is_write(statement: str) -> bool:
    """Whether a statement may write or lock: anything but a plain SELECT."""
    return statement.lstrip()[:6].upper() != "SELECT" or _LOCKING.search(statement) is not None


def _streams(context: Any) -> bool:
    """Whether rows come through a server-side cursor, which PostgreSQL keeps in a transaction."""
    options = context.execution_options if context is not None else {}
    return bool(options.get("stream_results") or options.get("yield_per"))


_LOCKING = re.compile(r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY|KEY\s+SHARE)\b|advisory", re.IGNORECASE)
#: Connection-record flags: reads run in autocommit until a write; autocommit was set here.
_LAZY, _OURS = "sentro.lazy_begin", "sentro.autocommit_set"


def _read_without_transaction(engine: Engine) -> None:
    """Transactions begin at BEGIN, or, under READING, only at the first write.

    A safe-method request's session reads in autocommit: on PostgreSQL its reads are its only
    round trips (no BEGIN before them, no ROLLBACK after), as each statement already reads its
    own snapshot under READ COMMITTED. The first statement that may write or lock (anything but
    a plain SELECT) or that streams its rows (a server-side cursor) begins a real transaction
    first, which its commit ends, so a write made while answering a GET keeps its atomicity.
    """
    sqlite = engine.dialect.name == "sqlite"

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        options = connection.get_execution_options()
        reading = options.get(READING, False)
        connection.info[_LAZY] = reading
        if sqlite:
            if not reading:
                # A request that may write takes the write lock at BEGIN (waiting up to
                # busy_timeout): a transaction that read first cannot take it once another
                # process has written since, and SQLite then fails at once instead of waiting
                # (a 503 under concurrent saves).
                immediate = options.get(IMMEDIATE, False)
                connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        elif reading:
            connection.connection.dbapi_connection.autocommit = True
            connection.info[_OURS] = True

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(connection, cursor, statement, parameters, context, executemany) -> None:
        if connection.info.get(_LAZY) and (_is_write(statement) or _streams(context)):
            connection.info[_LAZY] = False
            raw = connection.connection.dbapi_connection
            if sqlite:
                raw.execute("BEGIN IMMEDIATE")
            else:
                raw.autocommit = False  # psycopg sends BEGIN before this statement

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection, record) -> None:
        if record.info.pop(_OURS, False) and dbapi_connection is not None:
            dbapi_connection.autocommit = False  # the next checkout may be a writer's


def checkpoint_after_commit(db: Session) -> None:
    """Fold SQLite's write-ahead log into the file and empty it once `db` commits.

    Until a checkpoint the WAL still holds every page as it was before an erasure; callers that
    erase personal data ask for this so the old values do not outlive the commit there.
    """
    db.info[_CHECKPOINT] = True


_CHECKPOINT = "sentro.checkpoint_after_commit"


@event.listens_for(Session, "after_commit")
def _checkpoint(db: Session) -> None:  # pragma: no cover - exercised through erasure tests
    if not db.info.get(_CHECKPOINT) or db.in_nested_transaction():
        return  # a savepoint's release: the enclosing transaction still holds the write lock
    del db.info[_CHECKPOINT]
    bind = db.get_bind()
    if bind.dialect.name != "sqlite":
        return  # PostgreSQL: VACUUM and backup retention, see the README
    raw = bind.raw_connection()
    try:
        cursor = raw.cursor()
        # Wait for readers of an older snapshot a little, not the full busy timeout: if one
        # is still reading, the next erasure's or the daily purge's checkpoint finishes this.
        cursor.execute(f"PRAGMA busy_timeout={CHECKPOINT_WAIT_MS}")
        try:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.close()
    finally:
        raw.close()


def init_app(app: Flask) -> None:
    """Create the app's engine and close the request's session when the request ends."""
    app.extensions["sentro.engine"] = make_engine(app.config["DATABASE_URL"])
    app.extensions["sentro.writing_engine"] = app.extensions["sentro.engine"].execution_options(
        **{IMMEDIATE: True}
    )
    app.extensions["sentro.reading_engine"] = app.extensions["sentro.engine"].execution_options(
        **{READING: True}
    )
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["sentro.engine"]


def reading_engine() -> Engine:
    """The current app's engine for reads: no transaction until a statement may write."""
    return current_app.extensions["sentro.reading_engine"]


def session() -> Session:
    """The ORM session of this request, opened on first use (see IMMEDIATE and READING)."""
    if "db_session" not in g:
        bind = engine()
        if has_request_context():
            reading = request.method in SAFE_METHODS
            bind = current_app.extensions[f"sentro.{'reading' if reading else 'writing'}_engine"]
        g.db_session = Session(bind, expire_on_commit=False)
        g.db_session.add_all(g.pop("db_adopt", ()))
    return g.db_session


def adopt(*instances: Any) -> None:
    """Put rows read outside the ORM (`driver`) in this request's ORM session, now or once opened.

    They then behave as if the session had loaded them: a change to one is flushed at commit,
    an attribute not read loads on use, a rollback expires them. Nothing is sent for this.
    """
    if "db_session" in g:
        g.db_session.add_all(instances)
    else:
        g.setdefault("db_adopt", []).extend(instances)


def _close_session(_exc: BaseException | None) -> None:
    db = g.pop("db_session", None)
    if db is not None:
        db.close()


@contextmanager
def transaction() -> Iterator[Session]:
    """A session for one unit of work outside a request: commit on success, roll back on error."""
    with Session(engine(), expire_on_commit=False) as db, db.begin():
        yield db


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL statements `engine` runs inside the block (transaction control left out)."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            statements.append(statement)

    from . import driver

    event.listen(engine, "before_cursor_execute", record)
    try:
        with driver.observed(engine, statements.append):  # reads past the execution layer
            yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def counting_round_trips(engine: Engine) -> Iterator[list[str]]:
    """Collect what `engine`'s driver sends inside the block, one entry per round trip.

    Counted below SQLAlchemy, so a transaction's BEGIN, COMMIT and ROLLBACK appear only when
    they are really sent: libpq's protocol trace on PostgreSQL (one entry per ReadyForQuery),
    sqlite3's statement trace on SQLite (PRAGMAs left out).
    """
    trips: list[str] = []
    traced: list[Any] = []
    sqlite = engine.dialect.name == "sqlite"

    def on_checkout(dbapi_connection, _record, _proxy) -> None:
        traced.append(dbapi_connection)
        if sqlite:
            dbapi_connection.set_trace_callback(
                lambda sql: None if sql.startswith("PRAGMA") else trips.append(sql)
            )
        else:
            dbapi_connection.pgconn.trace(trace_file.fileno())
            dbapi_connection.pgconn.set_trace_flags(_pq_trace_flags())

    with tempfile.TemporaryFile() as trace_file:
        event.listen(engine, "checkout", on_checkout)
        try:
            yield trips
        finally:
            event.remove(engine, "checkout", on_checkout)
            for dbapi_connection in traced:
                if sqlite:
                    dbapi_connection.set_trace_callback(None)
                elif not dbapi_connection.closed:
                    dbapi_connection.pgconn.untrace()
            trace_file.seek(0)
            trips.extend(_round_trips(trace_file.read().decode(errors="replace")))


def _pq_trace_flags() -> int:
    from psycopg import pq

    return pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE


def _round_trips(trace: str) -> list[str]:
    """The statements of a libpq trace, one per round trip (a Query, or Parse/Bind to Sync)."""
    trips, sent, prepared = [], "", {}
    for line in trace.splitlines():
        direction, _length, message, rest = [*line.split("\t", 3), "", "", ""][:4]
        quoted = re.findall(r'"((?:[^"]|"")*)"?', rest)
        if direction == "F" and message == "Query" and quoted:
            sent = quoted[0]
        elif direction == "F" and message == "Parse" and len(quoted) >= 2:
            sent = prepared[quoted[0]] = quoted[1]
        elif direction == "F" and message == "Bind" and len(quoted) >= 2 and quoted[1]:
            sent = prepared.get(quoted[1], "(a statement prepared earlier)")
        elif direction == "B" and message == "ReadyForQuery":
            trips.append(sent)
    return trips
