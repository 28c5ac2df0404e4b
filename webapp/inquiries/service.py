"""The rules of privacy requests: who may see and change what, due dates, and what people are told.

Every function takes a session and plain values, writes the audit and any email in the same
transaction, and raises `InquiryNotFound` for a request that does not exist or is not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from flask import current_app, url_for
from sqlmodel import Session, col, func, select

from .. import audit
from ..mail import queue_email
from ..models import (
    CorrectionStatement,
    Inquiry,
    InquiryMessage,
    User,
    personal_columns,
    user_linked_tables,
    utcnow,
)
from ..timefmt import zone_of
from ..workdays import add_working_days

KINDS = {
    "access": "See the information you hold about me",
    "correction": "Correct information about me",
    "disclosure": "Has my information been provided to anyone?",
    "other": "Another privacy question",
}
#: The same kinds as staff read them: about the person, not in their voice.
STAFF_KINDS = {
    "access": "Access to their information",
    "correction": "Correction of their information",
    "disclosure": "Whether their information was provided to anyone",
    "other": "Another privacy question",
}
STATUSES = {
    "open": "Received",
    "answered": "Answered",
    "extended": "More time needed",
    "refused": "Refused",
    "closed": "Closed",
}
COMPLAINT_URL = "https://www.privacy.org.nz/your-rights/making-a-complaint/"
COMPLAINT_ROUTE = (
    "If you are not satisfied with this decision, you can complain to the Privacy "
    f"Commissioner: {COMPLAINT_URL}"
)
#: Statuses in which Sentro still owes an answer.
PENDING = ("open", "extended")
#: Requests a person may have waiting for an answer at once. Each one starts a statutory
#: deadline for staff and sends an email, so a script must not be able to file hundreds; a
#: person with more to ask adds it to a waiting request's thread, or asks once one is answered.
MAX_WAITING = 5
WAITING_LIMIT = (
    f"You have {MAX_WAITING} requests waiting for our answer, the most we take at once. "
    "We will answer those first: you can add to any of them in its thread, and send a new "
    "one as soon as one is answered."
)
OTHER_FIELD = "other"


class InquiryNotFound(LookupError):
    """No such request, or not one this person may see."""


@dataclass
class Result:
    """What an action did: the request, or a message for each field that was wrong."""

    errors: dict[str, str] = field(default_factory=dict)
    inquiry: Inquiry | None = None

    @property
    def ok(self) -> bool:
        """True when the action was done (no field was wrong)."""
        return not self.errors


@cache
def correctable_fields() -> dict[str, str]:
    """The information a person can ask to correct: data-map columns marked correctable."""
    fields: dict[str, str] = {}
    for table in user_linked_tables():
        for name, declaration in personal_columns(table).items():
            if declaration.correctable:
                fields.setdefault(name, declaration.label)
    fields[OTHER_FIELD] = "Other information"
    return fields


def add_message(
    db: Session, inquiry: Inquiry, author: str, body: str, staff_id: int | None = None
) -> None:
    """Add a message to the request's thread (the person's file)."""
    db.add(
        InquiryMessage(
            inquiry_id=inquiry.id,
            user_id=inquiry.user_id,
            author=author,
            staff_id=staff_id,
            body=body,
        )
    )


def tell(db: Session, person: User, template: str, inquiry: Inquiry, **context) -> None:
    """Queue a transactional email about a request to the person it belongs to."""
    link = current_app.config["BASE_URL"] + url_for("inquiries.thread", inquiry_id=inquiry.id)
    queue_email(
        db,
        template=template,
        to=person.email,
        user_id=person.id,
        context={
            "inquiry": inquiry,
            "kind": KINDS[inquiry.kind],
            "link": link,
            "time_zone": zone_of(person),
            **context,
        },
    )


# --- the person ------------------------------------------------------------------------


def open_inquiry(
    db: Session,
    person: User,
    *,
    kind: str,
    subject: str,
    message: str,
    ip: str | None = None,
    now: datetime | None = None,
) -> Result:
    """Put a new question or request in the person's file, due in 20 working days."""
    if kind not in KINDS:
        return Result({"kind": "Choose what kind of request this is."})
    # The person's row, locked: two requests sent at once are counted one after the other.
    db.execute(select(User.id).where(User.id == person.id).with_for_update())
    if waiting(db, person.id) >= MAX_WAITING:
        db.rollback()
        return Result({"limit": WAITING_LIMIT})
    now = now or utcnow()
    inquiry = Inquiry(
        user_id=person.id,
        kind=kind,
        subject=subject,
        received_at=now,
        due_on=add_working_days(now),
        updated_at=now,
    )
    db.add(inquiry)
    db.flush()
    add_message(db, inquiry, "person", message)
    audit.record(
        db, user_id=person.id, action="inquiry.opened", field=f"inquiry:{inquiry.id}", ip=ip
    )
    tell(db, person, "inquiry_received", inquiry)
    db.commit()
    return Result(inquiry=inquiry)


def waiting(db: Session, user_id: int) -> int:
    """How many of the person's requests wait for an answer (open or extended)."""
    query = select(func.count()).where(Inquiry.user_id == user_id, col(Inquiry.status).in_(PENDING))
    return db.exec(query).one()


def at_limit(inquiries: list[Inquiry]) -> bool:
    """Whether these (all of one person's requests) leave no room for a new one."""
    return sum(1 for i in inquiries if i.status in PENDING) >= MAX_WAITING


def _own(db: Session, user_id: int, inquiry_id: int) -> Inquiry:
    inquiry = db.get(Inquiry, inquiry_id)
    if inquiry is None or inquiry.user_id != user_id:
        raise InquiryNotFound(inquiry_id)
    return inquiry


def reply_as_person(
    db: Session, person: User, inquiry_id: int, body: str, *, ip: str | None = None
) -> Result:
    """Add the person's message to their request; an answered request opens again."""
    inquiry = _own(db, person.id, inquiry_id)
    if inquiry.status == "closed":
        return Result({"body": "This request is closed. Start a new one and we will answer it."})
    add_message(db, inquiry, "person", body)
    if inquiry.status == "answered":
        inquiry.status = "open"
    inquiry.updated_at = utcnow()
    db.add(inquiry)
    audit.record(
        db, user_id=person.id, action="inquiry.replied", field=f"inquiry:{inquiry.id}", ip=ip
    )
    db.commit()
    return Result(inquiry=inquiry)


def attach_statement(
    db: Session,
    person: User,
    inquiry_id: int,
    *,
    field_name: str,
    statement: str,
    ip: str | None = None,
) -> Result:
    """Attach the correction the person sought to a field, once we refused to correct it."""
    inquiry = _own(db, person.id, inquiry_id)
    if not can_attach_statement(inquiry):
        return Result({"statement": "A statement can be attached when we decline a correction."})
    if field_name not in correctable_fields():
        return Result({"field": "Choose the information the correction is about."})
    db.add(
        CorrectionStatement(
            user_id=person.id, field=field_name, statement=statement, inquiry_id=inquiry.id
        )
    )
    audit.record(
        db, user_id=person.id, action="correction.statement-attached", field=field_name, ip=ip
    )
    db.commit()
    return Result(inquiry=inquiry)


def can_attach_statement(inquiry: Inquiry) -> bool:
    """Whether the person may attach a statement of correction to this request."""
    return inquiry.kind == "correction" and bool(inquiry.refusal_reason)
