"""Signed-in browsers: one row per session, the cookie holding only a random reference to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, false
from sqlmodel import Field, SQLModel

from ..crypto import Sealed
from .datamap import DataCategory, IpAddress, personal
from .time import utcnow


class UserSession(SQLModel, table=True):
    """One signed-in browser: who, since when, from where, and when it ends."""

    __tablename__ = "user_session"
    __table_args__ = {
        "info": {
            "privacy": DataCategory(
                "Signed-in sessions",
                purpose="To keep you signed in, and to let you see and end each session.",
                retention="Until the session ends (sign-out, inactivity or its time limit), "
                "then deleted by the next daily clean-up.",
            )
        }
    }

    id: int | None = Field(default=None, primary_key=True)
    #: SHA-256 of the cookie's random reference: the database alone cannot sign anyone in.
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    sign_in_id: int | None = Field(
        default=None, foreign_key="sign_in.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column_kwargs={"info": personal("Session started")}
    )
    last_active_at: datetime = Field(
        default_factory=utcnow, sa_column_kwargs={"info": personal("Session last active")}
    )
    #: The absolute end: SESSION_MAX_DAYS after the start, STAFF_SESSION_HOURS for staff.
    expires_at: datetime = Field(sa_column_kwargs={"info": personal("Session ends at the latest")})
    ended_at: datetime | None = Field(
        default=None, sa_column_kwargs={"info": personal("Session ended")}
    )
    end_reason: str = Field(
        default="", max_length=32, sa_column_kwargs={"info": personal("Why the session ended")}
    )
    ip: str | None = Field(
        default=None,
        sa_column=Column(
            Sealed(400),
            nullable=True,
            info=personal("IP address of the session", ip=IpAddress(recorded_at="created_at")),
        ),
    )
    #: True once `ip` holds only the network (/24 or /48), on the sign-in IP schedule.
    ip_reduced: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    device: str = Field(
        default="", max_length=200, sa_column_kwargs={"info": personal("Device (browser, system)")}
    )
    #: The provider's session id (`sid` claim), so its back-channel logout can end this one.
    provider_sid: str | None = Field(
        default=None,
        max_length=255,
        index=True,
        sa_column_kwargs={"info": personal("Session id at the sign-in provider")},
    )
    auth_time: datetime | None = Field(
        default=None, sa_column_kwargs={"info": personal("When you last proved who you are")}
    )
    #: Kept only to name this session to the provider at sign-out (`id_token_hint`).
    id_token: str | None = Field(
        default=None,
        sa_column=Column(
            Sealed(), nullable=True, info=personal("Sign-in token from the provider", export=False)
        ),
    )
    #: Staff rights granted by the `groups` claim at this session's sign-in.
    staff: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    #: The person's session generation at the start: bumping it ends every session at once.
    generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class SeenLogoutToken(SQLModel, table=True):
    """A back-channel logout token already used (`jti`), refused if it comes again."""

    __tablename__ = "seen_logout_token"

    jti_hash: str = Field(max_length=64, primary_key=True)
    seen_at: datetime = Field(default_factory=utcnow, index=True)
