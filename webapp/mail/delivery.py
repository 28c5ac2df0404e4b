"""Delivering the outbox over SMTP: claim due rows, send over a few connections, mark each sent.

Rows are leased to one worker (on PostgreSQL the claim skips rows another worker holds), and
each row is marked sent in its own commit right after the server accepts it, before that SMTP
connection sends another, so a worker killed mid-batch can resend at most the one message in
flight on each of its connections and leaves every other row to the next worker.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import smtplib
import socket
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr

from flask import current_app, has_app_context
from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.engine import Connection, Engine

from ..models import OutboxBody, OutboxMessage, utcnow
from . import shared
from .smtp import SmtpServer, to_email

log = logging.getLogger(__name__)
outbox = OutboxMessage.__table__  # type: ignore[attr-defined]

MAX_ATTEMPTS = 12  # about 2 days of backoff before a message is given up as failed
LEASE = timedelta(minutes=10)


@dataclass
class DeliveryReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.errors += other.errors
        return self


#: Where erasure points a closed account's address: the reserved `.invalid` top-level domain
#: (RFC 2606), which no mail server may accept.
RESERVED_DOMAIN = "invalid"
NOT_SENT = "not sent: no address, or an erased or reserved (.invalid) one"


def may_deliver_to(address: str) -> bool:
    """Whether any email may go to `address`: never an empty, erased or `.invalid` one.

    Every email leaves through delivery, so this one rule covers every way mail is queued.
    """
    domain = parseaddr(address or "")[1].rpartition("@")[2].rstrip(".").lower()
    return bool(domain) and domain != RESERVED_DOMAIN and not domain.endswith("." + RESERVED_DOMAIN)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failure: 1 min, 2, 4, … capped at 6 hours."""
    return timedelta(seconds=min(60 * 2 ** max(attempts - 1, 0), 6 * 3600))


def claim(engine: Engine, worker: str, *, limit: int, now: datetime) -> list[OutboxMessage]:
    """Lease up to `limit` due rows to `worker` and return them, oldest first."""
    due = (
        select(outbox.c.id)
        .where(
            outbox.c.status == "queued",
            outbox.c.next_attempt_at <= now,
            or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
        )
        .order_by(outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    with engine.begin() as connection:
        rows = connection.execute(
            update(outbox)
            .where(outbox.c.id.in_(due.scalar_subquery()))
            .values(claimed_by=worker, claimed_until=now + LEASE)
            .returning(*outbox.c)
        ).all()
    messages = [OutboxMessage.model_validate(dict(row._mapping)) for row in rows]
    return sorted(messages, key=lambda m: m.id or 0)


def _finish(connection: Connection, message: OutboxMessage, worker: str, **values) -> None:
    """Record one message's outcome in a commit of its own on the batch's connection."""
    with connection.begin():
        connection.execute(
            update(outbox)
            .where(and_(outbox.c.id == message.id, outbox.c.claimed_by == worker))
            .values(claimed_by=None, claimed_until=None, **values)
        )


_SENT = (
    update(outbox)
    .where(outbox.c.id == bindparam("m_id"), outbox.c.claimed_by == bindparam("m_worker"))
    .values(
        status="sent",
        sent_at=bindparam("m_at", type_=outbox.c.sent_at.type),
        attempts=bindparam("m_attempts"),
        claimed_by=None,
        claimed_until=None,
    )
)


def mark_sent(connection: Connection, message: OutboxMessage, worker: str) -> None:
    """Record that the server accepted `message`: one UPDATE that is its own commit.

    The statement is compiled once per connection and handed straight to the driver: the
    driver connection is in autocommit (PostgreSQL: set by the lane; SQLite: no BEGIN is open),
    so the UPDATE alone is the commit, and SQLAlchemy's per-statement work is saved on the one
    statement every message makes.
    """
    prepared = connection.info.get("sentro.mark_sent")
    if prepared is None:
        dialect = connection.dialect
        compiled = _SENT.compile(dialect=dialect)
        processor = outbox.c.sent_at.type.dialect_impl(dialect).bind_processor(dialect)
        prepared = (str(compiled), compiled, processor or (lambda v: v))
        connection.info["sentro.mark_sent"] = prepared
    sql, compiled, process_at = prepared
    values = compiled.construct_params(
        {
            "m_id": message.id,
            "m_worker": worker,
            "m_at": process_at(utcnow()),
            "m_attempts": message.attempts + 1,
        }
    )
    order = compiled.positiontup
    params = tuple(values[name] for name in order) if order else values
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
    finally:
        cursor.close()


def _retry_later(
    connection: Connection, message: OutboxMessage, worker: str, error: str, now: datetime
) -> str:
    attempts = message.attempts + 1
    status = "failed" if attempts >= MAX_ATTEMPTS else "queued"
    _finish(
        connection,
        message,
        worker,
        attempts=attempts,
        status=status,
        next_attempt_at=now + backoff(attempts),
        last_error=error[:500],
    )
    return status


def deliver_due(
    engine: Engine,
    server: SmtpServer,
    *,
    mail_from: str,
    worker: str,
    batch_size: int = 200,
    connections: int = 1,
    now: datetime | None = None,
) -> DeliveryReport:
    """Send one batch of due messages over `connections` SMTP connections at once.

    Each SMTP connection has a database connection of its own and marks each message sent in a
    commit of its own before it sends the next, so at most one message per connection is in
    flight: a crash can resend only those, and loses none. While one connection waits for its
    commit, the others talk to the mail server.
    """
    now = now or utcnow()
    messages = claim(engine, worker, limit=batch_size, now=now)
    if not messages:
        return DeliveryReport()
    lanes = max(1, min(connections, len(messages)))
    # One queue per connection, by recipient: a person's emails go over one connection, in
    # the order they were queued, whatever the other connections do.
    pending: list[queue.SimpleQueue[OutboxMessage]] = [queue.SimpleQueue() for _ in range(lanes)]
    for message in messages:
        pending[zlib.crc32(message.to_addr.lower().encode()) % lanes].put(message)
    reports = [DeliveryReport() for _ in range(lanes)]
    with engine.connect() as connection:
        found = shared.bodies(connection, {m.body_id for m in messages if m.body_id})
    # Shared bodies are personalised with links signed by the app's key: each lane needs it.
    app = current_app._get_current_object() if has_app_context() else None  # type: ignore[attr-defined]

    failures: list[BaseException] = []

    def lane(report: DeliveryReport, mine: queue.SimpleQueue[OutboxMessage]) -> None:
        try:
            _lane(report, mine)
        except Exception as exc:  # noqa: BLE001 - raised again below, in the worker's thread
            failures.append(exc)

    def _lane(report: DeliveryReport, mine: queue.SimpleQueue[OutboxMessage]) -> None:
        with (
            app.app_context() if app is not None else nullcontext(),
            _marking_connection(engine) as db,
        ):
            _deliver(db, server, mine, report, found, mail_from=mail_from, worker=worker, now=now)

    if lanes == 1:
        lane(reports[0], pending[0])
    else:
        threads = [
            threading.Thread(target=lane, args=lane_args, daemon=True)
            for lane_args in zip(reports, pending, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    if failures:
        raise failures[0]
    total = DeliveryReport()
    for report in reports:
        total += report
    left = [message for mine in pending for message in _drain(mine)]
    if left:  # a connection failed or was lost: what it did not send waits for backoff
        error = total.errors[-1] if total.errors else "SMTP unavailable"
        with _marking_connection(engine) as db:
            for message in left:
                _count(total, _retry_later(db, message, worker, error, now))
    return total


def _drain(pending: queue.SimpleQueue[OutboxMessage]) -> list[OutboxMessage]:
    taken = []
    while not pending.empty():
        taken.append(pending.get())
    return taken


@contextmanager
def _marking_connection(engine: Engine) -> Iterator[Connection]:
    """A database connection for one lane's marks: each is its own commit. On PostgreSQL in
    autocommit, that commit is the UPDATE itself: one round trip, no BEGIN."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def _deliver(
    db: Connection,
    server: SmtpServer,
    pending: queue.SimpleQueue[OutboxMessage],
    report: DeliveryReport,
    bodies: dict[int, OutboxBody],
    *,
    mail_from: str,
    worker: str,
    now: datetime,
) -> None:
    """Take messages from `pending` and send them over one SMTP connection until none is left."""
    envelope_from = parseaddr(mail_from)[1]
    try:
        connection = server.connect()
    except (OSError, smtplib.SMTPException) as exc:
        error = f"SMTP unavailable: {type(exc).__name__}"
        log.warning("%s; messages stay queued", error)
        report.errors.append(error)
        return  # another connection, or deliver_due, deals with the messages

    try:
        while True:
            try:
                message = pending.get_nowait()
            except queue.Empty:
                return
            if not may_deliver_to(message.to_addr):
                _finish(db, message, worker, status="failed", last_error=NOT_SENT)
                report.failed += 1
                continue
            try:
                connection.send_message(
                    to_email(message, mail_from, bodies.get(message.body_id or 0)),
                    from_addr=envelope_from,
                    to_addrs=[message.to_addr],
                )
            except (
                smtplib.SMTPRecipientsRefused,
                smtplib.SMTPDataError,
                smtplib.SMTPSenderRefused,
            ) as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                if _is_permanent(exc):
                    _finish(
                        db,
                        message,
                        worker,
                        status="failed",
                        last_error=error,
                        attempts=message.attempts + 1,
                    )
                    report.failed += 1
                else:
                    _count(report, _retry_later(db, message, worker, error, now))
                continue
            except (OSError, smtplib.SMTPException) as exc:
                error = f"SMTP connection lost: {type(exc).__name__}"
                report.errors.append(error)
                _count(report, _retry_later(db, message, worker, error, now))
                return  # the rest of this connection's messages wait for backoff
            # Marked sent in its own commit right after the server accepted it.
            mark_sent(db, message, worker)
            report.sent += 1
    finally:
        try:
            connection.quit()
        except (OSError, smtplib.SMTPException):
            connection.close()


def _is_permanent(exc: smtplib.SMTPException) -> bool:
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code = min((c for c, _ in exc.recipients.values()), default=None)
    return isinstance(code, int) and 500 <= code < 600


def _count(report: DeliveryReport, status: str) -> None:
    if status == "failed":
        report.failed += 1
    else:
        report.retrying += 1


def worker_name() -> str:
    """A name that tells workers apart in the outbox: host, process, random suffix."""
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{secrets.token_hex(3)}"
