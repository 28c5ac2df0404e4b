"""The profile's rules: correcting fields without overwriting a newer save.

Each function takes a Session and plain values, writes the change, its audit rows and its
emails in one transaction, and answers with a small result. Nothing here reads the request.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from flask import current_app
from sqlalchemy import Integer, String, bindparam, cast, literal, null, union_all, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from .. import audit
from ..auth.sessions import PERSON_OF_SESSION
from ..driver import Plain, fetch, plain_connection
from ..models import PaymentCard, PendingEmailChange, User, utcnow
from . import forms
from .forms import GROUPS, Invalid

CONFLICT = (
    "This was changed somewhere else (perhaps in another tab) after you opened it. "
    "It now reads: {current}. Save again to replace it with what you entered, or cancel."
)


@dataclass
class Outcome:
    """What a change did: `ok`, or the messages by field (`""` for the group as a whole)."""

    ok: bool
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)  #: what was stored, or what was typed
    conflict: bool = False
    message: str = ""


@dataclass(frozen=True)
class SavedCard:
    """A saved card as the page shows it: brand, last four digits, expiry."""

    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True)
class WaitingEmail:
    """An email change waiting for the new address to confirm it."""

    new_email: str
    expires_at: datetime


@dataclass(frozen=True)
class ProfileFacts:
    """What the profile page shows beyond the `User` row."""

    cards: list[SavedCard]
    pending: WaitingEmail | None


@cache
def facts_statement(cards: bool, pending: bool, *, by_session: bool = False):
    """The columns the page shows, for the parameters `user_id` and `now`: one statement.

    `by_session`: for the person of the session `token_hash` instead, to be read with the
    person (`auth.current.read_with_person`). Built once per combination: the statement is
    the same for every person, only its parameters differ. Rows are (kind, id, text, last4,
    month, year, at).
    """
    card = PaymentCard.__table__.c  # type: ignore[attr-defined]
    email = PendingEmailChange.__table__.c  # type: ignore[attr-defined]
    user_id = PERSON_OF_SESSION if by_session else bindparam("user_id", type_=card.user_id.type)
    parts = []
    if pending:
        latest = (
            select(
                literal("email", String(8)).label("kind"),
                email.id.label("id"),
                email.new_email.label("text"),
                cast(null(), String(4)).label("last4"),
                cast(null(), Integer).label("month"),
                cast(null(), Integer).label("year"),
                email.expires_at.label("at"),
            )
            .where(
                email.user_id == user_id,
                email.status == "pending",
                email.expires_at > bindparam("now", type_=email.expires_at.type),
            )
            .order_by(email.id.desc())
            .limit(1)
        )
        parts.append(latest.subquery().select())
    if cards:
        parts.append(
            select(
                literal("card", String(8)),
                card.id,
                card.brand,
                card.last4,
                card.exp_month,
                card.exp_year,
                cast(null(), email.expires_at.type),
            ).where(card.user_id == user_id)
        )
    both = union_all(*parts) if len(parts) > 1 else parts[0]
    return both.order_by(both.selected_columns[1])


def profile_facts(
    engine: Engine,
    user: User,
    *,
    cards: bool = True,
    pending: bool = True,
    rows: list[tuple] | None = None,
) -> ProfileFacts:
    """The person's saved cards and pending email change, read only when asked for.

    `rows`: `facts_statement(True, True, by_session=True)`'s, read with the person already.
    """
    if rows is None and not (cards or pending):
        return ProfileFacts([], None)
    if rows is None:
        params = {"user_id": user.id, "now": utcnow()} if pending else {"user_id": user.id}
        rows = fetch(engine, (facts_statement(cards, pending), params))[0]
    found_cards, found_email = [], None
    for kind, _id, text, last4, month, year, at in rows:
        if kind == "card":
            found_cards.append(SavedCard(text, last4, month, year))
        else:
            found_email = WaitingEmail(text, at)
    return ProfileFacts(found_cards, found_email)


def pending_change(
    db: Session, user: User, *, now: datetime | None = None
) -> PendingEmailChange | None:
    """The person's unexpired email change awaiting confirmation, if any."""
    return db.exec(
        select(PendingEmailChange)
        .where(
            PendingEmailChange.user_id == user.id,
            PendingEmailChange.status == "pending",
            PendingEmailChange.expires_at > (now or utcnow()),
        )
        .order_by(PendingEmailChange.id.desc())  # type: ignore[union-attr]
        .limit(1)
    ).first()


def group_values(user: User, group: str) -> dict[str, str]:
    """The stored values of a group's fields."""
    return {name: getattr(user, name) or "" for name in GROUPS[group].field_names}


def fingerprint(user: User, group: str) -> str:
    """A short digest of a group's stored values: the form carries it to detect a newer save."""
    return _digest(group_values(user, group))


def _digest(values: dict[str, str]) -> str:
    data = json.dumps(values, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def clean_group(group: str, values: dict[str, str], *, phone_region: str) -> Outcome:
    """Check a group's typed values; the Outcome holds the values to store or the messages."""
    spec = GROUPS[group]
    if group == "address":
        cleaned, errors = forms.clean_address(values)
        return Outcome(not errors, errors, cleaned if not errors else values)
    cleaned, errors = {}, {}
    for field_spec in spec.fields:
        raw = values.get(field_spec.name, "")
        try:
            if field_spec.name == "phone":
                cleaned[field_spec.name] = forms.clean_phone(raw, phone_region)
            elif field_spec.name == "email":
                cleaned[field_spec.name] = forms.clean_email(raw)
            elif field_spec.name == "time_zone":
                cleaned[field_spec.name] = forms.clean_time_zone(raw)
            else:
                cleaned[field_spec.name] = forms.clean_text(raw, field_spec)
        except Invalid as exc:
            errors[field_spec.name] = str(exc)
    return Outcome(not errors, errors, cleaned if not errors else values)


@cache
def _update_statement(columns: tuple[str, ...]):
    """UPDATE of these `user` columns and the version, only while the version is the one read.

    Built once per set of columns (a group has a handful): only the parameters differ per save.
    A Core statement, so no ORM bulk-update pass looks for the row in the session to sync it.
    """
    c = User.__table__.c  # type: ignore[attr-defined]
    return (
        update(User.__table__)  # type: ignore[arg-type]
        .where(
            c.id == bindparam("user_id", type_=c.id.type),
            c.profile_version == bindparam("read_version", type_=c.profile_version.type),
        )
        .values(
            {
                **{name: bindparam(f"new_{name}", type_=c[name].type) for name in columns},
                "profile_version": bindparam("new_version", type_=c.profile_version.type),
            }
        )
        .returning(c.id)  # a row back: the version was the one read
    )


def write_profile(
    db: Session | Plain,
    user: User,
    changes: dict[str, object],
    audit_rows: list[dict[str, object]] | None = None,
) -> bool:
    """Apply `changes` only if nobody saved since `user` was read; bumps the version.

    `db`: the request's session, or a driver-level connection (`driver.Plain`). `audit_rows`
    (`audit.entry`'s) are written only if the change is: on PostgreSQL in the same statement,
    so a `Plain` in autocommit saves a group in one round trip.
    """
    version = user.profile_version + 1
    parameters = {
        "user_id": user.id,
        "read_version": user.profile_version,
        "new_version": version,
        **{f"new_{name}": value for name, value in changes.items()},
    }
    change = _update_statement(tuple(changes))
    dialect = db.dialect if isinstance(db, Plain) else db.get_bind().dialect
    if audit_rows and dialect.name == "postgresql":
        statement = audit.with_change(change, len(audit_rows))
        written = db.execute(statement, {**parameters, **audit.numbered(audit_rows)}).scalar()
    else:
        written = db.execute(change, parameters).first() is not None
        if written and audit_rows:
            audit.record_all(db, audit_rows)
    if not written:
        return False
    # The row now holds these values: so does `user`, without marking it changed.
    for name, value in changes.items():
        set_committed_value(user, name, value)
    set_committed_value(user, "profile_version", version)
    return True


def _describe(user: User, group: str) -> str:
    values = group_values(user, group)
    if group == "phone":
        values["phone"] = forms.phone_display(values["phone"])
    if group == "address":
        values["country"] = forms.country_name(values["country"])
    if group == "timezone":
        values["time_zone"] = forms.zone_label(values["time_zone"])
    shown = ", ".join(v for v in values.values() if v)
    return f"“{shown}”" if shown else "empty"


def update_group(
    db: Session,
    user: User,
    group: str,
    values: dict[str, str],
    *,
    seen: str,
    ip: str | None = None,
    actor: str = "self",
    actor_id: int | None = None,
) -> Outcome:
    """Correct one group of fields, unless they changed since the form showing `seen` was made."""
    if group not in GROUPS or group == "email":
        raise KeyError(group)
    outcome = clean_group(group, values, phone_region=current_app.config["PHONE_DEFAULT_REGION"])
    if not outcome.ok:
        return outcome
    old = group_values(user, group)
    if seen != _digest(old):
        return _conflict(user, group, values)
    changes = {k: v for k, v in outcome.values.items() if v != old[k]}
    if not changes:
        return Outcome(True, values=outcome.values, message=f"{GROUPS[group].label}: no changes.")
    who = actor_id if actor_id is not None else user.id
    audit_rows = [
        audit.entry(user.id, "profile-corrected", actor, who, name, old[name], new, ip)  # type: ignore[arg-type]
        for name, new in changes.items()
    ]
    # The change and its audit rows at once on a connection of its own, at the driver level:
    # a request saves one group, and the ORM session would cost more than the statements (the
    # caller's session must hold no transaction, which SQLite would block on). On PostgreSQL
    # they are one statement in autocommit; SQLite runs them in a transaction.
    engine = db.get_bind()
    with plain_connection(engine, transaction=engine.dialect.name != "postgresql") as connection:
        if not write_profile(connection, user, changes, audit_rows):
            connection.rollback()
            db.refresh(user)
            return _conflict(user, group, values)
        connection.commit()
    return Outcome(True, values=outcome.values, message=f"{GROUPS[group].label} saved.")


def _conflict(user: User, group: str, typed: dict[str, str]) -> Outcome:
    return Outcome(
        False,
        {"": CONFLICT.format(current=_describe(user, group))},
        typed,
        conflict=True,
    )
