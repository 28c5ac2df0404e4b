"""Staff never act on a case about themselves; a closed account's cases stay as they were.

Closure requests, privacy requests and disclosures alike, whatever the route (webapp.cases).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.people import make_person
from webapp.cases import CLOSED_ACCOUNT, CLOSED_ACCOUNT_RECORD, OWN_CASE
from webapp.inquiries import service as inquiries
from webapp.models import (
    AuditEvent,
    ClosureRequest,
    Disclosure,
    Inquiry,
    InquiryMessage,
    OutboxMessage,
    RetentionHold,
    User,
    utcnow,
)


def rows(db, model) -> list:
    db.rollback()  # what the app committed since
    db.expire_all()
    return [r.model_dump() for r in db.exec(select(model)).all()]


def refusals(db, staff: User) -> list[str]:
    db.rollback()
    events = db.exec(
        select(AuditEvent).where(
            AuditEvent.user_id == staff.id, AuditEvent.action == "staff.own-case-refused"
        )
    ).all()
    return [e.field for e in events]


def file_inquiry(app, db, person: User) -> Inquiry:
    with app.test_request_context():
        result = inquiries.open_inquiry(
            db, person, kind="access", subject="My data", message="Please send it."
        )
    return result.inquiry


# --- a case about oneself ----------------------------------------------------------------

CLOSURE_ACTIONS = [
    ("review", {}),
    ("holds", {"what": "sign-ins", "legal_basis": "Tax Administration Act 1994", "until": ""}),
    ("approve", {}),
    ("decline", {"reason": "Money is owed on the account."}),
]


@pytest.mark.parametrize(("action", "form"), CLOSURE_ACTIONS, ids=[a for a, _ in CLOSURE_ACTIONS])
def test_staff_cannot_act_on_their_own_closure_request(client, staff, db, action, form):
    assert client.post("/account/close", data={"confirmation": "CLOSE"}).status_code == 303
    [request] = db.exec(select(ClosureRequest).where(ClosureRequest.user_id == staff.id)).all()
    if action == "holds":
        form["until"] = (utcnow().date() + timedelta(days=400)).isoformat()
    before = (rows(db, ClosureRequest), rows(db, RetentionHold), rows(db, OutboxMessage))

    response = client.post(f"/staff/closures/{request.id}/{action}", data=form)
    if response.status_code in (302, 303):
        response = client.get(response.headers["Location"])
    assert OWN_CASE in response.get_data(as_text=True)
    assert (rows(db, ClosureRequest), rows(db, RetentionHold), rows(db, OutboxMessage)) == before
    assert refusals(db, staff) == [f"closure:{request.id}"]


INQUIRY_ACTIONS = [
    ("answer", {"body": "Here is your data."}),
    ("extend", {"new_due": "2099-01-01", "extension_reason": "Large request."}),
    ("refuse", {"refusal_reason": "No."}),
    ("close", {}),
]


@pytest.mark.parametrize(("action", "form"), INQUIRY_ACTIONS, ids=[a for a, _ in INQUIRY_ACTIONS])
def test_staff_cannot_act_on_their_own_privacy_request(app, client, staff, db, action, form):
    inquiry = file_inquiry(app, db, db.get(User, staff.id))
    before = (rows(db, Inquiry), rows(db, InquiryMessage), rows(db, OutboxMessage))
    response = client.post(f"/staff/privacy-requests/{inquiry.id}/{action}", data=form)
    assert response.status_code == 422
    assert OWN_CASE in response.get_data(as_text=True)
    assert (rows(db, Inquiry), rows(db, InquiryMessage), rows(db, OutboxMessage)) == before
    assert refusals(db, staff) == [f"inquiry:{inquiry.id}"]


@pytest.mark.parametrize("named_by", ["email", "account number"])
def test_staff_cannot_record_a_disclosure_about_themselves(client, staff, db, named_by):
    person = staff.email if named_by == "email" else str(staff.id)
    form = {
        "person": person,
        "recipient": "New Zealand Police",
        "disclosed_on": (utcnow().date() - timedelta(days=1)).isoformat(),
        "categories": ["Account"],
        "purpose": "Investigation.",
        "legal_basis": "Production order",
    }
    response = client.post("/staff/disclosures", data=form)
    assert response.status_code == 422
    assert OWN_CASE in response.get_data(as_text=True)
    assert rows(db, Disclosure) == []
    assert refusals(db, staff) == ["disclosure"]


def test_another_member_of_staff_may_act_on_it(app, client, login_as, db):
    sam = login_as("sam", email="sam@sentro.co", groups=["sentro-staff"])
    inquiry = file_inquiry(app, db, sam)
    client.post("/logout")
    login_as("kiri", email="kiri@sentro.co", groups=["sentro-staff"])
    response = client.post(f"/staff/privacy-requests/{inquiry.id}/answer", data={"body": "Done."})
    assert response.status_code == 303
    assert refusals(db, sam) == []


# --- a closed account ----------------------------------------------------------------------


@pytest.fixture
def erased(app, db) -> tuple[User, Inquiry]:
    """A person with an open request, then closed and erased as erasure leaves them."""
    person = make_person(db, "ana-erased", "ana@example.com")
    inquiry = file_inquiry(app, db, person)
    person.status, person.email, person.name = "closed", f"erased-{person.id}@invalid", ""
    db.add(person)
    db.commit()
    return person, inquiry


@pytest.mark.parametrize(
    ("action", "form"), INQUIRY_ACTIONS[:3], ids=[a for a, _ in INQUIRY_ACTIONS[:3]]
)
def test_a_closed_accounts_requests_are_read_only(client, staff, db, erased, action, form):
    _person, inquiry = erased
    before = (rows(db, Inquiry), rows(db, InquiryMessage), rows(db, OutboxMessage))
    audit_before = rows(db, AuditEvent)
    response = client.post(f"/staff/privacy-requests/{inquiry.id}/{action}", data=form)
    assert response.status_code == 422
    assert CLOSED_ACCOUNT in response.get_data(as_text=True)
    assert (rows(db, Inquiry), rows(db, InquiryMessage), rows(db, OutboxMessage)) == before
    assert rows(db, AuditEvent) == audit_before  # no fresh row carrying staff details


def test_a_closed_accounts_request_can_still_be_closed(client, staff, db, erased):
    _person, inquiry = erased
    mail_before = rows(db, OutboxMessage)
    response = client.post(f"/staff/privacy-requests/{inquiry.id}/close")
    assert response.status_code == 303
    assert [r["status"] for r in rows(db, Inquiry)] == ["closed"]
    assert rows(db, OutboxMessage) == mail_before  # closing tells nobody


def test_nothing_new_is_recorded_about_a_closed_account(client, staff, db, erased):
    person, _inquiry = erased
    audit_before = rows(db, AuditEvent)
    form = {
        "person": str(person.id),
        "recipient": "New Zealand Police",
        "disclosed_on": (utcnow().date() - timedelta(days=1)).isoformat(),
        "categories": ["Account"],
        "purpose": "Investigation.",
        "legal_basis": "Production order",
    }
    response = client.post("/staff/disclosures", data=form)
    assert response.status_code == 422
    assert CLOSED_ACCOUNT_RECORD in response.get_data(as_text=True)
    assert rows(db, Disclosure) == []
    assert rows(db, AuditEvent) == audit_before


# --- the outbox never writes to an erased address -------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["erased-7@invalid", "someone@mail.invalid", "Erased <erased-7@INVALID.>", ""],
    ids=["erased", "invalid-subdomain", "display-name-and-case", "empty"],
)
def test_the_outbox_never_sends_to_an_erased_or_invalid_address(app, db, outbox, address):
    from webapp.mail import queue_email
    from webapp.mail.delivery import NOT_SENT

    with app.test_request_context():
        queue_email(db, template="preferences-link", to=address, context={"link": "x", "days": 1})
        queue_email(
            db, template="preferences-link", to="ana@example.com", context={"link": "x", "days": 1}
        )
    db.commit()
    delivered = outbox.deliver()
    assert [m["To"] for m in delivered] == ["ana@example.com"]
    kept = {m["to_addr"]: m for m in rows(db, OutboxMessage)}
    assert kept[address]["status"] == "failed" and kept[address]["last_error"] == NOT_SENT
