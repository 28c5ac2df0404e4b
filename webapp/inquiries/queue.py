"""The staff queue of privacy requests: one page at a time, counted per status, searchable.

"Waiting" is every request still owed an answer (open or extended), and any other request but
a closed one where the person wrote after our last message: a reply to a refusal must not go
unseen. Two statements whatever the queue's size: the counts (GROUP BY status, with how many
answered or refused requests the person wrote back on) and the page (LIMIT/OFFSET).

Both are the same statements for every filter, search and page: what staff asked for is in
their parameters (`parameters`), so the queue is read with the staff person's own read in one
round trip on PostgreSQL (`QUEUE_BY_STAFF`). A page past the end shows the last page: the
page's OFFSET is worked out in the statement (`queues.first_row_of_page`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, String, and_, bindparam, case, func, or_, select
from sqlalchemy.engine import Engine

from .. import driver
from ..models import Inquiry, InquiryMessage, User
from ..queues import (
    PER_PAGE,
    QueuePage,
    clamp_page,
    first_row_of_page,
    like_pattern,
    people_matching,
    request_number,
)
from .reads import PERSON_COLUMNS, WithPerson, read
from .service import PENDING, STATUSES

WAITING = "pending"
#: The filters staff choose from, in the order shown: what is waiting first.
FILTERS = (WAITING, *STATUSES, "all")
#: Statuses where a message from the person puts the request back in the waiting list.
REOPENED_BY_REPLY = tuple(s for s in STATUSES if s not in (*PENDING, "closed"))

_INQUIRY = Inquiry.__table__  # type: ignore[attr-defined]
_MESSAGE = InquiryMessage.__table__  # type: ignore[attr-defined]
_USER = User.__table__  # type: ignore[attr-defined]
_FILTER = bindparam("status", type_=String)  #: one of FILTERS
_PATTERN = bindparam("pattern", type_=String)  #: a LIKE pattern for names and emails, or None
#: The request numbers a search leaves (first, last) when it is not for one number: all of them
#: (`inquiry.id` is a 32-bit integer).
EVERY_NUMBER = (0, 2**31 - 1)


def parameters(
    status: str, search: str = "", page: int = 1, per_page: int = PER_PAGE
) -> dict[str, Any]:
    """The queue statements' parameters for a filter, a search (as typed) and a page number."""
    first, last, pattern = *EVERY_NUMBER, None
    number = request_number(search) if search else None
    if number is not None:
        first = last = number
    elif search:
        pattern = like_pattern(search)
    return {
        "status": status if status in FILTERS else WAITING,
        "first": first,
        "last": last,
        "pattern": pattern,
        "page": max(page, 1),
        "per_page": per_page,
    }


def _person_wrote_last():
    last_author = (
        select(_MESSAGE.c.author)
        .where(_MESSAGE.c.inquiry_id == _INQUIRY.c.id)
        .order_by(_MESSAGE.c.id.desc())
        .limit(1)
        .correlate(_INQUIRY)
        .scalar_subquery()
    )
    return last_author == "person"


def _searched():
    """The search as SQL: a range of request numbers (one, or all), and part of the person's
    email or name (or anyone)."""
    people = people_matching(_PATTERN)
    numbers = _INQUIRY.c.id.between(
        bindparam("first", type_=Integer), bindparam("last", type_=Integer)
    )
    return and_(numbers, or_(_PATTERN.is_(None), _INQUIRY.c.user_id.in_(people)))


def _chosen():
    """The filter as SQL: waiting, one status, or all."""
    waiting = or_(
        _INQUIRY.c.status.in_(PENDING),
        and_(_INQUIRY.c.status.in_(REOPENED_BY_REPLY), _person_wrote_last()),
    )
    return or_(_FILTER == "all", _INQUIRY.c.status == _FILTER, and_(_FILTER == WAITING, waiting))


def _counts() -> Select:
    # Only answered or refused requests need the last author: CASE keeps the subquery off the rest.
    replied = func.sum(
        case(
            (_INQUIRY.c.status.in_(REOPENED_BY_REPLY), case((_person_wrote_last(), 1), else_=0)),
            else_=0,
        )
    )
    query = select(_INQUIRY.c.status, func.count(), replied).where(_searched())
    return query.group_by(_INQUIRY.c.status)


def _page() -> Select:
    # The page's ids first, so the last author is looked up for its rows only, not every row.
    due = func.coalesce(_INQUIRY.c.extended_to, _INQUIRY.c.due_on)
    ids = select(_INQUIRY.c.id).where(_chosen(), _searched())
    shown = (
        ids.order_by(due, _INQUIRY.c.id)
        .limit(bindparam("per_page", type_=Integer))
        .offset(first_row_of_page(_chosen(), _searched()))
        .subquery()
    )
    return (
        select(*_INQUIRY.c, *PERSON_COLUMNS, _person_wrote_last())
        .select_from(
            _INQUIRY.join(shown, shown.c.id == _INQUIRY.c.id).join(
                _USER, _USER.c.id == _INQUIRY.c.user_id
            )
        )
        .order_by(due, _INQUIRY.c.id)
    )


_COUNTS, _PAGE = _counts(), _page()
#: `inquiries_staff.queue`, read with a staff person (`parameters`): the counts, the page.
QUEUE_BY_STAFF = (_COUNTS, _PAGE)


def page(
    engine: Engine,
    *,
    status: str = WAITING,
    search: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
    rows: WithPerson | None = None,
) -> QueuePage:
    """The page of requests for `status` (waiting, a status, or all), soonest due first.

    Each row is (request, person, whether the person wrote last). `rows`: `QUEUE_BY_STAFF`'s,
    if read with the person (for the same status, search and page).
    """
    params = parameters(status, search, page, per_page)
    status = params["status"]
    counted, shown = read(engine, [(_COUNTS, params), (_PAGE, params)], rows)
    counts = {name: 0 for name in STATUSES}
    waiting = 0
    for name, number, wrote_back in counted:
        counts[name] = int(number)
        waiting += int(number) if name in PENDING else int(wrote_back or 0)
    counts[WAITING] = waiting
    counts["all"] = sum(counts[name] for name in STATUSES)
    total = counts[status]
    number = clamp_page(page, total, per_page)
    return QueuePage(_rows(shown), counts, total, number, status, search, per_page)


def _rows(found: list[tuple]) -> list[tuple[Inquiry, User, bool]]:
    split, person = len(_INQUIRY.c), len(PERSON_COLUMNS)
    return [
        (
            driver.detached(Inquiry, _INQUIRY.c, row[:split]),
            driver.detached(User, PERSON_COLUMNS, row[split : split + person]),
            bool(row[-1]),
        )
        for row in found
    ]
