"""The rules of closing an account: request, cancel, review, hold, approve, decline, erase."""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from .. import audit, driver
from ..auth.sessions import PERSON_OF_SESSION
from ..cases import own_case_refusal
from ..mail import queue_email
from ..models import ClosureRequest, RetentionHold, User, utcnow
from ..models.closure import OPEN_STATUSES
from ..timefmt import zone_of
from ..workdays import add_working_days
from . import erasure

CONFIRMATION_WORD = "CLOSE"
REASON_MAX = 1000
DECLINE_REASON_MAX = 2000
BASIS_MAX = 500
LONGEST_HOLD_YEARS = 25
log = logging.getLogger(__name__)
COMPLAINT_URL = "https://www.privacy.org.nz/your-rights/making-a-complaint/"

STATUS_LABELS = {
    "received": "Received",
    "under_review": "Under review",
    "approved": "Approved",
    "completed": "Completed",
    "declined": "Declined",
    "cancelled": "Cancelled",
}


@dataclass
class Result:
    """What an action did: ok, or the message for each field that was not accepted."""

    request: ClosureRequest | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- the person ------------------------------------------------------------------------


def latest_request(db: Session, user_id: int) -> ClosureRequest | None:
    """The person's most recent closure request, if any, in `db` (for a change to follow)."""
    query = select(ClosureRequest).where(ClosureRequest.user_id == user_id)
    return db.execute(query.order_by(ClosureRequest.id.desc()).limit(1)).scalars().first()


def _latest_statement(person: Any) -> Select:
    table = ClosureRequest.__table__  # type: ignore[attr-defined]
    return select(*table.c).where(table.c.user_id == person).order_by(table.c.id.desc()).limit(1)


_LATEST = _latest_statement(bindparam("user_id"))
#: The person's pages read their latest request with the person (`auth.current.read_with_person`).
LATEST_BY_SESSION = _latest_statement(PERSON_OF_SESSION)


def request_shown(
    engine: Engine, user_id: int, *, rows: list[tuple] | None = None
) -> ClosureRequest | None:
    """The person's most recent closure request, if any, to show (one statement, or `rows`:
    `LATEST_BY_SESSION`'s), as a detached object."""
    if rows is None:
        rows = driver.fetch(engine, (_LATEST, {"user_id": user_id}))[0]
    return next(iter(driver.entities(ClosureRequest, rows)), None)


def request_closure(
    db: Session,
    user: User,
    *,
    confirmation: str,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Result:
    """Receive a request to close `user`'s account; one open request at a time."""
    now = now or utcnow()
    reason = _clean(reason)
    errors = {}
    if (confirmation or "").strip().upper() != CONFIRMATION_WORD:
        errors["confirmation"] = f"Type {CONFIRMATION_WORD} to confirm you want to close it."
    if len(reason) > REASON_MAX:
        errors["reason"] = f"Please keep the reason under {REASON_MAX} characters."
    current = latest_request(db, user.id)
    if current is not None and current.status in OPEN_STATUSES:
        errors["confirmation"] = "You already have a closure request in progress."
    if errors:
        return Result(current, errors)
    request = ClosureRequest(
        user_id=user.id,
        reason=reason or None,
        received_at=now,
        due_on=add_working_days(now),
    )
    db.add(request)
    db.flush()
    audit.record(db, user_id=user.id, action="closure.requested", actor="self", actor_id=user.id)
    _email(db, user, "closure_received", request)
    db.commit()
    return Result(request)


def cancel(db: Session, user: User, *, now: dt.datetime | None = None) -> Result:
    """Cancel the person's open request; nothing else about the account changes."""
    now = now or utcnow()
    current = latest_request(db, user.id)
    if current is None or current.status not in OPEN_STATUSES:
        return Result(current, {"request": "There is no closure request to cancel."})
    request = locked(db, current.id)
    if request.status not in OPEN_STATUSES:
        return Result(request, {"request": "This request can no longer be cancelled."})
    request.status = "cancelled"
    request.cancelled_at = now
    request.erase_after = None
    db.add(request)
    audit.record(db, user_id=user.id, action="closure.cancelled", actor="self", actor_id=user.id)
    _email(db, user, "closure_cancelled", request)
    db.commit()
    return Result(request)


# --- staff -----------------------------------------------------------------------------


def start_review(db: Session, request_id: int, staff: User, *, ip: str | None = None) -> Result:
    """Mark a received request as under review."""
    request = locked(db, request_id)
    if request is None or request.status != "received":
        return Result(request, {"request": "Only a newly received request can go under review."})
    own = own_case_refusal(db, staff, request.user_id, case=f"closure:{request.id}", ip=ip)
    if own:
        return Result(request, {"request": own})
    request.status = "under_review"
    db.add(request)
    _audit_staff(db, request, staff, "closure.review_started", ip)
    db.commit()
    return Result(request)


def add_hold(
    db: Session,
    request_id: int,
    staff: User,
    *,
    what: str,
    legal_basis: str,
    until: str,
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> Result:
    """Keep the named data past erasure, for a stated legal basis, until a date."""
    now = now or utcnow()
    legal_basis = _clean(legal_basis)
    errors = {}
    if what not in dict(erasure.hold_keys()):
        errors["what"] = "Choose what the hold keeps."
    if not legal_basis:
        errors["legal_basis"] = "Say which law or obligation requires keeping it."
    elif len(legal_basis) > BASIS_MAX:
        errors["legal_basis"] = f"Please keep the basis under {BASIS_MAX} characters."
    end = _parse_date(until)
    if end is None:
        errors["until"] = "Give the date the hold ends, like 2031-03-31."
    elif end <= now.date():
        errors["until"] = "The hold must end after today."
    elif end > now.date() + dt.timedelta(days=366 * LONGEST_HOLD_YEARS):
        errors["until"] = f"A hold can last at most {LONGEST_HOLD_YEARS} years."
    request = locked(db, request_id)
    if request is None or request.status not in OPEN_STATUSES:
        errors["request"] = "Holds can be added only while a request is open."
    elif own := own_case_refusal(db, staff, request.user_id, case=f"closure:{request.id}", ip=ip):
        return Result(request, {"request": own})
    if errors:
        db.rollback()
        return Result(request, errors)
    db.add(
        RetentionHold(
            request_id=request.id,
            user_id=request.user_id,
            what=what,
            legal_basis=legal_basis,
            until=end,
            added_by=staff.id,
            added_at=now,
        )
    )
    if request.status == "received":
        request.status = "under_review"
        db.add(request)
    _audit_staff(db, request, staff, "closure.hold_added", ip, field=what)
    db.commit()
    return Result(request)


def approve(
    db: Session,
    request_id: int,
    staff: User,
    *,
    grace_days: int,
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> Result:
    """Approve: erase now (no grace period) or after `grace_days`, while the person may cancel."""
    now = now or utcnow()
    request = locked(db, request_id)
    refusal = _refusal(db, request, staff, ip)
    if refusal:
        db.rollback()
        return Result(request, {"request": refusal})
    request.status = "approved"
    request.decided_by = staff.id
    request.decided_at = now
    _audit_staff(db, request, staff, "closure.approved", ip)
    if grace_days <= 0:
        try:
            complete(db, request, now)
        except (erasure.ErasureError, IntegrityError) as exc:
            db.rollback()
            # The type only: a database error's text carries the row's values.
            log.error("erasure of closure request %s failed: %s", request_id, type(exc).__name__)
            return Result(request, {"request": "Erasure could not run, so nothing was changed."})
    else:
        request.erase_after = now + dt.timedelta(days=grace_days)
        db.add(request)
        _email(db, db.get(User, request.user_id), "closure_approved", request)
    db.commit()
    return Result(request)


def decline(
    db: Session,
    request_id: int,
    staff: User,
    *,
    reason: str,
    ip: str | None = None,
    now: dt.datetime | None = None,
) -> Result:
    """Decline with a reason the person is told, with how to complain to the Commissioner."""
    now = now or utcnow()
    reason = _clean(reason)
    errors = {}
    if not reason:
        errors["reason"] = "Give the reason; the person is told it."
    elif len(reason) > DECLINE_REASON_MAX:
        errors["reason"] = f"Please keep the reason under {DECLINE_REASON_MAX} characters."
    request = locked(db, request_id)
    refusal = _refusal(db, request, staff, ip)
    if refusal:
        errors = {"request": refusal}
    if errors:
        db.rollback()
        return Result(request, errors)
    request.status = "declined"
    request.decline_reason = reason
    request.decided_by = staff.id
    request.decided_at = now
    db.add(request)
    _audit_staff(db, request, staff, "closure.declined", ip)
    _email(db, db.get(User, request.user_id), "closure_declined", request)
    db.commit()
    return Result(request)


# --- erasure ---------------------------------------------------------------------------


def complete(db: Session, request: ClosureRequest, now: dt.datetime) -> None:
    """Erase the account of an approved request now, in `db`'s transaction."""
    user = db.execute(select(User).where(User.id == request.user_id).with_for_update()).scalar_one()
    holds = list(
        db.execute(select(RetentionHold).where(RetentionHold.request_id == request.id)).scalars()
    )
    erasure.erase_account(db, request, user, holds, now)


# --- helpers ---------------------------------------------------------------------------


def locked(db: Session, request_id: int) -> ClosureRequest | None:
    """The request, locked against concurrent decisions (FOR UPDATE on PostgreSQL)."""
    query = select(ClosureRequest).where(ClosureRequest.id == request_id).with_for_update()
    return db.execute(query.execution_options(populate_existing=True)).scalars().first()


def _refusal(
    db: Session, request: ClosureRequest | None, staff: User, ip: str | None
) -> str | None:
    if request is None or request.status not in ("received", "under_review"):
        return "Only a request that is received or under review can be decided."
    return own_case_refusal(db, staff, request.user_id, case=f"closure:{request.id}", ip=ip)


def _audit_staff(db, request, staff, action, ip, field: str = "") -> None:
    audit.record(
        db,
        user_id=request.user_id,
        action=action,
        actor="staff",
        actor_id=staff.id,
        field=field,
        ip=ip,
    )


def _email(db: Session, user: User, template: str, request: ClosureRequest) -> None:
    if user.email:
        queue_email(
            db,
            template=template,
            to=user.email,
            user_id=user.id,
            context={
                "request": request,
                "name": user.name,
                "status": STATUS_LABELS[request.status],
                "complaint_url": COMPLAINT_URL,
                "time_zone": zone_of(user),
            },
        )


def _clean(text: str | None) -> str:
    """Free text as stored: trimmed, without control characters (PostgreSQL refuses NUL)."""
    kept = (c for c in (text or "") if c in "\n\t" or unicodedata.category(c) != "Cc")
    return "".join(kept).strip()


def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None
