"""The rules of the disclosure register: recording a release, and what the person may see."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Date, Integer, Select, String, bindparam, or_
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from .. import audit, driver
from ..auth.sessions import PERSON_OF_SESSION
from ..cases import CLOSED_ACCOUNT_RECORD, account_closed, own_case_refusal
from ..models import Disclosure, User, privacy_of, user_linked_tables, utcnow
from ..models.disclosures import shown_to_person
from ..validators import has_control_characters, whole_number

THIRD_PARTIES_FILE = Path(__file__).with_name("data") / "third_parties.toml"
PAGE_SIZE = 50
MAX_PAGE = 10_000  #: deeper pages are not asked for by people; a search narrows instead
#: What finding a person by what staff typed may say is wrong with it.
CONTROL_CHARACTERS = "Remove the invisible or control characters from the search."
AMBIGUOUS = "More than one account has that email: use the account number."
NO_ONE = "No account has that email or number."

#: Suggestions for the legal basis field, in the words of the privacy policy.
LEGAL_BASES = (
    "Legal compliance: a production order or other legal requirement",
    "Law enforcement: to a government agency with statutory law enforcement responsibilities",
    "Court proceedings",
    "To enforce or apply our terms and conditions",
    "To protect the rights, property or safety of Sentro, our users or others",
    "With the person's authorisation",
)


@dataclass(frozen=True)
class ThirdParty:
    """A party the policy names that receives information about everyone who uses Sentro."""

    name: str
    role: str
    receives: tuple[str, ...]
    why: str
    policy: str
    more: str = ""


@dataclass
class Result:
    """What a staff action did: the row, or the message for each field that was wrong."""

    errors: dict[str, str] = field(default_factory=dict)
    disclosure: Disclosure | None = None

    @property
    def ok(self) -> bool:
        """True when the action was done (no field was wrong)."""
        return not self.errors


def today() -> date:
    """Today's date in UTC: the day a withheld release becomes visible."""
    return utcnow().date()


@cache
def third_parties() -> tuple[ThirdParty, ...]:
    """The standing third parties, read once from the data file."""
    with THIRD_PARTIES_FILE.open("rb") as f:
        parties = tomllib.load(f)["party"]
    return tuple(ThirdParty(**{**p, "receives": tuple(p["receives"])}) for p in parties)


@cache
def category_choices() -> tuple[str, ...]:
    """The categories of information Sentro holds, as the data map names them."""
    names = (privacy_of(t).name for t in user_linked_tables() if privacy_of(t) is not None)
    return tuple(dict.fromkeys(names))


class AmbiguousPerson(LookupError):
    """More than one account has that email."""


def find_person(db: Session, text: str) -> User | None:
    """The account with this number (digits) or this email; AmbiguousPerson if several share it."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        number = whole_number(text)
        return db.get(User, number) if number is not None else None
    matches = db.exec(select(User).where(func.lower(User.email) == text.lower()).limit(2)).all()
    if len(matches) > 1:
        raise AmbiguousPerson(text)
    return matches[0] if matches else None


def record_disclosure(
    db: Session,
    *,
    staff: User,
    person: str,
    recipient: str,
    disclosed_on: date,
    categories: list[str],
    purpose: str,
    legal_basis: str,
    reference: str = "",
    withheld_until: date | None = None,
    withheld_reason: str = "",
    ip: str | None = None,
    on: date | None = None,
) -> Result:
    """Record one release of a person's information and audit it; nothing is stored on error."""
    on = on or today()
    errors: dict[str, str] = {}
    try:
        subject = find_person(db, person)
    except AmbiguousPerson:
        subject = None
        errors["person"] = AMBIGUOUS
    else:
        if subject is None:
            errors["person"] = NO_ONE
        elif own := own_case_refusal(db, staff, subject.id, case="disclosure", ip=ip):
            errors["person"] = own
        elif account_closed(subject):
            errors["person"] = CLOSED_ACCOUNT_RECORD
    if disclosed_on > on:
        errors["disclosed_on"] = "Record a release once it has happened: the date is in the future."
    if not categories:
        errors["categories"] = "Choose or describe at least one kind of information."
    if withheld_until is not None and withheld_until <= on:
        errors["withheld_until"] = "Choose a date after today, or leave it empty to show it now."
    if withheld_until is not None and not withheld_reason:
        errors["withheld_reason"] = (
            "Say why the person is not told yet (for example, an investigation)."
        )
    if withheld_reason and withheld_until is None:
        errors["withheld_until"] = (
            "Give the date until which it is not shown, or remove the reason."
        )
    if errors:
        return Result(errors)
    assert subject is not None and subject.id is not None
    disclosure = Disclosure(
        user_id=subject.id,
        recipient=recipient,
        disclosed_on=disclosed_on,
        categories=list(dict.fromkeys(categories)),
        purpose=purpose,
        legal_basis=legal_basis,
        reference=reference,
        withheld_until=withheld_until,
        withheld_reason=withheld_reason,
        recorded_by=staff.id,
    )
    db.add(disclosure)
    db.flush()
    # A withheld release must not show in the person's own audit (their export would tip them
    # off); it is audited on the staff member's record instead, naming the row.
    audit.record(
        db,
        user_id=subject.id if withheld_until is None else staff.id,
        action="disclosure.recorded" if withheld_until is None else "disclosure.recorded-withheld",
        actor="staff",
        actor_id=staff.id,
        field=f"disclosure:{disclosure.id}",
        new=recipient,
        ip=ip,
    )
    db.commit()
    return Result(disclosure=disclosure)


def _disclosures_statement(person: Any) -> Select:
    table = Disclosure.__table__  # type: ignore[attr-defined]
    return (
        select(*table.c)
        .where(table.c.user_id == person, shown_to_person(table, bindparam("today", type_=Date)))
        .order_by(table.c.disclosed_on.desc(), table.c.id.desc())
    )


_DISCLOSURES = _disclosures_statement(bindparam("user_id"))
#: The person's page reads its releases with the person (`auth.current.read_with_person`).
DISCLOSURES_BY_SESSION = _disclosures_statement(PERSON_OF_SESSION)


def disclosures_parameters(on: date | None = None) -> dict[str, date]:
    """`DISCLOSURES_BY_SESSION`'s parameters besides the session's."""
    return {"today": on or today()}


def disclosures_for_person(
    engine: Engine, user_id: int, on: date | None = None, *, rows: list[tuple] | None = None
) -> list[Disclosure]:
    """Every release about the person that they may see today, newest first (one statement,
    or `rows`: `DISCLOSURES_BY_SESSION`'s), as detached objects."""
    if rows is None:
        params = {"user_id": user_id, **disclosures_parameters(on)}
        rows = driver.fetch(engine, (_DISCLOSURES, params))[0]
    return driver.entities(Disclosure, rows)


_USER, _RELEASE = User.__table__, Disclosure.__table__  # type: ignore[attr-defined]
#: What the register shows of a person.
_PERSON_COLUMNS = (_USER.c.id, _USER.c.email, _USER.c.name)
#: The account a search names: by number, or by email in any case (None: not searched by it).
_NAMED = or_(
    _USER.c.id == bindparam("number", type_=Integer),
    func.lower(_USER.c.email) == bindparam("email", type_=String),
)
#: The accounts a search names; two say that it names no one account.
SEARCHED = core_select(*_PERSON_COLUMNS).where(_NAMED).limit(2)
#: A page of the register, newest first: everyone's releases, or those about the account
#: searched for, each with its person (one more than a page: is there an older page?).
REGISTER = (
    core_select(*_RELEASE.c, *_PERSON_COLUMNS)
    .join_from(_RELEASE, _USER, _USER.c.id == _RELEASE.c.user_id)
    .where(or_(bindparam("everyone", type_=Boolean), _NAMED))
    .order_by(_RELEASE.c.recorded_at.desc(), _RELEASE.c.id.desc())
    .offset(bindparam("offset", type_=Integer))
    .limit(bindparam("limit", type_=Integer))
)


@dataclass(frozen=True)
class RegisterPage:
    """A page of the register as staff asked for it, or what was wrong with their search."""

    person: User | None  #: the account searched for
    lookup_error: str = ""
    rows: list[tuple[Disclosure, User]] = field(default_factory=list)
    more: bool = False  #: an older page follows


def register_parameters(query: str, page: int) -> dict[str, Any] | None:
    """`SEARCHED`'s and `REGISTER`'s parameters for a search (empty: everyone) and a page;
    None for a search that cannot name anyone (nothing is read for it)."""
    if has_control_characters(query):
        return None
    by_number = query.isascii() and query.isdigit()
    return {
        "everyone": not query,
        "number": whole_number(query) if by_number else None,
        "email": query.lower() if query and not by_number else None,
        "offset": (max(page, 1) - 1) * PAGE_SIZE,
        "limit": PAGE_SIZE + 1,
    }


def register_page(
    engine: Engine, query: str, page: int = 1, *, rows: list[list[tuple]] | None = None
) -> RegisterPage:
    """The register for staff, newest first, for everyone or for the account `query` names
    (its number, or its email in any case); two statements, or `rows`: `SEARCHED`'s and
    `REGISTER`'s, read with the person."""
    query = query.strip()
    params = register_parameters(query, page)
    if params is None:
        return RegisterPage(None, CONTROL_CHARACTERS)
    if rows is None:
        rows = driver.fetch(engine, (SEARCHED, params), (REGISTER, params))
    searched, listed = rows
    person = None
    if query:
        if len(searched) != 1:
            return RegisterPage(None, AMBIGUOUS if searched else NO_ONE)
        person = driver.detached(User, _PERSON_COLUMNS, searched[0])
    split = len(_RELEASE.c)
    entries = [
        (
            driver.detached(Disclosure, _RELEASE.c, row[:split]),
            driver.detached(User, _PERSON_COLUMNS, row[split:]),
        )
        for row in listed
    ]
    return RegisterPage(person, rows=entries[:PAGE_SIZE], more=len(entries) > PAGE_SIZE)
