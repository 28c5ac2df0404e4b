"""Who owns which rows: the two-people walker plants rows for one person and watches them.

Rows are planted generically from the table definitions (every table with a foreign key to
`user`), so a table added later is covered. A table whose constraints the generic row cannot
meet gets a factory in FACTORIES, declared here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.types import TypeDecorator

from webapp.models import metadata, utcnow

#: table name -> function(user_id) returning the column values of one row owned by the user.
FACTORIES: dict[str, Callable[[int], dict[str, Any]]] = {}

MARK = "A-secret"


def user_column(table: Table):
    """The column that says whose row this is (the foreign key to user.id), or None."""
    if table.name == "user":
        return table.c.id
    for column in table.columns:
        if any(fk.column.table.name == "user" for fk in column.foreign_keys):
            return column
    return None


def person_tables() -> list[Table]:
    """Every table that holds rows about one person."""
    return [t for t in metadata.sorted_tables if user_column(t) is not None]


def _value(table: Table, column, user_id: int, db) -> Any:
    kind = column.type.impl if isinstance(column.type, TypeDecorator) else column.type
    if isinstance(kind, Enum):
        return kind.enums[0]
    if isinstance(kind, String | Text):
        length = getattr(kind, "length", None) or 200
        return f"{MARK}-{table.name}-{column.name}"[:length]
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return 1
    if isinstance(kind, Float | Numeric):
        return 1
    if isinstance(kind, DateTime):
        return utcnow()
    if isinstance(kind, Date):
        return date.today()
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, LargeBinary):
        return b"x"
    raise TypeError(f"no generic value for {table.name}.{column.name} ({kind!r})")


def generic_row(table: Table, user_id: int, db) -> dict[str, Any]:
    """A row of `table` owned by `user_id`, parents created as needed."""
    if table.name in FACTORIES:
        return FACTORIES[table.name](user_id)
    row: dict[str, Any] = {}
    for column in table.columns:
        foreign = next(iter(column.foreign_keys), None)
        if foreign is not None and foreign.column.table.name == "user":
            row[column.name] = user_id
        elif foreign is not None:
            parent = foreign.column.table
            row[column.name] = _insert(parent, user_id, db, foreign.column.name)
        elif column.primary_key and column.autoincrement in (True, "auto"):
            continue
        elif isinstance(column.type, String | Text) or not (
            column.nullable or column.default is not None or column.server_default is not None
        ):
            row[column.name] = _value(table, column, user_id, db)
    return row


def _insert(table: Table, user_id: int, db, key: str = "id") -> Any:
    row = generic_row(table, user_id, db)
    result = db.execute(table.insert().values(**row))
    if key in row:
        return row[key]
    return result.inserted_primary_key[0]


def plant_rows(app, db, user_id: int) -> None:
    """Give `user_id` one row in every person table that has none for them yet."""
    for table in person_tables():
        owner = user_column(table)
        if db.execute(select(owner).where(owner == user_id).limit(1)).first():
            continue
        try:
            with app.app_context():
                _insert(table, user_id, db)
            db.commit()
        except Exception as exc:
            db.rollback()
            raise AssertionError(
                f"could not plant a row in {table.name} ({exc.__class__.__name__}: {exc}); "
                "declare a factory for it in tests/ownership.py FACTORIES"
            ) from exc


def owned_rows(db, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of every person table that belongs to `user_id`."""
    found = {}
    for table in person_tables():
        owner = user_column(table)
        rows = db.execute(select(table).where(owner == user_id)).mappings().all()
        found[table.name] = [dict(r) for r in rows]
    db.rollback()
    return found


def snapshot(db, only_user: int | None = None) -> dict[str, list[str]]:
    """Every row (or every row of one person), comparable before and after a request."""
    state = {}
    for table in metadata.sorted_tables:
        query = select(table)
        if only_user is not None:
            owner = user_column(table)
            if owner is None:
                continue
            query = query.where(owner == only_user)
        rows = db.execute(query).all()
        state[table.name] = sorted(repr(tuple(_plain(v) for v in r)) for r in rows)
    db.rollback()
    return state


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
