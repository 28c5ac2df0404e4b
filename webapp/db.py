"""The database: one engine per app, one ORM session per request (or per CLI command)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
        return create_engine(
            url, pool_recycle=1800, pool_size=5, max_overflow=5, hide_parameters=True
        )

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

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:  # pragma: no cover - driver hook
        # A request that may write takes the write lock at BEGIN (waiting up to busy_timeout):
        # a transaction that read first cannot take it once another process has written since,
        # and SQLite then fails at once instead of waiting (a 503 under concurrent saves).
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


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
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    """The current app's engine."""
    return current_app.extensions["sentro.engine"]


def session() -> Session:
    """The ORM session of this request, opened on first use (writing requests: see IMMEDIATE)."""
    if "db_session" not in g:
        bind = engine()
        if has_request_context() and request.method not in SAFE_METHODS:
            bind = current_app.extensions["sentro.writing_engine"]
        g.db_session = Session(bind, expire_on_commit=False)
    return g.db_session


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

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)
