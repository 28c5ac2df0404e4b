"""The mail outbox: every email is a row first, written with the change that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from .datamap import DataCategory, personal
from .time import utcnow


class OutboxMessage(SQLModel, table=True):
    """One email, composed in full when queued and delivered by the mail worker."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
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
    sent_at: datetime | None = Field(default=None, sa_column_kwargs={"info": personal("Sent at")})
