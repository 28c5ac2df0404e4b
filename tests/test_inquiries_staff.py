"""Privacy requests in the staff area: the queue by due date, answers, extensions, refusals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from tests.conftest import body_text, sign_in
from tests.people import make_person
from webapp.auth.current import staff_only
from webapp.db import counting_round_trips
from webapp.dev.seed import seed_open_requests
from webapp.driver import fetch
from webapp.inquiries import queue, reads, service
from webapp.models import (
    AuditEvent,
    CorrectionStatement,
    Inquiry,
    InquiryMessage,
    User,
    UserSession,
    utcnow,
)
from webapp.templating import date as readable

COMPLAINT_URL = "https://www.privacy.org.nz/your-rights/making-a-complaint/"


@pytest.fixture
def ana(db) -> User:
    return make_person(db, "ana-elsewhere", "ana@example.com")


@pytest.fixture
def file_request(app, db):
    """A request in a person's file, received `days_ago` days ago."""

    def file(person: User, *, days_ago: int = 0, **values) -> Inquiry:
        form = {"kind": "access", "subject": "My data", "message": "Please send it.", **values}
        with app.test_request_context():
            result = service.open_inquiry(
                db, person, **form, now=utcnow() - timedelta(days=days_ago)
            )
        return result.inquiry

    return file


def staff_events(db, inquiry: Inquiry) -> list[tuple[str, str]]:
    events = db.exec(
        select(AuditEvent).where(
            AuditEvent.field == f"inquiry:{inquiry.id}", AuditEvent.actor == "staff"
        )
    ).all()
    return [(e.action, e.actor) for e in events]


def snapshot(db, inquiry: Inquiry) -> tuple:
    """Everything an action could change about a request."""
    db.expire_all()
    row = db.get(Inquiry, inquiry.id)
    messages = db.exec(select(InquiryMessage).where(InquiryMessage.inquiry_id == inquiry.id)).all()
    audit = db.exec(select(AuditEvent)).all()
    return (row.model_dump(), len(messages), len(audit))


# --- the queue -------------------------------------------------------------------------


def test_the_queue_lists_waiting_requests_soonest_due_first(client, staff, ana, db, file_request):
    later = file_request(ana, subject="Received today")
    file_request(ana, subject="Received ten days ago", days_ago=10)
    extended = file_request(ana, subject="Extended far", days_ago=20)
    extended.status, extended.extended_to = "extended", later.due_on + timedelta(days=30)
    db.add(extended)
    db.commit()
    answered = file_request(ana, subject="Already answered", days_ago=30)
    client.post(f"/staff/privacy-requests/{answered.id}/answer", data={"body": "Done."})

    html = client.get("/staff/privacy-requests").get_data(as_text=True)
    assert (
        html.index("Received ten days ago")
        < html.index("Received today")
        < html.index("Extended far")
    )
    assert "Already answered" not in html
    assert "ana@example.com" in html
    answered_only = client.get("/staff/privacy-requests?status=answered").get_data(as_text=True)
    assert "Already answered" in answered_only and "Received today" not in answered_only


def test_a_reply_to_a_refusal_comes_back_to_the_queue(client, login_as, db, file_request):
    ana = login_as("ana", email="ana@example.com")
    inquiry = file_request(ana, subject="Refused then answered back")
    inquiry.status, inquiry.refusal_reason = "refused", "No."
    db.add(inquiry)
    db.commit()
    reply = client.post(f"/account/privacy-requests/{inquiry.id}/reply", data={"body": "Why?"})
    assert reply.status_code == 303
    client.post("/logout")
    login_as("sam", email="sam@sentro.co", groups=["sentro-staff"])
    html = client.get("/staff/privacy-requests").get_data(as_text=True)
    assert "Refused then answered back" in html and "New message from the person" in html


def test_a_refused_request_without_a_reply_leaves_the_queue(client, staff, ana, db, file_request):
    inquiry = file_request(ana, subject="Refused and quiet")
    assert (
        client.post(
            f"/staff/privacy-requests/{inquiry.id}/refuse", data={"refusal_reason": "No."}
        ).status_code
        == 303
    )
    assert "Refused and quiet" not in client.get("/staff/privacy-requests").get_data(as_text=True)


def test_an_overdue_request_is_flagged(client, staff, ana, file_request):
    file_request(ana, subject="Old one", days_ago=60)
    assert "overdue" in client.get("/staff/privacy-requests").get_data(as_text=True)


def test_a_filter_and_a_search_narrow_the_queue_together(client, staff, ana, db, file_request):
    ben = make_person(db, "ben", "ben@example.com")
    file_request(ana, subject="Ana still waiting")
    anas, bens = (
        file_request(ana, subject="Ana answered"),
        file_request(ben, subject="Ben answered"),
    )
    for answered in (anas, bens):
        client.post(f"/staff/privacy-requests/{answered.id}/answer", data={"body": "Done."})

    html = client.get("/staff/privacy-requests?status=answered&q=ana@").get_data(as_text=True)
    assert "Ana answered" in html
    assert "Ana still waiting" not in html and "Ben answered" not in html
    assert 'Waiting for an answer <span class="count">1</span>' in html  # Ana's, for the search
    assert 'Answered <span class="count">1</span>' in html
    by_number = client.get(f"/staff/privacy-requests?status=all&q=%23{bens.id}")
    assert "Ben answered" in by_number.get_data(as_text=True)
    assert "Ana" not in by_number.get_data(as_text=True).split('id="queue"')[1]
    elsewhere = client.get(f"/staff/privacy-requests?status=open&q={bens.id}")
    assert "Ben answered" not in elsewhere.get_data(as_text=True)


def test_a_page_past_the_end_of_the_queue_shows_the_last_page(app, client, staff):
    with app.app_context():
        seed_open_requests(60)
    html = client.get("/staff/privacy-requests?page=40").get_data(as_text=True)
    assert "Showing 51–60 of 60" in html and "Page 2 of 2" in html
    assert len(re.findall(r'href="/staff/privacy-requests/\d+"', html)) == 10


@pytest.mark.parametrize(
    ("requests", "asked", "shown", "rows"),
    [(0, 5, 1, 0), (4, 3, 2, 2), (5, 3, 3, 1), (5, 999999, 3, 1)],
)
def test_the_page_past_the_end_is_worked_out_in_the_statement(
    app, db, requests, asked, shown, rows
):
    """The last page, the rows it holds exactly, on a boundary and past it."""
    if requests:
        with app.app_context():
            seed_open_requests(requests)
    result = queue.page(db.get_bind(), status="all", page=asked, per_page=2)
    soonest = func.coalesce(Inquiry.extended_to, Inquiry.due_on)
    due = db.exec(select(Inquiry.id).order_by(soonest, Inquiry.id)).all()
    assert (result.page, result.total) == (shown, requests)
    assert [inquiry.id for inquiry, _person, _wrote in result.rows] == due[(shown - 1) * 2 :][:rows]


@pytest.mark.parametrize(
    "query",
    ["", "?status=answered", "?status=all&q=person1", "?q=%231", "?page=2", "?page=40"],
)
def test_each_filter_search_and_page_of_the_queue_is_read_with_the_staff_persons_own(
    app, client, staff, query
):
    """One round trip on PostgreSQL whatever staff asked for; SQLite runs the three in turn."""
    with app.app_context():
        seed_open_requests(60)
    engine = app.extensions["sentro.engine"]
    client.get(f"/staff/privacy-requests{query}")  # warm
    with counting_round_trips(engine) as trips:
        assert client.get(f"/staff/privacy-requests{query}").status_code == 200
    assert len(trips) == (1 if engine.dialect.name == "postgresql" else 3), trips


def test_the_staff_pages_read_nothing_with_a_session_that_is_not_staff(
    app, staff, provider_url, db, file_request
):
    """The queue and a case are read with the person's own read, before the guard answers 403:
    those statements find rows only for a staff session whose person is staff."""
    sign_in(app.test_client(), provider_url, "ana", {"email": "ana@example.com"})
    ana = db.exec(select(User).where(User.subject == "ana")).one()
    inquiry = file_request(ana, kind="correction")
    db.add(CorrectionStatement(user_id=ana.id, field="name", statement="Ana María"))
    db.commit()
    session_of = {
        who.id: db.exec(select(UserSession.token_hash).where(UserSession.user_id == who.id)).one()
        for who in (ana, staff)
    }
    engine = app.extensions["sentro.engine"]

    def read(person: User) -> list[int]:
        token = {"token_hash": session_of[person.id], "inquiry_id": inquiry.id}
        # as `inquiries.staff` registers them: `read_with_person(..., staff=True)`
        asked = {**queue.parameters("all"), **token}
        reads_ = [(staff_only(s), asked) for s in queue.QUEUE_BY_STAFF]
        reads_ += [(staff_only(s), token) for s in reads.CASE_BY_STAFF]
        return [len(rows) for rows in fetch(engine, *reads_)]

    assert read(ana) == [0, 0, 0, 0]
    # one status counted, one request on the page, the request with its message, the statement
    assert read(staff) == [1, 1, 1, 1]
    staff_now = db.get(User, staff.id)
    staff_now.is_staff = False  # staff no longer: the session's own rights are not enough
    db.add(staff_now)
    db.commit()
    assert read(staff) == [0, 0, 0, 0]


def test_the_queue_and_a_case_cost_at_most_three_queries(
    client, staff, ana, file_request, count_queries
):
    inquiry = file_request(ana)
    for path in ("/staff/privacy-requests", f"/staff/privacy-requests/{inquiry.id}"):
        with count_queries() as statements:
            assert client.get(path).status_code == 200
        assert len(statements) <= 3, (path, statements)


# --- answering -------------------------------------------------------------------------


def test_staff_answer_in_the_thread_and_the_person_is_told_by_email(
    client, staff, ana, db, file_request, outbox
):
    inquiry = file_request(ana)
    response = client.post(
        f"/staff/privacy-requests/{inquiry.id}/answer", data={"body": "Your data is attached."}
    )
    assert response.status_code == 303
    db.refresh(inquiry)
    assert inquiry.status == "answered"
    last = db.exec(select(InquiryMessage).order_by(InquiryMessage.id.desc())).first()
    assert (last.author, last.staff_id, last.body) == ("staff", staff.id, "Your data is attached.")
    mail = outbox.last_to("ana@example.com")
    assert "We answered your privacy request" in mail["Subject"]
    assert "Your data is attached." not in body_text(mail)  # the answer stays behind sign-in
    assert f"/account/privacy-requests/{inquiry.id}" in body_text(mail)
    assert staff_events(db, inquiry) == [("inquiry.answered", "staff")]


def test_an_htmx_answer_swaps_the_case(client, staff, ana, file_request):
    inquiry = file_request(ana)
    response = client.post(
        f"/staff/privacy-requests/{inquiry.id}/answer",
        data={"body": "Done."},
        headers={"HX-Request": "true", "HX-Target": "case"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html and 'id="case"' in html
    assert "Answer sent" in html


# --- extending -------------------------------------------------------------------------


def test_an_extension_needs_a_reason_and_changes_nothing_without_one(
    client, staff, ana, db, file_request, outbox
):
    inquiry = file_request(ana)
    outbox.deliver()
    before = snapshot(db, inquiry)
    new_due = (inquiry.due_on + timedelta(days=14)).isoformat()
    response = client.post(
        f"/staff/privacy-requests/{inquiry.id}/extend",
        data={"new_due": new_due, "extension_reason": " "},
    )
    assert response.status_code == 422
    assert "Give the reason: the person is told it." in response.get_data(as_text=True)
    assert snapshot(db, inquiry) == before
    assert len(outbox.to("ana@example.com")) == 1  # only the acknowledgement


def test_an_extension_with_a_reason_tells_the_person_the_date_and_why(
    client, staff, ana, db, file_request, outbox
):
    inquiry = file_request(ana)
    new_due = inquiry.due_on + timedelta(days=14)
    response = client.post(
        f"/staff/privacy-requests/{inquiry.id}/extend",
        data={
            "new_due": new_due.isoformat(),
            "extension_reason": "We must consult the card vault.",
        },
    )
    assert response.status_code == 303
    db.refresh(inquiry)
    assert (inquiry.status, inquiry.extended_to, inquiry.due) == ("extended", new_due, new_due)
    assert inquiry.extension_reason == "We must consult the card vault."
    mail = outbox.last_to("ana@example.com")
    text = body_text(mail)
    assert "We need more time" in mail["Subject"]
    assert readable(new_due) in text and "We must consult the card vault." in text
    thread = db.exec(select(InquiryMessage).where(InquiryMessage.author == "staff")).one()
    assert "We must consult the card vault." in thread.body and readable(new_due) in thread.body
    assert staff_events(db, inquiry) == [("inquiry.extended", "staff")]


@pytest.mark.parametrize(
    ("days_ago", "shift", "message"),
    [
        (0, 0, "Choose a date after the current due date"),
        (0, -5, "Choose a date after the current due date"),
        (0, 400, "within a year"),
        (60, 10, "has passed: an extension must be made within the time limit"),
    ],
)
def test_an_extension_must_move_the_date_later_and_come_in_time(
    client, staff, ana, db, file_request, days_ago, shift, message
):
    inquiry = file_request(ana, days_ago=days_ago)
    before = snapshot(db, inquiry)
    new_due = (inquiry.due_on + timedelta(days=shift)).isoformat()
    response = client.post(
        f"/staff/privacy-requests/{inquiry.id}/extend",
        data={"new_due": new_due, "extension_reason": "Busy"},
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert snapshot(db, inquiry) == before


# --- refusing and closing --------------------------------------------------------------


def test_a_refusal_needs_a_reason(client, staff, ana, db, file_request):
    inquiry = file_request(ana)
    before = snapshot(db, inquiry)
    response = client.post(
        f"/staff/privacy-requests/{inquiry.id}/refuse", data={"refusal_reason": ""}
    )
    assert response.status_code == 422
    assert "Give the reason for the refusal." in response.get_data(as_text=True)
    assert snapshot(db, inquiry) == before


def test_a_refusal_tells_the_person_why_and_how_to_complain(
    client, staff, ana, db, file_request, outbox
):
    inquiry = file_request(ana, kind="correction")
    response = client.post(
        f"/staff/privacy-requests/{inquiry.id}/refuse",
        data={"refusal_reason": "The record is accurate."},
    )
    assert response.status_code == 303
    db.refresh(inquiry)
    assert (inquiry.status, inquiry.refusal_reason) == ("refused", "The record is accurate.")
    text = body_text(outbox.last_to("ana@example.com"))
    assert "The record is accurate." in text and COMPLAINT_URL in text
    assert "attach a statement" in text
    message = db.exec(select(InquiryMessage).where(InquiryMessage.author == "staff")).one()
    assert "The record is accurate." in message.body and COMPLAINT_URL in message.body
    assert staff_events(db, inquiry) == [("inquiry.refused", "staff")]


def test_closing_a_request_is_audited_and_ends_the_thread(client, staff, ana, db, file_request):
    inquiry = file_request(ana)
    assert client.post(f"/staff/privacy-requests/{inquiry.id}/close").status_code == 303
    db.refresh(inquiry)
    assert inquiry.status == "closed"
    assert staff_events(db, inquiry) == [("inquiry.closed", "staff")]
    again = client.post(f"/staff/privacy-requests/{inquiry.id}/close")
    assert again.status_code == 422
    assert "already closed" in again.get_data(as_text=True)
    answer = client.post(f"/staff/privacy-requests/{inquiry.id}/answer", data={"body": "Late"})
    assert answer.status_code == 422


def test_a_request_that_does_not_exist_is_404_for_staff(client, staff):
    assert client.get("/staff/privacy-requests/424242").status_code == 404
    assert client.post("/staff/privacy-requests/424242/close").status_code == 404
    assert (
        client.post("/staff/privacy-requests/424242/answer", data={"body": "x"}).status_code == 404
    )


# --- only staff ------------------------------------------------------------------------


def staff_routes(app) -> list[tuple[str, str]]:
    """Every method and path of the staff blueprint, with a real request's id filled in."""
    return sorted(
        (method.lower(), rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("inquiries_staff.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_people_who_are_not_staff_get_403_on_every_staff_route_and_change_nothing(
    app, client, login_as, db, file_request, outbox
):
    ben = make_person(db, "ben", "ben@example.com")
    inquiry = file_request(ben)
    login_as("ana", email="ana@example.com")
    outbox.deliver()
    outbox.catcher.clear()
    before = snapshot(db, inquiry)
    routes = staff_routes(app)
    assert len(routes) == 6
    form = {
        "body": "x",
        "extension_reason": "x",
        "refusal_reason": "x",
        "new_due": (inquiry.due_on + timedelta(days=5)).isoformat(),
    }
    for method, rule in routes:
        path = rule.replace("<int:inquiry_id>", str(inquiry.id))
        response = getattr(client, method)(path, data=form)
        assert response.status_code == 403, (method, path)
    assert snapshot(db, inquiry) == before
    assert outbox.deliver() == []


def test_the_staff_routes_need_sign_in(app, client):
    for method, rule in staff_routes(app):
        response = getattr(client, method)(rule.replace("<int:inquiry_id>", "1"))
        assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- no input makes a 500 --------------------------------------------------------------

typed = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    action=st.sampled_from(["answer", "extend", "refuse", "close"]),
    body=typed,
    reason=typed,
    new_due=typed | st.dates().map(lambda d: d.isoformat()),
)
def test_no_staff_input_makes_a_server_error(
    client, staff, ana, db, file_request, action, body, reason, new_due
):
    from sqlalchemy import update

    # Ana may have only MAX_WAITING requests waiting: close the earlier examples' ones.
    db.execute(update(Inquiry).where(Inquiry.user_id == ana.id).values(status="closed"))
    db.commit()
    inquiry = file_request(ana)
    data = {
        "body": body,
        "extension_reason": reason,
        "refusal_reason": reason,
        "new_due": new_due,
    }
    response = client.post(f"/staff/privacy-requests/{inquiry.id}/{action}", data=data)
    assert response.status_code in (303, 422)


def test_due_dates_are_stored_as_dates_whatever_the_time_of_receipt(app, db, ana):
    late_evening = datetime(2026, 3, 2, 23, 59, tzinfo=UTC)
    with app.test_request_context():
        result = service.open_inquiry(
            db, ana, kind="other", subject="s", message="m", now=late_evening
        )
    db.expire_all()
    assert db.get(Inquiry, result.inquiry.id).due_on.isoformat() == "2026-03-30"


def test_every_field_on_the_case_page_has_an_id_of_its_own(client, staff, ana, file_request):
    import re

    inquiry = file_request(ana)
    html = client.get(f"/staff/privacy-requests/{inquiry.id}").get_data(as_text=True)
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
