"""The staff queue of privacy requests: one page at a time, counted per status, searchable.

"Waiting" is every request still owed an answer (open or extended), and any other request but
a closed one where the person wrote after our last message: a reply to a refusal must not go
unseen. Two statements whatever the queue's size: the counts (GROUP BY status, with how many
answered or refused requests the person wrote back on) and the page (LIMIT/OFFSET).
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from ..models import Inquiry, InquiryMessage, User
from ..queues import PER_PAGE, QueuePage, clamp_page, matches
from .service import PENDING, STATUSES

WAITING = "pending"
#: The filters staff choose from, in the order shown: what is waiting first.
FILTERS = (WAITING, *STATUSES, "all")
#: Statuses where a message from the person puts the request back in the waiting list.
REOPENED_BY_REPLY = tuple(s for s in STATUSES if s not in (*PENDING, "closed"))


def _person_wrote_last():
    last_author = (
        select(InquiryMessage.author)
        .where(InquiryMessage.inquiry_id == Inquiry.id)
        .order_by(col(InquiryMessage.id).desc())
        .limit(1)
        .correlate(Inquiry)
        .scalar_subquery()
    )
    return last_author == "person"


def page(
    db: Session,
    *,
    status: str = WAITING,
    search: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> QueuePage:
    """The page of requests for `status` (waiting, a status, or all), soonest due first.

    Each row is (request, person, whether the person wrote last).
    """
    status = status if status in FILTERS else WAITING
    found = matches(search, Inquiry.id, User.email, User.name) if search else None
    person_last = _person_wrote_last()
    # Only answered or refused requests need the last author: CASE keeps the subquery off the rest.
    replied = func.sum(
        case((col(Inquiry.status).in_(REOPENED_BY_REPLY), case((person_last, 1), else_=0)), else_=0)
    )
    counting = select(Inquiry.status, func.count(), replied).group_by(Inquiry.status)
    if found is not None:
        counting = counting.join(User, col(User.id) == Inquiry.user_id).where(found)
    counts = {name: 0 for name in STATUSES}
    waiting = 0
    for name, number, wrote_back in db.exec(counting).all():
        counts[name] = int(number)
        waiting += int(number) if name in PENDING else int(wrote_back or 0)
    counts[WAITING] = waiting
    counts["all"] = sum(counts[name] for name in STATUSES)
    total = counts[status]
    number = clamp_page(page, total, per_page)

    # The page's ids first, so the last author is looked up for its rows only, not every row.
    query = select(Inquiry.id).join(User, col(User.id) == Inquiry.user_id)
    if status == WAITING:
        query = query.where(
            or_(
                col(Inquiry.status).in_(PENDING),
                and_(col(Inquiry.status).in_(REOPENED_BY_REPLY), person_last),
            )
        )
    elif status in STATUSES:
        query = query.where(Inquiry.status == status)
    if found is not None:
        query = query.where(found)
    due = func.coalesce(Inquiry.extended_to, Inquiry.due_on)
    ids = query.order_by(due, col(Inquiry.id)).limit(per_page).offset((number - 1) * per_page)
    shown = ids.subquery()
    rows_query = (
        select(Inquiry, User, person_last)
        .join(shown, shown.c.id == Inquiry.id)
        .join(User, col(User.id) == Inquiry.user_id)
        .order_by(due, col(Inquiry.id))
    )
    rows = [(inquiry, person, bool(last)) for inquiry, person, last in db.exec(rows_query).all()]
    return QueuePage(rows, counts, total, number, status, search, per_page)
