"""The rules of consent: the purposes, what a choice means, how it is stored and honoured.

A person chooses, for each purpose separately, to allow it or not; until they choose, nothing
that needs consent happens. Signed-in people's choices are ConsentChoice rows (the history;
the latest row per purpose is in force) plus a short copy on the User row, so a page knows
them without another query. Visitors' choices live in the signed `sentro_consent` cookie.
A browser sending Global Privacy Control (`Sec-GPC: 1`) refuses analytics and
personalisation, whatever was stored.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from .. import driver
from ..auth.sessions import PERSON_OF_SESSION
from ..models import ConsentChoice, User, utcnow
from ..policy import service as policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsentPurpose:
    """Something Sentro may do only with the person's consent."""

    id: str  #: stable: stored in ConsentChoice.purpose and in the summary's order
    label: str
    description: str
    gpc_refuses: bool  #: Global Privacy Control counts as a refusal of this purpose


ANALYTICS = "analytics"
PERSONALISATION = "personalisation"
RESEARCH = "research"

PURPOSES: tuple[ConsentPurpose, ...] = (
    ConsentPurpose(
        ANALYTICS,
        "Analytics",
        "Google Analytics counts visits and shows us how the site is used (including its "
        "demographics and interests reports). It sets the _ga cookies.",
        gpc_refuses=True,
    ),
    ConsentPurpose(
        PERSONALISATION,
        "Personalisation",
        "Tailor what the site shows you, such as tips suited to how you use Sentro.",
        gpc_refuses=True,
    ),
    ConsentPurpose(
        RESEARCH,
        "Internal research",
        "Include your information, without your name or contact details, when Sentro "
        "studies the demographics and behaviour of its customers.",
        gpc_refuses=False,
    ),
)
PURPOSE_IDS = tuple(p.id for p in PURPOSES)

BANNER, CONTROLS, GPC = "banner", "controls", "gpc"
SOURCES = (BANNER, CONTROLS, GPC)
SOURCE_LABELS = {
    BANNER: "the cookie banner",
    CONTROLS: "Privacy controls",
    GPC: "Global Privacy Control",
}

#: The privacy policy capability is built separately; its version number is looked up by name
#: at runtime (never imported), so consent works with or without it.
_SYMBOL = {True: "y", False: "n", None: "-"}
_VALUE = {"y": True, "n": False}


@dataclass(frozen=True)
class Choices:
    """A person's choice per purpose: True allowed, False refused, None not chosen yet."""

    values: Mapping[str, bool | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Every purpose present, nothing else: two equal sets of choices compare equal.
        values = {p: self.values.get(p) for p in PURPOSE_IDS}
        object.__setattr__(self, "values", values)

    def get(self, purpose: str) -> bool | None:
        """The choice for `purpose` (None when not chosen)."""
        return self.values.get(purpose)

    @property
    def any_known(self) -> bool:
        """Whether the person chose anything at all (the banner asks until they do)."""
        return any(self.get(p) is not None for p in PURPOSE_IDS)

    @property
    def all_known(self) -> bool:
        """Whether every purpose has a choice."""
        return all(self.get(p) is not None for p in PURPOSE_IDS)

    def summary(self) -> str:
        """The compact form kept on the User row and in the cookie: one letter per purpose."""
        return "".join(_SYMBOL[self.get(p)] for p in PURPOSE_IDS)

    @classmethod
    def from_summary(cls, text: object) -> Choices:
        """Read a summary back; anything unreadable counts as not chosen."""
        letters = text if isinstance(text, str) else ""
        return cls({p: _VALUE.get(letters[i : i + 1]) for i, p in enumerate(PURPOSE_IDS)})

    def filled_from(self, other: Choices) -> Choices:
        """These choices, with `other`'s for the purposes not chosen here."""
        return Choices(
            {p: v if (v := self.get(p)) is not None else other.get(p) for p in PURPOSE_IDS}
        )

    def updated(self, changes: Mapping[str, bool]) -> Choices:
        """These choices with `changes` applied."""
        return Choices({p: changes.get(p, self.get(p)) for p in PURPOSE_IDS})


@dataclass(frozen=True)
class ConsentState:
    """What applies to one request: the stored choices and whether the browser sent GPC."""

    choices: Choices
    gpc: bool = False

    def allows(self, purpose: str) -> bool:
        """Whether Sentro may act on `purpose` now: allowed, and not refused by GPC."""
        if self.gpc and _purpose(purpose).gpc_refuses:
            return False
        return self.choices.get(purpose) is True

    def refused_by_gpc(self, purpose: str) -> bool:
        """Whether GPC, not a stored choice, keeps `purpose` off for this request."""
        return self.gpc and _purpose(purpose).gpc_refuses

    @property
    def undecided(self) -> bool:
        """No choice is known yet: only essential cookies, and the banner asks."""
        return not self.choices.any_known


@dataclass(frozen=True)
class Decision:
    """One stored choice: the purpose, allowed or not, and what decided it."""

    purpose: str
    granted: bool
    source: str


def _purpose(purpose_id: str) -> ConsentPurpose:
    return next(p for p in PURPOSES if p.id == purpose_id)


def decide(
    current: Choices, requested: Mapping[str, bool], *, source: str, gpc: bool
) -> list[Decision]:
    """What a submitted choice stores, purpose by purpose.

    Under Global Privacy Control a purpose it covers is stored as refused, with source `gpc`
    when the signal overrode an allowance or filled a purpose the person left unchosen.
    """
    if source not in (BANNER, CONTROLS):
        raise ValueError(f"unknown source {source!r}")
    decisions = []
    for purpose in PURPOSES:
        wanted = requested.get(purpose.id)
        if gpc and purpose.gpc_refuses:
            if wanted is False:
                decisions.append(Decision(purpose.id, False, source))
            elif wanted is True or current.get(purpose.id) is not False:
                decisions.append(Decision(purpose.id, False, GPC))
        elif wanted is not None:
            decisions.append(Decision(purpose.id, wanted, source))
    return decisions


def apply(current: Choices, decisions: list[Decision]) -> Choices:
    """The choices after `decisions`."""
    return current.updated({d.purpose: d.granted for d in decisions})


def record_for_user(
    db: Session,
    user: User,
    decisions: list[Decision],
    *,
    policy_version: int | None,
    now: datetime | None = None,
) -> Choices:
    """Store a signed-in person's decisions as history rows and update their summary; commit."""
    now = now or utcnow()
    for decision in decisions:
        db.add(
            ConsentChoice(
                user_id=user.id,
                purpose=decision.purpose,
                granted=decision.granted,
                at=now,
                policy_version=policy_version,
                source=decision.source,
            )
        )
    choices = apply(Choices.from_summary(user.consent_summary), decisions)
    user.consent_summary = choices.summary()
    db.add(user)
    db.commit()
    return choices


def stored_choices(db: Session, user_id: int) -> Choices:
    """The choices in force from the history: the latest row per purpose."""
    rows = db.exec(
        select(ConsentChoice)
        .where(ConsentChoice.user_id == user_id)
        .order_by(col(ConsentChoice.at), col(ConsentChoice.id))
    ).all()
    return Choices({row.purpose: row.granted for row in rows if row.purpose in PURPOSE_IDS})


#: How many of the person's choices the controls page shows, newest first.
HISTORY_SHOWN = 12


def _history_statement(person: Any) -> Select:
    table = ConsentChoice.__table__  # type: ignore[attr-defined]
    return (
        core_select(*table.c)
        .where(table.c.user_id == person)
        .order_by(table.c.at.desc(), table.c.id.desc())
        .limit(HISTORY_SHOWN)
    )


_HISTORY = _history_statement(bindparam("user_id"))
#: The controls page reads the person's choices with the person (`read_with_person`).
HISTORY_BY_SESSION = _history_statement(PERSON_OF_SESSION)


def history(
    engine: Engine, user_id: int, *, rows: list[tuple] | None = None
) -> list[ConsentChoice]:
    """The person's HISTORY_SHOWN most recent choices, newest first (one statement, or `rows`:
    `HISTORY_BY_SESSION`'s), as detached objects."""
    if rows is None:
        rows = driver.fetch(engine, (_HISTORY, {"user_id": user_id}))[0]
    return driver.entities(ConsentChoice, rows)


def allows(user: User, purpose: str) -> bool:
    """Whether a person allowed `purpose` (for work outside a request, e.g. research exports)."""
    return Choices.from_summary(user.consent_summary).get(purpose) is True


def policy_version_in_effect(db: Session) -> int | None:
    """The number of the privacy policy version in effect now (None before any is published)."""
    current = policy.in_effect(policy.timeline(db), utcnow().date())
    return current.number if current else None


# --- reading what a form sent ------------------------------------------------------------

ALLOW, REFUSE = "allow", "refuse"


@dataclass(frozen=True)
class Parsed:
    """A form's request: the choices asked for, or the messages explaining what was wrong."""

    requested: dict[str, bool] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the form can be acted on."""
        return not self.errors


def parse_banner(decision: object) -> Parsed:
    """The banner's two buttons: allow every purpose, or refuse every purpose."""
    if decision == "accept":
        return Parsed({p: True for p in PURPOSE_IDS})
    if decision == "reject":
        return Parsed({p: False for p in PURPOSE_IDS})
    return Parsed(errors={"decision": "Choose “Accept all” or “Reject all”."})


def parse_controls(form: Mapping[str, object], *, gpc: bool) -> Parsed:
    """The controls page: allow or refuse each purpose; a purpose left unanswered is kept."""
    requested: dict[str, bool] = {}
    errors: dict[str, str] = {}
    for purpose in PURPOSES:
        value = form.get(purpose.id)
        if value in (None, ""):
            continue
        if value not in (ALLOW, REFUSE):
            errors[purpose.id] = f"Choose whether to allow {purpose.label.lower()}."
            continue
        requested[purpose.id] = value == ALLOW
    if not errors and not requested and not gpc:
        errors["form"] = "Choose allow or don't allow for at least one purpose."
    return Parsed(requested, errors)
