"""The staff side of privacy requests: the queue, answers, extensions, refusals, closing.

Each action is audited on the person's record and, where the person must be told, queues the
email in the same transaction.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from .. import audit
from ..cases import CLOSED_ACCOUNT, account_closed, own_case_refusal
from ..models import Inquiry, User, utcnow
from ..templating import date as readable
from .service import (
    COMPLAINT_ROUTE,
    COMPLAINT_URL,
    PENDING,
    InquiryNotFound,
    Result,
    add_message,
    can_attach_statement,
    tell,
)


def _staff_act(
    db: Session, staff: User, inquiry_id: int, *, ip: str | None, closing: bool = False
) -> tuple[Inquiry, User, str | None]:
    """The request and its person, and why staff may not act on it (None: they may).

    Nobody acts on a request about themselves; a closed account's requests can only be closed.
    """
    inquiry = db.get(Inquiry, inquiry_id)
    if inquiry is None:
        raise InquiryNotFound(inquiry_id)
    person = db.get(User, inquiry.user_id)
    assert person is not None
    refusal = own_case_refusal(db, staff, person.id, case=f"inquiry:{inquiry.id}", ip=ip)
    if refusal is None and account_closed(person) and not closing:
        refusal = CLOSED_ACCOUNT
    return inquiry, person, refusal


def _audit_staff(db: Session, staff: User, inquiry: Inquiry, action: str, ip, new=None) -> None:
    audit.record(
        db,
        user_id=inquiry.user_id,
        action=action,
        actor="staff",
        actor_id=staff.id,
        field=f"inquiry:{inquiry.id}",
        new=new,
        ip=ip,
    )


def answer(
    db: Session, staff: User, inquiry_id: int, body: str, *, ip: str | None = None
) -> Result:
    """Send staff's answer into the thread and tell the person it is there."""
    inquiry, person, refusal = _staff_act(db, staff, inquiry_id, ip=ip)
    if refusal:
        return Result({"body": refusal})
    if inquiry.status == "closed":
        return Result({"body": "This request is closed."})
    add_message(db, inquiry, "staff", body, staff_id=staff.id)
    if inquiry.status != "refused":
        inquiry.status = "answered"
    inquiry.updated_at = utcnow()
    db.add(inquiry)
    _audit_staff(db, staff, inquiry, "inquiry.answered", ip)
    tell(db, person, "inquiry_answered", inquiry)
    db.commit()
    return Result(inquiry=inquiry)


def extend(
    db: Session,
    staff: User,
    inquiry_id: int,
    *,
    new_due: date,
    reason: str,
    ip: str | None = None,
    on: date | None = None,
) -> Result:
    """Extend the time to answer, with the reason; the person is told both, in the thread too."""
    inquiry, person, refusal = _staff_act(db, staff, inquiry_id, ip=ip)
    if refusal:
        return Result({"new_due": refusal})
    on = on or utcnow().date()
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["extension_reason"] = "Give the reason: the person is told it."
    if inquiry.status not in PENDING:
        errors["new_due"] = "Only a request still waiting for an answer can be extended."
    elif on > inquiry.due:
        errors["new_due"] = (
            f"The due date ({readable(inquiry.due)}) has passed: an extension must be made "
            "within the time limit. Answer the request now."
        )
    elif new_due <= inquiry.due:
        errors["new_due"] = f"Choose a date after the current due date ({readable(inquiry.due)})."
    elif (new_due - inquiry.received_at.date()).days > 365:
        errors["new_due"] = "Choose a date within a year of when the request was received."
    if errors:
        return Result(errors)
    inquiry.extended_to, inquiry.extension_reason = new_due, reason
    inquiry.status, inquiry.updated_at = "extended", utcnow()
    db.add(inquiry)
    add_message(
        db,
        inquiry,
        "staff",
        f"We need more time to answer. We will answer by {readable(new_due)}.\n\nWhy: {reason}",
        staff_id=staff.id,
    )
    _audit_staff(db, staff, inquiry, "inquiry.extended", ip, new=new_due.isoformat())
    tell(db, person, "inquiry_extended", inquiry, new_due=new_due, reason=reason)
    db.commit()
    return Result(inquiry=inquiry)


def refuse(
    db: Session, staff: User, inquiry_id: int, *, reason: str, ip: str | None = None
) -> Result:
    """Refuse the request with a reason; the person is told it and how to complain."""
    inquiry, person, refusal = _staff_act(db, staff, inquiry_id, ip=ip)
    if refusal:
        return Result({"refusal_reason": refusal})
    if not reason.strip():
        return Result({"refusal_reason": "Give the reason for the refusal: the person is told it."})
    if inquiry.status in ("refused", "closed"):
        return Result({"refusal_reason": f"This request is already {inquiry.status}."})
    inquiry.status, inquiry.refusal_reason, inquiry.updated_at = "refused", reason, utcnow()
    db.add(inquiry)
    add_message(
        db,
        inquiry,
        "staff",
        f"We have decided not to do what you asked.\n\nWhy: {reason}\n\n{COMPLAINT_ROUTE}",
        staff_id=staff.id,
    )
    _audit_staff(db, staff, inquiry, "inquiry.refused", ip)
    tell(
        db,
        person,
        "inquiry_refused",
        inquiry,
        reason=reason,
        complaint_url=COMPLAINT_URL,
        can_attach=can_attach_statement(inquiry),
    )
    db.commit()
    return Result(inquiry=inquiry)


def close(db: Session, staff: User, inquiry_id: int, *, ip: str | None = None) -> Result:
    """Close a request: nothing more is owed on it."""
    inquiry, _person, refusal = _staff_act(db, staff, inquiry_id, ip=ip, closing=True)
    if refusal:
        return Result({"close": refusal})
    if inquiry.status == "closed":
        return Result({"close": "This request is already closed."})
    inquiry.status, inquiry.updated_at = "closed", utcnow()
    db.add(inquiry)
    _audit_staff(db, staff, inquiry, "inquiry.closed", ip)
    db.commit()
    return Result(inquiry=inquiry)
