"""What the privacy-request pages show: Core statements compiled once, rows as detached objects.

A page's GET sends its statements with the signed-in person's own read
(`auth.current.read_with_person`): one round trip on PostgreSQL. A statement about the person
finds them by the session (`PERSON_OF_SESSION`), so a thread is read only when it is the
person's own. A staff page's statements read nothing unless the session is a staff one
(`read_with_person(..., staff=True)`): a person who is not staff gets the guard's 403 and never had the staff's
rows read for them. Any other request (a POST that shows the page again) reads for itself with
the same statements by id, in one round trip on PostgreSQL too.

The objects made from the rows are not in an ORM session: each statement reads everything its
page shows, and nothing loads later. Nothing here reads `flask.request`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.engine import Engine

from .. import driver
from ..auth.sessions import PERSON_OF_SESSION
from ..models import CorrectionStatement, Inquiry, InquiryMessage, User
from .service import InquiryNotFound

_INQUIRY = Inquiry.__table__  # type: ignore[attr-defined]
_MESSAGE = InquiryMessage.__table__  # type: ignore[attr-defined]
_STATEMENT = CorrectionStatement.__table__  # type: ignore[attr-defined]
_USER = User.__table__  # type: ignore[attr-defined]
#: What the staff pages show of the person a request is about.
PERSON_COLUMNS = (_USER.c.id, _USER.c.name, _USER.c.email)
_INQUIRY_ID = bindparam("inquiry_id", type_=Integer)
_USER_ID = bindparam("user_id", type_=Integer)
#: A page's statements' rows as `auth.current.read_with_person_results` gives them.
WithPerson = list[list[tuple]]


@dataclass(frozen=True)
class Requests:
    """The person's list page: their requests, newest first, and their statements of correction."""

    inquiries: list[Inquiry]
    statements: dict[str, list[CorrectionStatement]]


@dataclass(frozen=True)
class Thread:
    """One request as its person sees it: the messages, oldest first, and the statements
    attached through it."""

    inquiry: Inquiry
    messages: list[InquiryMessage]
    statements: dict[str, list[CorrectionStatement]]


@dataclass(frozen=True)
class Case:
    """A request as staff see it: the person, the thread and all the person's statements."""

    inquiry: Inquiry
    person: User
    messages: list[InquiryMessage]
    statements: dict[str, list[CorrectionStatement]]


# --- the statements --------------------------------------------------------------------


def _requests(person: Any) -> Select:
    return (
        select(*_INQUIRY.c)
        .where(_INQUIRY.c.user_id == person)
        .order_by(_INQUIRY.c.received_at.desc(), _INQUIRY.c.id.desc())
    )


def _statements(person: Any, *, inquiry: Any = None) -> Select:
    query = select(*_STATEMENT.c).where(_STATEMENT.c.user_id == person)
    if inquiry is not None:
        query = query.where(_STATEMENT.c.inquiry_id == inquiry)
    return query.order_by(_STATEMENT.c.at, _STATEMENT.c.id)


def _thread(person: Any) -> Select:
    return (
        select(*_INQUIRY.c, *_MESSAGE.c)
        .select_from(_INQUIRY.outerjoin(_MESSAGE, _MESSAGE.c.inquiry_id == _INQUIRY.c.id))
        .where(_INQUIRY.c.id == _INQUIRY_ID, _INQUIRY.c.user_id == person)
        .order_by(_MESSAGE.c.at, _MESSAGE.c.id)
    )


def _case() -> Select:
    joined = _INQUIRY.join(_USER, _USER.c.id == _INQUIRY.c.user_id).outerjoin(
        _MESSAGE, _MESSAGE.c.inquiry_id == _INQUIRY.c.id
    )
    query = select(*_INQUIRY.c, *PERSON_COLUMNS, *_MESSAGE.c).select_from(joined)
    query = query.where(_INQUIRY.c.id == _INQUIRY_ID)
    return query.order_by(_MESSAGE.c.at, _MESSAGE.c.id)


_PERSON_OF_INQUIRY = (
    select(_INQUIRY.c.user_id).where(_INQUIRY.c.id == _INQUIRY_ID).scalar_subquery()
)

_REQUESTS, _STATEMENTS = _requests(_USER_ID), _statements(_USER_ID)
_THREAD, _THREAD_STATEMENTS = _thread(_USER_ID), _statements(_USER_ID, inquiry=_INQUIRY_ID)
_CASE, _CASE_STATEMENTS = _case(), _statements(_PERSON_OF_INQUIRY)
#: `inquiries.mine`, read with the person: their requests, their statements.
REQUESTS_BY_SESSION = (_requests(PERSON_OF_SESSION), _statements(PERSON_OF_SESSION))
#: `inquiries.thread`, read with the person (parameter `inquiry_id`): the request with its
#: messages if it is theirs (no rows: not found), the statements attached through it.
THREAD_BY_SESSION = (
    _thread(PERSON_OF_SESSION),
    _statements(PERSON_OF_SESSION, inquiry=_INQUIRY_ID),
)
#: `inquiries_staff.show`, read with a staff person (parameter `inquiry_id`): the request with
#: its person and messages, and the person's statements.
CASE_BY_STAFF = (_CASE, _CASE_STATEMENTS)


# --- the pages -------------------------------------------------------------------------


def read(
    engine: Engine,
    reads: Sequence[tuple[Select, Mapping[str, Any]]],
    rows: WithPerson | None,
) -> list[list[tuple]]:
    """`rows` when they were read with the person, else `reads` now (one round trip on
    PostgreSQL)."""
    return rows if rows is not None else driver.fetch(engine, *reads)


def requests_of(engine: Engine, user_id: int, *, rows: WithPerson | None = None) -> Requests:
    """The person's requests and statements (`rows`: `REQUESTS_BY_SESSION`'s, if read)."""
    params = {"user_id": user_id}
    found, statements = read(engine, [(_REQUESTS, params), (_STATEMENTS, params)], rows)
    return Requests(driver.entities(Inquiry, found), by_field(statements))


def thread_of(
    engine: Engine,
    user_id: int,
    inquiry_id: int,
    *,
    rows: WithPerson | None = None,
) -> Thread:
    """One of the person's requests (`rows`: `THREAD_BY_SESSION`'s, if read).

    Raises `InquiryNotFound` when there is no such request or it is someone else's.
    """
    params = {"user_id": user_id, "inquiry_id": inquiry_id}
    found, statements = read(engine, [(_THREAD, params), (_THREAD_STATEMENTS, params)], rows)
    if not found:
        raise InquiryNotFound(inquiry_id)
    inquiry, messages = _split(found, len(_INQUIRY.c))
    return Thread(inquiry, messages, by_field(statements))


def case_of(engine: Engine, inquiry_id: int, *, rows: WithPerson | None = None) -> Case:
    """One request for staff (`rows`: `CASE_BY_STAFF`'s, if read); `InquiryNotFound` if none."""
    params = {"inquiry_id": inquiry_id}
    found, statements = read(engine, [(_CASE, params), (_CASE_STATEMENTS, params)], rows)
    if not found:
        raise InquiryNotFound(inquiry_id)
    split = len(_INQUIRY.c)
    person = driver.detached(User, PERSON_COLUMNS, found[0][split : split + len(PERSON_COLUMNS)])
    inquiry, messages = _split(found, split, skip=len(PERSON_COLUMNS))
    return Case(inquiry, person, messages, by_field(statements))


def statements_for(engine: Engine, user_id: int) -> dict[str, list[CorrectionStatement]]:
    """The person's statements of correction by field name, oldest first (one statement).

    Shown with `templates/inquiries/_statements.html`; `.get("email", [])` is one field's.
    """
    return by_field(driver.fetch(engine, (_STATEMENTS, {"user_id": user_id}))[0])


def by_field(rows: Sequence[tuple]) -> dict[str, list[CorrectionStatement]]:
    """Statements of correction (rows of their whole table, in order) by field name."""
    found: dict[str, list[CorrectionStatement]] = defaultdict(list)
    for statement in driver.entities(CorrectionStatement, rows):
        found[statement.field].append(statement)
    return dict(found)


def _split(rows: list[tuple], split: int, *, skip: int = 0) -> tuple[Inquiry, list[InquiryMessage]]:
    """A request's joined rows as the request and its messages (none: one row of NULLs)."""
    inquiry = driver.detached(Inquiry, _INQUIRY.c, rows[0][:split])
    tail = split + skip
    messages = [row[tail:] for row in rows if row[tail] is not None]
    return inquiry, driver.entities(InquiryMessage, messages)
