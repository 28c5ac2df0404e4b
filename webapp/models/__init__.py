"""The data map: every table Sentro keeps, and how each personal column is handled.

Import models from here (`from webapp.models import User`); each capability keeps its tables
in a module of its own below this package.
"""

from sqlalchemy import Table
from sqlmodel import SQLModel

from .account import SignIn, User
from .audit import AuditEvent
from .closure import ClosureRequest, RetentionHold
from .consent import ConsentChoice
from .datamap import (
    ANONYMISE,
    ERASE,
    RETAIN,
    DataCategory,
    IpAddress,
    OnClosure,
    Personal,
    Retention,
    personal,
    personal_columns,
)
from .disclosures import Disclosure
from .inquiries import CorrectionStatement, Inquiry, InquiryMessage
from .mail import OutboxBody, OutboxMessage
from .policy import PolicyAcknowledgement, PolicyNoticeRun, PolicyVersion
from .preferences import Campaign, Subscription, SubscriptionChange
from .profile import PaymentCard, PendingEmailChange
from .sessions import SeenLogoutToken, UserSession
from .time import utcnow

metadata = SQLModel.metadata


def privacy_of(table: Table) -> DataCategory | None:
    """The table's data-map declaration, if it holds data about a person."""
    return table.info.get("privacy")


def user_linked_tables() -> list[Table]:
    """Every table with a foreign key to `user`, plus `user` itself."""
    return [
        t
        for t in metadata.sorted_tables
        if t.name == "user" or any(fk.column.table.name == "user" for fk in t.foreign_keys)
    ]


__all__ = [
    "ANONYMISE",
    "ERASE",
    "RETAIN",
    "AuditEvent",
    "Campaign",
    "ClosureRequest",
    "ConsentChoice",
    "CorrectionStatement",
    "DataCategory",
    "Disclosure",
    "Inquiry",
    "InquiryMessage",
    "IpAddress",
    "OnClosure",
    "OutboxBody",
    "OutboxMessage",
    "PaymentCard",
    "PendingEmailChange",
    "Personal",
    "PolicyAcknowledgement",
    "PolicyNoticeRun",
    "PolicyVersion",
    "Retention",
    "RetentionHold",
    "SeenLogoutToken",
    "SignIn",
    "Subscription",
    "SubscriptionChange",
    "User",
    "UserSession",
    "metadata",
    "personal",
    "personal_columns",
    "privacy_of",
    "user_linked_tables",
    "utcnow",
]
