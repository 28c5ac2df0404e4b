"""The rules of the privacy policy: which version is in effect, publishing, acknowledging.

Every function takes a Session and plain values (`today`, `now` are passed in, never read from
a clock here), so the same rules serve the pages, the command, the staff page and the tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .. import markdown
from ..models import PolicyAcknowledgement, PolicyVersion, User
from ..validators import MAX_ID, whole_number
from . import notices

FIRST_VERSION_FILE = Path(__file__).resolve().parent / "data" / "privacy-policy-v1.md"
#: Version 1 predates this site; 1 December 2020 (the Privacy Act 2020 came into force) puts it
#: in effect before any account was created, so everyone starts from version 1.
FIRST_VERSION_EFFECTIVE = date(2020, 12, 1)
FIRST_VERSION_SUMMARY = "The privacy policy as it stood when this site opened."
MAX_TEXT = 200_000
MAX_SUMMARY = 2_000


@dataclass(frozen=True)
class Dated:
    """A version's number and the date it takes effect: all the banner and the pages need."""

    number: int
    effective_on: date


Timeline = tuple[Dated, ...]
#: Bumped whenever a version is added in this process, so cached timelines reload at once.
_generation = 0


_versions = PolicyVersion.__table__  # type: ignore[attr-defined]
#: Every version's number and effective date, oldest first.
TIMELINE = sa_select(_versions.c.number, _versions.c.effective_on).order_by(_versions.c.number)


def timeline(db: Session) -> Timeline:
    """Every version's number and effective date, oldest first."""
    return timeline_of(db.execute(TIMELINE).all())


def timeline_of(rows: Iterable[Sequence[Any]]) -> Timeline:
    """`TIMELINE`'s rows as the timeline."""
    return tuple(Dated(number, effective_on) for number, effective_on in rows)


def in_effect(versions: Timeline, today: date) -> Dated | None:
    """The latest version whose effective date has come, if any."""
    current = [v for v in versions if v.effective_on <= today]
    return current[-1] if current else None


def status(number: int, versions: Timeline, today: date) -> str:
    """Whether the version with this number is "in effect", "upcoming" or "superseded"."""
    current = in_effect(versions, today)
    if current is not None and number == current.number:
        return "in effect"
    if current is None or number > current.number:
        return "upcoming"
    return "superseded"


class TimelineCache:
    """A process's copy of the timeline, so a signed-in page's banner costs no query."""

    def __init__(self, ttl_seconds: float = 30.0) -> None:
        self.ttl = ttl_seconds
        self._entry: tuple[float, int, Timeline] | None = None

    def get(self, db: Callable[[], Session]) -> Timeline:
        """The timeline, reloaded (opening `db()`) when older than the TTL or after publishing."""
        entry = self._entry
        if entry is None or entry[1] != _generation or time.monotonic() > entry[0]:
            entry = (time.monotonic() + self.ttl, _generation, timeline(db()))
            self._entry = entry
        return entry[2]


@dataclass(frozen=True)
class Shown:
    """A version as its page shows it: number, date, title and body rendered to safe HTML."""

    number: int
    effective_on: date
    published_at: datetime
    title: str
    body: Markup


class PageCache:
    """A process's rendered versions: a version's text never changes once published, so a
    version's page (/privacy, /privacy/versions/N) costs no query and no Markdown after its
    first request."""

    def __init__(self, limit: int = 32) -> None:
        self.limit = limit
        self._pages: dict[tuple[int, int], Shown] = {}

    def get(self, db: Callable[[], Session], number: int) -> Shown | None:
        """The version with this number, rendered; None if there is none (`db`: as above)."""
        key = (_generation, number)  # a publication here starts afresh
        found = self._pages.get(key)
        if found is None:
            row = version(db(), number)
            if row is None:
                return None
            title, body = title_and_body(row.text)
            found = Shown(
                row.number, row.effective_on, row.published_at, title, markdown.render(body)
            )
            if len(self._pages) >= self.limit:
                self._pages.clear()
            self._pages[key] = found
        return found


def _changed() -> None:
    global _generation
    _generation += 1


# --- reading -------------------------------------------------------------------------------


def version(db: Session, number: int) -> PolicyVersion | None:
    """The version with this number."""
    return db.exec(select(PolicyVersion).where(PolicyVersion.number == number)).first()


def versions(db: Session) -> list[PolicyVersion]:
    """Every version, newest first."""
    return list(db.exec(select(PolicyVersion).order_by(PolicyVersion.number.desc())))


def version_in_effect(db: Session, today: date) -> PolicyVersion | None:
    """The version in effect on `today`."""
    query = (
        select(PolicyVersion)
        .where(PolicyVersion.effective_on <= today)
        .order_by(PolicyVersion.number.desc())
        .limit(1)
    )
    return db.exec(query).first()


def title_and_body(text: str) -> tuple[str, str]:
    """The document's own title (its leading `# heading`) and the rest of the text."""
    first, _, rest = text.lstrip().partition("\n")
    if first.startswith("# "):
        return first[2:].strip(), rest
    return "Privacy policy", text


def parse_number(raw: object) -> int | None:
    """A version number from a form or query string, or None."""
    if isinstance(raw, int):
        return raw if 0 < raw <= MAX_ID else None
    return whole_number(raw)


def parse_date(raw: str | None) -> date | None:
    """A date written YYYY-MM-DD, or None."""
    try:
        return date.fromisoformat((raw or "").strip()) if len((raw or "").strip()) == 10 else None
    except ValueError:
        return None


def text_from_file(raw: bytes) -> str:
    """The Markdown in a file's bytes; ValueError with a message for people when it is not text."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(
            "The file is not UTF-8 text. Save the policy as a UTF-8 Markdown file."
        ) from None
    if "\x00" in text:
        raise ValueError("The file is not a text file. Give the policy as a Markdown file.")
    return text


# --- publishing ----------------------------------------------------------------------------


@dataclass
class Published:
    """What publishing did: the new version and how many people its notice goes to, or the errors."""

    version: PolicyVersion | None = None
    notices: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def publish(
    db: Session,
    *,
    text: str,
    summary: str,
    effective_on: date | None,
    today: date,
    now: datetime,
) -> Published:
    """Add the next version and record its notice to everyone on the policy-updates list.

    Nothing is written when any input is refused. The caller commits (version and the record
    of its notice in one transaction, so a notice can never announce a version that was not
    stored, nor a stored version go unannounced); the mail worker then queues and sends the
    notices (`notices.fan_out_pending`).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    summary = summary.replace("\r\n", "\n").replace("\r", "\n")
    versions_ = timeline(db)
    latest = versions_[-1] if versions_ else None
    errors = refusals(db, text, summary, effective_on, today, latest)
    if errors:
        return Published(errors=errors)
    assert effective_on is not None
    previous = in_effect(versions_, today)
    new = PolicyVersion(
        number=(latest.number if latest else 0) + 1,
        text=text.strip() + "\n",
        summary=summary.strip(),
        effective_on=effective_on,
        published_at=now,
    )
    try:
        with db.begin_nested():
            db.add(new)
            db.flush()
    except IntegrityError:
        return Published(errors={"text": "Another version was published just now. Try again."})
    _changed()
    notices.start_notices(db, new, previous.number if previous else None, today=today)
    return Published(version=new, notices=notices.progress(db, new.number).audience)


def refusals(
    db: Session,
    text: str,
    summary: str,
    effective_on: date | None,
    today: date,
    latest: Dated | None,
) -> dict[str, str]:
    """Why this text, summary and date cannot be the next version after `latest` (empty: none)."""
    errors: dict[str, str] = {}
    if not text.strip():
        errors["text"] = "The policy text is empty."
    elif len(text) > MAX_TEXT:
        errors["text"] = f"The policy text is longer than {MAX_TEXT:,} characters."
    elif "\x00" in text:
        errors["text"] = "The policy text contains characters that are not text."
    elif latest is not None:
        previous = version(db, latest.number)
        if previous is not None and previous.text.strip() == text.strip():
            errors["text"] = f"This is the text of version {latest.number}: nothing has changed."
    if not summary.strip():
        errors["summary"] = "Say in plain words what changed: the summary is required."
    elif len(summary) > MAX_SUMMARY:
        errors["summary"] = f"Keep the summary under {MAX_SUMMARY:,} characters."
    if effective_on is None:
        errors["effective_on"] = "Give the date this version takes effect, as YYYY-MM-DD."
    elif latest is not None and effective_on < latest.effective_on:
        errors["effective_on"] = (
            f"Version {latest.number} takes effect on {latest.effective_on.isoformat()}; "
            "a newer version cannot take effect before it."
        )
    elif effective_on < today:
        errors["effective_on"] = "A version cannot take effect before it is published."
    return errors


def load_first_version(db: Session, now: datetime) -> bool:
    """Store version 1 from the project's data when no version exists; True if it did."""
    if db.exec(select(PolicyVersion.id).limit(1)).first() is not None:
        return False
    db.add(
        PolicyVersion(
            number=1,
            text=FIRST_VERSION_FILE.read_text(encoding="utf-8"),
            summary=FIRST_VERSION_SUMMARY,
            effective_on=FIRST_VERSION_EFFECTIVE,
            published_at=now,
        )
    )
    db.flush()
    _changed()
    return True


# --- acknowledging -------------------------------------------------------------------------


@dataclass(frozen=True)
class Banner:
    """The version a person has not yet acknowledged, and the one they last saw."""

    number: int
    effective_on: date
    since: int


def baseline(user: User, versions: Sequence[Dated]) -> int:
    """The version the person last saw: the one they acknowledged, else the one they joined under.

    Joining counts as seeing the version that took effect before the day of joining; a version
    taking effect that very day is shown in the banner too, as the person may have joined first.
    """
    if user.policy_version_seen is not None:
        return user.policy_version_seen
    joined = [v for v in versions if v.effective_on < user.created_at.date()]
    if joined:
        return joined[-1].number
    return versions[0].number if versions else 0


def banner(user: User, versions: Timeline, today: date) -> Banner | None:
    """What the banner shows this person today: None when nothing newer is in effect."""
    current = in_effect(versions, today)
    if current is None:
        return None
    since = baseline(user, versions)
    return Banner(current.number, current.effective_on, since) if current.number > since else None


@dataclass
class Acknowledged:
    """The outcome of acknowledging: the version, or an error."""

    number: int | None = None
    errors: dict[str, str] = field(default_factory=dict)


def acknowledge(
    db: Session, user: User, raw_version: object, *, ip: str, now: datetime, today: date
) -> Acknowledged:
    """Record that `user` has seen a version in effect (who, which, when, from where)."""
    number = parse_number(raw_version)
    versions_ = timeline(db)
    known = {v.number: v for v in versions_}
    if number is None or number not in known or known[number].effective_on > today:
        return Acknowledged(errors={"version": "That version is not in effect. Reload the page."})
    if number <= baseline(user, versions_):
        return Acknowledged(number=number)
    db.add(PolicyAcknowledgement(user_id=user.id, version=number, at=now, ip=ip or None))
    user.policy_version_seen = number
    db.add(user)
    return Acknowledged(number=number)
