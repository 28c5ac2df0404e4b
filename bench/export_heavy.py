"""Benchmark the account export for a heavy person: 10,000 sign-ins, 1,000 audit rows, 1,000 emails.

Run from the repository root:

    PYTHONPATH=. .venv/bin/python -m bench.export_heavy [--database-url URL] [--rounds N]

It builds a scratch database (SQLite in a temporary folder unless --database-url names an
empty PostgreSQL database), migrates it, adds a light person (10 sign-ins, 10 audit rows, 10
emails) and a heavy one, then reports for each: the export's size, the best time of N rounds to write the
whole JSON, the peak memory Python allocated while writing it (tracemalloc), and the number
of SQL statements. The statement counts must be equal; the script exits 1 when they are not.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

from webapp import create_app
from webapp.db import counting_statements
from webapp.models import AuditEvent, OutboxMessage, SignIn, User, utcnow
from webapp.mydata import service

AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
]


def add_person(db: Session, name: str, *, sign_ins: int, audit_rows: int, emails: int) -> User:
    """A person with this many sign-ins (sealed IPs), audit rows and sent emails."""
    user = User(issuer="https://bench.invalid", subject=name, email=f"{name}@example.test")
    db.add(user)
    db.flush()
    now = utcnow()
    db.execute(
        insert(SignIn),
        [
            {
                "user_id": user.id,
                "at": now - timedelta(minutes=n),
                "ip": f"203.0.{n // 256 % 256}.{n % 256}",
                "user_agent": AGENTS[n % len(AGENTS)],
            }
            for n in range(sign_ins)
        ],
    )
    db.execute(
        insert(AuditEvent),
        [
            {
                "user_id": user.id,
                "at": now - timedelta(hours=n),
                "actor": "self",
                "action": "change",
                "field": "name",
                "old_value": "A••••••ne",
                "new_value": "B••••••ne",
            }
            for n in range(audit_rows)
        ],
    )
    db.execute(
        insert(OutboxMessage),
        [
            {
                "user_id": user.id,
                "to_addr": f"{name}@example.test",
                "subject": f"Notice {n}",
                "text_body": "Kia ora,\n\nA notice.\n" * 10,
                "headers": {},
                "message_id": f"<{name}-{n}@bench.invalid>",
                "template": "bench",
                "status": "sent",
                "attempts": 1,
                "next_attempt_at": now,
                "created_at": now - timedelta(days=n % 80),
                "sent_at": now - timedelta(days=n % 80),
                "last_error": "",
            }
            for n in range(emails)
        ],
    )
    db.commit()
    return user


def write_export(db: Session, user: User) -> int:
    """Write the person's whole export as the download does, discarding it; return its bytes."""
    return sum(len(chunk) for chunk in service.export_json(service.build_export(db, user)))


def measure(app, user_id: int, rounds: int) -> dict:
    """Size, best time, peak traced memory and statement count of one person's export."""
    engine = app.extensions["sentro.engine"]
    with app.app_context(), Session(engine, expire_on_commit=False) as db:
        user = db.get(User, user_id)
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            size = write_export(db, user)
            best = min(best, time.perf_counter() - start)
            db.rollback()
        tracemalloc.start()
        write_export(db, user)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        db.rollback()
        db.refresh(user)  # as in a request, the signed-in person is already loaded
        with counting_statements(engine) as statements:
            write_export(db, user)
    return {"bytes": size, "seconds": best, "peak": peak, "statements": len(statements)}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database to use (default: SQLite)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        app = create_app({"SENTRO_ENV": "testing", "DATABASE_URL": url})
        from webapp.cli import upgrade_database

        with app.app_context():
            upgrade_database()
        with Session(app.extensions["sentro.engine"], expire_on_commit=False) as db:
            light = add_person(db, "light", sign_ins=10, audit_rows=10, emails=10).id
            heavy = add_person(db, "heavy", sign_ins=10_000, audit_rows=1_000, emails=1_000).id

        print(f"database: {app.extensions['sentro.engine'].dialect.name}")
        print(
            f"{'person':<8}{'sign-ins':>10}{'audit':>8}{'emails':>8}{'JSON':>12}{'time':>10}"
            f"{'peak':>12}{'SQL':>6}"
        )
        results = {}
        for name, user_id, sign_ins, audit_rows, emails in (
            ("light", light, 10, 10, 10),
            ("heavy", heavy, 10_000, 1_000, 1_000),
        ):
            r = results[name] = measure(app, user_id, args.rounds)
            print(
                f"{name:<8}{sign_ins:>10,}{audit_rows:>8,}{emails:>8,}{r['bytes'] / 1024:>10.0f}KB"
                f"{r['seconds'] * 1000:>8.0f}ms{r['peak'] / 1024:>10.0f}KB{r['statements']:>6}"
            )
        app.extensions["sentro.engine"].dispose()

    same = results["light"]["statements"] == results["heavy"]["statements"]
    fast = results["heavy"]["seconds"] < 0.5
    print("SQL statements independent of rows:", "yes" if same else "NO")
    print(f"heavy export under 0.5 s: {'yes' if fast else 'NO'} (load average {_load()})")
    return 0 if same and fast else 1


def _load() -> str:
    import os

    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
