"""Account closure: the person's request, staff's decision, and the holds that keep data longer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from .datamap import ERASE, RETAIN, DataCategory, Retention, personal
from .time import utcnow

#: How long the record of a closure request outlives the account, and why.
REQUEST_RECORD = Retention(
    "To show how we handled your request if you, or the Privacy Commissioner, ask later "
    "(Privacy Act 2020).",
    days=7 * 365,
)

#: received → under_review → approved → completed; or declined; or cancelled by the person.
OPEN_STATUSES = ("received", "under_review", "approved")
STATUSES = (*OPEN_STATUSES, "completed", "declined", "cancelled")


class ClosureRequest(SQLModel, table=True):
    """A person's request to close their account and erase what Sentro holds about them."""

    __tablename__ = "closure_request"
    __table_args__ = (
        Index("ix_closure_request_open", "status", "due_on"),
        {
            "info": {
                "privacy": DataCategory(
                    "Account closure requests",
                    purpose="To handle your request to close your account, and to prove later "
                    "that we did.",
                    retention="The record of the request is kept 7 years after it is decided.",
                )
            }
        },
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    status: str = Field(default="received", max_length=16)
    reason: str | None = Field(
        default=None,
        max_length=1000,
        sa_column_kwargs={"info": personal("Your reason for closing", on_closure=ERASE)},
    )
    received_at: datetime = Field(
        default_factory=utcnow,
        sa_column_kwargs={
            "info": personal(
                "When you asked us to close your account",
                on_closure=RETAIN,
                retention=REQUEST_RECORD,
            )
        },
    )
    due_on: date
    decided_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    decided_at: datetime | None = None
    decline_reason: str | None = Field(
        default=None,
        max_length=2000,
        sa_column_kwargs={
            "info": personal(
                "Why we declined a closure request", on_closure=RETAIN, retention=REQUEST_RECORD
            )
        },
    )
    erase_after: datetime | None = None
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    #: What erasure kept, item by item: table, column, label, basis, until, rows, purged_on.
    retained_items: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class RetentionHold(SQLModel, table=True):
    """Staff's decision that some data must outlive erasure, with the legal basis and an end."""

    __tablename__ = "retention_hold"
    __table_args__ = {
        "info": {
            "privacy": DataCategory(
                "Retention holds on a closure request",
                purpose="To record why some of your information had to be kept after closure.",
                retention="Kept with the record of the closure request.",
            )
        }
    }

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="closure_request.id", index=True, ondelete="CASCADE")
    #: The person the request is about (the data map's owner column).
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    #: A data-map key: "table" (a whole category) or "table.column".
    what: str = Field(max_length=128)
    legal_basis: str = Field(
        max_length=500,
        sa_column_kwargs={
            "info": personal(
                "Why some of your information was kept", on_closure=RETAIN, retention=REQUEST_RECORD
            )
        },
    )
    until: date
    added_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    added_at: datetime = Field(default_factory=utcnow)
