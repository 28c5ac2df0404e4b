"""The staff closure queue: one page at a time, counted per status, searchable.

Two statements whatever the queue's size: the count per status (GROUP BY, with the search
applied) and the page itself (LIMIT/OFFSET on `ix_closure_request_open`'s order), each row
carrying its number of holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from ..models import ClosureRequest, RetentionHold, User, utcnow
from ..models.closure import OPEN_STATUSES, STATUSES
from ..queues import PER_PAGE, QueuePage, clamp_page, matches

#: The filters staff choose from, in the order shown: every open request first.
FILTERS = ("open", *STATUSES, "all")


@dataclass(frozen=True)
class Row:
    """One request in the queue: the request, the person, its holds, how old it is."""

    request: ClosureRequest
    person: User
    holds: int
    age_days: int


def _statuses(status: str) -> tuple[str, ...]:
    if status == "open":
        return OPEN_STATUSES
    if status in STATUSES:
        return (status,)
    return STATUSES


def page(
    db: Session,
    *,
    status: str = "open",
    search: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
    now: dt.datetime | None = None,
) -> QueuePage:
    """The page of the queue for `status` ("open", a status, or "all"), soonest due first."""
    now = now or utcnow()
    status = status if status in FILTERS else "open"
    found = matches(search, ClosureRequest.id, User.email, User.name) if search else None
    counting = select(ClosureRequest.status, func.count()).group_by(ClosureRequest.status)
    if found is not None:
        counting = counting.join(User, User.id == ClosureRequest.user_id).where(found)
    counts = {name: 0 for name in STATUSES}
    counts.update({name: int(n) for name, n in db.execute(counting).all()})
    counts["open"] = sum(counts[name] for name in OPEN_STATUSES)
    counts["all"] = sum(counts[name] for name in STATUSES)
    total = counts[status]
    number = clamp_page(page, total, per_page)
    holds = (
        select(func.count(RetentionHold.id))
        .where(RetentionHold.request_id == ClosureRequest.id)
        .correlate(ClosureRequest)
        .scalar_subquery()
    )
    query = (
        select(ClosureRequest, User, holds)
        .join(User, User.id == ClosureRequest.user_id)
        .where(ClosureRequest.status.in_(_statuses(status)))
    )
    if found is not None:
        query = query.where(found)
    query = query.order_by(ClosureRequest.due_on, ClosureRequest.id)
    rows = [
        Row(request, person, int(held), max((now - request.received_at).days, 0))
        for request, person, held in db.execute(
            query.limit(per_page).offset((number - 1) * per_page)
        ).all()
    ]
    return QueuePage(rows, counts, total, number, status, search, per_page)
