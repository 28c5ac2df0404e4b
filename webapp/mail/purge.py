"""Retention of sent email: the outbox keeps a delivered message 90 days, then deletes it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, or_
from sqlmodel import Session

from ..models import OutboxMessage
from ..retention import purge_step

#: How long a delivered (or given-up) email stays in the outbox; the data map says the same.
OUTBOX_RETENTION = dt.timedelta(days=90)


@purge_step("outbox: delete emails 90 days after delivery")
def purge_outbox(db: Session, now: dt.datetime) -> str:
    """Delete sent (or given-up) emails older than the outbox's retention."""
    cutoff = now - OUTBOX_RETENTION
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    result = db.execute(
        delete(outbox).where(
            outbox.c.status.in_(("sent", "failed")),
            or_(
                outbox.c.sent_at < cutoff,
                (outbox.c.sent_at.is_(None)) & (outbox.c.created_at < cutoff),
            ),
        )
    )
    return f"deleted {result.rowcount} emails"
