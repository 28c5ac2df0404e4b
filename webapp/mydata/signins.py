"""Sign-in history: what a person sees of their sign-ins, and how long their IP addresses live.

An IP address is kept in full for SIGNIN_IP_FULL_DAYS, then reduced to its network (IPv4 /24,
IPv6 /48), and the sign-in is deleted after SIGNIN_RETENTION_DAYS; `privacy purge` does both.
The address is sealed at rest (`webapp.crypto.Sealed`) before and after the reduction.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, delete, select, update
from sqlmodel import Session

from .. import audit
from ..auth.service import end_all_sessions
from ..models import SignIn, User
from ..retention import purge_step
from ..validators import whole_number

PER_PAGE = 20
#: Pages beyond this are refused as nonsense rather than asked of the database.
MAX_PAGE = 10_000
#: Rows reduced per statement by the purge.
PURGE_BATCH = 1000


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


def reduce_ip(ip: str | None) -> str | None:
    """The network an address belongs to: IPv4 /24, IPv6 /48; None when it is no address."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network((address, prefix), strict=False))


@lru_cache(maxsize=2048)
def device_summary(user_agent: str) -> str:
    """A readable summary of a browser's user agent: "Firefox 120 on Windows 10"."""
    from ua_parser import parse

    if not user_agent.strip():
        return "Unknown device"
    result = parse(user_agent)
    parts = []
    if result.user_agent and result.user_agent.family != "Other":
        parts.append(_named(result.user_agent.family, result.user_agent.major))
    if result.os and result.os.family != "Other":
        parts.append(("on " if parts else "") + _named(result.os.family, result.os.major))
    if result.device and result.device.family not in {"Other", "Generic Smartphone"}:
        parts.append(f"({result.device.family})")
    return " ".join(parts) or "Unknown device"


def _named(family: str, major: str | None) -> str:
    return f"{family} {major}" if major else family


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
    end_all_sessions(db, user)  # commits the audit with the new session generation
    return True


def purge_sign_ins(db: Session, now: datetime, policy: IpPolicy) -> str:
    """Delete sign-ins past retention and reduce full IPs past the full period (not committed)."""
    table = SignIn.__table__  # type: ignore[attr-defined]
    deleted = db.execute(
        delete(table).where(table.c.at <= now - timedelta(days=policy.retention_days))
    ).rowcount
    reduce_before = now - timedelta(days=policy.full_days)
    write = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(ip=bindparam("network", type_=table.c.ip.type), ip_reduced=True)
    )
    reduced, last_id = 0, 0
    while True:
        batch = db.execute(
            select(table.c.id, table.c.ip)
            .where(table.c.ip_reduced.is_(False), table.c.at <= reduce_before, table.c.id > last_id)
            .order_by(table.c.id)
            .limit(PURGE_BATCH)
        ).all()
        if not batch:
            break
        db.execute(write, [{"row_id": row.id, "network": reduce_ip(row.ip)} for row in batch])
        reduced += len(batch)
        last_id = batch[-1].id
    return f"{deleted} sign-ins deleted, {reduced} IP addresses reduced to their network"


@purge_step("sign-in IP addresses")
def _purge(db: Session, now: datetime) -> str:
    return purge_sign_ins(db, now, IpPolicy.from_config(current_app.config))
