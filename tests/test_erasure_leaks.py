"""Erasure leaks nothing: not through the SQLite file, the closure email, or a kept email body."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tests.populate import Populator, as_text, dump
from webapp.closure import service
from webapp.models import ClosureRequest, Disclosure, OutboxMessage, SignIn, User

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


def withhold_the_release(db: Session, person_id: int) -> Disclosure:
    """Make the person's recorded release one withheld until well after the closure."""
    release = db.exec(select(Disclosure).where(Disclosure.user_id == person_id)).one()
    release.withheld_until = dt.date(2027, 6, 30)
    db.add(release)
    db.commit()
    return release


def test_a_withheld_release_is_kept_but_never_named_in_the_closure_email(app, db, seeded):
    person_id, staff_id, tokens, rows = seeded
    release = withhold_the_release(db, person_id)
    assert approve_now(app, db, rows["closure_request"], staff_id).ok

    email = db.exec(
        select(OutboxMessage).where(OutboxMessage.template == "closure_completed")
    ).one()
    told = f"{email.subject} {email.text_body} {email.html_body}"
    assert "Who received your information" not in told
    for (table, _), planted in tokens.items():
        assert table != "disclosure" or planted not in told
    assert "2027-06-30" not in told

    # Still kept, as the law requires, and recorded for staff and for the purge.
    db.expire_all()
    assert db.get(Disclosure, release.id).recipient == tokens[("disclosure", "recipient")]
    items = db.get(ClosureRequest, rows["closure_request"]).retained_items
    hidden = [i for i in items if i["table"] == "disclosure"]
    assert hidden and all(i["shown_to_person"] is False for i in hidden)
    assert all(i["rows"] == [release.id] for i in hidden)


def test_a_release_shown_to_the_person_is_listed_in_the_closure_email(app, db, seeded):
    _, staff_id, _, rows = seeded
    assert approve_now(app, db, rows["closure_request"], staff_id).ok
    email = db.exec(
        select(OutboxMessage).where(OutboxMessage.template == "closure_completed")
    ).one()
    assert "Recipient (Who received your information)" in email.text_body


def unlisted(app, request: ClosureRequest, needle: str) -> list[str]:
    """Each place in the database holding `needle` that the closure's kept list does not name."""
    allowed = {(i["table"], i["column"], row) for i in request.retained_items for row in i["rows"]}
    with app.extensions["sentro.engine"].connect() as connection:
        tables = dump(connection)
    return [
        f"{table}.{column} row {row['id']}"
        for table, found in tables.items()
        for row in found
        for column, value in row.items()
        if needle in as_text(value) and (table, column, row.get("id")) not in allowed
    ]


@pytest.fixture
def emailed_dave(db, seeded):
    """The person is Dave, and the email we sent him greets him by name everywhere it can."""
    person_id, *_ = seeded
    dave = db.get(User, person_id)
    dave.name = "Zwdave Kowhai"
    db.add(dave)
    sent = db.exec(select(OutboxMessage).where(OutboxMessage.user_id == person_id)).one()
    sent.subject, sent.text_body = "Zwdave, your receipt", "Kia ora Zwdave Kowhai, thanks."
    sent.html_body, sent.headers = "<p>Kia ora Zwdave Kowhai</p>", {"X-Greeting": "Zwdave"}
    sent.last_error = "550 <zwdave@example.com> mailbox full"
    db.add(sent)
    db.commit()
    return sent.id


@pytest.mark.parametrize(
    ("held", "kept_columns"),
    [
        ("outbox_message.template", {"template"}),
        ("outbox_message.text_body", {"text_body"}),
        (
            "outbox_message",
            {"to_addr", "subject", "text_body", "html_body", "headers", "template"}
            | {"last_error", "sent_at"},
        ),
    ],
)
def test_a_hold_on_the_outbox_keeps_exactly_what_it_names_and_lists_every_kept_column(
    app, db, seeded, emailed_dave, held, kept_columns
):
    _, staff_id, _, rows = seeded
    with app.test_request_context():
        assert service.add_hold(
            db,
            rows["closure_request"],
            db.get(User, staff_id),
            what=held,
            legal_basis="Dispute 2026/7 about a receipt",
            until="2027-01-31",
            now=NOW,
        ).ok
    assert approve_now(app, db, rows["closure_request"], staff_id).ok
    request = db.get(ClosureRequest, rows["closure_request"])
    listed = {
        i["column"]
        for i in request.retained_items
        if i["table"] == "outbox_message" and i["rows"] == [emailed_dave]
    }
    assert listed == kept_columns
    assert unlisted(app, request, "Zwdave") == []
    assert unlisted(app, request, "zwdave") == []


def test_the_closure_email_itself_is_listed_column_by_column(app, db, seeded):
    _, staff_id, _, rows = seeded
    assert approve_now(app, db, rows["closure_request"], staff_id).ok
    request = db.get(ClosureRequest, rows["closure_request"])
    email = db.exec(
        select(OutboxMessage).where(OutboxMessage.template == "closure_completed")
    ).one()
    listed = {i["column"] for i in request.retained_items if i["rows"] == [email.id]}
    assert {"to_addr", "subject", "text_body", "html_body", "headers"} <= listed
