"""The account home says what is waiting for the person, each with a link; nothing when nothing is."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from tests.consent_helpers import accept_all
from tests.people import make_person
from tests.policy_support import load_v1, publish, today
from webapp.account import service
from webapp.models import ClosureRequest, Inquiry

STATUS = 'id="account-status"'


def home(client) -> str:
    return client.get("/account").get_data(as_text=True)


def status_region(html: str) -> str:
    start = html.index(STATUS)
    return html[start : html.index("</section>", start)]


@pytest.fixture
def chosen(client, person):
    """A person who made every privacy choice, so only what a test adds is waiting."""
    accept_all(client)
    return person


def test_nothing_waiting_shows_nothing(client, chosen):
    html = home(client)
    assert STATUS not in html
    assert "Waiting for you or for us" not in html


def test_a_new_person_is_asked_for_the_privacy_choices_not_made(client, person):
    region = status_region(home(client))
    assert "Privacy choices not made yet" in region
    assert "Analytics" in region
    assert 'href="/account/privacy-controls"' in region


def test_a_pending_email_change_links_to_the_profile(client, chosen):
    client.post("/account/profile/email", data={"email": "new-ana@example.com"})
    region = status_region(home(client))
    assert "Your new email address is not confirmed yet" in region
    assert "new-ana@example.com" in region
    assert 'href="/account/profile#field-email"' in region


def test_an_open_closure_request_shows_its_due_date(client, chosen, db):
    client.post("/account/close", data={"confirmation": "CLOSE"})
    request = db.exec(select(ClosureRequest)).one()
    region = status_region(home(client))
    assert "Closing your account: received." in region
    assert f"We will answer by {request.due_on.day} {request.due_on:%B %Y}" in region
    assert 'href="/account/close/status"' in region


def test_an_approved_closure_shows_the_erasure_date_in_the_persons_zone(client, chosen, db):
    client.post("/account/close", data={"confirmation": "CLOSE"})
    request = db.exec(select(ClosureRequest)).one()
    request.status = "approved"
    # 11:30 UTC on 3 March is already 4 March in Auckland (NZDT, +13).
    request.erase_after = datetime(2031, 3, 3, 11, 30, tzinfo=UTC)
    db.add(request)
    db.commit()
    region = status_region(home(client))
    assert "We will erase your information on 4 March 2031" in region


def test_open_privacy_requests_show_their_due_dates_and_link_to_each(client, chosen, db):
    client.post(
        "/account/privacy-requests",
        data={"kind": "access", "subject": "My sign-in records", "message": "Please."},
    )
    inquiry = db.exec(select(Inquiry)).one()
    region = status_region(home(client))
    assert "My sign-in records" in region
    assert f"we will answer by {inquiry.due.day} {inquiry.due:%B %Y}" in region
    assert f'href="/account/privacy-requests/{inquiry.id}"' in region


def test_an_answered_request_is_no_longer_waiting(client, chosen, db):
    client.post(
        "/account/privacy-requests",
        data={"kind": "access", "subject": "My sign-in records", "message": "Please."},
    )
    inquiry = db.exec(select(Inquiry)).one()
    inquiry.status = "answered"
    db.add(inquiry)
    db.commit()
    assert STATUS not in home(client)


def test_a_policy_version_to_acknowledge_links_to_the_comparison(app, client, chosen):
    load_v1(app)
    publish(app, effective_on=today())
    region = status_region(home(client))
    assert "Our privacy policy has changed" in region
    assert 'href="/privacy/compare?from=1&amp;to=2"' in region
    client.post("/privacy/acknowledge", data={"version": "2"})
    assert STATUS not in home(client)


def test_the_status_is_read_in_one_statement(app, db, client, chosen, count_queries):
    client.post("/account/profile/email", data={"email": "new-ana@example.com"})
    client.post("/account/close", data={"confirmation": "CLOSE"})
    for subject in ("One", "Two"):
        client.post(
            "/account/privacy-requests",
            data={"kind": "access", "subject": subject, "message": "Please."},
        )
    with count_queries() as statements:
        found = service.account_status(app.extensions["sentro.engine"], chosen.id)
    assert len(statements) == 1
    assert found.email.new_email == "new-ana@example.com"
    assert found.closure.status == "received"
    assert [r.subject for r in found.requests] == ["One", "Two"]
    assert isinstance(found.requests[0].due, date)
    assert found.email.expires_at - datetime.now(UTC) > timedelta(hours=1)


def test_another_persons_matters_never_show(client, chosen, db):
    other = make_person(db, "other", "other@example.com")
    db.add(ClosureRequest(user_id=other.id, due_on=date(2031, 1, 1)))
    db.add(Inquiry(user_id=other.id, kind="access", subject="Theirs", due_on=date(2031, 1, 1)))
    db.commit()
    assert STATUS not in home(client)
