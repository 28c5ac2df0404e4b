"""Changing the contact email: confirmed from the new address, undone from the old one.

The address changes only when the link sent to the new address is followed (once, within 24
hours). The old address is told at once, with a "this wasn't me" link that cancels the change
or, once confirmed, puts the old address back and signs out every session.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .. import audit, driver, tokens
from ..mail import queue_email
from ..models import PendingEmailChange, User, utcnow
from ..retention import purge_step
from . import forms
from .forms import Invalid
from .service import Outcome, pending_change, write_profile

CONFIRM_WITHIN = timedelta(seconds=tokens.EMAIL_CHANGE.max_age_seconds or 0)
UNDO_WITHIN = timedelta(seconds=tokens.EMAIL_CHANGE_UNDO.max_age_seconds or 0)


def mask_email(address: str) -> str:
    """An address with most of it hidden, safe to show the previous owner: `j•••@e•••.com`."""
    local, _, domain = address.partition("@")
    host, dot, tld = domain.rpartition(".")
    if not host:
        host, dot, tld = tld, "", ""
    return f"{local[:1]}•••@{host[:1]}•••{dot}{tld}"


def _link(endpoint: str, **values: str) -> str:
    return current_app.config["BASE_URL"] + url_for(endpoint, **values)


def request_email_change(
    db: Session, user: User, typed: str, *, ip: str | None = None, now: datetime | None = None
) -> Outcome:
    """Ask the new address to confirm, tell the old one; the address itself stays as it is."""
    now = now or utcnow()
    try:
        new_email = forms.clean_email(typed)
    except Invalid as exc:
        return Outcome(False, {"email": str(exc)}, {"email": typed})
    if new_email.casefold() == (user.email or "").casefold():
        return Outcome(False, {"email": "That is already your contact email."}, {"email": typed})
    db.execute(
        update(PendingEmailChange)
        .where(PendingEmailChange.user_id == user.id, PendingEmailChange.status == "pending")  # type: ignore[arg-type]
        .values(status="superseded")
    )
    change = PendingEmailChange(
        user_id=user.id,  # type: ignore[arg-type]
        old_email=user.email,
        new_email=new_email,
        nonce=secrets.token_hex(16),
        created_at=now,
        expires_at=now + CONFIRM_WITHIN,
    )
    db.add(change)
    db.flush()
    payload = {"c": change.id, "n": change.nonce}
    greeting = user.preferred_name or user.name
    queue_email(
        db,
        template="email_change_confirm",
        to=new_email,
        user_id=user.id,
        context={
            "name": greeting,
            "confirm_url": _link(
                "profile.confirm_email", token=tokens.make(tokens.EMAIL_CHANGE, payload)
            ),
            "hours": int(CONFIRM_WITHIN.total_seconds() // 3600),
        },
    )
    if user.email:
        queue_email(
            db,
            template="email_change_notice",
            to=user.email,
            user_id=user.id,
            context={
                "name": greeting,
                "masked_new": mask_email(new_email),
                "undo_url": _link(
                    "profile.undo_email", token=tokens.make(tokens.EMAIL_CHANGE_UNDO, payload)
                ),
                "days": UNDO_WITHIN.days,
            },
        )
    audit.record(
        db,
        user_id=user.id,  # type: ignore[arg-type]
        action="email-change-requested",
        field="email",
        old=user.email,
        new=new_email,
        actor_id=user.id,
        ip=ip,
    )
    db.commit()
    return Outcome(
        True,
        values={"email": new_email},
        # No address in the notice: it may travel in the session cookie as a flash message.
        message="We've sent a link to the new address. Your contact email changes when you follow it.",
    )


def cancel_email_change(db: Session, user: User, *, ip: str | None = None) -> bool:
    """Withdraw the person's pending email change; False when there was none."""
    change = pending_change(db, user)
    if change is None:
        return False
    change.status = "cancelled"
    db.add(change)
    audit.record(
        db,
        user_id=user.id,  # type: ignore[arg-type]
        action="email-change-cancelled",
        field="email",
        new=change.new_email,
        actor_id=user.id,
        ip=ip,
    )
    db.commit()
    return True


class LinkProblem(Exception):
    """An email link that can't be used; `reason` is `invalid`, `expired` or `used`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _link_payload(purpose: tokens.Purpose, token: str) -> tuple[int, str]:
    """(change id, nonce) of a genuine, unexpired link; raises LinkProblem otherwise."""
    try:
        payload = tokens.read(purpose, token)
    except tokens.ExpiredToken:
        raise LinkProblem("expired") from None
    except tokens.BadToken:
        raise LinkProblem("invalid") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("c"), int):
        raise LinkProblem("invalid")
    return payload["c"], str(payload.get("n", ""))


def _named(change: PendingEmailChange | None, nonce: str) -> PendingEmailChange:
    """The change, if the link's nonce is its own; raises LinkProblem otherwise."""
    if change is None or not secrets.compare_digest(nonce, change.nonce):
        raise LinkProblem("used" if change is None else "invalid")
    return change


def change_for_link(db: Session, purpose: tokens.Purpose, token: str) -> PendingEmailChange:
    """The email change a confirm or undo link names; raises LinkProblem otherwise."""
    change_id, nonce = _link_payload(purpose, token)
    return _named(db.get(PendingEmailChange, change_id), nonce)


_CHANGE = PendingEmailChange.__table__  # type: ignore[attr-defined]
#: The change a link names, for the page that only shows it: `link_parameters` gives its
#: parameter, so it can be read with the signed-in person (`auth.current.read_with_person`).
CHANGE_OF_LINK = select(*_CHANGE.c).where(
    _CHANGE.c.id == bindparam("change_id", type_=_CHANGE.c.id.type)
)


def link_parameters(purpose: tokens.Purpose, token: str) -> dict[str, int] | None:
    """`CHANGE_OF_LINK`'s parameters for a genuine, unexpired link; None for any other."""
    try:
        change_id, _nonce = _link_payload(purpose, token)
    except LinkProblem:
        return None
    return {"change_id": change_id}


def change_for_page(
    engine: Engine, purpose: tokens.Purpose, token: str, *, rows: list[tuple] | None = None
) -> PendingEmailChange:
    """`change_for_link` for a page that only shows the change: a detached copy, read in one
    statement, or from `rows` (`CHANGE_OF_LINK`'s, read with the signed-in person already)."""
    change_id, nonce = _link_payload(purpose, token)
    if rows is None:
        rows = driver.fetch(engine, (CHANGE_OF_LINK, {"change_id": change_id}))[0]
    found = driver.entities(PendingEmailChange, rows)
    return _named(found[0] if found else None, nonce)


def confirm_email_change(
    db: Session, token: str, *, ip: str | None = None, now: datetime | None = None
) -> PendingEmailChange:
    """Follow the new address's link: the contact email changes, once. Raises LinkProblem."""
    now = now or utcnow()
    change = change_for_link(db, tokens.EMAIL_CHANGE, token)
    if change.status != "pending":
        raise LinkProblem("used")
    if change.expires_at <= now:
        raise LinkProblem("expired")
    user = db.get(User, change.user_id)
    if user is None or not user.is_active:
        raise LinkProblem("used")
    if not _move(db, change, "pending", status="confirmed", confirmed_at=now):
        raise LinkProblem("used")
    _set_email(db, user, change.new_email)
    audit.record(
        db,
        user_id=user.id,  # type: ignore[arg-type]
        action="email-changed",
        field="email",
        old=change.old_email,
        new=change.new_email,
        actor_id=user.id,
        ip=ip,
    )
    db.commit()
    return change


def _move(db: Session, change: PendingEmailChange, from_status: str, **values: object) -> bool:
    """Update the change only if it is still in `from_status`: a link works once, however fast
    it is clicked twice."""
    result = db.execute(
        update(PendingEmailChange)
        .where(PendingEmailChange.id == change.id, PendingEmailChange.status == from_status)  # type: ignore[arg-type]
        .values(**values)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _set_email(db: Session, user: User, address: str) -> None:
    if not write_profile(db, user, {"email": address}):
        db.refresh(user)  # a save in between: the email is not in any form, so apply anyway
        write_profile(db, user, {"email": address})


def undo_email_change(
    db: Session, token: str, *, ip: str | None = None, now: datetime | None = None
) -> str:
    """The old address says "this wasn't me": cancel, or restore it and sign out everywhere.

    Returns `cancelled` or `restored`; raises LinkProblem when there is nothing to undo.
    """
    change = change_for_link(db, tokens.EMAIL_CHANGE_UNDO, token)
    user = db.get(User, change.user_id)
    if user is None or not user.is_active:
        raise LinkProblem("used")
    if change.status == "pending" and _move(db, change, "pending", status="cancelled"):
        action, outcome = "email-change-refused", "cancelled"
    elif change.status == "confirmed" and _move(db, change, "confirmed", status="reverted"):
        _set_email(db, user, change.old_email)
        db.refresh(user)
        user.session_generation += 1  # whoever changed it is signed out
        db.add(user)
        action, outcome = "email-change-reverted", "restored"
    else:
        raise LinkProblem("used")
    audit.record(
        db,
        user_id=user.id,  # type: ignore[arg-type]
        action=action,
        field="email",
        old=change.new_email,
        new=change.old_email,
        actor_id=user.id,
        ip=ip,
    )
    db.commit()
    return outcome


@purge_step("email changes")
def purge_email_changes(db: Session, now: datetime) -> str:
    """Delete email changes older than the undo link's lifetime."""
    result = db.execute(
        delete(PendingEmailChange).where(PendingEmailChange.created_at < now - UNDO_WITHIN)  # type: ignore[arg-type]
    )
    return f"deleted {result.rowcount}"  # type: ignore[attr-defined]
