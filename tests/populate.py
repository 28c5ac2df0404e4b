"""Fill every table about a person with one row of distinctive values, by walking the metadata.

Nothing here names a table: a table another engineer adds later is filled too, or the
populator fails naming the table and column it cannot fill. Personal columns of string type
get a token like ``zq-sign_in-user_agent-91x`` that a dump can be searched for; other
columns get their default or a neutral value; a foreign key to `user` names the person, any
other foreign key a row made for it first (or NULL where allowed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Table, insert, select
from sqlalchemy.engine import Connection

from webapp.closure.erasure import python_type
from webapp.models import metadata, user_linked_tables


class PopulateError(RuntimeError):
    """A column the populator does not know how to fill."""


def token(table: Table, column: Column, marker: str = "zq") -> str:
    """The distinctive value planted in a personal string column."""
    full = f"{marker}-{table.name}-{column.name}-91x"
    length = getattr(column.type, "length", None)
    if length is None or len(full) <= length:
        return full
    if length < 2:
        raise PopulateError(f"{table.name}.{column.name}: too short for a distinctive value")
    if length < 10:
        # Codes such as a country: upper case cannot collide with the lower-case tokens.
        return "QZ"
    digest = hashlib.sha1(f"{table.name}.{column.name}".encode()).hexdigest()
    return f"{marker}{digest}"[: length - 3] + "91x"


class Populator:
    """Insert one row per table through `connection`; remember primary keys and tokens."""

    def __init__(self, connection: Connection, now: dt.datetime, marker: str = "zq") -> None:
        self.connection = connection
        self.marker = marker
        self.now = now
        self.rows: dict[str, Any] = {}
        self.tokens: dict[tuple[str, str], str] = {}
        self._serial = itertools.count(1)

    def person(self) -> int:
        """The user row, then one row in every other table linked to a user."""
        user_id = self.ensure(metadata.tables["user"])
        for table in user_linked_tables():
            self.ensure(table)
        return user_id

    def ensure(self, table: Table, chain: tuple[str, ...] = ()) -> Any:
        """The primary key of this table's populated row, inserting it first if needed."""
        if table.name in self.rows:
            return self.rows[table.name]
        if table.name in chain:
            raise PopulateError(f"{table.name}: foreign keys form a cycle through {chain}")
        values = {}
        for column in table.columns:
            generated = column.primary_key and column.autoincrement in (True, "auto")
            if generated and python_type(column) is int:
                continue
            values[column.name] = self.value(table, column, (*chain, table.name))
        result = self.connection.execute(insert(table).values(**values))
        key = result.inserted_primary_key[0]
        self.rows[table.name] = key
        return key

    def value(self, table: Table, column: Column, chain: tuple[str, ...]) -> Any:
        """A value for one column."""
        for fk in column.foreign_keys:
            target = fk.column.table
            if target.name in self.rows or target.name not in chain:
                return self.ensure(target, chain)
            if column.nullable:
                return None
            raise PopulateError(f"{table.name}.{column.name}: cannot satisfy its foreign key")
        try:
            kind = python_type(column)
        except NotImplementedError as exc:
            raise PopulateError(f"{table.name}.{column.name}: unknown column type") from exc
        if issubclass(kind, str):
            if "personal" in column.info:
                planted = token(table, column, self.marker)
                self.tokens[(table.name, column.name)] = planted
                return planted
            default = column.default
            if default is not None and default.is_scalar:
                return default.arg
            neutral = f"n{next(self._serial)}{self.marker[:5]}-{table.name}-{column.name}"
            length = getattr(column.type, "length", None)
            return neutral[:length] if length else neutral
        default = column.default
        if default is not None and default.is_scalar:
            return default.arg
        if default is not None and default.is_callable:
            return default.arg(None)
        for type_, filler in (
            (bool, False),
            (int, 0),
            (float, 0.0),
            (Decimal, Decimal(0)),
            (dt.datetime, self.now),
            (dt.date, self.now.date()),
            (dict, {}),
            (list, []),
        ):
            if issubclass(kind, type_):
                return filler
        if column.nullable:
            return None
        raise PopulateError(f"{table.name}.{column.name}: no value for {kind.__name__}")


def dump(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, read through the column types (sealed values unsealed)."""
    return {
        table.name: [dict(row._mapping) for row in connection.execute(select(table))]
        for table in metadata.sorted_tables
    }


def as_text(value: Any) -> str:
    """A value as text, JSON included, for searching."""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)
