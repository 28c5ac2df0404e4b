"""Erasure leaks nothing: not through the SQLite file, the closure email, or a kept email body."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.populate import Populator, as_text, dump
from webapp.closure import service
from webapp.models import ClosureRequest, SignIn, User

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def seeded(app):
    """A person with a distinctive value in every personal column, and a member of staff."""
    with app.extensions["sentro.engine"].begin() as connection:
        populator = Populator(connection, NOW, marker="zw")
        person_id = populator.person()
        staff_id = connection.execute(
            User.__table__.insert().values(  # type: ignore[attr-defined]
                issuer="https://id.test", subject="staff-9", email="staff9@sentro.co", is_staff=True
            )
        ).inserted_primary_key[0]
    return person_id, staff_id, populator.tokens, populator.rows


def approve_now(app, db: Session, request_id: int, staff_id: int) -> service.Result:
    with app.test_request_context():
        return service.approve(
            db, request_id, db.get(User, staff_id), grace_days=0, now=NOW + dt.timedelta(days=3)
        )


def kept_text(app, request: ClosureRequest) -> str:
    """Every value the closure record says was kept, as text."""
    with app.extensions["sentro.engine"].connect() as connection:
        tables = dump(connection)
    return " ".join(
        as_text(row[item["column"]])
        for item in request.retained_items
        for row in tables[item["table"]]
        if row["id"] in item["rows"]
    )


def test_neither_the_sqlite_file_nor_its_wal_holds_an_erased_value(app, db, seeded, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the file check is for SQLite; PostgreSQL operators VACUUM (README)")
    person_id, staff_id, tokens, rows = seeded
    for _ in range(60):  # enough rows that deleting them frees whole pages
        db.add(SignIn(user_id=person_id, user_agent=tokens[("sign_in", "user_agent")]))
    db.commit()
    assert approve_now(app, db, rows["closure_request"], staff_id).ok
    kept = kept_text(app, db.get(ClosureRequest, rows["closure_request"]))

    # Read the files as they are now, engine still open: no checkpoint of the test's own.
    path = Path(database_url.removeprefix("sqlite:///"))
    content = path.read_bytes()
    wal = Path(f"{path}-wal")
    content += wal.read_bytes() if wal.exists() else b""
    left = [
        key
        for key, planted in tokens.items()
        if planted not in kept and planted.encode() in content
    ]
    assert left == []
