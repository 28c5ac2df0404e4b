"""The audit of changes to a person's data: who changed what, when, from where (values masked)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, false
from sqlmodel import Field, SQLModel

from ..crypto import Sealed
from .datamap import DataCategory, IpAddress, personal
from .time import utcnow

#: How a change made by someone other than the person is named to them.
ACTORS_AS_SEEN = {"staff": "Sentro staff"}


def as_seen_by_person(record: dict[str, Any]) -> dict[str, Any]:
    """An audit row as the person it is about sees it (export, your-data page, anything else).

    Their own changes in full; anyone else's as "Sentro staff" (or "Sentro") with no address,
    name or other detail of who did it: staff data is not given to customers.
    """
    if record.get("actor") == "self":
        return record
    seen = {**record, "actor": ACTORS_AS_SEEN.get(record.get("actor", ""), "Sentro")}
    if "ip" in seen:
        seen["ip"] = None
    return seen


class AuditEvent(SQLModel, table=True):
    """One change to a person's data, by them, by staff or by the system."""

    __tablename__ = "audit_event"
    __table_args__ = {
        "info": {
            "privacy": DataCategory(
                "Changes to your data",
                purpose="To show you, and us, every change made to your information.",
                retention="Until the account is closed; the IP address of a change in full for "
                "30 days, then only its network, and none after 365 days.",
                extra={"export_row": as_seen_by_person},
            )
        }
    }

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    #: Indexed: `privacy purge` finds the addresses past their full period by it.
    at: datetime = Field(
        default_factory=utcnow, index=True, sa_column_kwargs={"info": personal("When")}
    )
    actor: str = Field(max_length=16, sa_column_kwargs={"info": personal("Changed by")})
    actor_id: int | None = Field(default=None, foreign_key="user.id", ondelete="SET NULL")
    action: str = Field(max_length=64, sa_column_kwargs={"info": personal("What happened")})
    field: str = Field(default="", max_length=64, sa_column_kwargs={"info": personal("Field")})
    old_value: str = Field(
        default="", max_length=120, sa_column_kwargs={"info": personal("Before (masked)")}
    )
    new_value: str = Field(
        default="", max_length=120, sa_column_kwargs={"info": personal("After (masked)")}
    )
    ip: str | None = Field(
        default=None,
        sa_column=Column(
            Sealed(400), nullable=True, info=personal("From IP address", ip=IpAddress("at"))
        ),
    )
    #: True once `ip` holds only the network (see `webapp.addresses`).
    ip_reduced: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
