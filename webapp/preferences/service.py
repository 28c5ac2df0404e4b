"""The rules of email preferences: what a person chose, changing it, and who may be sent what.

No `flask.request` here: views, commands, other Sentro systems and tests call these alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Insert, Update, and_, bindparam, insert, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from ..mail import queue_email
from ..models import AuditEvent, Subscription, SubscriptionChange, User, utcnow
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
#: The ways that come from a link in an email. Such a link is easily forwarded and never
#: proves who follows it, so it may only reduce mail: leaving works, joining needs sign-in.
LEAVE_ONLY: frozenset[str] = frozenset({"email-link", "one-click"})


class NeedsSignIn(PermissionError):
    """Joining a list through an emailed link: only a signed-in person may join a list."""


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


def with_list_defaults(records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The export's subscriptions: the stored choices, then every other list at its default."""
    chosen = set()
    for record in records:
        chosen.add(record["list_id"])
        yield record
    for found in LISTS:
        if found.id not in chosen:
            yield {
                "list_id": found.id,
                "subscribed": found.default,
                "changed_at": None,
                "changed_via": "default",
            }


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


def _change_statements(dialect: str) -> tuple[Update, Insert]:
    """(back to the default, away from it): built once, run with bound values."""
    open_account = select(users.c.id).where(
        users.c.id == bindparam("uid"), users.c.status == "active"
    )
    to_default = (
        update(subs)
        .where(
            subs.c.user_id == bindparam("uid"),
            subs.c.list_id == bindparam("lid"),
            subs.c.subscribed != bindparam("new_state"),
            subs.c.user_id.in_(open_account),
        )
        .values(
            subscribed=bindparam("new_state"),
            changed_at=bindparam("now"),
            changed_via=bindparam("how"),
        )
        .returning(subs.c.id)
    )
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(subs)
    chosen = upsert.from_select(
        ["user_id", "list_id", "subscribed", "changed_at", "changed_via"],
        select(
            users.c.id,
            bindparam("lid", type_=subs.c.list_id.type),
            bindparam("new_state", type_=Boolean()),
            bindparam("now", type_=subs.c.changed_at.type),
            bindparam("how", type_=subs.c.changed_via.type),
        ).where(users.c.id == bindparam("uid"), users.c.status == "active"),
    )
    away_from_default = chosen.on_conflict_do_update(
        index_elements=[subs.c.user_id, subs.c.list_id],
        set_={
            "subscribed": chosen.excluded.subscribed,
            "changed_at": chosen.excluded.changed_at,
            "changed_via": chosen.excluded.changed_via,
        },
        where=subs.c.subscribed != chosen.excluded.subscribed,
    ).returning(subs.c.id)
    return to_default, away_from_default


_statements: dict[str, tuple[Update, Insert]] = {}
_STATUS = select(users.c.status).where(users.c.id == bindparam("uid"))
_RECORD_CHANGE = insert(SubscriptionChange.__table__)  # type: ignore[attr-defined]
_RECORD_AUDIT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


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

    Raises LockedList for a transactional list, UnknownList for an undeclared one, and
    NeedsSignIn for a join through an emailed link (`via` in LEAVE_ONLY). The
    write comes first and is conditional (only an open account, only a real change), so
    concurrent requests cannot record one change twice, and SQLite takes its write lock
    at once instead of failing to upgrade a read.
    """
    found = mailing_list(list_id)
    if found.transactional:
        raise LockedList(found.id)
    if via not in VIA:
        raise ValueError(f"unknown way of changing a subscription: {via!r}")
    if subscribed and via in LEAVE_ONLY:
        raise NeedsSignIn(found.id)
    now = utcnow()
    dialect = db.get_bind().dialect.name
    if dialect not in _statements:
        _statements[dialect] = _change_statements(dialect)
    to_default, away_from_default = _statements[dialect]
    # Back to the default: only a stored opposite choice needs changing, no row is added.
    statement = to_default if subscribed == found.default else away_from_default
    values = {"uid": user_id, "lid": found.id, "new_state": subscribed, "now": now, "how": via}
    # Core statements on the session's connection: this is the one-click hot path, and the
    # ORM's unit of work would cost more than the three statements themselves.
    connection = db.connection()
    try:
        if connection.execute(statement, values).first() is None:
            status = connection.execute(_STATUS, {"uid": user_id}).scalar()
            db.rollback()
            return Outcome.UNCHANGED if status == "active" else Outcome.NO_ACCOUNT
        connection.execute(
            _RECORD_CHANGE,
            {
                "user_id": user_id,
                "list_id": found.id,
                "subscribed": subscribed,
                "at": now,
                "via": via,
            },
        )
        # The row audit.record would add; values are not recorded, so there is nothing to mask.
        connection.execute(
            _RECORD_AUDIT,
            {
                "user_id": user_id,
                "at": now,
                "actor": actor,
                "actor_id": actor_id,
                "action": "email-list.joined" if subscribed else "email-list.left",
                "field": found.id,
                "old_value": "",
                "new_value": "",
                "ip": ip,
            },
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
