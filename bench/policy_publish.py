"""Benchmark: publishing a policy version to N seeded people, against a bare bulk insert.

    PYTHONPATH=. .venv/bin/python -m bench.policy_publish [--people 100000]

Seeds N people with `webapp.dev.seed.seed_people`, times `policy.service.publish` (checks, the
version row, the audience query page by page, rendering, every outbox row, the commit), then
times a bare executemany of the very same outbox rows into a fresh outbox table in a fresh
database, and prints both and the ratio (the issue's target: at most 3). Runs on SQLite, and on
PostgreSQL too when TEST_DATABASE_URL is set. With `--with-footer` a list-extras hook that signs
an unsubscribe token per person is installed, as the email-preferences capability does.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Column, Index, MetaData, Table, insert, select
from sqlalchemy.engine import make_url

from webapp import create_app, db
from webapp.cli import upgrade_database
from webapp.db import make_engine
from webapp.dev.seed import seed_people
from webapp.mail import service as mail
from webapp.models import OutboxMessage, utcnow
from webapp.policy import service

CHUNK = 1000
SECRET = "benchmark-secret-key-that-is-long-enough-0123456789"


def signed_footer(user_id: int, list_id: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """A list-extras hook as costly as the real one: a signed token per person."""
    from webapp import tokens

    token = tokens.make(tokens.UNSUBSCRIBE, {"u": user_id, "l": list_id})
    url = f"https://account.sentro.co/u/{token}"
    headers = {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    footer = {
        "reason": "You receive this because you are on the list “Privacy policy updates”.",
        "unsubscribe_url": url,
        "list_name": "Privacy policy updates",
        "preferences_url": f"https://account.sentro.co/p/{token}",
    }
    return headers, footer


@contextmanager
def databases(kind: str) -> Iterator[tuple[str, str]]:
    """Two empty databases (one to publish in, one for the bare insert); removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="bench-policy-") as folder:
            yield (
                f"sqlite:///{Path(folder) / 'site.sqlite3'}",
                f"sqlite:///{Path(folder) / 'bare.sqlite3'}",
            )
        return
    import psycopg

    base = make_url(
        os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    )
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    names = [f"{base.database}_bench_site", f"{base.database}_bench_bare"]
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield tuple(base.set(database=n).render_as_string(hide_password=False) for n in names)  # type: ignore[misc]
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bare_table() -> Table:
    """The outbox table's columns, unique keys and indexes, without the foreign key to `user`."""
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    columns = [
        Column(
            c.name,
            c.type,
            primary_key=c.primary_key,
            nullable=c.nullable,
            unique=c.unique,
            index=c.index,
        )
        for c in outbox.columns
    ]
    return Table(
        "outbox_message", MetaData(), *columns, Index("ix_outbox_due", "status", "next_attempt_at")
    )


def bare_inserts(url: str, rows: list[dict], stored: list[tuple]) -> tuple[float, float]:
    """Seconds to executemany the rows into a fresh outbox table: through SQLAlchemy Core, and
    straight through the driver with the values already as stored (the floor)."""
    engine = make_engine(url)
    table = bare_table()
    table.metadata.create_all(engine)
    started = time.perf_counter()
    with engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            connection.execute(insert(table), rows[start : start + CHUNK])
    core = time.perf_counter() - started

    with engine.begin() as connection:
        connection.execute(table.delete())
    names = [c.name for c in table.columns if c.name != "id"]
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    sql = (
        f"INSERT INTO outbox_message ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
    )
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        cursor = raw.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN")
        for start in range(0, len(stored), CHUNK):
            cursor.executemany(sql, stored[start : start + CHUNK])
        raw.commit()
        driver = time.perf_counter() - started
    finally:
        raw.close()
    engine.dispose()
    return core, driver


def run(kind: str, people: int, with_footer: bool) -> None:
    """Seed, publish, insert bare, report, for one kind of database."""
    with databases(kind) as (site_url, bare_url):
        app = create_app(
            {
                "SENTRO_ENV": "testing",
                "SECRET_KEY": SECRET,
                "DATABASE_URL": site_url,
                "BASE_URL": "https://account.sentro.co",
            }
        )
        with app.app_context():
            upgrade_database()  # stores version 1
            started = time.perf_counter()
            seed_people(people)
            seeded = time.perf_counter() - started
            if with_footer:
                mail.set_list_extras(signed_footer)
            text = service.FIRST_VERSION_FILE.read_text(encoding="utf-8")
            text = text.replace("Privacy Act 2002", "Privacy Act 2020")
            today = utcnow().date()

            started = time.perf_counter()
            with db.transaction() as session:
                result = service.publish(
                    session,
                    text=text,
                    summary="We now name the Privacy Act 2020 correctly.",
                    effective_on=today + timedelta(days=30),
                    today=today,
                    now=utcnow(),
                )
            published = time.perf_counter() - started
            mail._list_extras = None
            assert result.ok, result.errors
            assert result.notices == people, (result.notices, people)

            outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
            names = [c.name for c in outbox.columns if c.name != "id"]
            with db.engine().connect() as connection:
                query = select(outbox).order_by(outbox.c.id)
                rows = [dict(r._mapping) for r in connection.execute(query)]
                cursor = connection.connection.cursor()
                columns = ", ".join("CAST(headers AS TEXT)" if n == "headers" else n for n in names)
                cursor.execute(f"SELECT {columns} FROM outbox_message ORDER BY id")
                stored = [tuple(r) for r in cursor.fetchall()]
            for row in rows:
                del row["id"]
            assert len(rows) == len(stored) == people
        app.extensions["sentro.engine"].dispose()
        core, driver = bare_inserts(bare_url, rows, stored)

    footer = "with a signed footer per person" if with_footer else "no list-extras hook"
    print(
        f"{kind:10} {people:>8,} people ({footer}): seeding {seeded:6.2f} s | "
        f"publish {published:6.2f} s ({published / people * 1e6:4.0f} µs/notice) | "
        f"bare executemany: Core {core:6.2f} s, driver {driver:6.2f} s | "
        f"ratio {published / core:4.2f} to Core, {published / driver:4.2f} to driver (target ≤ 3)",
        flush=True,
    )


def main() -> None:
    """Run on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument(
        "--with-footer", action="store_true", help="also run with a token-signing list-extras hook"
    )
    options = parser.parse_args()
    kinds = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
    for kind in kinds:
        run(kind, options.people, with_footer=False)
        if options.with_footer:
            run(kind, options.people, with_footer=True)


if __name__ == "__main__":
    main()
