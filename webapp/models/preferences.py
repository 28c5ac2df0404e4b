"""Email subscriptions: a person's choice per mailing list, and the history of every change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .datamap import DataCategory, personal
from .time import utcnow


class Subscription(SQLModel, table=True):
    """A person's current choice for one list; no row means the list's default applies."""

    __tablename__ = "subscription"
    __table_args__ = (
        UniqueConstraint("user_id", "list_id"),
        {
            "info": {
                "privacy": DataCategory(
                    "Email preferences",
                    purpose="To send you only the emails you chose.",
                    # A list never switched has no row: its default is still where you stand.
                    extra={"export_complete": "webapp.preferences.service:with_list_defaults"},
                )
            }
        },
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    list_id: str = Field(max_length=64, sa_column_kwargs={"info": personal("Mailing list")})
    subscribed: bool = Field(sa_column_kwargs={"info": personal("Subscribed", correctable=True)})
    changed_at: datetime = Field(
        default_factory=utcnow, sa_column_kwargs={"info": personal("Last changed")}
    )
    #: page | email-link | one-click | staff | default
    changed_via: str = Field(max_length=32, sa_column_kwargs={"info": personal("Changed through")})


class SubscriptionChange(SQLModel, table=True):
    """One change of a subscription, kept as history and exported."""

    __tablename__ = "subscription_change"
    __table_args__ = {
        "info": {
            "privacy": DataCategory(
                "Email preference history",
                purpose="To show you, and prove to regulators, when you joined or left each list.",
            )
        }
    }

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    list_id: str = Field(max_length=64, sa_column_kwargs={"info": personal("Mailing list")})
    subscribed: bool = Field(sa_column_kwargs={"info": personal("Subscribed")})
    at: datetime = Field(default_factory=utcnow, sa_column_kwargs={"info": personal("When")})
    via: str = Field(max_length=32, sa_column_kwargs={"info": personal("Changed through")})


class Campaign(SQLModel, table=True):
    """One bulk email to a list; its key makes re-running the same campaign send nobody twice."""

    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    #: sha256 of list, subject and body: the same campaign run again finds this row.
    key: str = Field(max_length=64, unique=True)
    list_id: str = Field(max_length=64)
    subject: str = Field(max_length=300)
    body_markdown: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    last_run_at: datetime = Field(default_factory=utcnow)
    queued: int = 0  #: emails queued over every run
