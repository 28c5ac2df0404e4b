"""Mail delivery: the outbox worker against a bare smtplib loop, and two workers on PostgreSQL."""

from __future__ import annotations

import secrets
import smtplib
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

from . import servers

MAIL_FROM = "Sentro <no-reply@sentro.co>"


@dataclass
class Comparison:
    """deliver_due against smtplib over one connection, same messages, same server."""

    database: str
    messages: int
    bare_per_s: float
    outbox_per_s: float
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.outbox_per_s / self.bare_per_s


@dataclass
class Campaign:
    """Two `mail send-queued` processes draining one campaign."""

    queued: int
    received: int
    unique: int
    seconds: float
    marked_sent: int


def queue_campaign(app, count: int) -> None:
    """Queue `count` messages straight into the outbox (as a campaign's bulk insert would)."""
    from webapp import db
    from webapp.mail.delivery import outbox
    from webapp.models import utcnow

    now = utcnow() - timedelta(seconds=1)
    run = secrets.token_hex(4)
    with app.app_context(), db.transaction() as session:
        for start in range(0, count, 5000):
            session.execute(
                outbox.insert(),
                [
                    {
                        "to_addr": f"person{n}@example.test",
                        "subject": "Service update",
                        "text_body": f"Kia ora,\n\nA short service update, number {n}.\n" * 5,
                        "headers": {"List-Id": "<service-updates.sentro.co>"},
                        "message_id": f"<bench-{run}-{n}@sentro.co>",
                        "template": "bench",
                        "list_id": "service-updates",
                        "status": "queued",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                        "last_error": "",
                    }
                    for n in range(start, min(start + 5000, count))
                ],
            )


def _app(database_url: str, smtp_port: int):
    from webapp import create_app

    return create_app(
        {
            "SENTRO_ENV": "testing",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            "MAIL_FROM": MAIL_FROM,
        }
    )


def compare(database_url: str, label: str, count: int) -> Comparison:
    """Time the bare loop and the outbox worker over the same `count` messages."""
    from sqlalchemy import select

    from webapp import db
    from webapp.cli import upgrade_database
    from webapp.mail.cli import deliver_until_idle
    from webapp.mail.delivery import outbox
    from webapp.mail.smtp import to_email
    from webapp.models import OutboxMessage

    port = servers.free_port()
    with servers.catcher(port, servers.OUT / f"catcher-{label}.txt"):
        app = _app(database_url, port)
        with app.app_context():
            upgrade_database()
            with db.engine().begin() as conn:
                conn.execute(outbox.delete())
        queue_campaign(app, count)
        with app.app_context():
            rows = db.session().execute(select(outbox).order_by(outbox.c.id)).all()
            messages = [OutboxMessage.model_validate(dict(r._mapping)) for r in rows]
            envelope = parseaddr(MAIL_FROM)[1]

            def bare() -> float:
                started = time.perf_counter()
                connection = smtplib.SMTP("127.0.0.1", port)
                for message in messages:
                    connection.send_message(
                        to_email(message, MAIL_FROM), from_addr=envelope, to_addrs=[message.to_addr]
                    )
                connection.quit()
                return time.perf_counter() - started

            first = bare()
            started = time.perf_counter()
            report = deliver_until_idle()
            worker_seconds = time.perf_counter() - started
            second = bare()
        app.extensions["sentro.engine"].dispose()
    if report.sent != count:
        raise RuntimeError(f"the worker sent {report.sent} of {count}: {report.errors[:3]}")
    return Comparison(label, count, count / ((first + second) / 2), count / worker_seconds)


def two_workers(postgres_url: str, count: int, provider_url: str) -> Campaign:
    """Two `flask --app webapp mail send-queued` processes on PostgreSQL, one campaign."""
    from sqlalchemy import func, select

    from webapp import db
    from webapp.cli import upgrade_database
    from webapp.mail.delivery import outbox

    database_url = servers.fresh_postgres(postgres_url, "bench_mail")
    port = servers.free_port()
    received_file = servers.OUT / "catcher-campaign.txt"
    with servers.catcher(port, received_file):
        app = _app(database_url, port)
        with app.app_context():
            upgrade_database()
        queue_campaign(app, count)
        env = servers.site_env(
            database_url, provider_url, "http://127.0.0.1:1", f"smtp://127.0.0.1:{port}"
        )
        seconds = servers.send_queued_in_parallel(env)
        ids = servers.received_ids(Path(received_file))
        with app.app_context():
            sent = (
                db.session()
                .execute(select(func.count()).select_from(outbox).where(outbox.c.status == "sent"))
                .scalar_one()
            )
        app.extensions["sentro.engine"].dispose()
    counts = Counter(ids)
    return Campaign(count, len(ids), len(counts), seconds, sent)
