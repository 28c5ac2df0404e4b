"""A closure end to end, as a hostile reviewer runs it: nothing leaks before, in or after it.

Dave asks a privacy question (staff answer it), staff record a release to a fraud office that
is withheld from him until next year, put a hold on the outbox, and approve his closure; the
daily purge erases the account when the grace period ends. What Dave can fetch before, the
email that tells him what was kept, and a dump of the database after, hold nothing the policy
or his own view says they should not; a staff member's IP appears in nothing he can fetch.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import url_for
from sqlmodel import select

from tests.conftest import sign_in
from tests.populate import as_text, dump
from webapp import retention
from webapp.models import ClosureRequest, Inquiry, OutboxMessage, User, utcnow

STAFF_IP, DAVE_IP = "198.51.100.77", "203.0.113.45"
DAVE = {"email": "daveo.t@example.com", "name": "Daveo Tarapunga"}
STAFF = {"email": "sam.staff@sentro.co", "name": "Samwise Staffer", "groups": ["sentro-staff"]}
#: The release staff record and withhold: none of it may reach Dave before its date.
WITHHELD = {
    "recipient": "Serious Fraud Office",
    "reference": "SFO-2026-0077",
    "withheld_reason": "Live investigation: do not tip off",
}
WITHHELD_UNTIL = (utcnow() + timedelta(days=200)).date().isoformat()
STAFF_DETAILS = (STAFF_IP, STAFF["name"], STAFF["email"])


def browser(app, provider_url, sub: str, claims: dict, ip: str):
    """A test client signed in through the provider, its requests coming from `ip`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    assert sign_in(client, provider_url, sub, claims).status_code == 303
    return client


def customer_pages(app, client, inquiry_id: int) -> dict[str, str]:
    """Every page a signed-in customer can fetch: each GET route without arguments, and theirs."""
    paths = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.arguments
        and not rule.rule.startswith(("/staff", "/dev", "/static"))
        and rule.rule not in ("/logout",)
    }
    paths.add(f"/account/privacy-requests/{inquiry_id}")
    return {path: client.get(path).get_data(as_text=True) for path in sorted(paths)}


@pytest.fixture
def staff_client(app, provider_url):
    return browser(app, provider_url, "sam-staff", STAFF, STAFF_IP)


@pytest.fixture
def dave(app, provider_url):
    return browser(app, provider_url, "dave", DAVE, DAVE_IP)


def test_a_closure_end_to_end_leaks_nothing(app, db, dave, staff_client, database_url):
    # Dave asks a question and asks to close his account (each sends him an email by name).
    assert (
        dave.post(
            "/account/privacy-requests",
            data={"kind": "access", "subject": "What do you hold?", "message": "All of it please."},
        ).status_code
        == 303
    )
    assert dave.post("/account/close", data={"confirmation": "CLOSE"}).status_code in (302, 303)
    person = db.exec(select(User).where(User.subject == "dave")).one()
    inquiry = db.exec(select(Inquiry).where(Inquiry.user_id == person.id)).one()
    request = db.exec(select(ClosureRequest).where(ClosureRequest.user_id == person.id)).one()

    # Staff answer, record a withheld release, review, hold the outbox's kinds of email.
    staff = staff_client
    assert (
        staff.post(
            f"/staff/privacy-requests/{inquiry.id}/answer", data={"body": "Attached, Dave."}
        ).status_code
        == 303
    )
    release = {
        "person": DAVE["email"],
        "disclosed_on": (utcnow() - timedelta(days=2)).date().isoformat(),
        "categories": ["Account"],
        "other_categories": "",
        "purpose": "Fraud investigation",
        "legal_basis": "Serious Fraud Office Act 1990, s 9",
        "withheld_until": WITHHELD_UNTIL,
        **WITHHELD,
    }
    assert staff.post("/staff/disclosures", data=release).status_code == 303
    assert staff.post(f"/staff/closures/{request.id}/review").status_code == 303
    assert (
        staff.post(
            f"/staff/closures/{request.id}/holds",
            data={
                "what": "outbox_message.template",
                "legal_basis": "Electronic Transactions Act 2002: record of notices sent",
                "until": (utcnow() + timedelta(days=400)).date().isoformat(),
            },
        ).status_code
        == 303
    )

    # Before: nothing Dave can fetch shows the withheld release or anything about the staff.
    pages = customer_pages(app, dave, inquiry.id)
    assert pages["/account/export.json"].startswith("{")
    assert DAVE["name"] in pages["/account/your-data"]  # his own data is there
    assert "Sentro staff" in pages["/account/export.json"]
    for path, body in pages.items():
        for secret in (*STAFF_DETAILS, *WITHHELD.values(), WITHHELD_UNTIL):
            assert secret not in body, f"{secret!r} in {path}"

    db.rollback()  # read what the requests committed since
    mail_to_dave = db.exec(select(OutboxMessage).where(OutboxMessage.user_id == person.id)).all()
    assert {m.template for m in mail_to_dave} >= {"inquiry_received", "inquiry_answered"}
    for message in mail_to_dave:
        sent = f"{message.subject}\n{message.text_body}\n{message.html_body}\n{message.headers}"
        for secret in (*STAFF_DETAILS, *WITHHELD.values(), WITHHELD_UNTIL):
            assert secret not in sent, f"{secret!r} in the {message.template} email"

    # Approved with the grace period; the daily purge after it erases the account.
    assert staff.post(f"/staff/closures/{request.id}/approve").status_code == 303
    db.rollback()  # the purge runs in a transaction of its own, as `privacy purge` does
    with app.app_context():
        reports = dict(retention.run_all(db, utcnow() + timedelta(days=15)))
    assert "erased 1 accounts" in " ".join(reports.values())
    db.expire_all()
    request = db.get(ClosureRequest, request.id)
    assert request.status == "completed"

    # The email: what is kept, told item by item, and nothing withheld or about staff.
    email = db.exec(
        select(OutboxMessage).where(OutboxMessage.template == "closure_completed")
    ).one()
    told = f"{email.subject}\n{email.text_body}\n{email.html_body}\n{email.headers}"
    assert "Kind of email (Emails we sent you)" in email.text_body  # the hold, as kept
    for secret in (*STAFF_DETAILS, *WITHHELD.values(), WITHHELD_UNTIL):
        assert secret not in told
    assert "Who received your information" not in told
    assert "/email-preferences/" not in told  # nothing left to manage

    # After: each value of Dave's is only where the closure's kept list says it is.
    kept = {(i["table"], i["column"], row) for i in request.retained_items for row in i["rows"]}
    with app.extensions["sentro.engine"].connect() as connection:
        tables = dump(connection)
    dave_values = (DAVE["name"], DAVE["email"], DAVE_IP, "What do you hold?", "Attached, Dave")
    unlisted = [
        f"{value!r} in {table}.{column} row {row.get('id')}"
        for table, rows in tables.items()
        for row in rows
        for column, stored in row.items()
        for value in dave_values
        if value in as_text(stored) and (table, column, row.get("id")) not in kept
    ]
    assert unlisted == []
    assert not any(
        DAVE["name"] in as_text(v) for rows in tables.values() for r in rows for v in r.values()
    )
    # The withheld release is still kept, as the law requires, and named nowhere Dave reads.
    hidden = [i for i in request.retained_items if i["table"] == "disclosure"]
    assert hidden and not any(i["shown_to_person"] for i in hidden)

    if database_url.startswith("sqlite"):  # nor in the file, its free pages or its WAL
        path = Path(database_url.removeprefix("sqlite:///"))
        wal = Path(f"{path}-wal")
        raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
        assert DAVE["name"].encode() not in raw


def test_dave_signed_out_after_closure_can_fetch_nothing_of_his(app, dave, staff_client, db):
    assert dave.post("/account/close", data={"confirmation": "CLOSE"}).status_code in (302, 303)
    request = db.exec(select(ClosureRequest)).one()
    with app.test_request_context():
        approve = url_for("closure_staff.approve", request_id=request.id)
    staff_client.post(f"/staff/closures/{request.id}/review")
    assert staff_client.post(approve).status_code == 303
    db.rollback()
    with app.app_context():
        retention.run_all(db, utcnow() + timedelta(days=15))
    export = dave.get("/account/export.json")
    assert export.status_code in (302, 303) and DAVE["email"] not in export.get_data(as_text=True)
