"""Who may be sent a list: the one query every bulk sender (campaigns, policy notices) uses."""

from __future__ import annotations

from sqlalchemy import Select, and_, exists, not_, select

from ..models import User
from ..models.preferences import Subscription
from .lists import get


def audience(list_id: str) -> Select:
    """SELECT (user id, email) of every active person on `list_id`, honouring list defaults."""
    mailing_list = get(list_id)
    if mailing_list is None:
        raise ValueError(f"unknown list {list_id!r}")
    users = User.__table__  # type: ignore[attr-defined]
    subs = Subscription.__table__  # type: ignore[attr-defined]
    query = select(users.c.id, users.c.email).where(users.c.status == "active", users.c.email != "")
    if mailing_list.transactional:
        return query.order_by(users.c.id)
    chose = subs.c.user_id == users.c.id
    on_list = subs.c.list_id == list_id
    if mailing_list.default:
        left = exists().where(and_(chose, on_list, subs.c.subscribed.is_(False)))
        query = query.where(not_(left))
    else:
        joined = exists().where(and_(chose, on_list, subs.c.subscribed.is_(True)))
        query = query.where(joined)
    return query.order_by(users.c.id)
