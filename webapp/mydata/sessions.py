"""The sessions half of the security page: see each signed-in browser, end one or all others.

Every ending is audited in the transaction that ends it. The actions go through the session
registry (`webapp.auth.sessions`), and the listing keeps what its `is_live` says; this module
adds the person's rules. The page's reads go with the person's own (one round trip).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, bindparam, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .. import audit, driver, tokens
from ..addresses import reduce_ip
from ..auth import sessions
from ..auth.sessions import PERSON_OF_SESSION
from ..models import User, UserSession, utcnow
from ..retention import purge_step
from ..validators import MAX_ID

_SESSION = UserSession.__table__  # type: ignore[attr-defined]
#: What the list shows of a session, and what says whether it is still live (`is_live`).
_LISTED = tuple(
    _SESSION.c[name]
    for name in (
        "id",
        "device",
        "ip",
        "created_at",
        "last_active_at",
        "ended_at",
        "expires_at",
        "generation",
    )
)


def _sessions_statement(person: Any) -> Select:
    # Not ended yet; whether each is still live is `sessions.is_live`'s to say, the one rule.
    return (
        select(*_LISTED)
        .where(_SESSION.c.user_id == person, _SESSION.c.ended_at.is_(None))
        .order_by(_SESSION.c.last_active_at.desc(), _SESSION.c.id.desc())
    )


_SESSIONS = _sessions_statement(bindparam("user_id"))
#: The security page reads the sessions with the person (`auth.current.read_with_person`).
SESSIONS_BY_SESSION = _sessions_statement(PERSON_OF_SESSION)


def live(
    engine: Engine, user: User, current_id: int | None, *, rows: list[tuple] | None = None
) -> list[sessions.SessionRow]:
    """The person's live sessions, this browser's first, then the most recently active (one
    statement, or `rows`: `SESSIONS_BY_SESSION`'s). Only the network of each address shows."""
    if rows is None:
        rows = driver.fetch(engine, (_SESSIONS, {"user_id": user.id}))[0]
    now, lifetimes = utcnow(), sessions.Lifetimes.from_config(current_app.config)
    found = [driver.detached(UserSession, _LISTED, row) for row in rows]
    listed = [
        sessions.SessionRow(
            id=row.id,  # type: ignore[arg-type]
            device=row.device or "Unknown device",
            network=reduce_ip(row.ip),
            started=row.created_at,
            last_active=row.last_active_at,
            current=row.id == current_id,
        )
        for row in found
        if sessions.is_live(row, user, now=now, lifetimes=lifetimes)
    ]
    return sorted(listed, key=lambda r: not r.current)


def end_session(db: Session, user: User, session_id: int | None) -> bool:
    """End one of the person's sessions; False, changing nothing, when it is not theirs."""
    if session_id is None:
        return False
    if not sessions.end_one(db, user, session_id, now=utcnow(), reason="signed-out-by-you"):
        db.rollback()
        return False
    audit.record(db, user_id=user.id, action="session-signed-out", field=f"session {session_id}")  # type: ignore[arg-type]
    db.commit()
    return True


def end_other_sessions(db: Session, user: User, current_id: int | None) -> int:
    """End every session of the person but this browser's; audited even when none was live."""
    count = sessions.end_others(db, user, current_id, now=utcnow())
    audit.record(
        db,
        user_id=user.id,  # type: ignore[arg-type]
        action="other-sessions-signed-out",
        field="sessions",
        new=count,
    )
    db.commit()
    return count


_LINKED_COLUMNS = tuple(
    _SESSION.c[name] for name in ("id", "user_id", "device", "created_at", "ended_at")
)


def _linked_statement(person: Any) -> Select:
    return select(*_LINKED_COLUMNS).where(
        _SESSION.c.id == bindparam("session_id"), _SESSION.c.user_id == person
    )


_LINKED = _linked_statement(bindparam("user_id"))
#: The alert link's page reads the session it names with the person: only theirs is found.
LINKED_BY_SESSION = _linked_statement(PERSON_OF_SESSION)


def _read_link(token: str) -> tuple[Any, int | None]:
    """(the person, the session) an alert's link names; the session None when it names none.

    Raises `tokens.BadToken` (or `ExpiredToken`) for a link that is not one of ours.
    """
    payload: Any = tokens.read(tokens.SESSION_END, token)
    if not isinstance(payload, dict):
        return None, None
    session_id = payload.get("s")
    if not isinstance(session_id, int) or not 0 < session_id <= MAX_ID:
        return payload.get("u"), None
    return payload.get("u"), session_id


def link_parameters(token: str) -> dict[str, int] | None:
    """`LINKED_BY_SESSION`'s parameters: the session a genuine link names; None for a link
    that names none (`session_from_link` then answers without reading)."""
    try:
        session_id = _read_link(token)[1]
    except tokens.BadToken:
        return None
    return None if session_id is None else {"session_id": session_id}


def session_from_link(
    engine: Engine, user: User, token: str, *, rows: list[tuple] | None = None
) -> UserSession | None:
    """The session an alert's link names, if the link is genuine and the session the person's
    (one statement, or `rows`: `LINKED_BY_SESSION`'s), as a detached object.

    Raises `tokens.BadToken` (or `ExpiredToken`) for a link that is not one of ours.
    """
    person, session_id = _read_link(token)
    if person != user.id or session_id is None:
        return None
    if rows is None:
        params = {"session_id": session_id, "user_id": user.id}
        rows = driver.fetch(engine, (_LINKED, params))[0]
    found = [driver.detached(UserSession, _LINKED_COLUMNS, row) for row in rows]
    return next((r for r in found if r.id == session_id and r.user_id == user.id), None)


@purge_step("ended sessions")
def _purge(db: Session, now: datetime) -> str:
    config = current_app.config
    return sessions.purge(db, now, sessions.Lifetimes.from_config(config))
