"""Sign-in history: what a person sees of their sign-ins, and how long their IP addresses live.

An IP address is kept in full for SIGNIN_IP_FULL_DAYS, then reduced to its network (IPv4 /24,
IPv6 /48), and the sign-in is deleted after SIGNIN_RETENTION_DAYS: the site's one rule for
addresses, declared on the column and applied by `privacy purge` (`webapp.addresses`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .. import audit, driver
from ..addresses import IpPolicy
from ..auth.service import end_all_sessions
from ..auth.sessions import PERSON_OF_SESSION
from ..devices import device_summary
from ..models import SignIn, User
from ..validators import whole_number

PER_PAGE = 20
#: Pages beyond this are refused as nonsense rather than asked of the database.
MAX_PAGE = 10_000


@dataclass(frozen=True)
class SignInRow:
    """One sign-in as the person sees it."""

    id: int
    at: datetime
    ip: str | None
    ip_reduced: bool
    device: str
    reduce_on: datetime | None  #: None once the address is already reduced
    delete_on: datetime


@dataclass(frozen=True)
class SignInPage:
    """A page of sign-ins, newest first."""

    rows: list[SignInRow]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        """Whether there are newer sign-ins before this page."""
        return self.page > 1


def page_number(raw: str | None) -> int:
    """The page asked for in a query string; anything that is not a sensible page is page 1."""
    return whole_number(raw, high=MAX_PAGE) or 1


def _history_statement(person: Any) -> Select:
    table = SignIn.__table__  # type: ignore[attr-defined]
    return (
        select(table.c.id, table.c.at, table.c.ip, table.c.ip_reduced, table.c.user_agent)
        .where(table.c.user_id == person)
        .order_by(table.c.at.desc(), table.c.id.desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


_HISTORY = _history_statement(bindparam("user_id"))
#: The security page reads the sign-ins with the person (`auth.current.read_with_person`).
HISTORY_BY_SESSION = _history_statement(PERSON_OF_SESSION)


def history_parameters(page: int, per_page: int = PER_PAGE) -> dict[str, int]:
    """`HISTORY_BY_SESSION`'s parameters for `page`: its rows and one more (is there a next?)."""
    page = min(max(page, 1), MAX_PAGE)
    return {"offset": (page - 1) * per_page, "limit": per_page + 1}


def history(
    engine: Engine,
    user_id: int,
    *,
    page: int,
    policy: IpPolicy,
    per_page: int = PER_PAGE,
    rows: list[tuple] | None = None,
) -> SignInPage:
    """The person's sign-ins on `page`, newest first, each with its reduction and deletion dates
    (one statement, or `rows`: `HISTORY_BY_SESSION`'s for the same page)."""
    page = min(max(page, 1), MAX_PAGE)
    if rows is None:
        params = {"user_id": user_id, **history_parameters(page, per_page)}
        rows = driver.fetch(engine, (_HISTORY, params))[0]
    listed = [
        SignInRow(
            id=id_,
            at=at,
            ip=ip,
            ip_reduced=ip_reduced,
            device=device_summary(user_agent),
            reduce_on=None if ip_reduced else policy.reduce_on(at),
            delete_on=policy.delete_on(at),
        )
        for id_, at, ip, ip_reduced, user_agent in rows[:per_page]
    ]
    return SignInPage(rows=listed, page=page, has_next=len(rows) > per_page)


def report_not_me(db: Session, user: User, sign_in_id: int | None) -> bool:
    """The person does not recognise a sign-in: end every session of the account, audited.

    Returns False, changing nothing, when the sign-in is not one of theirs.
    """
    if sign_in_id is None:
        return False
    owned = db.execute(
        select(SignIn.id).where(SignIn.id == sign_in_id, SignIn.user_id == user.id)
    ).first()
    if owned is None:
        return False
    audit.record(
        db, user_id=user.id, action="sign-in-not-recognised", field=f"sign-in {sign_in_id}"
    )
    end_all_sessions(db, user, reason="not-me")  # commits the audit with the sign-outs
    return True


def report_not_me_everywhere(db: Session, user: User) -> None:
    """The person does not recognise their account's activity: end every session, audited."""
    audit.record(db, user_id=user.id, action="sign-in-not-recognised", field="all sessions")  # type: ignore[arg-type]
    end_all_sessions(db, user, reason="not-me")
