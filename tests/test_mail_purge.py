"""Sent email leaves the outbox after its retention period."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from webapp.mail.purge import purge_outbox
from webapp.models import OutboxMessage, User

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


def test_delivered_email_is_deleted_after_ninety_days(app, db):
    user = User(issuer="https://id.test", subject="x", email="x@example.com")
    db.add(user)
    db.flush()
    for n, (status, sent_days_ago) in enumerate(
        [("sent", 91), ("sent", 10), ("queued", None), ("failed", None)]
    ):
        sent_at = NOW - dt.timedelta(days=sent_days_ago) if sent_days_ago else None
        db.add(
            OutboxMessage(
                user_id=user.id,
                to_addr="x@example.com",
                subject="s",
                text_body="b",
                message_id=f"<{n}@t>",
                template="t",
                status=status,
                sent_at=sent_at,
                created_at=NOW - dt.timedelta(days=200),
            )
        )
    db.commit()
    assert purge_outbox(db, NOW) == "deleted 2 emails"
    db.commit()
    left = {(m.status, m.message_id) for m in db.exec(select(OutboxMessage)).all()}
    assert left == {("sent", "<1@t>"), ("queued", "<2@t>")}
