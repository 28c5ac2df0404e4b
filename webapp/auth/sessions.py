"""The session registry: every signed-in browser is a row; its cookie holds only a reference.

A session starts at sign-in with a random reference (256 bits) that only the browser keeps;
the row stores its SHA-256, so a copy of the database signs nobody in. Loading the person and
the session is one statement. A session ends at sign-out, when the person or the provider
ends it, after SESSION_IDLE_MINUTES without a request, and SESSION_MAX_DAYS after it began
(STAFF_SESSION_HOURS when it carries staff rights). Ending is a write to the row, so every
copy of the cookie ends with it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, exists, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from .. import driver
from ..models import User, UserSession

#: Longest reference accepted from a cookie (a real one is 43 characters).
MAX_TOKEN_LENGTH = 64


@dataclass(frozen=True)
class Lifetimes:
    """How long sessions live: without a request, at most, and at most with staff rights."""

    idle: timedelta = timedelta(minutes=15)
    absolute: timedelta = timedelta(days=1)
    staff: timedelta = timedelta(hours=8)

    def __post_init__(self) -> None:
        if min(self.idle, self.absolute, self.staff) <= timedelta(0):
            raise ValueError("session lifetimes must be positive")

    @classmethod
    def from_config(cls, config: Any) -> Lifetimes:
        """The lifetimes the site is configured with."""
        return cls(
            idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
            absolute=timedelta(days=config["SESSION_MAX_DAYS"]),
            staff=timedelta(hours=config["STAFF_SESSION_HOURS"]),
        )

    @property
    def touch_every(self) -> timedelta:
        """How stale `last_active_at` may get before a request writes it (never every request)."""
        return min(timedelta(minutes=5), self.idle / 5)

    def ends_at(self, started: datetime, *, staff: bool) -> datetime:
        """The absolute end of a session started at `started`."""
        return started + (min(self.staff, self.absolute) if staff else self.absolute)


def new_reference() -> str:
    """A fresh random session reference for the cookie."""
    return secrets.token_urlsafe(32)


def reference_hash(reference: str) -> str:
    """What the database keeps of a reference."""
    return hashlib.sha256(reference.encode()).hexdigest()


def start(
    db: Session,
    user: User,
    *,
    now: datetime,
    lifetimes: Lifetimes,
    staff: bool,
    ip: str | None = None,
    device: str = "",
    sign_in_id: int | None = None,
    provider_sid: str | None = None,
    auth_time: datetime | None = None,
    id_token: str | None = None,
) -> tuple[str, UserSession]:
    """Add a session for `user` to `db` (the caller commits); returns the cookie's reference."""
    reference = new_reference()
    row = UserSession(
        token_hash=reference_hash(reference),
        user_id=user.id,  # type: ignore[arg-type]
        sign_in_id=sign_in_id,
        created_at=now,
        last_active_at=now,
        expires_at=lifetimes.ends_at(now, staff=staff),
        ip=ip or None,
        device=device[:200],
        provider_sid=provider_sid[:255] if provider_sid else None,
        auth_time=auth_time,
        id_token=id_token,
        staff=staff,
        generation=user.session_generation,
    )
    db.add(row)
    return reference, row


def load(
    db: Session, reference: object, *, now: datetime, lifetimes: Lifetimes
) -> tuple[User, UserSession] | None:
    """The person and their live session for a cookie's reference, through the ORM session `db`.

    For a request whose ORM session already exists; every other request reads `LOAD` at the
    driver level (`webapp.driver`) and makes the objects with `from_row`.
    """
    if not _plausible(reference):
        return None
    found = db.execute(_ORM_LOAD, {"token_hash": reference_hash(reference)}).first()
    if found is None:
        return None
    user, row = found
    return (user, row) if is_live(row, user, now=now, lifetimes=lifetimes) else None


def _plausible(reference: object) -> bool:
    return isinstance(reference, str) and 0 < len(reference) <= MAX_TOKEN_LENGTH


#: Built once (the same for every request; only the reference's hash differs).
_ORM_LOAD = (
    select(User, UserSession)
    .join(UserSession, UserSession.user_id == User.id)  # type: ignore[arg-type]
    .where(UserSession.token_hash == bindparam("token_hash"))
)

_USER, _SESSION = User.__table__, UserSession.__table__  # type: ignore[attr-defined]
#: Sealed columns only sign-out and the sessions list read: not decrypted on every page.
#: They load from the database when read (the request's ORM session adopts the row).
_NOT_ON_EVERY_PAGE = frozenset({"ip", "id_token"})
_SESSION_COLUMNS = tuple(c for c in _SESSION.c if c.name not in _NOT_ON_EVERY_PAGE)
#: Every page's read: the person (what the layout shows comes from their row: the policy
#: version seen, the consent summary) and the session, by the hash of the cookie's reference.
LOAD = (
    select(*_USER.c, *_SESSION_COLUMNS)
    .join_from(_USER, _SESSION, _USER.c.id == _SESSION.c.user_id)
    .where(_SESSION.c.token_hash == bindparam("token_hash", type_=_SESSION.c.token_hash.type))
)


#: The person of the session `token_hash` names: for reads sent with `LOAD` (one round trip),
#: which cannot use the person's id before it is known.
PERSON_OF_SESSION = (
    select(_SESSION.c.user_id)
    .where(_SESSION.c.token_hash == bindparam("token_hash", type_=_SESSION.c.token_hash.type))
    .scalar_subquery()
)


_STAFF_SESSION, _STAFF_MEMBER = _SESSION.alias("staff_session"), _USER.alias("staff_member")
#: True when the session `token_hash` names is a staff one, as `auth.has_staff_rights` asks (the
#: session's rights and its person's): a staff page's reads sent with `LOAD` read only then.
STAFF_SESSION = exists().where(
    _STAFF_SESSION.c.token_hash == bindparam("token_hash", type_=_SESSION.c.token_hash.type),
    _STAFF_SESSION.c.staff,
    _STAFF_MEMBER.c.id == _STAFF_SESSION.c.user_id,
    _STAFF_MEMBER.c.is_staff,
)


def load_parameters(reference: object) -> dict[str, str] | None:
    """`LOAD`'s parameters for a cookie's reference; None when it cannot be one."""
    return {"token_hash": reference_hash(reference)} if _plausible(reference) else None  # type: ignore[arg-type]


def from_row(
    found: tuple, *, now: datetime, lifetimes: Lifetimes
) -> tuple[User, UserSession] | None:
    """`LOAD`'s row as the person and their session, if it is live (detached ORM objects).

    Made as the ORM's own loading makes them, without an ORM session: `db.session()` adopts
    them when the request opens one, so a service may change and commit them as before.
    """
    split = len(_USER.c)
    user = driver.detached(User, _USER.c, found[:split])
    row = driver.detached(UserSession, _SESSION_COLUMNS, found[split:])
    return (user, row) if is_live(row, user, now=now, lifetimes=lifetimes) else None


def is_live(row: UserSession, user: User, *, now: datetime, lifetimes: Lifetimes) -> bool:
    """Whether the session still signs its person in at `now`."""
    return (
        row.ended_at is None
        and user.is_active
        and row.generation == user.session_generation
        and now < row.expires_at
        and now < row.last_active_at + lifetimes.idle
    )


def touch(connection: Connection, row: UserSession, *, now: datetime, lifetimes: Lifetimes) -> bool:
    """Move `last_active_at` forward when it is staler than `touch_every`; True if written."""
    if now - row.last_active_at < lifetimes.touch_every:
        return False
    connection.execute(
        update(UserSession).where(UserSession.id == row.id).values(last_active_at=now)
    )
    set_committed_value(row, "last_active_at", now)  # written already: no second UPDATE
    return True


@dataclass(frozen=True)
class SessionRow:
    """One live session as its person sees it."""

    id: int
    device: str
    network: str | None
    started: datetime
    last_active: datetime
    current: bool


def end(
    db: Session,
    *where: Any,
    now: datetime,
    reason: str,
) -> list[Row]:
    """End every not yet ended session matching `where` (not committed); returns (id, user_id).

    The sealed ID token goes at once: it was kept only to name the session at sign-out.
    """
    ended = db.execute(
        update(UserSession)
        .where(UserSession.ended_at.is_(None), *where)  # type: ignore[union-attr]
        .values(ended_at=now, end_reason=reason[:32], id_token=None)
        .returning(UserSession.id, UserSession.user_id)
    ).all()
    return list(ended)


def end_one(db: Session, user: User, session_id: int, *, now: datetime, reason: str) -> bool:
    """End one of the person's own sessions; False, changing nothing, if it is not theirs."""
    return bool(
        end(
            db,
            UserSession.id == session_id,
            UserSession.user_id == user.id,
            now=now,
            reason=reason,
        )
    )


def end_others(db: Session, user: User, keep_id: int | None, *, now: datetime) -> int:
    """End every session of the person except `keep_id` (this browser's)."""
    return len(
        end(
            db,
            UserSession.user_id == user.id,
            UserSession.id != (keep_id or 0),
            now=now,
            reason="signed-out-by-you",
        )
    )


def purge(db: Session, now: datetime, lifetimes: Lifetimes) -> str:
    """Delete ended and expired sessions (their addresses follow `webapp.addresses` meanwhile)."""
    table = UserSession.__table__  # type: ignore[attr-defined]
    stale_generation = (
        select(User.id)
        .where(User.id == table.c.user_id, User.session_generation != table.c.generation)
        .exists()
    )
    deleted = db.execute(
        delete(table).where(
            or_(
                table.c.ended_at.is_not(None),
                table.c.expires_at <= now,
                table.c.last_active_at <= now - lifetimes.idle,
                stale_generation,
            )
        )
    ).rowcount
    return f"{deleted} ended sessions deleted"
