"""Sign-in history: what a person sees of their sign-ins, and how long their IP addresses live.

An IP address is kept in full for SIGNIN_IP_FULL_DAYS, then reduced to its network (IPv4 /24,
IPv6 /48), and the sign-in is deleted after SIGNIN_RETENTION_DAYS; `privacy purge` does both.
The address is sealed at rest (`webapp.crypto.Sealed`) before and after the reduction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, select
from sqlmodel import Session

from .. import audit
from ..auth.service import end_all_sessions
from ..devices import device_summary, reduce_addresses, reduce_ip  # noqa: F401 (re-exported)
from ..models import SignIn, User
from ..retention import purge_step

PER_PAGE = 20
#: Pages beyond this are refused as nonsense rather than asked of the database.
MAX_PAGE = 10_000


@dataclass(frozen=True)
class IpPolicy:
    """How long a sign-in keeps its full IP address, and how long the sign-in is kept."""

    full_days: int = 30
    retention_days: int = 365

    def __post_init__(self) -> None:
        if not 0 < self.full_days <= self.retention_days:
            raise ValueError(
                "SIGNIN_IP_FULL_DAYS must be positive and within SIGNIN_RETENTION_DAYS"
            )

    @classmethod
    def from_config(cls, config: Any) -> IpPolicy:
        """The policy the site is configured with."""
        return cls(config["SIGNIN_IP_FULL_DAYS"], config["SIGNIN_RETENTION_DAYS"])

    def reduce_on(self, signed_in_at: datetime) -> datetime:
        """When the full address of a sign-in at `signed_in_at` is reduced to its network."""
        return signed_in_at + timedelta(days=self.full_days)

    def delete_on(self, signed_in_at: datetime) -> datetime:
        """When a sign-in at `signed_in_at` is deleted."""
        return signed_in_at + timedelta(days=self.retention_days)


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
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        return 1
    return min(max(int(raw), 1), MAX_PAGE)


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


def purge_sign_ins(db: Session, now: datetime, policy: IpPolicy) -> str:
    """Delete sign-ins past retention and reduce full IPs past the full period (not committed)."""
    table = SignIn.__table__  # type: ignore[attr-defined]
    deleted = db.execute(
        delete(table).where(table.c.at <= now - timedelta(days=policy.retention_days))
    ).rowcount
    reduced = reduce_addresses(db, table, table.c.at, now - timedelta(days=policy.full_days))
    return f"{deleted} sign-ins deleted, {reduced} IP addresses reduced to their network"


@purge_step("sign-in IP addresses")
def _purge(db: Session, now: datetime) -> str:
    return purge_sign_ins(db, now, IpPolicy.from_config(current_app.config))
