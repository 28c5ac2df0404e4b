"""The mail outbox: every email is a row first, written with the change that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, text
from sqlmodel import Field, SQLModel

from .datamap import DataCategory, personal
from .time import utcnow


class OutboxMessage(SQLModel, table=True):
    """One email, composed in full when queued and delivered by the mail worker."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        #: How far a shared-body email has got (the staff page's progress) without a table scan.
        Index("ix_outbox_body_status", "body_id", "status"),
        #: The claim's walk, oldest first, over the rows still to send (not the million sent).
        Index(
            "ix_outbox_queued",
            "id",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
        {
            "info": {
                "privacy": DataCategory(
                    "Emails we sent you",
                    purpose="To deliver the emails you asked for or that we must send.",
                    recipients=("Our email delivery provider",),
                    retention="Deleted 90 days after delivery.",
                )
            }
        },
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True, ondelete="CASCADE")
    to_addr: str = Field(max_length=320, sa_column_kwargs={"info": personal("Sent to")})
    # Subject, text and headers name the person ("Kia ora Dave") and carry their links: each
    # is personal, erased with the row, and kept only where a hold names it.
    subject: str = Field(max_length=300, sa_column_kwargs={"info": personal("Subject")})
    text_body: str = Field(sa_column=Column(Text, nullable=False, info=personal("Email text")))
    html_body: str | None = Field(
        default=None,
        sa_column=Column(
            Text, nullable=True, info=personal("Email text as formatted (HTML)", export=False)
        ),
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        sa_column=Column(
            JSON, nullable=False, info=personal("Email headers (unsubscribe links)", export=False)
        ),
    )
    message_id: str = Field(max_length=255, unique=True)
    template: str = Field(max_length=64, sa_column_kwargs={"info": personal("Kind of email")})
    list_id: str | None = Field(default=None, max_length=64)
    #: Makes queueing idempotent: a campaign or notice queued twice is stored once.
    dedupe_key: str | None = Field(default=None, max_length=255, unique=True)
    status: str = Field(default="queued", max_length=16)  # queued | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    #: The mail server's answer to a failed attempt, which often quotes the address.
    last_error: str = Field(
        default="",
        max_length=500,
        sa_column_kwargs={"info": personal("Delivery error", export=False)},
    )
    created_at: datetime = Field(default_factory=utcnow)
    #: A body shared by many rows (a notice to everyone on a list): the row's own subject is
    #: stored, its text and HTML come from the body with the person's footer filled in at sending.
    body_id: int | None = Field(default=None, foreign_key="outbox_body.id")
    sent_at: datetime | None = Field(default=None, sa_column_kwargs={"info": personal("Sent at")})


class OutboxBody(SQLModel, table=True):
    """One rendering shared by many outbox rows, with marks where each person's values go.

    Written once per bulk email (a policy notice to a million people is one body and a million
    small rows); the worker fills each person's footer links in when it sends.
    """

    __tablename__ = "outbox_body"

    id: int | None = Field(default=None, primary_key=True)
    template: str = Field(max_length=64)
    #: The mark that starts a placeholder: `<mark><footer key>@@` in the texts below.
    mark: str = Field(max_length=32)
    subject: str = Field(max_length=300)
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
