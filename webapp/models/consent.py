"""Privacy choices: every consent a signed-in person gave or refused, kept as history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from .datamap import DataCategory, personal
from .time import utcnow


class ConsentChoice(SQLModel, table=True):
    """One choice about one purpose; the latest row per purpose is the choice in force."""

    __tablename__ = "consent_choice"
    __table_args__ = (
        Index("ix_consent_choice_user_purpose_at", "user_id", "purpose", "at"),
        {
            "info": {
                "privacy": DataCategory(
                    "Privacy choices",
                    purpose="To respect what you chose about analytics, personalisation and "
                    "research, and to show you and regulators when and how you chose it.",
                )
            }
        },
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", ondelete="CASCADE")
    #: analytics | personalisation | research
    purpose: str = Field(max_length=32, sa_column_kwargs={"info": personal("Purpose")})
    granted: bool = Field(sa_column_kwargs={"info": personal("Allowed")})
    at: datetime = Field(default_factory=utcnow, sa_column_kwargs={"info": personal("When")})
    #: the privacy policy version in effect when the choice was made (None: not known)
    policy_version: int | None = Field(
        default=None, sa_column_kwargs={"info": personal("Privacy policy version in effect")}
    )
    #: banner | controls | gpc
    source: str = Field(max_length=16, sa_column_kwargs={"info": personal("Chosen through")})
