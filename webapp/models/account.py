"""People and their sign-ins."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from sqlalchemy import Column, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from ..crypto import Sealed
from .datamap import (
    ANONYMISE,
    ERASE,
    RETAIN,
    DataCategory,
    IpAddress,
    OnClosure,
    Retention,
    personal,
)
from .time import utcnow


def _profile(label: str, on_closure: OnClosure) -> dict:
    """Column options for a profile field the person corrects on the profile page."""
    return {
        "info": personal(label, correctable=True, on_closure=on_closure),
        "server_default": "",
    }


class User(SQLModel, table=True):
    """A person with a Sentro account, known by their identity at the OpenID provider."""

    __tablename__ = "user"
    __table_args__ = (
        UniqueConstraint("issuer", "subject"),
        {
            "info": {
                "privacy": DataCategory(
                    "Account",
                    purpose="To know who you are when you sign in and to contact you.",
                    owner="id",
                    delete_rows_on_closure=False,
                )
            }
        },
    )

    id: int | None = Field(default=None, primary_key=True)
    issuer: str = Field(max_length=255)
    subject: str = Field(
        max_length=255,
        sa_column_kwargs={
            "info": personal(
                "Sign-in identity at the provider",
                on_closure=RETAIN,
                retention=Retention(
                    "To recognise a closed account if you sign in again, and to answer "
                    "legal requests about it (Privacy Act 2020, Tax Administration Act 1994).",
                    days=7 * 365,
                ),
            )
        },
    )
    email: str = Field(
        max_length=320,
        sa_column_kwargs={
            "info": personal("Email address", correctable=True, on_closure=ANONYMISE)
        },
    )
    name: str = Field(
        default="",
        max_length=200,
        sa_column_kwargs={"info": personal("Full name", correctable=True, on_closure=ANONYMISE)},
    )
    provider_email: str = Field(
        default="",
        max_length=320,
        sa_column_kwargs={
            "info": personal("Email given by the sign-in provider", on_closure=ANONYMISE)
        },
    )
    preferred_name: str = Field(
        default="", max_length=100, sa_column_kwargs=_profile("Preferred name", ERASE)
    )
    phone: str = Field(  # E.164, e.g. +64211234567
        default="", max_length=16, sa_column_kwargs=_profile("Phone number", ERASE)
    )
    address_line1: str = Field(
        default="", max_length=120, sa_column_kwargs=_profile("Address line 1", ERASE)
    )
    address_line2: str = Field(
        default="", max_length=120, sa_column_kwargs=_profile("Address line 2", ERASE)
    )
    city: str = Field(default="", max_length=100, sa_column_kwargs=_profile("Town or city", ERASE))
    region: str = Field(
        default="", max_length=100, sa_column_kwargs=_profile("Region or state", ERASE)
    )
    postcode: str = Field(default="", max_length=20, sa_column_kwargs=_profile("Postcode", ERASE))
    country: str = Field(  # ISO 3166-1 alpha-2
        default="", max_length=2, sa_column_kwargs=_profile("Country", ERASE)
    )
    #: IANA name of the zone the person reads times in (webapp/timefmt.py).
    time_zone: str = Field(
        default="Pacific/Auckland",
        max_length=64,
        sa_column_kwargs={
            "info": personal("Time zone for dates and times", correctable=True, on_closure=ERASE),
            "server_default": "Pacific/Auckland",
        },
    )
    #: Bumped by every change to the profile, so a save can refuse to overwrite a newer one.
    profile_version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    is_staff: bool = False
    status: str = Field(default="active", max_length=16)  # active | closed
    session_generation: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    last_sign_in_at: datetime | None = Field(
        default=None, sa_column_kwargs={"info": personal("Last sign-in")}
    )
    closed_at: datetime | None = None
    #: the current privacy choices in short (see webapp/consent/service.py), kept beside the
    #: ConsentChoice history so pages know them without another query
    consent_summary: str | None = Field(
        default=None,
        max_length=16,
        sa_column_kwargs={"info": personal("Current privacy choices")},
    )
    #: The privacy policy version the person last acknowledged (None: the one they joined under).
    policy_version_seen: int | None = Field(
        default=None, sa_column_kwargs={"info": personal("Privacy policy version you last saw")}
    )

    # flask-login protocol, written out so a user row needs no mixin.
    is_authenticated: ClassVar[bool] = True
    is_anonymous: ClassVar[bool] = False

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def get_id(self) -> str:
        """Session identity: the id plus the session generation, so bumping it signs out everywhere."""
        return f"{self.id}:{self.session_generation}"


class SignIn(SQLModel, table=True):
    """One successful sign-in: when, from which IP address, with which browser."""

    __tablename__ = "sign_in"
    __table_args__ = {
        "info": {
            "privacy": DataCategory(
                "Sign-in history",
                purpose="To protect your account: you and we can see where it was used from.",
                retention="IP addresses in full for 30 days, reduced to the network after, "
                "deleted after 365 days.",
            )
        }
    }

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    at: datetime = Field(
        default_factory=utcnow, index=True, sa_column_kwargs={"info": personal("Time of sign-in")}
    )
    ip: str | None = Field(
        default=None,
        sa_column=Column(
            Sealed(400),
            nullable=True,
            info=personal("IP address", ip=IpAddress(recorded_at="at", delete_row=True)),
        ),
    )
    user_agent: str = Field(
        default="", max_length=512, sa_column_kwargs={"info": personal("Browser (user agent)")}
    )
    auth_time: datetime | None = Field(
        default=None,
        sa_column_kwargs={"info": personal("When you authenticated at the provider")},
    )
    #: True once `ip` holds only the network (/24 or /48), after SIGNIN_IP_FULL_DAYS.
    ip_reduced: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
