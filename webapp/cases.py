"""Rules every staff action on a person's case obeys, whichever capability the case is in.

A case is a closure request, a privacy request or a disclosure: anything staff decide about
one person. Staff never act on a case about themselves (whatever the route), and each such
attempt is audited on their own record; a closed account's cases stay as they were.
"""

from __future__ import annotations

from sqlmodel import Session

from . import audit
from .models import User

OWN_CASE = "This case is about you: another member of staff must handle it. Nothing was changed."
CLOSED_ACCOUNT = (
    "This account is closed, so its cases stay as they are: the request can only be closed."
)
CLOSED_ACCOUNT_RECORD = "This account is closed, so nothing new is added to it."


def own_case_refusal(
    db: Session, staff: User, person_id: int | None, *, case: str, ip: str | None = None
) -> str | None:
    """None when `staff` may act on a case about `person_id`; else the refusal, audited.

    The refused change is rolled back and the refusal alone is committed, so a later error
    in the caller cannot lose the record of the attempt.
    """
    if person_id is None or person_id != staff.id:
        return None
    db.rollback()
    audit.record(
        db,
        user_id=staff.id,  # type: ignore[arg-type]
        action="staff.own-case-refused",
        actor="staff",
        actor_id=staff.id,
        field=case,
        ip=ip,
    )
    db.commit()
    return OWN_CASE


def account_closed(person: User | None) -> bool:
    """Whether the person's account is closed (or erased): their cases are read-only."""
    return person is None or not person.is_active
