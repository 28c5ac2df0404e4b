"""The staff closure queue: one page at a time, counted per status, searchable.

Two statements whatever the queue's size or the page asked for: the count per status (GROUP
BY, with the search applied) and the page itself (LIMIT/OFFSET on `ix_closure_request_open`'s
order), each row carrying its number of holds. The page's OFFSET is worked out in the
statement from the count under the filter, so a page past the end is the last page without
waiting for the count first. Both are constants over their parameters (`parameters`), so the
queue page sends them with the member of staff's own read: one round trip on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, Integer, String, and_, bindparam, func, or_, select
from sqlalchemy.engine import Engine

from .. import driver
from ..models import ClosureRequest, RetentionHold, User, utcnow
from ..models.closure import OPEN_STATUSES, STATUSES
from ..queues import (
    PER_PAGE,
    QueuePage,
    clamp_page,
    first_row_of_page,
    like_pattern,
    people_matching,
    request_number,
)
from .case import PERSON_COLUMNS

#: The filters staff choose from, in the order shown: every open request first.
FILTERS = ("open", *STATUSES, "all")

_REQUESTS = ClosureRequest.__table__  # type: ignore[attr-defined]
_HOLDS = RetentionHold.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]
_FILTER = bindparam("filter", type_=String)

#: The filter: a status, every open one ("open") or every one ("all").
_FILTERED = or_(
    _REQUESTS.c.status == _FILTER,
    and_(_FILTER == "open", _REQUESTS.c.status.in_(OPEN_STATUSES)),
    _FILTER == "all",
)
_PEOPLE_FOUND = people_matching(bindparam("pattern", type_=String))
#: The search (see `queues.matches`): nothing, a request number, or part of an email or name.
_FOUND = or_(
    bindparam("everyone", type_=Boolean),
    _REQUESTS.c.id == bindparam("number", type_=Integer),
    _REQUESTS.c.user_id.in_(_PEOPLE_FOUND),
)

#: (status, how many) for every status with a request the search finds.
COUNTS = select(_REQUESTS.c.status, func.count()).where(_FOUND).group_by(_REQUESTS.c.status)

_HELD = (
    select(func.count(_HOLDS.c.id))
    .where(_HOLDS.c.request_id == _REQUESTS.c.id)
    .correlate(_REQUESTS)
    .scalar_subquery()
)
#: One page of the requests under the filter the search finds, soonest due first.
PAGE = (
    select(*_REQUESTS.c, *PERSON_COLUMNS, _HELD)
    .join(_USERS, _USERS.c.id == _REQUESTS.c.user_id)
    .where(_FILTERED, _FOUND)
    .order_by(_REQUESTS.c.due_on, _REQUESTS.c.id)
    .limit(bindparam("per_page", type_=Integer))
    .offset(first_row_of_page(_FILTERED, _FOUND))
)


@dataclass(frozen=True)
class Row:
    """One request in the queue: the request, the person, its holds, how old it is."""

    request: ClosureRequest
    person: User  #: only `case.PERSON_COLUMNS` are read
    holds: int
    age_days: int


def shown_filter(status: str) -> str:
    """The filter shown for the one asked for: an unknown one is "open"."""
    return status if status in FILTERS else "open"


def parameters(
    *, status: str = "open", search: str = "", page: int = 1, per_page: int = PER_PAGE
) -> dict[str, Any]:
    """`COUNTS`'s and `PAGE`'s parameters for a filter, a search and a page number."""
    number = request_number(search) if search else None
    pattern = like_pattern(search) if search and number is None else None
    return {
        "filter": shown_filter(status),
        "everyone": not search,
        "number": number,
        "pattern": pattern,
        "page": page,
        "per_page": per_page,
    }


def page(
    engine: Engine,
    *,
    status: str = "open",
    search: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
    now: dt.datetime | None = None,
    rows: list[list[tuple]] | None = None,
) -> QueuePage:
    """The page of the queue for `status` ("open", a status, or "all"), soonest due first
    (two statements in one round trip, or `rows`: those of `COUNTS` and `PAGE`)."""
    now = now or utcnow()
    status = shown_filter(status)
    if rows is None:
        params = parameters(status=status, search=search, page=page, per_page=per_page)
        counted, found = driver.fetch(engine, (COUNTS, params), (PAGE, params))
    else:
        counted, found = rows
    counts = {name: 0 for name in STATUSES}
    counts.update({name: int(n) for name, n in counted})
    counts["open"] = sum(counts[name] for name in OPEN_STATUSES)
    counts["all"] = sum(counts[name] for name in STATUSES)
    total = counts[status]
    split, people = len(_REQUESTS.c), len(_REQUESTS.c) + len(PERSON_COLUMNS)
    queue = []
    for row in found:
        request = driver.detached(ClosureRequest, _REQUESTS.c, row[:split])
        person = driver.detached(User, PERSON_COLUMNS, row[split:people])
        age = max((now - request.received_at).days, 0)
        queue.append(Row(request, person, int(row[people]), age))
    number = clamp_page(page, total, per_page)
    return QueuePage(queue, counts, total, number, status, search, per_page)
