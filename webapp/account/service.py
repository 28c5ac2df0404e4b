"""The account's state at a glance: what is waiting for the person, or for Sentro.

One statement reads everything the home page reports from the database (a pending email
change, an open closure request, privacy requests awaiting an answer) as rows of one
UNION ALL. The consent choices not yet made, which the request already knows, are passed in;
the policy version to acknowledge is the layout's banner state, which the page asks itself.
Nothing here reads `flask.request`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    bindparam,
    cast,
    func,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.engine import Engine

from ..auth.sessions import PERSON_OF_SESSION
from ..driver import fetch
from ..inquiries.service import PENDING
from ..models import ClosureRequest, Inquiry, PendingEmailChange, utcnow
from ..models.closure import OPEN_STATUSES


@dataclass(frozen=True)
class PendingEmail:
    """An email change waiting for the new address to confirm it."""

    new_email: str
    expires_at: datetime


@dataclass(frozen=True)
class OpenClosure:
    """A closure request not yet done: its state, when it is answered and when erasure runs."""

    status: str
    due_on: date | None
    erase_after: datetime | None


@dataclass(frozen=True)
class OpenRequest:
    """A privacy request Sentro still owes an answer to."""

    id: int
    subject: str
    due: date


@dataclass(frozen=True)
class AccountStatus:
    """Everything worth saying on the home page; empty when there is nothing to say."""

    email: PendingEmail | None = None
    closure: OpenClosure | None = None
    requests: list[OpenRequest] = field(default_factory=list)
    unchosen: list[str] = field(default_factory=list)  #: consent purposes not chosen yet

    @property
    def empty(self) -> bool:
        """Whether there is nothing to show."""
        return not (self.email or self.closure or self.requests or self.unchosen)


def _row(kind: str, *, id_=None, text=None, at=None, on=None, until=None):
    """One row shape for every kind, so the parts can be one UNION ALL."""
    return (
        literal(kind, String(16)).label("kind"),
        (id_ if id_ is not None else cast(null(), Integer)).label("id"),
        (text if text is not None else cast(null(), String(320))).label("text"),
        (at if at is not None else cast(null(), DateTime(timezone=True))).label("at"),
        (on if on is not None else cast(null(), Date)).label("on"),
        (until if until is not None else cast(null(), Date)).label("until"),
    )


def _status_statement(user_id):
    """The UNION ALL of every open matter of the person `user_id`, at the parameter `now`."""
    email = PendingEmailChange.__table__.c  # type: ignore[attr-defined]
    now = bindparam("now", type_=email.expires_at.type)
    closure = ClosureRequest.__table__.c  # type: ignore[attr-defined]
    inquiry = Inquiry.__table__.c  # type: ignore[attr-defined]
    latest_email = (
        select(*_row("email", id_=email.id, text=email.new_email, at=email.expires_at))
        .where(email.user_id == user_id, email.status == "pending", email.expires_at > now)
        .order_by(email.id.desc())
        .limit(1)
    )
    latest_closure = select(func.max(closure.id)).where(closure.user_id == user_id)
    open_closure = select(
        *_row(
            "closure",
            id_=closure.id,
            text=closure.status,
            at=closure.erase_after,
            on=closure.due_on,
        )
    ).where(closure.id == latest_closure.scalar_subquery(), closure.status.in_(OPEN_STATUSES))
    requests = select(
        *_row(
            "request",
            id_=inquiry.id,
            text=inquiry.subject,
            on=inquiry.due_on,
            until=inquiry.extended_to,
        )
    ).where(inquiry.user_id == user_id, inquiry.status.in_(PENDING))
    return union_all(latest_email.subquery().select(), open_closure, requests)


#: Built once: the statement is the same for every person, only its parameters differ.
STATUS = _status_statement(bindparam("user_id", type_=Integer))
#: The same for the person of the session `token_hash`: read with the person (`/account`).
STATUS_BY_SESSION = _status_statement(PERSON_OF_SESSION)


def status_parameters() -> dict[str, datetime]:
    """`STATUS_BY_SESSION`'s parameters besides the session's."""
    return {"now": utcnow()}


def account_status(
    engine: Engine,
    user_id: int,
    *,
    unchosen: list[str] | None = None,
    now: datetime | None = None,
    rows: list[tuple] | None = None,
) -> AccountStatus:
    """The person's open matters, read in one statement (or `rows`, STATUS_BY_SESSION's)."""
    if rows is None:
        params = {"user_id": user_id, "now": now or utcnow()}
        rows = fetch(engine, (STATUS, params))[0]
    found_email, found_closure, found_requests = None, None, []
    for kind, id_, text, at, on, until in rows:
        if kind == "email":
            found_email = PendingEmail(text, _aware(at))
        elif kind == "closure":
            found_closure = OpenClosure(text, on, _aware(at))
        else:
            found_requests.append(OpenRequest(id_, text, until or on))
    found_requests.sort(key=lambda r: (r.due, r.id))
    return AccountStatus(
        email=found_email,
        closure=found_closure,
        requests=found_requests,
        unchosen=list(unchosen or []),
    )


def _aware(value: datetime | None) -> datetime | None:
    """A UNION's plain DateTime column comes back naive on SQLite; every stored time is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
