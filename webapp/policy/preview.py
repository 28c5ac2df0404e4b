"""Before publishing: the draft checked, compared word by word with the newest version, and
the exact number of people its notice will be emailed to. Nothing is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup
from sqlmodel import Session

from ..models import PolicyVersion
from . import notices, service
from .diff import compare_html


@dataclass
class Draft:
    """A version staff are about to publish, as the preview shows it, or why it cannot be."""

    text: str
    summary: str
    effective_on: date | None
    number: int = 1
    newest: PolicyVersion | None = None
    audience: int = 0
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def comparison(self) -> Markup | None:
        """The draft's body with the words changed since the newest version marked (None for the first)."""
        if self.newest is None:
            return None
        old = service.title_and_body(self.newest.text)[1]
        return compare_html(old, service.title_and_body(self.text)[1])


def check(db: Session, *, text: str, summary: str, effective_on: date | None, today: date) -> Draft:
    """The draft as publishing would take it, with its refusals, or its comparison and audience."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    summary = summary.replace("\r\n", "\n").replace("\r", "\n")
    versions = service.timeline(db)
    latest = versions[-1] if versions else None
    draft = Draft(text, summary, effective_on)
    draft.errors = service.refusals(db, text, summary, effective_on, today, latest)
    if latest is not None:
        draft.number = latest.number + 1
        draft.newest = service.version(db, latest.number)
    if draft.ok:
        draft.audience = notices.audience_size(db)
    return draft
