"""What the policy's read-only pages read: every statement a page needs, known before the
first is sent, so a page is one round trip on PostgreSQL.

A page's statements go with the signed-in person's own read (`auth.current.read_with_person`,
whose rows the view passes as `rows`); for a visitor who is not signed in, or a request that
did not read them so, each function here sends them itself, together (`driver.fetch`). A
statement's shape is fixed: what depends on another read (the newest version, the one before
the version asked for) is worked out in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from markupsafe import Markup
from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.engine import Engine

from .. import driver
from ..models import PolicyVersion
from . import notices, service
from .diff import compare_html

Rows = Sequence[Sequence[Any]]
_versions = PolicyVersion.__table__  # type: ignore[attr-defined]

#: Every version, newest first.
VERSIONS = select(*_versions.c).order_by(_versions.c.number.desc())
#: The version numbered `number`'s number: whether there is one.
VERSION_NUMBER = select(_versions.c.number).where(
    _versions.c.number == bindparam("number", type_=Integer)
)


def _compared() -> Select:
    newest = select(func.max(_versions.c.number)).scalar_subquery()
    new = func.coalesce(bindparam("new", type_=Integer), newest)
    old = func.coalesce(bindparam("old", type_=Integer), new - 1)
    return select(*_versions.c).where(_versions.c.number.in_([old, new]))


#: The two versions a comparison shows: `new` (None: the newest) and `old` (None: the one
#: before `new`); 0 for a choice that is not a version number finds nothing.
COMPARED = _compared()


# --- /privacy/versions ---------------------------------------------------------------------


def versions_page(
    engine: Engine, today: date, *, rows: Rows | None = None
) -> list[tuple[PolicyVersion, str]]:
    """Every version, newest first, with its status on `today` (one statement, or `rows`:
    `VERSIONS`'s). The statuses come from the versions read, so list and statuses agree."""
    if rows is None:
        rows = driver.fetch(engine, (VERSIONS, {}))[0]
    found = driver.entities(PolicyVersion, rows)
    dated = tuple(service.Dated(v.number, v.effective_on) for v in reversed(found))
    return [(v, service.status(v.number, dated, today)) for v in found]


# --- /privacy/compare ----------------------------------------------------------------------


@dataclass
class Comparison:
    """Two versions and the new one's text with the words that changed marked."""

    old: PolicyVersion | None = None
    new: PolicyVersion | None = None
    errors: dict[str, str] = field(default_factory=dict)
    choices: service.Timeline = ()

    @property
    def html(self) -> Markup:
        """The marked-up comparison (only when both versions were found)."""
        assert self.old is not None and self.new is not None
        body = service.title_and_body
        return compare_html(body(self.old.text)[1], body(self.new.text)[1])


def _asked(raw: object) -> int | None:
    """A version chosen in the query string: None when none was, 0 when it is not a number."""
    if raw in (None, ""):
        return None
    return service.parse_number(raw) or 0


def compare_parameters(old: object, new: object) -> dict[str, int | None]:
    """`COMPARED`'s parameters for the choices `old` and `new` (raw input)."""
    return {"old": _asked(old), "new": _asked(new)}


def compare(
    engine: Engine, old: object, new: object, *, rows: Sequence[Rows] | None = None
) -> Comparison:
    """Compare versions `old` and `new` (raw input); by default the newest and the one before.

    One round trip: the timeline and the compared versions (`TIMELINE`, `COMPARED`), or
    `rows`: theirs, read with the person.
    """
    if rows is None:
        read = (service.TIMELINE, {}), (COMPARED, compare_parameters(old, new))
        rows = driver.fetch(engine, *read)
    dated, compared = rows
    versions_ = service.timeline_of(dated)
    numbers = {v.number for v in versions_}
    result = Comparison(choices=versions_)
    if old in (None, "") and new in (None, "") and len(versions_) < 2:
        return result  # nothing to compare yet, and nothing was asked
    newest = versions_[-1].number if versions_ else None
    new_number = service.parse_number(new) if new not in (None, "") else newest
    if new_number is None or new_number not in numbers:
        result.errors["to"] = "Choose a version that has been published."
    old_number = service.parse_number(old) if old not in (None, "") else (new_number or 0) - 1
    if old_number is None or old_number not in numbers:
        result.errors["from"] = "Choose a version that has been published."
    elif old_number == new_number:
        result.errors["from"] = "Choose two different versions."
    if not result.errors:
        found = {v.number: v for v in driver.entities(PolicyVersion, compared)}
        result.old, result.new = found.get(old_number), found.get(new_number)
    return result


# --- the staff pages -----------------------------------------------------------------------


def publish_page(
    engine: Engine, *, rows: Sequence[Rows] | None = None
) -> tuple[list[PolicyVersion], notices.NoticeProgress | None]:
    """Every version, newest first, and how far the newest one's notices have got (None when
    no version exists): `VERSIONS` and `notices.NEWEST_PROGRESS`, or `rows`: theirs."""
    if rows is None:
        rows = driver.fetch(engine, (VERSIONS, {}), (notices.NEWEST_PROGRESS, {}))
    listed, progress = rows
    found = driver.entities(PolicyVersion, listed)
    return found, notices.progress_of(progress) if found else None


def notice_parameters(number: object) -> dict[str, int] | None:
    """`VERSION_NUMBER`'s and `notices.PROGRESS`'s parameters; None when `number` cannot be
    a version's (nothing to read)."""
    found = service.parse_number(number)
    return {"number": found} if found is not None else None


def notice_progress(
    engine: Engine, number: int, *, rows: Sequence[Rows] | None = None
) -> notices.NoticeProgress | None:
    """How far the notices of version `number` have got; None when there is no such version.

    `VERSION_NUMBER` and `notices.PROGRESS`, sent together, or `rows`: theirs.
    """
    params = notice_parameters(number)
    if params is None:
        return None
    if rows is None:
        rows = driver.fetch(engine, (VERSION_NUMBER, params), (notices.PROGRESS, params))
    exists, progress = rows
    return notices.progress_of(progress) if exists else None
