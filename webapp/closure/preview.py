"""What approving a closure would erase and keep, read from the same plan erasure carries out.

The preview is `erasure.plan` over the data map and the request's holds, as it stands now,
without applying it: each category about the person, how many records it holds, which
values go (deleted, or blanked in records that stay) and which are kept, why and until when.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from ..mail.purge import OUTBOX_RETENTION
from ..models import ANONYMISE, personal_columns, privacy_of
from . import erasure
from .case import Case


@dataclass(frozen=True)
class Kept:
    """One value that outlives the account."""

    label: str
    basis: str
    until: dt.date


@dataclass(frozen=True)
class CategoryFate:
    """What approval does to one category of data about the person."""

    name: str
    records: int
    deleted: bool  #: the records are deleted outright
    erased: list[str]  #: values removed (or, where marked, replaced by an anonymous value)
    kept: list[Kept]


@dataclass(frozen=True)
class Preview:
    """The whole effect of approving, category by category, and the categories with nothing."""

    held: list[CategoryFate]
    empty: list[str]
    confirmation_kept_until: dt.date | None  #: the closing email, when the person has an address

    @property
    def kept(self) -> list[tuple[str, Kept]]:
        """Every kept value with its category, in the order shown."""
        return [(fate.name, keep) for fate in self.held for keep in fate.kept]


def preview(db: Session, case: Case, erase_on: dt.datetime) -> Preview:
    """What approving `case` would erase and keep if erasure ran at `erase_on` (one read per table)."""
    plans = erasure.plan(db, case.person.id, case.holds, erase_on)
    held, empty = [], []
    for table_plan in reversed(plans):  # the order of the data map: the account first
        category = privacy_of(table_plan.table)
        if not table_plan.rows:
            empty.append(category.name)
            continue
        columns = personal_columns(table_plan.table)
        erased = [
            f"{d.label} (replaced by an anonymous value)" if d.on_closure is ANONYMISE else d.label
            for d in table_plan.erase.values()
        ]
        kept = [
            Kept(columns[name].label, keep.basis, keep.until)
            for name, keep in sorted(table_plan.keep.items())
        ]
        held.append(
            CategoryFate(category.name, len(table_plan.rows), table_plan.delete_rows, erased, kept)
        )
    until = (erase_on + OUTBOX_RETENTION).date() if case.person.email else None
    return Preview(held, list(dict.fromkeys(empty)), until)
