"""The sessions half of the security page: see each signed-in browser, end one or all others.

Every ending is audited in the transaction that ends it. The listing and the actions go
through the session registry (`webapp.auth.sessions`); this module adds the person's rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlmodel import Session

from .. import audit, tokens
from ..auth import sessions
from ..models import User, UserSession, utcnow
from ..retention import purge_step
from ..validators import MAX_ID

#: The largest id a form may name (the id columns are 32-bit).


def live(db: Session, user: User, current_id: int | None) -> list[sessions.SessionRow]:
    """The person's live sessions, this browser's first."""
    return sessions.live_sessions(
        db,
        user,
        now=utcnow(),
        lifetimes=sessions.Lifetimes.from_config(current_app.config),
        current_id=current_id,
    )


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


def session_from_link(db: Session, user: User, token: str) -> UserSession | None:
    """The session an alert's link names, if the link is genuine and the session the person's.

    Raises `tokens.BadToken` (or `ExpiredToken`) for a link that is not one of ours.
    """
    payload: Any = tokens.read(tokens.SESSION_END, token)
    if not isinstance(payload, dict) or payload.get("u") != user.id:
        return None
    session_id = payload.get("s")
    if not isinstance(session_id, int) or not 0 < session_id <= MAX_ID:
        return None
    row = db.get(UserSession, session_id)
    return row if row is not None and row.user_id == user.id else None


@purge_step("ended sessions")
def _purge(db: Session, now: datetime) -> str:
    config = current_app.config
    return sessions.purge(db, now, sessions.Lifetimes.from_config(config))
