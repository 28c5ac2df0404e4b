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
