"""What the policy's read-only pages read: comparing two versions."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup
from sqlmodel import Session

from ..models import PolicyVersion
from . import service
from .diff import compare_html


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


def compare(db: Session, old: object, new: object) -> Comparison:
    """Compare versions `old` and `new` (raw input); by default the newest and the one before."""
    versions_ = service.timeline(db)
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
        result.old, result.new = service.version(db, old_number), service.version(db, new_number)
    return result
