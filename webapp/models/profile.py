"""The profile's own tables: the saved payment card as Sentro holds it, and email changes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from .datamap import DataCategory, personal
from .time import utcnow


class PaymentCard(SQLModel, table=True):
    """A saved card as the payment provider describes it: never the card number itself."""

    __tablename__ = "payment_card"
    __table_args__ = {
        "info": {
            "privacy": DataCategory(
                "Saved payment card",
                purpose="To show you which card we charge; the card itself is held by our "
                "payment provider.",
                recipients=("Our payment provider",),
            )
        }
    }

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    brand: str = Field(max_length=32, sa_column_kwargs={"info": personal("Card brand")})
    last4: str = Field(max_length=4, sa_column_kwargs={"info": personal("Last four digits")})
    exp_month: int = Field(sa_column_kwargs={"info": personal("Expiry month")})
    exp_year: int = Field(sa_column_kwargs={"info": personal("Expiry year")})
    created_at: datetime = Field(default_factory=utcnow)


class PendingEmailChange(SQLModel, table=True):
    """A request to change the contact email: confirmed from the new address, undone from the old."""

    __tablename__ = "pending_email_change"
    __table_args__ = {
        "info": {
            "privacy": DataCategory(
                "Email address changes",
                purpose="To make sure a new email address is yours before we use it, and to "
                "let your previous address undo a change you didn't make.",
                retention="Deleted 30 days after the change was asked for.",
            )
        }
    }

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True, ondelete="CASCADE")
    old_email: str = Field(max_length=320, sa_column_kwargs={"info": personal("Previous address")})
    new_email: str = Field(max_length=320, sa_column_kwargs={"info": personal("New address")})
    #: Carried in both links; a link whose nonce differs is for a row that no longer exists.
    nonce: str = Field(max_length=32)
    #: pending | confirmed | cancelled | superseded | reverted
    status: str = Field(
        default="pending", max_length=16, sa_column_kwargs={"info": personal("State")}
    )
    created_at: datetime = Field(
        default_factory=utcnow, index=True, sa_column_kwargs={"info": personal("Asked for at")}
    )
    expires_at: datetime
    confirmed_at: datetime | None = Field(
        default=None, sa_column_kwargs={"info": personal("Confirmed at")}
    )
