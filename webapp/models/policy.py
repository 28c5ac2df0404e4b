"""The privacy policy: every published version, and who acknowledged which one, when and from where."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, false
from sqlmodel import Field, SQLModel

from ..crypto import Sealed
from .datamap import DataCategory, IpAddress, personal
from .time import utcnow


class PolicyVersion(SQLModel, table=True):
    """One published version of the privacy policy; never edited once published."""

    __tablename__ = "policy_version"

    id: int | None = Field(default=None, primary_key=True)
    number: int = Field(unique=True)
    text: str = Field(sa_column=Column(Text, nullable=False))  #: Markdown
    summary: str = Field(sa_column=Column(Text, nullable=False))  #: what changed, in plain words
    effective_on: date
    published_at: datetime = Field(default_factory=utcnow)


class PolicyNoticeRun(SQLModel, table=True):
    """A version's notice to the policy-updates list: recorded when it is published, fanned
    out into the outbox by the mail worker in ranges of user ids (resumable, idempotent)."""

    __tablename__ = "policy_notice_run"

    id: int | None = Field(default=None, primary_key=True)
    version_number: int = Field(unique=True)
    since: int | None = None  #: the version the notice compares with
    status: str = Field(default="pending", max_length=16)  # pending | done
    #: Every user id up to this one has been offered the notice.
    done_through: int = 0
    audience: int = 0  #: people on the list when the version was published
    body_id: int | None = Field(default=None, foreign_key="outbox_body.id")
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class PolicyAcknowledgement(SQLModel, table=True):
    """A person saying they have seen a version of the policy."""

    __tablename__ = "policy_acknowledgement"
    __table_args__ = {
        "info": {
            "privacy": DataCategory(
                "Privacy policy acknowledgements",
                purpose="To know which version of our privacy policy you have seen, "
                "so we tell you only about changes since then.",
                retention="Until the account is closed; the IP address in full for 30 days, "
                "then only its network, and none after 365 days.",
            )
        }
    }

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    version: int = Field(sa_column_kwargs={"info": personal("Policy version acknowledged")})
    at: datetime = Field(default_factory=utcnow, sa_column_kwargs={"info": personal("When")})
    ip: str | None = Field(
        default=None,
        sa_column=Column(
            Sealed(400), nullable=True, info=personal("IP address", ip=IpAddress("at"))
        ),
    )
    #: True once `ip` holds only the network (see `webapp.addresses`).
    ip_reduced: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
