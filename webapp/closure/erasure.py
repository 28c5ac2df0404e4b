"""Erasure over the data map: one generic pass, no code per table.

Every table in `user_linked_tables()` says, through its `DataCategory` and `personal(...)`
columns, what closing an account does to it. A table whose rows are deleted on closure loses
the person's rows, unless one of its columns is kept (a RETAIN declaration or a staff hold),
in which case the rows stay and every other personal column is blanked. Tables whose rows
stay (the `user` row) have each personal column erased or anonymised. What is kept is
listed item by item — table, column, label, basis, end date, rows — and `privacy purge`
removes each item when its end date passes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Table, delete, select, update
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from ..db import checkpoint_after_commit
from ..mail.purge import OUTBOX_RETENTION
from ..models import (
    RETAIN,
    ClosureRequest,
    Personal,
    User,
    metadata,
    personal_columns,
    privacy_of,
    user_linked_tables,
)
from ..timefmt import zone_of


class ErasureError(RuntimeError):
    """The data map does not say how to erase something; nothing was changed."""


@dataclass(frozen=True)
class Keep:
    """Why and until when one personal column outlives the account."""

    basis: str
    until: dt.date


@dataclass
class TablePlan:
    """What erasure does to one table's rows about the person."""

    table: Table
    rows: list[Any]  #: primary keys of the person's rows
    delete_rows: bool
    erase: dict[str, Personal] = field(default_factory=dict)
    keep: dict[str, Keep] = field(default_factory=dict)
    #: rows the person may not see yet (the table's `export_where`, e.g. a withheld release)
    hidden: list[Any] = field(default_factory=list)


def _primary_key(table: Table) -> Column:
    columns = list(table.primary_key.columns)
    if len(columns) != 1:
        raise ErasureError(f"{table.name}: erasure needs a single-column primary key")
    return columns[0]


def _category(table: Table):
    category = privacy_of(table)
    if category is None:
        raise ErasureError(f"{table.name} holds data about a person but has no DataCategory")
    return category


def hold_keys() -> list[tuple[str, str]]:
    """What a retention hold can name: a whole category ("table") or one column ("table.col")."""
    keys: list[tuple[str, str]] = []
    for table in user_linked_tables():
        category = _category(table)
        keys.append((table.name, f"{category.name} (all of it)"))
        for name, declaration in personal_columns(table).items():
            keys.append((f"{table.name}.{name}", f"{category.name}: {declaration.label}"))
    return keys


def retained_by_law() -> list[dict[str, Any]]:
    """Every column the data map keeps after closure: label, category, basis, period in days."""
    return [
        {
            "category": _category(table).name,
            "label": declaration.label,
            "basis": declaration.retention.basis,
            "days": declaration.retention.days,
        }
        for table in user_linked_tables()
        for declaration in personal_columns(table).values()
        if declaration.on_closure is RETAIN and declaration.retention is not None
    ]


def kept_by_category() -> list[dict[str, Any]]:
    """What closure keeps, by category: each reason and period said once, with what it covers."""
    grouped: dict[str, dict[tuple[str, int], list[str]]] = {}
    for item in retained_by_law():
        reasons = grouped.setdefault(item["category"], {})
        reasons.setdefault((item["basis"], item["days"]), []).append(item["label"])
    return [
        {
            "category": category,
            "reasons": [
                {"basis": basis, "days": days, "labels": labels}
                for (basis, days), labels in reasons.items()
            ],
        }
        for category, reasons in grouped.items()
    ]


def _kept(table: Table, column: str, declaration: Personal, holds, today: dt.date) -> Keep | None:
    keeps = []
    if declaration.on_closure is RETAIN and declaration.retention is not None:
        until = today + dt.timedelta(days=declaration.retention.days)
        keeps.append(Keep(declaration.retention.basis, until))
    for hold in holds:
        if hold.what in (table.name, f"{table.name}.{column}"):
            keeps.append(Keep(hold.legal_basis, hold.until))
    return max(keeps, key=lambda keep: keep.until) if keeps else None


def plan(db: Session, user_id: int, holds: list, now: dt.datetime) -> list[TablePlan]:
    """Read the data map and the person's rows; decide, table by table, what happens."""
    plans = []
    for table in reversed(user_linked_tables()):  # children before the tables they point at
        category = _category(table)
        pk = _primary_key(table)
        owned = table.c[category.owner] == user_id
        rows = list(db.execute(select(pk).where(owned)).scalars())
        table_plan = TablePlan(table, rows, delete_rows=category.delete_rows_on_closure)
        narrow = category.extra.get("export_where")
        if narrow is not None and rows:
            # The same filter the export applies: what the person may not see yet is erased
            # or kept like the rest, but never named to them (see `shown_to_person`).
            shown = set(db.execute(select(pk).where(owned, narrow(table, now))).scalars())
            table_plan.hidden = [row for row in rows if row not in shown]
        for name, declaration in personal_columns(table).items():
            keep = _kept(table, name, declaration, holds, now.date())
            # Only what holds something is kept (and listed): an approved request's empty
            # decline reason is not "kept", it is nothing.
            if keep is None or not _holds_any(db, table, table.c[category.owner], user_id, name):
                table_plan.erase[name] = declaration
            else:
                table_plan.keep[name] = keep
        if table_plan.keep:
            table_plan.delete_rows = False
        plans.append(table_plan)
    return plans


def _holds_any(db: Session, table: Table, owner: Column, user_id: int, name: str) -> bool:
    """Whether any of the person's rows has a value (not NULL, not empty text) in `name`."""
    column = table.c[name]
    query = select(owner).where(owner == user_id, column.is_not(None))
    if python_type(column) is str:
        query = query.where(column != "")
    return db.execute(query.limit(1)).first() is not None


def retained_items(plans: list[TablePlan]) -> list[dict[str, Any]]:
    """The record of what was kept: one item per kept column that holds any of the person's rows.

    Rows the person may not see yet (a withheld release) make items of their own, marked
    ``shown_to_person: False``: kept and purged like the others, never named to the person.
    """
    items = []
    for p in plans:
        shown = [row for row in p.rows if row not in p.hidden]
        for name, keep in sorted(p.keep.items()):
            for rows, visible in ((shown, True), (p.hidden, False)):
                if rows:
                    items.append(_item(p.table, name, personal_columns(p.table)[name], keep, rows))
                    items[-1]["shown_to_person"] = visible
    return items


def _item(table: Table, column: str, declaration: Personal, keep: Keep, rows: list) -> dict:
    return {
        "table": table.name,
        "column": column,
        "category": _category(table).name,
        "label": declaration.label,
        "basis": keep.basis,
        "until": keep.until.isoformat(),
        "rows": sorted(rows),
        "purged_on": None,
    }


def _completion_email_items(outbox: Table, row: Any, now: dt.datetime) -> list[dict[str, Any]]:
    """The closure email itself is kept until the outbox deletes it: every column, item by item."""
    keep = Keep(
        "So the confirmation can reach you; deleted 90 days after it is sent.",
        (now + OUTBOX_RETENTION).date(),
    )
    items = []
    for name, declaration in personal_columns(outbox).items():
        item = _item(outbox, name, declaration, keep, [row])
        item["label"] = f"The email confirming your account was closed: {declaration.label}"
        items.append(item)
    return items


def shown_to_person(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The kept items the person may be told about (the closure email, any page of theirs)."""
    return [item for item in items if item.get("shown_to_person", True)]


def _is_unique(table: Table, column: Column) -> bool:
    if column.unique:
        return True
    groups = [c.columns for c in table.constraints if c.__class__.__name__ == "UniqueConstraint"]
    groups += [index.columns for index in table.indexes if index.unique]
    return any(column.name in group for group in groups)


def python_type(column: Column) -> type:
    """The Python type a column holds, looking through type decorators (AutoString, Sealed)."""
    kind = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, JSON):
        return dict
    return kind.python_type


def erased_value(table: Table, column: Column, current: Any, row_key: Any, now: dt.datetime):
    """What a personal value becomes: NULL where allowed, else a value that names no one."""
    if column.nullable:
        return None
    try:
        kind = python_type(column)
    except NotImplementedError as exc:
        raise ErasureError(f"{table.name}.{column.name}: no erased value for this type") from exc
    if issubclass(kind, str):
        if isinstance(current, str) and "@" in current:
            # Still a syntactically valid address, in a domain that can never receive mail.
            return f"erased-{row_key}@invalid"
        return f"erased-{row_key}" if _is_unique(table, column) else ""
    erased = {
        bool: False,
        int: 0,
        float: 0.0,
        Decimal: Decimal(0),
        dt.datetime: now,
        dt.date: now.date(),
        dict: [] if isinstance(current, list) else {},
    }
    for type_, value in erased.items():
        if issubclass(kind, type_):
            return value
    raise ErasureError(f"{table.name}.{column.name}: no erased value for {kind.__name__}")


def blank_columns(db: Session, table: Table, columns: list[str], rows: list, now) -> None:
    """Replace `columns` of the rows with these primary keys by their erased values."""
    if not columns or not rows:
        return
    pk = _primary_key(table)
    selected = [table.c[name] for name in columns]
    for row in db.execute(select(pk, *selected).where(pk.in_(rows))).all():
        key, *values = row
        new = {
            name: erased_value(table, table.c[name], value, key, now)
            for name, value in zip(columns, values, strict=True)
        }
        db.execute(update(table).where(pk == key).values(**new))


def apply(db: Session, plans: list[TablePlan], now: dt.datetime) -> None:
    """Carry out the plans in `db`'s transaction (the caller commits, or rolls back on error)."""
    for table_plan in plans:
        if not table_plan.rows:
            continue
        table, pk = table_plan.table, _primary_key(table_plan.table)
        if table_plan.delete_rows:
            db.execute(delete(table).where(pk.in_(table_plan.rows)))
        else:
            blank_columns(db, table, list(table_plan.erase), table_plan.rows, now)


def expire_item(db: Session, item: dict[str, Any], still_kept: set[str], now) -> None:
    """Remove one retained item whose end date passed; `still_kept` are the table's other items."""
    table = metadata.tables.get(item["table"])
    if table is None:
        raise ErasureError(f"retained item names an unknown table {item['table']!r}")
    category = _category(table)
    pk = _primary_key(table)
    if category.delete_rows_on_closure and not still_kept:
        db.execute(delete(table).where(pk.in_(item["rows"])))
    else:
        blank_columns(db, table, [item["column"]], item["rows"], now)


def erase_account(
    db: Session, request: ClosureRequest, user: User, holds: list, now: dt.datetime
) -> None:
    """Close the account of `request`: email the person what is kept, erase the rest, record it.

    Runs in `db`'s transaction: the caller commits, and any error rolls back everything.
    The completion email is queued before the address is anonymised, with no user id so the
    pass does not delete it; it is itself listed as kept until 90 days after it is sent.
    """
    from ..mail import queue_email

    # Every SQLite connection zeroes deleted content (webapp.db); the WAL's copies of the
    # erased pages go at the checkpoint that follows the commit.
    checkpoint_after_commit(db)
    plans = plan(db, user.id, holds, now)
    items = retained_items(plans)
    if user.email:
        message = queue_email(
            db,
            template="closure_completed",
            to=user.email,
            context={
                "items": shown_to_person(items),
                "closed_at": now,
                "request": request,
                "time_zone": zone_of(user),
            },
        )
        db.flush()
        items.extend(_completion_email_items(message.__table__, message.id, now))
    user.status = "closed"
    user.closed_at = now
    user.is_staff = False
    user.session_generation += 1  # every session of the account ends
    request.status = "completed"
    request.completed_at = now
    request.retained_items = items
    db.add_all([user, request])
    db.flush()
    apply(db, plans, now)
    db.expire_all()  # the pass wrote through Core: reload what the ORM holds


#: How long a delivered email stays in the outbox (the outbox's DataCategory says 90 days).


def categories_erased() -> list[dict[str, str]]:
    """Each category about a person, and whether closing deletes it or keeps part of it."""
    return [
        {
            "name": _category(table).name,
            "fate": "partly kept (see below)"
            if any(d.on_closure is RETAIN for d in personal_columns(table).values())
            else "deleted"
            if _category(table).delete_rows_on_closure
            else "erased",
        }
        for table in user_linked_tables()
    ]
