"""Erasure: after a completed closure, nothing of the person survives but the listed items."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from sqlmodel import Session, select

from tests.populate import PopulateError, Populator, as_text, dump, token
from webapp.closure import erasure, purge, service
from webapp.closure.erasure import python_type
from webapp.models import (
    ClosureRequest,
    OutboxMessage,
    RetentionHold,
    SignIn,
    User,
    metadata,
    personal_columns,
    user_linked_tables,
    utcnow,
)

NOW = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def seeded(app):
    """A person with a distinctive value in every personal column of every user-linked table."""
    engine = app.extensions["sentro.engine"]
    with engine.begin() as connection:
        populator = Populator(connection, NOW)
        person_id = populator.person()
        staff_id = connection.execute(
            User.__table__.insert().values(  # type: ignore[attr-defined]
                issuer="https://id.test", subject="staff-1", email="staff@sentro.co", is_staff=True
            )
        ).inserted_primary_key[0]
    return person_id, staff_id, populator.tokens, populator.rows


def _approve_now(app, db: Session, request_id: int, staff_id: int) -> service.Result:
    with app.test_request_context():
        return service.approve(
            db, request_id, db.get(User, staff_id), grace_days=0, now=NOW + dt.timedelta(days=3)
        )


def test_the_populator_plants_a_token_in_every_personal_string_column(seeded):
    _, _, tokens, rows = seeded
    for table in user_linked_tables():
        assert table.name in rows, f"{table.name} got no row"
        for name, _ in personal_columns(table).items():
            column = table.c[name]
            if python_type(column) is str:
                assert (table.name, name) in tokens


def test_the_populator_fails_naming_a_table_it_cannot_fill():
    from sqlalchemy import Column, Integer, MetaData, Table
    from sqlalchemy.types import NullType

    scratch = Table(
        "odd",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("x", NullType, nullable=False),
    )
    with pytest.raises(PopulateError, match=r"odd\.x"):
        Populator(None, NOW).value(scratch, scratch.c.x, ("odd",))


def test_a_completed_closure_leaves_only_the_listed_items_in_any_table(app, db, seeded):
    person_id, staff_id, tokens, rows = seeded
    assert _approve_now(app, db, rows["closure_request"], staff_id).ok

    request = db.get(ClosureRequest, rows["closure_request"])
    assert request.status == "completed"
    allowed = {
        (item["table"], item["column"], row)
        for item in request.retained_items
        for row in item["rows"]
    }
    with app.extensions["sentro.engine"].connect() as connection:
        tables = dump(connection)
    survivors = []
    for table in metadata.sorted_tables:
        pk = next(iter(table.primary_key.columns)).name
        for row in tables[table.name]:
            for column, value in row.items():
                text = as_text(value)
                for (origin_table, origin_column), planted in tokens.items():
                    if planted in text and (table.name, column, row[pk]) not in allowed:
                        survivors.append(f"{origin_table}.{origin_column} in {table.name}.{column}")
    assert survivors == []

    # Each kept value is exactly one the data map or a hold keeps, and says why and until when.
    kept = {(item["table"], item["column"]) for item in request.retained_items}
    assert ("user", "subject") in kept
    assert ("closure_request", "received_at") in kept
    assert ("outbox_message", "to_addr") in kept  # the completion email, until it is purged
    for item in request.retained_items:
        assert item["basis"] and dt.date.fromisoformat(item["until"]) > NOW.date()
    erased = set(tokens) - kept
    assert ("user", "email") in erased and ("sign_in", "user_agent") in erased
    user = db.get(User, person_id)
    assert (user.status, user.name, user.email) == ("closed", "", "")
    assert db.exec(select(SignIn).where(SignIn.user_id == person_id)).all() == []


def test_the_sqlite_file_holds_no_erased_value_even_in_free_pages(app, db, seeded, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("the file check is for SQLite")
    person_id, staff_id, tokens, rows = seeded
    for _ in range(60):  # enough rows that deleting them frees whole pages
        db.add(SignIn(user_id=person_id, user_agent=tokens[("sign_in", "user_agent")]))
    db.commit()
    assert _approve_now(app, db, rows["closure_request"], staff_id).ok
    request = db.get(ClosureRequest, rows["closure_request"])
    with app.extensions["sentro.engine"].connect() as connection:
        tables = dump(connection)
    kept_text = " ".join(
        as_text(row[item["column"]])
        for item in request.retained_items
        for row in tables[item["table"]]
        if row["id"] in item["rows"]
    )
    path = database_url.removeprefix("sqlite:///")
    app.extensions["sentro.engine"].dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        text = "\n".join(raw.iterdump())
    with open(path, "rb") as file:
        content = file.read()
    left = [
        key
        for key, planted in tokens.items()
        if planted not in kept_text and (planted in text or planted.encode() in content)
    ]
    assert left == []


def test_the_completion_email_lists_each_kept_item_and_is_queued_before_the_address_goes(
    app, db, seeded
):
    _, staff_id, tokens, rows = seeded
    _approve_now(app, db, rows["closure_request"], staff_id)
    request = db.get(ClosureRequest, rows["closure_request"])
    email = db.exec(
        select(OutboxMessage).where(OutboxMessage.template == "closure_completed")
    ).one()
    assert email.to_addr == tokens[("user", "email")]
    assert email.user_id is None  # not the person's any more: erasure must not take it
    for item in request.retained_items:
        if item["table"] == "outbox_message":  # the email itself: it says so in a sentence
            assert "This email itself stays in our outbox for 90 days" in email.text_body
            continue
        assert item["label"] in email.text_body
        assert item["until"] in email.text_body


def test_erasure_is_all_or_nothing(app, db, seeded, monkeypatch):
    _, staff_id, _, rows = seeded
    with app.extensions["sentro.engine"].connect() as connection:
        before = dump(connection)
    original = erasure.erased_value

    def fail_on_the_user_row(table, column, *args):
        if table.name == "user":  # the last table: every other one has been changed by now
            raise erasure.ErasureError("simulated failure")
        return original(table, column, *args)

    monkeypatch.setattr(erasure, "erased_value", fail_on_the_user_row)
    result = _approve_now(app, db, rows["closure_request"], staff_id)
    assert not result.ok
    with app.extensions["sentro.engine"].connect() as connection:
        assert dump(connection) == before


def test_a_hold_keeps_what_it_names_with_its_basis_and_date(app, db, seeded):
    person_id, staff_id, tokens, rows = seeded
    staff = db.get(User, staff_id)
    with app.test_request_context():
        held = service.add_hold(
            db,
            rows["closure_request"],
            staff,
            what="sign_in",
            legal_basis="Police request 2026/114 (Search and Surveillance Act 2012)",
            until="2027-06-30",
            now=NOW,
        )
    assert held.ok, held.errors
    _approve_now(app, db, rows["closure_request"], staff_id)
    sign_in = db.exec(select(SignIn).where(SignIn.user_id == person_id)).one()
    assert sign_in.user_agent == tokens[("sign_in", "user_agent")]
    assert sign_in.ip == tokens[("sign_in", "ip")]
    items = db.get(ClosureRequest, rows["closure_request"]).retained_items
    held_items = [i for i in items if i["table"] == "sign_in"]
    assert {i["column"] for i in held_items} == set(personal_columns(SignIn.__table__))
    assert {(i["basis"], i["until"]) for i in held_items} == {
        ("Police request 2026/114 (Search and Surveillance Act 2012)", "2027-06-30")
    }


def test_a_hold_on_one_column_keeps_the_row_but_erases_the_rest(app, db, seeded):
    person_id, staff_id, tokens, rows = seeded
    with app.test_request_context():
        service.add_hold(
            db,
            rows["closure_request"],
            db.get(User, staff_id),
            what="sign_in.ip",
            legal_basis="Open fraud investigation",
            until="2027-01-31",
            now=NOW,
        )
    _approve_now(app, db, rows["closure_request"], staff_id)
    sign_in = db.exec(select(SignIn).where(SignIn.user_id == person_id)).one()
    assert sign_in.ip == tokens[("sign_in", "ip")]
    assert sign_in.user_agent == ""


def test_purge_removes_kept_items_once_their_end_date_passes(app, db, seeded):
    person_id, staff_id, _, rows = seeded
    _approve_now(app, db, rows["closure_request"], staff_id)
    request = db.get(ClosureRequest, rows["closure_request"])
    email_items = [i for i in request.retained_items if i["table"] == "outbox_message"]
    [outbox_id] = {row for item in email_items for row in item["rows"]}

    later = NOW + dt.timedelta(days=120)
    with app.app_context():
        assert purge.expire_retained(db, later) == f"removed {len(email_items)} retained items"
        db.commit()
    assert db.get(OutboxMessage, outbox_id) is None
    db.expire_all()
    assert db.get(User, person_id).subject == "zq-user-subject-91x"

    much_later = NOW + dt.timedelta(days=8 * 365)
    with app.app_context():
        purge.expire_retained(db, much_later)
        db.commit()
    db.expire_all()
    assert db.get(User, person_id).subject == f"erased-{person_id}"
    assert db.get(ClosureRequest, rows["closure_request"]) is None
    assert db.exec(select(RetentionHold)).all() == []


def test_a_table_erasure_cannot_handle_fails_loudly_and_changes_nothing():
    from sqlalchemy import Column, Integer, MetaData, Table
    from sqlalchemy.types import NullType

    scratch = Table(
        "odd",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("x", NullType, nullable=False),
    )
    with pytest.raises(erasure.ErasureError, match=r"odd\.x"):
        erasure.erased_value(scratch, scratch.c.x, "value", 1, utcnow())


def test_token_fits_short_columns():
    from sqlalchemy import Column, MetaData, String, Table

    table = Table("t", MetaData(), Column("c", String(16)))
    planted = token(table, table.c.c)
    assert len(planted) <= 16 and planted.startswith("zq") and planted.endswith("91x")


@pytest.fixture
def a_table_added_later(app):
    """A table another engineer might add tomorrow, declared only through the data map."""
    from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table

    from webapp.models import ANONYMISE, RETAIN, DataCategory, Retention, personal

    table = Table(
        "loyalty_card",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("user_id", Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False),
        Column("card_number", String(40), nullable=True, info=personal("Card number")),
        Column(
            "nickname", String(60), nullable=False, info=personal("Nickname", on_closure=ANONYMISE)
        ),
        Column(
            "issued_on",
            Date,
            nullable=False,
            info=personal("Issued", on_closure=RETAIN, retention=Retention("GST records", 30)),
        ),
        info={"privacy": DataCategory("Loyalty cards", purpose="To give you points.")},
    )
    engine = app.extensions["sentro.engine"]
    table.create(engine)
    try:
        yield table
    finally:
        table.drop(engine)
        metadata.remove(table)


def test_a_table_added_later_is_erased_without_new_code(app, db, a_table_added_later):
    engine = app.extensions["sentro.engine"]
    with engine.begin() as connection:
        populator = Populator(connection, NOW)
        person_id = populator.person()
        staff_id = connection.execute(
            User.__table__.insert().values(issuer="https://id.test", subject="s", email="s@x.test")  # type: ignore[attr-defined]
        ).inserted_primary_key[0]
    assert ("loyalty_card", "card_number") in populator.tokens
    assert _approve_now(app, db, populator.rows["closure_request"], staff_id).ok
    with engine.connect() as connection:
        card = connection.execute(select(a_table_added_later)).one()._mapping
    assert (card["user_id"], card["card_number"], card["nickname"]) == (person_id, None, "")
    items = db.get(ClosureRequest, populator.rows["closure_request"]).retained_items
    assert {"table": "loyalty_card", "column": "issued_on", "basis": "GST records"}.items() <= next(
        i for i in items if i["table"] == "loyalty_card"
    ).items()
