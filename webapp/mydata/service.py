"""The export: everything Sentro holds about a person, generated from the data map.

No table is named here. Every table that `webapp.models.user_linked_tables()` finds and that
declares a `DataCategory` becomes one category; its `personal(..., export=True)` columns are
the fields; the category's `owner` column says which rows are the person's. One query per
table, read in batches, so a person with ten rows and one with ten thousand cost the same
number of statements and the same memory. The JSON form is documented in
docs/export-schema.md (schema version 1).

A table may narrow what the person sees with ``DataCategory(extra={"export_where": fn})``:
``fn(table, now)`` returns a SQL condition (for example, a disclosure withheld until a date);
and shape each record the person sees with ``extra={"export_row": fn}``, ``fn(record)``
returning the record as shown (for example, a staff member's action without their address).
A table whose absent rows still say something (no subscription row: the list's default
applies) completes them with ``extra={"export_complete": fn}`` (or ``"module:name"``, for a
function the models cannot import): ``fn(records)`` yields the stored records and the implied.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from typing import Any

from sqlalchemy import Table, select
from sqlmodel import Session
from werkzeug.utils import import_string

from .. import audit
from ..models import DataCategory, User, personal_columns, privacy_of, user_linked_tables, utcnow

SCHEMA_URL = "https://sentro.co/schemas/account-export/v1"
SCHEMA_VERSION = 1
#: Rows fetched from the database at a time; memory stays flat whatever the row count.
BATCH_ROWS = 500
#: Bytes of JSON gathered before a chunk is handed to the server.
CHUNK_BYTES = 64 * 1024
#: Records encoded to JSON in one call: the encoder's cost per call, not per record.
RECORDS_PER_PIECE = 32


@dataclass(frozen=True)
class Category:
    """One kind of data held about the person, what it is for, and its records (read lazily)."""

    name: str
    purpose: str
    recipients: tuple[str, ...]
    retention: str
    table: str
    fields: dict[str, str]  #: column name -> what it is, for people
    records: Iterator[dict[str, Any]]


@dataclass(frozen=True)
class Export:
    """The whole export of one person, ready to be written as JSON or shown as a page."""

    generated_at: datetime
    person: dict[str, Any]
    categories: list[Category]


@dataclass(frozen=True)
class _Source:
    table: Table
    category: DataCategory
    fields: dict[str, str]


def _sources() -> list[_Source]:
    """Every table about a person that declares exported columns, in dependency order."""
    sources = []
    for table in user_linked_tables():
        category = privacy_of(table)
        if category is None or category.owner not in table.columns:
            continue  # tests/test_datamap.py refuses such a table; never guess its owner
        fields = {name: p.label for name, p in personal_columns(table).items() if p.export}
        if fields:
            sources.append(_Source(table, category, fields))
    return sources


def _records(db: Session, source: _Source, user_id: int, now: datetime) -> Iterator[dict[str, Any]]:
    """The person's rows of one table: one statement, fetched BATCH_ROWS at a time."""
    table = source.table
    conditions = [table.c[source.category.owner] == user_id]
    narrow: Callable[[Table, datetime], Any] | None = source.category.extra.get("export_where")
    if narrow is not None:
        conditions.append(narrow(table, now))
    statement = (
        select(*(table.c[name] for name in source.fields))
        .where(*conditions)
        .order_by(*table.primary_key.columns)
    )
    shape: Callable[[dict[str, Any]], dict[str, Any]] | None = source.category.extra.get(
        "export_row"
    )
    complete = source.category.extra.get("export_complete")
    if isinstance(complete, str):
        complete = import_string(complete)
    result = db.execute(statement, execution_options={"yield_per": BATCH_ROWS})
    try:
        # Plain rows zipped with the names read once: a mapping per row costs more than the dict.
        names = tuple(result.keys())
        rows = (dict(zip(names, row, strict=True)) for row in result)
        if shape is not None:
            rows = map(shape, rows)
        yield from complete(rows) if complete is not None else rows
    finally:
        result.close()


def build_export(db: Session, user: User, *, now: datetime | None = None) -> Export:
    """The person's export; each category's records are read when first iterated."""
    now = now or utcnow()
    categories = [
        Category(
            name=s.category.name,
            purpose=s.category.purpose,
            recipients=tuple(s.category.recipients),
            retention=s.category.retention,
            table=s.table.name,
            fields=dict(s.fields),
            records=_records(db, s, user.id, now),
        )
        for s in _sources()
    ]
    person = {"id": user.id, "email": user.email, "name": user.name}
    return Export(generated_at=now, person=person, categories=categories)


def record_export(db: Session, user: User, *, form: str) -> None:
    """Record in the audit that the person took their export ("json" or "page"); committed."""
    audit.record(db, user_id=user.id, action="export", field=form)
    db.commit()


def json_value(value: Any) -> Any:
    """A value as the export's JSON writes it: datetimes and dates in ISO 8601."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"{type(value).__name__} is not exportable")


#: `json.dumps(value, default=json_value, ensure_ascii=False, separators=(",", ":"))`,
#: without making an encoder for every value.
_dump = json.JSONEncoder(default=json_value, ensure_ascii=False, separators=(",", ":")).encode


def _batches(records: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The records in lists of RECORDS_PER_PIECE, read as they are needed."""
    records = iter(records)
    while batch := list(islice(records, RECORDS_PER_PIECE)):
        yield batch


def _open_object(fields: dict[str, Any], last_key: str) -> str:
    """`{"a":1,…,"last_key":` — an object whose last member is written piece by piece."""
    return _dump(fields)[:-1] + ("," if fields else "") + _dump(last_key) + ":"


def _pieces(export: Export) -> Iterator[str]:
    head = {
        "schema": SCHEMA_URL,
        "version": SCHEMA_VERSION,
        "generated_at": export.generated_at,
        "person": export.person,
    }
    yield _open_object(head, "categories") + "["
    for i, category in enumerate(export.categories):
        about = {
            "name": category.name,
            "table": category.table,
            "purpose": category.purpose,
            "recipients": list(category.recipients),
            "retention": category.retention,
            "fields": category.fields,
        }
        yield ("," if i else "") + _open_object(about, "records") + "["
        for j, batch in enumerate(_batches(category.records)):
            # A list's JSON is its records' JSON joined by commas: drop the brackets.
            yield ("," if j else "") + _dump(batch)[1:-1]
        yield "]}"
    yield "]}\n"


def export_json(export: Export) -> Iterator[bytes]:
    """The export as JSON, in chunks of about CHUNK_BYTES (stream it; never hold it whole)."""
    buffer: list[str] = []
    size = 0
    for piece in _pieces(export):
        buffer.append(piece)
        size += len(piece)
        if size >= CHUNK_BYTES:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()
