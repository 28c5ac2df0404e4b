"""Recording changes to a person's data; values are masked so the audit is never a second copy."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, Update, bindparam, exists, insert, select, union_all
from sqlmodel import Session

from .driver import Plain
from .models import AuditEvent, utcnow


def mask(value: object) -> str:
    """A hint of a value that does not disclose it: first character, length, last two."""
    text = "" if value is None else str(value)
    if not text:
        return ""
    if len(text) <= 4:
        return "•" * len(text)
    return f"{text[0]}{'•' * min(len(text) - 3, 12)}{text[-2:]}"


def record(db: Session, **fields: Any) -> None:
    """Write an audit row in `db`'s transaction (committed with the change it describes).

    `fields` are `entry`'s: user_id, action, and optionally actor, actor_id, field, old, new, ip.
    """
    record_all(db, [entry(**fields)])


def entry(
    user_id: int,
    action: str,
    actor: str = "self",
    actor_id: int | None = None,
    field: str = "",
    old: object = None,
    new: object = None,
    ip: str | None = None,
) -> dict[str, object]:
    """One audit row's values, masked, for `record_all`."""
    return {
        "user_id": user_id,
        "at": utcnow(),
        "actor": actor,
        "actor_id": actor_id,
        "action": action,
        "field": field,
        "old_value": mask(old),
        "new_value": mask(new),
        "ip": ip,
    }


def record_all(db: Session | Plain, entries: list[dict[str, object]]) -> None:
    """Write audit rows (`entry`'s) in `db`'s transaction: one Core INSERT, no ORM objects.

    `db`: a session, or a driver-level connection (`driver.Plain`).
    """
    if entries:
        db.execute(_INSERT, entries)


_TABLE = AuditEvent.__table__  # type: ignore[attr-defined]
#: The columns `entry` fills, named: an INSERT compiled without values would list every column.
_INSERT = (
    insert(_TABLE)
    .values({name: bindparam(name, type_=_TABLE.c[name].type) for name in entry(0, "")})
    .inline()  # no new id wanted back
)


@cache
def with_change(change: Update, rows: int) -> Select:
    """PostgreSQL: `change` and `rows` audit rows as one statement, the rows only if it changed.

    `change` must return a row (RETURNING) when it changes something. Data-modifying WITH
    clauses run once, atomically, so in autocommit this is the transaction of
    change-then-`record_all` in one round trip instead of four (BEGIN, the change, the rows,
    COMMIT). The rows' values are `numbered(entries)`: bound and converted like `record_all`'s
    (an IP is sealed on its way in). The statement answers one boolean: whether it changed.
    """
    changed = change.cte("changed")
    names = list(entry(0, ""))
    each = [
        select(*(bindparam(f"audit{i}_{n}", type_=_TABLE.c[n].type) for n in names)).select_from(
            changed
        )
        for i in range(rows)
    ]
    rows_of = each[0] if rows == 1 else union_all(*each)
    # No Python-side defaults in the SELECT: the table's server defaults fill the rest.
    recorded = insert(_TABLE).from_select(names, rows_of, include_defaults=False).cte("recorded")
    return select(exists(select(changed.c[0]))).add_cte(recorded, changed)


def numbered(entries: list[dict[str, object]]) -> dict[str, object]:
    """`entry` rows as the parameters of `with_change`'s statement."""
    return {f"audit{i}_{n}": v for i, row in enumerate(entries) for n, v in row.items()}
