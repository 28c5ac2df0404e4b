"""What the staff queues share: a page number, a search, and the page of rows they show.

Every queue answers one page at a time (LIMIT/OFFSET) with the count per status from one
GROUP BY, so a bad week's ten thousand open requests open as fast as ten, and none is hidden
behind a silent limit. A search is an account or request number, or part of a name or email.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    ScalarSelect,
    Select,
    bindparam,
    case,
    func,
    or_,
    select,
)

from .models import User

PER_PAGE = 50
#: The longest search kept: an email address is at most 320 characters.
SEARCH_MAX = 320


def first_row_of_page(*where: ColumnElement[bool]) -> ScalarSelect:
    """The OFFSET of the page asked for (parameters `page`, `per_page`), or of the last page
    when that is past the end, among the rows `where` finds: worked out in the statement, so a
    page past the end costs no second read."""
    page, per_page = bindparam("page", type_=Integer), bindparam("per_page", type_=Integer)
    total, asked = func.count(), (page - 1) * per_page
    return (
        select(
            case(
                (asked < total, asked),
                (total == 0, 0),
                else_=(total - 1) // per_page * per_page,
            )
        )
        .where(*where)
        .scalar_subquery()
    )


def page_number(raw: str | None) -> int:
    """The page asked for in a query string; anything that is not a page number is page 1."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        return 1
    return max(int(raw), 1)


def search_text(raw: str | None) -> str:
    """The search as typed, trimmed, without control characters, at most SEARCH_MAX long."""
    text = "".join(c for c in (raw or "") if c.isprintable())
    return text.strip()[:SEARCH_MAX]


def request_number(text: str) -> int | None:
    """The number in a search like `123` or `#123`, or None when the search is not a number."""
    digits = text.removeprefix("#").strip()
    if digits.isascii() and digits.isdigit() and len(digits) < 10:
        return int(digits)
    return None


def like_pattern(text: str) -> str:
    """The search as a LIKE pattern (escape character `\\`) for part of a lower-cased text."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def people_matching(pattern: Any) -> Select:
    """The ids of the people whose email or name (any case) matches `pattern`, a bound
    `like_pattern`: a search that is not a request number."""
    users = User.__table__  # type: ignore[attr-defined]
    return select(users.c.id).where(
        or_(
            func.lower(users.c.email).like(pattern, escape="\\"),
            func.lower(users.c.name).like(pattern, escape="\\"),
        )
    )


@dataclass(frozen=True)
class QueuePage:
    """One page of a queue, the count per status for the same search, and where it stands."""

    rows: Sequence[Any]
    counts: dict[str, int]
    total: int  #: rows under the chosen status filter, over every page
    page: int
    status: str
    search: str
    per_page: int = PER_PAGE
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """How many pages the filter spans (at least one, even when empty)."""
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def first(self) -> int:
        """The position of the first row on this page (1-based; 0 when there is none)."""
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        """The position of the last row on this page."""
        return (self.page - 1) * self.per_page + len(self.rows)


def clamp_page(page: int, total: int, per_page: int = PER_PAGE) -> int:
    """The page asked for, brought back to the last page when it is past the end."""
    last = max((total + per_page - 1) // per_page, 1)
    return min(max(page, 1), last)
