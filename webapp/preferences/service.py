"""The rules of email preferences: what a person chose, changing it, and who may be sent what.

No `flask.request` here: views, commands, other Sentro systems and tests call these alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, and_, literal, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from .. import audit
from ..mail import queue_email
from ..models import Subscription, SubscriptionChange, User, utcnow
from .links import PREFERENCE_LINK_DAYS, LockedList, mailing_list, preferences_url
from .lists import LISTS, MailingList

users = User.__table__  # type: ignore[attr-defined]
subs = Subscription.__table__  # type: ignore[attr-defined]

#: How a change was made, as the preference page tells it.
VIA: dict[str, str] = {
    "page": "on this page",
    "email-link": "through a link in an email",
    "one-click": "with one click in your mail program",
    "staff": "by Sentro staff, at your request",
}


class Outcome(StrEnum):
    """What `set_subscription` did."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"  #: the person was already where they asked to be
    NO_ACCOUNT = "no-account"  #: unknown, closed or erased: on no list, nothing to change


@dataclass(frozen=True)
class Choice:
    """A person's standing on one list: chosen, or the list's default."""

    mailing_list: MailingList
    subscribed: bool
    changed_at: datetime | None = None
    changed_via: str | None = None

    @property
    def locked(self) -> bool:
        """Transactional: always on, no switch."""
        return self.mailing_list.transactional

    @property
    def how(self) -> str:
        """How the last change was made, in words."""
        return VIA.get(self.changed_via or "", "")


def _choice(mailing_list: MailingList, row: Subscription | None) -> Choice:
    if mailing_list.transactional or row is None:
        return Choice(mailing_list, mailing_list.default)
    return Choice(mailing_list, row.subscribed, row.changed_at, row.changed_via)


def choices(db: Session, user_id: int) -> list[Choice]:
    """Every list with the person's standing on it, in the lists' order (one query)."""
    rows = db.exec(select(Subscription).where(Subscription.user_id == user_id))
    chosen = {row.list_id: row for row in rows}
    return [_choice(found, chosen.get(found.id)) for found in LISTS]


def choice(db: Session, user_id: int, list_id: str) -> Choice:
    """The person's standing on one list (one query)."""
    found = mailing_list(list_id)
    row = db.exec(
        select(Subscription).where(
            Subscription.user_id == user_id, Subscription.list_id == found.id
        )
    ).one_or_none()
    return _choice(found, row)


def is_subscribed(db: Session, user_id: int, list_id: str) -> bool:
    """Whether the person is on the list (their choice, else the default)."""
    return choice(db, user_id, list_id).subscribed


def active_account(db: Session, user_id: int) -> User | None:
    """The person, if their account is open (closed, erased and unknown people are None)."""
    user = db.get(User, user_id)
    return user if user is not None and user.is_active else None


def may_send(db: Session, user_id: int, list_id: str) -> bool:
    """The suppression check: may Sentro send `list_id` to this person now? (one query)."""
    found = mailing_list(list_id)
    row = db.exec(
        select(users.c.status, users.c.email, subs.c.subscribed)
        .select_from(
            users.outerjoin(subs, and_(subs.c.user_id == users.c.id, subs.c.list_id == found.id))
        )
        .where(users.c.id == user_id)
    ).first()
    if row is None or row.status != "active" or not row.email:
        return False
    if found.transactional or row.subscribed is None:
        return found.default
    return bool(row.subscribed)


def _upsert(db: Session):
    dialect = db.get_bind().dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def set_subscription(
    db: Session,
    user_id: int,
    list_id: str,
    subscribed: bool,
    via: str,
    *,
    actor: str = "self",
    actor_id: int | None = None,
    ip: str | None = None,
) -> Outcome:
    """Put the person on or off a list; the choice, its history and the audit in one commit.

    Raises LockedList for a transactional list and UnknownList for an undeclared one. The
    write comes first and is conditional (only an open account, only a real change), so
    concurrent requests cannot record one change twice, and SQLite takes its write lock
    at once instead of failing to upgrade a read.
    """
    found = mailing_list(list_id)
    if found.transactional:
        raise LockedList(found.id)
    if via not in VIA:
        raise ValueError(f"unknown way of changing a subscription: {via!r}")
    now = utcnow()
    is_open = select(users.c.id).where(users.c.id == user_id, users.c.status == "active")
    values = {"subscribed": subscribed, "changed_at": now, "changed_via": via}
    if subscribed == found.default:
        # Back to the default: only a stored opposite choice needs changing.
        statement = (
            update(subs)
            .where(
                subs.c.user_id == user_id,
                subs.c.list_id == found.id,
                subs.c.subscribed != subscribed,
                subs.c.user_id.in_(is_open),
            )
            .values(**values)
            .returning(subs.c.id)
        )
    else:
        insert = _upsert(db)(subs).from_select(
            ["user_id", "list_id", "subscribed", "changed_at", "changed_via"],
            select(
                users.c.id,
                literal(found.id, subs.c.list_id.type),
                literal(subscribed, Boolean()),
                literal(now, subs.c.changed_at.type),
                literal(via, subs.c.changed_via.type),
            ).where(users.c.id == user_id, users.c.status == "active"),
        )
        statement = insert.on_conflict_do_update(
            index_elements=[subs.c.user_id, subs.c.list_id],
            set_=values,
            where=subs.c.subscribed != subscribed,
        ).returning(subs.c.id)
    try:
        if db.exec(statement).first() is None:
            status = db.exec(select(users.c.status).where(users.c.id == user_id)).first()
            db.rollback()
            return Outcome.UNCHANGED if status == "active" else Outcome.NO_ACCOUNT
        db.add(
            SubscriptionChange(
                user_id=user_id, list_id=found.id, subscribed=subscribed, at=now, via=via
            )
        )
        audit.record(
            db,
            user_id=user_id,
            action="email-list.joined" if subscribed else "email-list.left",
            field=found.id,
            actor=actor,
            actor_id=actor_id,
            ip=ip,
        )
        db.commit()
    except BaseException:
        db.rollback()
        raise
    return Outcome.CHANGED


def masked_email(address: str) -> str:
    """An address a person recognises but a stranger can't read: a•••@e••••••.com."""

    def hide(part: str) -> str:
        return part[:1] + "•" * max(min(len(part) - 1, 8), 2)

    local, at, domain = address.partition("@")
    if not at:
        return hide(address)
    name, dot, tld = domain.rpartition(".")
    if not name:
        name, dot, tld = tld, "", ""
    return f"{hide(local)}@{hide(name)}{dot}{tld}"


def send_fresh_link(db: Session, user_id: int) -> str | None:
    """Email a new preference-page link to the address on file; the masked address, or None."""
    user = active_account(db, user_id)
    if user is None or not user.email:
        return None
    queue_email(
        db,
        template="preferences-link",
        to=user.email,
        context={"link": preferences_url(user_id), "days": PREFERENCE_LINK_DAYS},
        user_id=user_id,
    )
    db.commit()
    return masked_email(user.email)
