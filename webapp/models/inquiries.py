"""Privacy questions and requests: the person's file of correspondence, and correction statements."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from .datamap import RETAIN, DataCategory, Retention, personal
from .time import utcnow

#: How a request was handled is the evidence for a complaint about it.
HANDLING = Retention(
    "To answer a complaint to the Privacy Commissioner or the Human Rights Review Tribunal "
    "about how we handled your request (Privacy Act 2020, Part 5; six-year limitation "
    "period under the Limitation Act 2010).",
    days=6 * 365,
)


def _kept(label: str) -> dict:
    return personal(label, on_closure=RETAIN, retention=HANDLING)


class Inquiry(SQLModel, table=True):
    """A privacy question or request from a person, with its Privacy Act due date."""

    __tablename__ = "inquiry"
    __table_args__ = (
        Index("ix_inquiry_status_due", "status", "due_on"),  # the staff queue, per status
        {
            "info": {
                "privacy": DataCategory(
                    "Privacy questions and requests",
                    purpose="To answer your privacy questions and requests within the time the "
                    "Privacy Act allows, and to show how each was handled.",
                    retention="Kept while the account is open and for 6 years after it is closed.",
                    delete_rows_on_closure=False,
                )
            }
        },
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=16, sa_column_kwargs={"info": _kept("Kind of request")})
    subject: str = Field(max_length=200, sa_column_kwargs={"info": _kept("Subject")})
    #: open | answered | extended | refused | closed
    status: str = Field(default="open", max_length=16, sa_column_kwargs={"info": _kept("Status")})
    received_at: datetime = Field(
        default_factory=utcnow, sa_column_kwargs={"info": _kept("Received")}
    )
    due_on: date = Field(sa_column_kwargs={"info": _kept("Due by")})
    extended_to: date | None = Field(default=None, sa_column_kwargs={"info": _kept("Extended to")})
    extension_reason: str = Field(
        default="", max_length=1000, sa_column_kwargs={"info": _kept("Why it was extended")}
    )
    refusal_reason: str = Field(
        default="", max_length=2000, sa_column_kwargs={"info": _kept("Why it was refused")}
    )
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def due(self) -> date:
        """The date the answer is due, after any extension."""
        return self.extended_to or self.due_on


class InquiryMessage(SQLModel, table=True):
    """One message in the thread of a request: from the person or from Sentro staff."""

    __tablename__ = "inquiry_message"
    __table_args__ = {
        "info": {
            "privacy": DataCategory(
                "Correspondence with us",
                purpose="The file of what you wrote to us about your privacy, and our answers.",
                retention="Kept while the account is open and for 6 years after it is closed.",
                delete_rows_on_closure=False,
            )
        }
    }

    id: int | None = Field(default=None, primary_key=True)
    inquiry_id: int = Field(foreign_key="inquiry.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    author: str = Field(max_length=16, sa_column_kwargs={"info": _kept("From")})  # person | staff
    staff_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    body: str = Field(sa_column=Column(Text, nullable=False, info=_kept("Message")))
    at: datetime = Field(default_factory=utcnow, sa_column_kwargs={"info": _kept("Sent")})


class CorrectionStatement(SQLModel, table=True):
    """The correction a person sought, attached to a field after we refused to make it."""

    __tablename__ = "correction_statement"
    __table_args__ = {
        "info": {
            "privacy": DataCategory(
                "Your statements of correction",
                purpose="Shown beside the information you asked us to correct, as the Privacy "
                "Act requires when we decline to correct it.",
            )
        }
    }

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    field: str = Field(max_length=64, sa_column_kwargs={"info": personal("Information")})
    statement: str = Field(
        sa_column=Column(Text, nullable=False, info=personal("Correction you asked for"))
    )
    inquiry_id: int | None = Field(default=None, foreign_key="inquiry.id", ondelete="SET NULL")
    at: datetime = Field(default_factory=utcnow, sa_column_kwargs={"info": personal("Attached")})
