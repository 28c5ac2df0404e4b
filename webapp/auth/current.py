"""This request's session: the cookie's reference, loaded with its person in one statement.

The Flask cookie (signed, not encrypted) holds `sid`, a random reference to a session row,
and only transient, impersonal values besides: Flask-WTF's CSRF secret, Authlib's sign-in
state while a sign-in is under way, the page to return to, and flash messages. flask-login
is used through its request loader only, so it never writes its own keys (`_user_id`,
`_fresh`, `_id`, the IP and browser hash) into the cookie.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, Response, current_app, g, request, session
from flask_login import current_user
from sqlalchemy import Select

from .. import db, driver
from ..models import User, UserSession, utcnow
from . import sessions

#: The cookie session's key for the reference.
REFERENCE = "sid"
log = logging.getLogger(__name__)


def lifetimes() -> sessions.Lifetimes:
    """The configured session lifetimes."""
    return sessions.Lifetimes.from_config(current_app.config)


def load_request_user(_request: object) -> User | None:
    """flask-login's request loader: the person whose live session the cookie names."""
    reference = session.get(REFERENCE)
    if reference is None:
        return None
    now = utcnow()
    limits = lifetimes()
    found = _load(reference, now, limits)
    if found is None:
        session.pop(REFERENCE, None)  # ended or expired: the browser forgets it
        return None
    user, row = found
    g.user_session = row
    if now - row.last_active_at >= limits.touch_every:
        g.touch_session = True
    return user


def _load(
    reference: object, now: datetime, limits: sessions.Lifetimes
) -> tuple[User, UserSession] | None:
    if "db_session" in g:  # an ORM session is open already: it must hold the only copy
        return sessions.load(db.session(), reference, now=now, lifetimes=limits)
    params = sessions.load_parameters(reference)
    if params is None:
        return None
    also = _WITH_PERSON.get(request.endpoint or "")
    more = also[1]() if also else None
    extra = [(statement, {**params, **more}) for statement in also[0]] if more is not None else []
    person, *rest = driver.fetch(db.engine(), (sessions.LOAD, params), *extra)
    found = sessions.from_row(person[0], now=now, lifetimes=limits) if person else None
    if found is not None:
        db.adopt(*found)
        if rest:
            g.read_with_person = rest
    return found


#: endpoint -> (statements, their parameters besides `token_hash`): read with the person.
_WITH_PERSON: dict[str, tuple[tuple[Select, ...], Callable[[], dict[str, Any] | None]]] = {}


def read_with_person(
    endpoint: str,
    *statements: Select,
    parameters: Callable[[], dict[str, Any] | None] = dict,
    staff: bool = False,
) -> None:
    """On `endpoint`'s requests, send `statements` with the person's own read.

    `parameters()` gives their parameters besides `token_hash`, or None when this request of
    the endpoint does not need them.

    On PostgreSQL all go in one round trip. A statement about the person finds them through
    the parameter `token_hash` (see `sessions.PERSON_OF_SESSION`); one that is not (a staff
    queue, an emailed link's subject) takes its own parameters. Their rows are given to the
    page only when the session is live (`read_with_person_rows`), and the view's own guard
    (`login_required`, `staff_required`) still decides whether the page is shown. A visitor
    who is not signed in reads nothing here: the view reads for itself.

    `staff`: a staff page's statements, which read nothing unless the session is a staff one
    (`sessions.STAFF_SESSION`), so a person without the rights is refused by the guard and
    never had the staff's rows read for them.
    """
    if staff:
        statements = tuple(staff_only(s) for s in statements)
    _WITH_PERSON[endpoint] = (statements, parameters)


def staff_only(statement: Select) -> Select:
    """`statement`, finding rows only when the session `token_hash` names is a staff one."""
    return statement.where(sessions.STAFF_SESSION)


def read_with_person_rows(which: int = 0) -> list[tuple] | None:
    """The rows of this endpoint's `read_with_person` statement number `which` (in the order
    given); None if they were not read (the view then reads for itself)."""
    found = read_with_person_results()
    return found[which] if found is not None else None


def read_with_person_results() -> list[list[tuple]] | None:
    """The rows of each of this endpoint's `read_with_person` statements, in the order given
    (all were read, or none); None if they were not read (the view then reads for itself)."""
    current_user.is_authenticated  # noqa: B018 - the person's read brings these rows
    return g.get("read_with_person")


def current_session() -> UserSession | None:
    """The session row of this request's signed-in person, if any."""
    if not current_user.is_authenticated:
        return None
    return g.get("user_session")


def reference_in_cookie() -> str | None:
    """The reference this browser holds now (before a sign-in replaces it)."""
    reference = session.get(REFERENCE)
    return reference if isinstance(reference, str) else None


def begin(reference: str) -> None:
    """Give this browser a fresh cookie session holding only the new reference."""
    session.clear()  # nothing carried over from before the sign-in
    session[REFERENCE] = reference


def forget() -> None:
    """Make this browser signed out (its session row is ended by the caller)."""
    from flask_login import logout_user

    logout_user()
    session.clear()


def has_staff_rights() -> bool:
    """Staff now: the last sign-in's groups said so, and so did this session's own."""
    row = current_session()
    return bool(row is not None and row.staff and current_user.is_staff)


def _touch(response: Response) -> Response:
    # Written after the view, on a fresh transaction: never a write per request, and never
    # a write that could meet the view's own on SQLite.
    row = g.pop("touch_session", None) and g.get("user_session")
    if row is not None:
        store = db.session()
        try:
            store.rollback()
            sessions.touch(store.connection(), row, now=utcnow(), lifetimes=lifetimes())
            store.commit()
        except db.DatabaseUnavailable as exc:
            store.rollback()
            log.warning("session last-active not written: %s", type(exc).__name__)
    return response


def init_app(app: Flask, login_manager) -> None:
    """Load people through the session registry; write `last_active_at` now and then."""
    login_manager.request_loader(load_request_user)
    app.after_request(_touch)
    # The navigation offers staff sections only where /staff would answer: this session's rights.
    app.jinja_env.globals["has_staff_rights"] = has_staff_rights
