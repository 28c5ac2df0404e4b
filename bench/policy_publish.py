"""Benchmark: a policy notice to N people, queued and delivered, against a bare bulk insert.

    PYTHONPATH=. .venv/bin/python -m bench.policy_publish [--people 1000000] [--deliver 50000]

Seeds N people, then in a child process of its own (so its peak memory is the publishing's
alone) runs what `flask policy publish` runs: `policy.service.publish` (the version row, the
notice rendered once, the run recorded) and `notices.fan_out_pending` (the outbox rows, one
INSERT ... SELECT per range of user ids, with the real list-extras hook of the
email-preferences capability installed, as the site has it). Then, in the same database and the
same run, a bare `INSERT ... SELECT` of the very same rows into an empty copy of the outbox table
(same columns and indexes): the floor for writing those rows; the target is at most 3 times it.
Then two `flask mail send-queued` processes deliver the first `--deliver` notices (the rest are
held back) into a counting aiosmtpd, each message personalised with `links.mail_extras` at
sending; the catcher proves none arrived twice. PostgreSQL (TEST_DATABASE_URL) by default;
`--sqlite` for SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from . import servers

SECRET = "benchmark-secret-key-that-is-long-enough-0123456789"


def child(url: str) -> None:
    """Publish version 2 and queue its notices; print the seconds and this process's peak RSS."""
    from webapp import create_app, db
    from webapp.models import utcnow
    from webapp.policy import notices, service

    app = create_app(
        {
            "SENTRO_ENV": "testing",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": url,
            "BASE_URL": "https://account.sentro.co",
        }
    )
    with app.app_context():
        text_ = service.FIRST_VERSION_FILE.read_text(encoding="utf-8")
        text_ = text_.replace("Privacy Act 2002", "Privacy Act 2020")
        today = utcnow().date()
        started = time.perf_counter()
        with db.transaction() as session:
            result = service.publish(
                session,
                text=text_,
                summary="We now name the Privacy Act 2020 correctly.",
                effective_on=today + timedelta(days=30),
                today=today,
                now=utcnow(),
            )
        published = time.perf_counter() - started
        queued = notices.fan_out_pending()
        total = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "audience": result.notices,
                "queued": queued,
                "publish_s": published,
                "queue_s": total,
                "peak_mb": peak_kb / 1024,
            }
        )
    )


def bare_insert_select(url: str) -> float:
    """Seconds to INSERT ... SELECT the outbox's rows into an empty copy of the table."""
    from webapp.db import make_engine

    engine = make_engine(url)
    columns = "user_id, to_addr, subject, text_body, html_body, headers, message_id, template, "
    columns += "list_id, dedupe_key, status, attempts, next_attempt_at, claimed_by, "
    columns += "claimed_until, last_error, created_at, body_id, sent_at"
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bare_outbox"))
        if engine.dialect.name == "postgresql":
            connection.execute(text("CREATE TABLE bare_outbox (LIKE outbox_message INCLUDING ALL)"))
        else:
            ddl = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE name = 'outbox_message'")
            ).scalar_one()
            connection.execute(text(ddl.replace("outbox_message", "bare_outbox", 1)))
            for (index,) in connection.execute(
                text(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                    "AND tbl_name = 'outbox_message'"
                )
            ):
                connection.execute(
                    text(
                        index.replace(" ix_", " bare_ix_").replace("outbox_message", "bare_outbox")
                    )
                )
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            text(f"INSERT INTO bare_outbox ({columns}) SELECT {columns} FROM outbox_message")
        )
    seconds = time.perf_counter() - started
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE bare_outbox"))
    engine.dispose()
    return seconds


def deliver_sample(url: str, sample: int) -> dict:
    """Two `mail send-queued` processes deliver the first `sample` notices; the rest wait."""
    from webapp.db import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        first = connection.execute(
            text("SELECT id FROM outbox_message ORDER BY id LIMIT 1 OFFSET :n"), {"n": sample}
        ).scalar()
        if first is not None:
            connection.execute(
                text("UPDATE outbox_message SET next_attempt_at = :later WHERE id >= :first"),
                {"later": "2999-01-01 00:00:00+00:00", "first": first},
            )
    port = servers.free_port()
    received = servers.OUT / "catcher-notice.txt"
    env = servers.site_env(url, "http://127.0.0.1:1", "https://account.sentro.co", "")
    env.update(
        {"SECRET_KEY": SECRET, "SENTRO_ENV": "testing", "SMTP_URL": f"smtp://127.0.0.1:{port}"}
    )
    with servers.catcher(port, received):
        seconds = servers.send_queued_in_parallel(env)
        ids = servers.received_ids(received)
    with engine.connect() as connection:
        sent = connection.execute(
            text("SELECT count(*) FROM outbox_message WHERE status = 'sent'")
        ).scalar_one()
    engine.dispose()
    counts = Counter(ids)
    return {
        "sample": sample,
        "received": len(ids),
        "distinct": len(counts),
        "twice": sum(1 for c in counts.values() if c > 1),
        "marked_sent": sent,
        "seconds": seconds,
    }


def run(url: str, people: int, sample: int, label: str) -> None:
    """Seed, queue in a child process, insert bare, deliver a sample; print the figures."""
    from webapp import create_app
    from webapp.cli import upgrade_database
    from webapp.dev.seed import seed_people

    app = create_app({"SENTRO_ENV": "testing", "SECRET_KEY": SECRET, "DATABASE_URL": url})
    with app.app_context():
        upgrade_database()
        started = time.perf_counter()
        seed_people(people)
        seeded = time.perf_counter() - started
    app.extensions["sentro.engine"].dispose()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    done = subprocess.run(
        [sys.executable, "-m", "bench.policy_publish", "--child", url],
        cwd=servers.ROOT,
        env={**os.environ, "PYTHONPATH": str(servers.ROOT)},
        capture_output=True,
        text=True,
        check=True,
    )
    queued = json.loads(done.stdout.strip().splitlines()[-1])
    bare = bare_insert_select(url)
    delivered = deliver_sample(url, sample) if sample else None
    print(
        f"{label}: {people:,} people seeded in {seeded:.0f} s; load average {load}\n"
        f"  queue the notice (publish + fan-out, real list-extras hook installed): "
        f"{queued['queue_s']:.2f} s for {queued['queued']:,} rows (publish itself "
        f"{queued['publish_s']:.2f} s); peak RSS of that process {queued['peak_mb']:.0f} MB "
        f"(target < 300)\n"
        f"  bare INSERT ... SELECT of the same rows into an empty copy of the outbox: "
        f"{bare:.2f} s; ratio {queued['queue_s'] / bare:.2f} (target <= 3)",
        flush=True,
    )
    if delivered:
        d = delivered
        print(
            f"  delivery by two `mail send-queued` processes of the first {d['sample']:,} "
            f"(each personalised with links.mail_extras at sending): {d['seconds']:.1f} s, "
            f"{d['received'] / d['seconds']:.0f} msg/s; received {d['received']:,}, distinct "
            f"{d['distinct']:,}, sent twice {d['twice']}, marked sent {d['marked_sent']:,}; "
            f"at that rate all {people:,} would take about "
            f"{people / (d['received'] / d['seconds']) / 60:.0f} min",
            flush=True,
        )


def main() -> None:
    """Parse the options and run on PostgreSQL (or SQLite)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--deliver", type=int, default=50_000, help="notices to deliver")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child)
        return
    servers.OUT.mkdir(parents=True, exist_ok=True)
    if options.sqlite:
        path = servers.OUT / "notice.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        run(f"sqlite:///{path}", options.people, options.deliver, "SQLite")
        return
    if not os.environ.get("TEST_DATABASE_URL"):
        sys.exit("set TEST_DATABASE_URL (PostgreSQL), or pass --sqlite")
    url = servers.fresh_postgres(os.environ["TEST_DATABASE_URL"], "notice")
    run(url, options.people, options.deliver, "PostgreSQL")


if __name__ == "__main__":
    main()
