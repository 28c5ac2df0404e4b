"""One closure request as staff see it: the request, the person, the holds, how old it is.

Two statements by the request's number: the request with the few facts about the person the
pages show, and its holds. The case page sends them with the signed-in member of staff's own
read (`auth.current.read_with_person`): one round trip on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Integer, bindparam, select
from sqlalchemy.engine import Engine

from .. import driver
from ..models import ClosureRequest, RetentionHold, User, utcnow

_REQUESTS = ClosureRequest.__table__  # type: ignore[attr-defined]
_HOLDS = RetentionHold.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]
#: What the case pages say about the person (the name, the address, the account's age).
PERSON_COLUMNS = (_USERS.c.id, _USERS.c.name, _USERS.c.email, _USERS.c.created_at)
_REQUEST_ID = bindparam("request_id", type_=Integer)

#: The request and its person; then its holds, oldest first.
CASE = (
    select(*_REQUESTS.c, *PERSON_COLUMNS)
    .join(_USERS, _USERS.c.id == _REQUESTS.c.user_id)
    .where(_REQUESTS.c.id == _REQUEST_ID)
)
CASE_HOLDS = select(*_HOLDS.c).where(_HOLDS.c.request_id == _REQUEST_ID).order_by(_HOLDS.c.id)


@dataclass(frozen=True)
class Case:
    """One request as staff see it: the request, the person, the holds, how old it is."""

    request: ClosureRequest
    person: User  #: only `PERSON_COLUMNS` are read
    holds: list[RetentionHold]
    age_days: int


def case_parameters(request_id: int) -> dict[str, int]:
    """`CASE`'s and `CASE_HOLDS`'s parameters."""
    return {"request_id": request_id}


def get_case(
    engine: Engine,
    request_id: int,
    *,
    now: dt.datetime | None = None,
    rows: list[list[tuple]] | None = None,
) -> Case | None:
    """One request with its person and holds, or None (two statements in one round trip, or
    `rows`: those of `CASE` and `CASE_HOLDS`), as detached objects."""
    if rows is None:
        params = case_parameters(request_id)
        found, holds = driver.fetch(engine, (CASE, params), (CASE_HOLDS, params))
    else:
        found, holds = rows
    if not found:
        return None
    split = len(_REQUESTS.c)
    request = driver.detached(ClosureRequest, _REQUESTS.c, found[0][:split])
    person = driver.detached(User, PERSON_COLUMNS, found[0][split:])
    age = max(((now or utcnow()) - request.received_at).days, 0)
    return Case(request, person, driver.entities(RetentionHold, holds), age)
