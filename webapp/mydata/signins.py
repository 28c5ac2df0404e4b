"""Sign-in history: what a person sees of their sign-ins, and how long their IP addresses live.

An IP address is kept in full for SIGNIN_IP_FULL_DAYS, then reduced to its network (IPv4 /24,
IPv6 /48), and the sign-in is deleted after SIGNIN_RETENTION_DAYS: the site's one rule for
addresses, declared on the column and applied by `privacy purge` (`webapp.addresses`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from .. import audit
from ..addresses import IpPolicy
from ..auth.service import end_all_sessions
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


def history(
    db: Session, user_id: int, *, page: int, policy: IpPolicy, per_page: int = PER_PAGE
) -> SignInPage:
    """The person's sign-ins on `page`, newest first, each with its reduction and deletion dates."""
    page = min(max(page, 1), MAX_PAGE)
    found = db.exec(
        select(SignIn)
        .where(SignIn.user_id == user_id)
        .order_by(SignIn.at.desc(), SignIn.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    rows = [
        SignInRow(
            id=s.id,
            at=s.at,
            ip=s.ip,
            ip_reduced=s.ip_reduced,
            device=device_summary(s.user_agent),
            reduce_on=None if s.ip_reduced else policy.reduce_on(s.at),
            delete_on=policy.delete_on(s.at),
        )
        for (s,) in found[:per_page]
    ]
    return SignInPage(rows=rows, page=page, has_next=len(found) > per_page)


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
