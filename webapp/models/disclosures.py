"""The disclosure register: each release of a person's information to someone outside Sentro."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Table, Text, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, SQLModel

from .datamap import RETAIN, DataCategory, Retention, personal
from .time import utcnow

#: A release is evidence of what Sentro did with someone's information; it outlives the account.
KEPT = Retention(
    "The record of who received your information is what we must show you, the Privacy "
    "Commissioner or a court if a release is questioned (Privacy Act 2020, IPP 6 and Part 5; "
    "six-year limitation period under the Limitation Act 2010, plus one year).",
    days=7 * 365,
)


def shown_to_person(table: Table, now: date | datetime) -> ColumnElement[bool]:
    """Rows the person may see now: a withheld release stays hidden until its date (UTC)."""
    today = now.date() if isinstance(now, datetime) else now
    return or_(table.c.withheld_until.is_(None), table.c.withheld_until <= today)


class Disclosure(SQLModel, table=True):
    """One release of a person's information: to whom, when, what, why and on what basis."""

    __tablename__ = "disclosure"
    __table_args__ = {
        "info": {
            "privacy": DataCategory(
                "Who received your information",
                purpose="To tell you whether, when and why your information was provided to "
                "someone outside Sentro, and to account for each release.",
                retention="Kept while the account is open and for 7 years after it is closed.",
                delete_rows_on_closure=False,
                # The export (and every page the person sees) applies this filter: a release
                # withheld, for example during an investigation, is shown after its date.
                extra={"export_where": shown_to_person},
            )
        }
    }

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    recipient: str = Field(
        max_length=200,
        sa_column_kwargs={"info": personal("Recipient", on_closure=RETAIN, retention=KEPT)},
    )
    disclosed_on: date = Field(
        sa_column_kwargs={"info": personal("Date provided", on_closure=RETAIN, retention=KEPT)}
    )
    categories: list[str] = Field(
        default_factory=list,
        sa_column=Column(
            JSON,
            nullable=False,
            info=personal("Information provided", on_closure=RETAIN, retention=KEPT),
        ),
    )
    purpose: str = Field(
        sa_column=Column(
            Text, nullable=False, info=personal("Purpose", on_closure=RETAIN, retention=KEPT)
        )
    )
    legal_basis: str = Field(
        max_length=300,
        sa_column_kwargs={"info": personal("Legal basis", on_closure=RETAIN, retention=KEPT)},
    )
    reference: str = Field(
        default="",
        max_length=120,
        sa_column_kwargs={"info": personal("Reference", on_closure=RETAIN, retention=KEPT)},
    )
    withheld_until: date | None = Field(
        default=None,
        sa_column_kwargs={
            "info": personal("Not shown to you until", on_closure=RETAIN, retention=KEPT)
        },
    )
    withheld_reason: str = Field(
        default="",
        max_length=500,
        sa_column_kwargs={
            "info": personal("Why it was not shown earlier", on_closure=RETAIN, retention=KEPT)
        },
    )
    recorded_by: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    recorded_at: datetime = Field(default_factory=utcnow)
