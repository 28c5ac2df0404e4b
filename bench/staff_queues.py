"""Benchmark: the staff queues with a bad week's open requests (10,000 of each by default).

    PYTHONPATH=. .venv/bin/python -m bench.staff_queues [--open 10000] [--repeat 20]

Seeds the people and their open closure and privacy requests with `dev seed --open-requests`,
then times each queue view as staff open it — the counts, the page's query and the template —
for the first page, a page deep in the queue, the last page and the three kinds of search.
The view is called inside a request context for its own URL, with a staff session of the
person's own in the cookie: the figure includes the session's load and the queue's reads that
go with it (one round trip on PostgreSQL), the page's whole read path. Runs on SQLite, and
on PostgreSQL too when TEST_DATABASE_URL is set. Prints the median and the slowest of each.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from flask import session as cookie
from flask import url_for
from sqlalchemy import select

from webapp import create_app, db
from webapp.auth import current, sessions
from webapp.cli import upgrade_database
from webapp.dev.seed import seed_open_requests
from webapp.models import User, utcnow

from .policy_publish import SECRET

ENDPOINTS = {
    "closure queue": "closure_staff.queue",
    "privacy-request queue": "inquiries_staff.queue",
}


def cases(people: int) -> list[tuple[str, dict[str, str]]]:
    """The queries staff make: pages near, deep and last; a number, a name, an email."""
    return [
        ("page 1", {}),
        ("page 100", {"page": "100"}),
        ("last page", {"page": str(people // 50)}),
        ("all statuses, page 50", {"status": "all", "page": "50"}),
        ("search: request number", {"q": str(people // 2)}),
        ("search: part of a name", {"q": "aroha ng"}),
        ("search: an email", {"q": f"person{people // 3}@example.test"}),
    ]


def run(url: str, label: str, people: int, repeat: int) -> None:
    """Seed, then time every case on both queues."""
    app = create_app({"SENTRO_ENV": "testing", "SECRET_KEY": SECRET, "DATABASE_URL": url})
    with app.app_context():
        upgrade_database()
        started = time.perf_counter()
        closures, inquiries = seed_open_requests(people)
        print(
            f"{label}: seeded {closures:,} closure and {inquiries:,} privacy requests "
            f"in {time.perf_counter() - started:.1f} s"
        )
        with db.transaction() as session:
            staff = User(issuer="https://bench", subject="staff", email="s@x.test", is_staff=True)
            session.add(staff)
        with db.transaction() as session:
            staff = session.scalars(select(User).where(User.subject == "staff")).one()
            limits = sessions.Lifetimes.from_config(app.config)
            reference, _ = sessions.start(
                session, staff, now=utcnow(), lifetimes=limits, staff=True
            )
    for queue, endpoint in ENDPOINTS.items():
        with app.test_request_context():
            path = url_for(endpoint)
        for name, args in cases(people):
            times = []
            for _ in range(repeat):
                with app.test_request_context(path, query_string=args):
                    cookie[current.REFERENCE] = reference
                    started = time.perf_counter()
                    body, status = app.view_functions[endpoint]()
                    times.append(time.perf_counter() - started)
                    assert status == 200 and "Showing" in body, (queue, name, body[-2000:])
            print(
                f"  {queue:22} {name:26} median {statistics.median(times) * 1000:7.1f} ms, "
                f"slowest {max(times) * 1000:7.1f} ms"
            )
    app.extensions["sentro.engine"].dispose()


def drop_postgres(url: str, name: str) -> None:
    """Drop the benchmark's database beside `url`'s."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    """Run on SQLite, then PostgreSQL when TEST_DATABASE_URL names one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=10_000, help="open requests of each kind")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per case")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-queues-") as folder:
        url = f"sqlite:///{Path(folder) / 'site.sqlite3'}"
        run(url, "SQLite", options.open, options.repeat)
    if os.environ.get("TEST_DATABASE_URL"):
        from .servers import fresh_postgres

        base = os.environ["TEST_DATABASE_URL"]
        name = f"{base.rsplit('/', 1)[1]}_bench_queues_{os.getpid()}"
        url = fresh_postgres(base, name)
        try:
            run(url, "PostgreSQL", options.open, options.repeat)
        finally:
            drop_postgres(base, name)


if __name__ == "__main__":
    main()
