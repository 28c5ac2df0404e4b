"""The rules of email preferences: what a person chose, changing it, and who may be sent what.

No `flask.request` here: views, commands, other Sentro systems and tests call these alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, and_
from sqlmodel import Session, select

from ..auth.sessions import PERSON_OF_SESSION
from ..driver import Plain, fetch, plain_connection
from ..mail import queue_email
from ..models import Subscription, User, utcnow
from .links import PREFERENCE_LINK_DAYS, LockedList, mailing_list, preferences_url
from .lists import LISTS, MailingList
from .statements import LID, RECORD_AUDIT, RECORD_CHANGE, STATUS, UID, statements_for, subs, users

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


def _choice(mailing_list: MailingList, row: Subscription | Stored | None) -> Choice:
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
    return _choices({row.list_id: row for row in rows})


class Stored(NamedTuple):
    """A stored choice as `CHOICES_BY_SESSION` (and `LINK_PAGE`) reads it."""

    list_id: str
    subscribed: bool | None
    changed_at: datetime | None
    changed_via: str | None


#: The stored choices of the person of the session `token_hash`: read with the person, so the
#: signed-in page is one round trip (`auth.current.read_with_person`).
CHOICES_BY_SESSION = select(
    subs.c.list_id, subs.c.subscribed, subs.c.changed_at, subs.c.changed_via
).where(subs.c.user_id == PERSON_OF_SESSION)


def choices_from_rows(rows: list[tuple]) -> list[Choice]:
    """`choices` from the rows of `CHOICES_BY_SESSION`."""
    return _choices({row[0]: Stored(*row) for row in rows})


# --- the pages an emailed link opens: about the person the link names (`uid`) -------------

#: The emailed preference page's read: the account's status and address, and its stored
#: choices (a row per choice; one row of NULL choice columns when there is none).
LINK_PAGE = (
    select(
        users.c.status,
        users.c.email,
        subs.c.list_id,
        subs.c.subscribed,
        subs.c.changed_at,
        subs.c.changed_via,
    )
    .select_from(users.outerjoin(subs, subs.c.user_id == users.c.id))
    .where(users.c.id == UID)
)
#: The emailed unsubscribe page's read: the account's status and its choice on the list `lid`.
LINK_STANDING = (
    select(users.c.status, subs.c.subscribed)
    .select_from(users.outerjoin(subs, and_(subs.c.user_id == users.c.id, subs.c.list_id == LID)))
    .where(users.c.id == UID)
)


@dataclass(frozen=True)
class LinkPage:
    """What the emailed preference page shows: the address, masked, and every list's switch."""

    email: str
    choices: list[Choice]


def link_parameters(user_id: int, list_id: str | None = None) -> dict[str, Any]:
    """The parameters of `LINK_PAGE` (a person) or of `LINK_STANDING` (and a list)."""
    return {"uid": user_id} if list_id is None else {"uid": user_id, "lid": list_id}


def link_page(engine: Engine, user_id: int, *, rows: list[tuple] | None = None) -> LinkPage | None:
    """The person's emailed preference page (one statement); None when their account is not
    open. `rows`: `LINK_PAGE`'s, read with the signed-in person already."""
    if rows is None:
        rows = fetch(engine, (LINK_PAGE, link_parameters(user_id)))[0]
    if not rows or rows[0][0] != "active":
        return None
    chosen = [row[2:] for row in rows if row[2] is not None]
    return LinkPage(masked_email(rows[0][1]), choices_from_rows(chosen))


def link_standing(
    engine: Engine, user_id: int, found: MailingList, *, rows: list[tuple] | None = None
) -> bool | None:
    """Whether the person is on the list (their choice, else its default), in one statement;
    None when their account is not open. `rows`: `LINK_STANDING`'s, read with the signed-in
    person already."""
    if rows is None:
        rows = fetch(engine, (LINK_STANDING, link_parameters(user_id, found.id)))[0]
    if not rows or rows[0][0] != "active":
        return None
    subscribed = rows[0][1]
    return found.default if found.transactional or subscribed is None else subscribed


def _choices(chosen: dict[str, Any]) -> list[Choice]:
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


def _change_to_make(list_id: str, subscribed: bool, via: str) -> tuple[MailingList, bool]:
    """The list, and whether the choice is its default; raises for a change never allowed."""
    found = mailing_list(list_id)
    if found.transactional:
        raise LockedList(found.id)
    if via not in VIA:
        raise ValueError(f"unknown way of changing a subscription: {via!r}")
    if subscribed and via in LEAVE_ONLY:
        raise NeedsSignIn(found.id)
    return found, subscribed == found.default


def _write(connection: Connection | Plain, to_default: bool, values: dict[str, Any]) -> Outcome:
    """Run the change on `connection`, in its transaction; the caller commits or rolls back.

    The write comes first and is conditional (only an open account, only a real change), so
    concurrent requests cannot record one change twice, and SQLite takes its write lock at once
    instead of failing to upgrade a read.
    """
    # Back to the default: only a stored opposite choice needs changing, no row is added.
    statements = statements_for(connection.dialect.name)
    at_once = statements.to_default_at_once if to_default else statements.away_from_default_at_once
    if at_once is not None:
        changed, status = connection.execute(at_once, values).one()
    else:
        statement = statements.to_default if to_default else statements.away_from_default
        changed = connection.execute(statement, values).first() is not None
        if changed:
            connection.execute(RECORD_CHANGE, values)
            connection.execute(RECORD_AUDIT, values)
        else:
            status = connection.execute(STATUS, values).scalar()
    if changed:
        return Outcome.CHANGED
    return Outcome.UNCHANGED if status == "active" else Outcome.NO_ACCOUNT


def _write_and_end(
    transaction: Session | Connection | Plain,
    connection: Connection | Plain,
    to_default: bool,
    values: dict,
) -> Outcome:
    """`_write`, then commit what changed or roll back what did not (also after any error)."""
    try:
        outcome = _write(connection, to_default, values)
        if outcome is Outcome.CHANGED:
            transaction.commit()
        else:
            transaction.rollback()
    except BaseException:
        transaction.rollback()
        raise
    return outcome


def _values(
    found: MailingList,
    user_id: int,
    subscribed: bool,
    via: str,
    actor: str,
    actor_id: int | None,
    ip: str | None,
) -> dict[str, Any]:
    return {
        "uid": user_id,
        "lid": found.id,
        "new_state": subscribed,
        "now": utcnow(),
        "how": via,
        # Not named like audit_event's columns, which an INSERT reserves for its own values.
        "by": actor,
        "by_id": actor_id,
        "what": "email-list.joined" if subscribed else "email-list.left",
        "from_ip": ip,
    }


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
    NeedsSignIn for a join through an emailed link (`via` in LEAVE_ONLY).
    """
    found, to_default = _change_to_make(list_id, subscribed, via)
    values = _values(found, user_id, subscribed, via, actor, actor_id, ip)
    # Core statements on the session's connection: the ORM's unit of work would cost more
    # than the statements themselves.
    return _write_and_end(db, db.connection(), to_default, values)


def leave_by_link(engine: Engine, user_id: int, list_id: str, via: str) -> Outcome:
    """Take the person off a list from an emailed link: `set_subscription` without a session.

    The one-click unsubscribe POST's hot path: a connection of its own and no ORM session.
    On PostgreSQL the change is one statement in autocommit, its own transaction and a
    single round trip (no BEGIN, no COMMIT); on SQLite the statements run in one IMMEDIATE
    transaction. Raises like `set_subscription`, and SQLAlchemyError when nothing was stored.
    """
    found, to_default = _change_to_make(list_id, False, via)
    values = _values(found, user_id, False, via, "self", None, None)
    with plain_connection(engine) as connection:
        return _write_and_end(connection, connection, to_default, values)


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
