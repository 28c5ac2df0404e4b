"""Privacy questions and requests, as the person sees them: their file, due dates, statements."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import render_template
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select

from tests.conftest import body_text
from tests.people import make_person
from webapp.inquiries import casework, reads, service
from webapp.models import AuditEvent, CorrectionStatement, Inquiry, InquiryMessage, User
from webapp.workdays import add_working_days


def new_request(**overrides) -> dict:
    form = {"kind": "access", "subject": "My sign-in records", "message": "Please send them."}
    form.update(overrides)
    return form


@pytest.fixture
def file_request(app, db):
    """Put a request in someone's file through the service, as if they had sent it."""

    def file(person: User, **values) -> Inquiry:
        with app.test_request_context():
            result = service.open_inquiry(db, person, **new_request(**values))
        assert result.ok
        return result.inquiry

    return file


@pytest.fixture
def act_as_staff(app, db):
    """Run a casework action as a member of staff who is not signed in on the client."""
    sam = make_person(db, "sam-elsewhere", "sam@sentro.co")

    def act(action, inquiry: Inquiry, *args, **kwargs):
        with app.test_request_context():
            return getattr(casework, action)(db, sam, inquiry.id, *args, **kwargs)

    return act


def counts(db) -> tuple[int, int, int]:
    """How many requests, messages and statements are stored."""
    return tuple(
        db.exec(select(func.count()).select_from(model)).one()
        for model in (Inquiry, InquiryMessage, CorrectionStatement)
    )


# --- sending a request -----------------------------------------------------------------


def test_a_person_sends_a_request_and_lands_on_its_thread(client, person, db, outbox):
    response = client.post("/account/privacy-requests", data=new_request())
    assert response.status_code == 303
    inquiry = db.exec(select(Inquiry)).one()
    assert response.headers["Location"].endswith(f"/account/privacy-requests/{inquiry.id}")
    assert (inquiry.user_id, inquiry.kind, inquiry.status) == (person.id, "access", "open")
    assert inquiry.due_on == add_working_days(inquiry.received_at)
    [message] = db.exec(select(InquiryMessage)).all()
    assert (message.author, message.body, message.user_id) == (
        "person",
        "Please send them.",
        person.id,
    )

    thread = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "My sign-in records" in thread and "Please send them." in thread
    assert "Received" in thread
    assert f"{inquiry.due_on.day} {inquiry.due_on:%B %Y}" in thread

    mail = outbox.last_to("ana@example.com")
    assert "We received your privacy request" in mail["Subject"]
    assert f"{inquiry.due_on.day} {inquiry.due_on:%B %Y}" in body_text(mail)
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "inquiry.opened")).one()
    assert (event.user_id, event.actor) == (person.id, "self")


def test_the_list_shows_each_request_with_its_status_and_due_date(client, person, file_request):
    inquiry = file_request(person, subject="Who has my data?", kind="disclosure")
    html = client.get("/account/privacy-requests").get_data(as_text=True)
    assert "Who has my data?" in html
    assert "Has my information been provided to anyone?" in html
    assert f"{inquiry.due_on.day} {inquiry.due_on:%B %Y}" in html


def test_the_disclosures_page_link_preselects_the_disclosure_question(client, person):
    html = client.get("/account/privacy-requests?kind=disclosure").get_data(as_text=True)
    assert '<option selected value="disclosure">' in html


def test_an_htmx_send_answers_the_region_with_the_new_request(client, person):
    response = client.post(
        "/account/privacy-requests",
        data=new_request(subject="Fragment please"),
        headers={"HX-Request": "true", "HX-Target": "privacy-requests"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and 'id="privacy-requests"' in html
    assert "Fragment please" in html and "Sent. We will answer by" in html


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (datetime(2026, 3, 2, 9, tzinfo=UTC), date(2026, 3, 30)),  # a month with no holidays
        # Good Friday, Easter Monday and Anzac Day (a Saturday, observed on Monday 27 April)
        (datetime(2026, 4, 1, 9, tzinfo=UTC), date(2026, 5, 4)),
        (datetime(2026, 12, 18, 9, tzinfo=UTC), date(2027, 2, 9)),  # the summer break is skipped
    ],
)
def test_a_request_is_due_twenty_working_days_after_it_arrives(app, db, received, due):
    ana = make_person(db, "ana-due", "ana@example.com")
    with app.test_request_context():
        result = service.open_inquiry(db, ana, **new_request(), now=received)
    assert result.inquiry.due_on == due


# --- the thread ------------------------------------------------------------------------


def test_the_person_replies_and_an_answered_request_opens_again(
    client, person, file_request, act_as_staff, db
):
    inquiry = file_request(person)
    act_as_staff("answer", inquiry, "Here they are.")
    response = client.post(
        f"/account/privacy-requests/{inquiry.id}/reply", data={"body": "One more thing"}
    )
    assert response.status_code == 303
    db.refresh(inquiry)
    assert inquiry.status == "open"
    thread = client.get(f"/account/privacy-requests/{inquiry.id}").get_data(as_text=True)
    assert thread.index("Here they are.") < thread.index("One more thing")
    assert "Sentro" in thread


def test_a_closed_request_takes_no_more_messages(client, person, file_request, act_as_staff, db):
    inquiry = file_request(person)
    act_as_staff("close", inquiry)
    before = counts(db)
    response = client.post(f"/account/privacy-requests/{inquiry.id}/reply", data={"body": "Hello?"})
    assert response.status_code == 422
    assert "This request is closed" in response.get_data(as_text=True)
    assert counts(db) == before


def test_the_thread_page_costs_at_most_three_queries(
    client, person, file_request, act_as_staff, count_queries
):
    inquiry = file_request(person, kind="correction")
    act_as_staff("refuse", inquiry, reason="The record is accurate.")
    with count_queries() as statements:
        assert client.get(f"/account/privacy-requests/{inquiry.id}").status_code == 200
    assert len(statements) <= 3, statements


def test_the_list_page_costs_at_most_three_queries(client, person, file_request, count_queries):
    for n in range(5):
        file_request(person, subject=f"Question {n}")
    with count_queries() as statements:
        assert client.get("/account/privacy-requests").status_code == 200
    assert len(statements) <= 3, statements


# --- statements of correction ----------------------------------------------------------


def test_after_a_refused_correction_the_person_attaches_a_statement(
    client, person, file_request, act_as_staff, db
):
    inquiry = file_request(person, kind="correction", subject="My name is wrong")
    act_as_staff("refuse", inquiry, reason="The name matches your identity documents.")
    response = client.post(
        f"/account/privacy-requests/{inquiry.id}/statement",
        data={"field": "name", "statement": "My name is Ana María Customer."},
    )
    assert response.status_code == 303
    statement = db.exec(select(CorrectionStatement)).one()
    assert (statement.user_id, statement.field, statement.inquiry_id) == (
        person.id,
        "name",
        inquiry.id,
    )
    assert reads.statements_for(db.get_bind(), person.id) == {"name": [statement]}
    for page in (f"/account/privacy-requests/{inquiry.id}", "/account/privacy-requests"):
        assert "My name is Ana María Customer." in client.get(page).get_data(as_text=True)


def test_the_statements_partial_shows_one_fields_statements_beside_it(app, db, login_as):
    ana = login_as("ana")
    db.add(CorrectionStatement(user_id=ana.id, field="name", statement="Ana María"))
    db.add(CorrectionStatement(user_id=ana.id, field="email", statement="ana@new.example"))
    db.commit()
    statements = reads.statements_for(db.get_bind(), ana.id)
    with app.test_request_context():
        beside_name = render_template(
            "inquiries/_statements.html", statements=statements, statement_field="name"
        )
        beside_phone = render_template(
            "inquiries/_statements.html", statements=statements, statement_field="phone"
        )
        all_of_them = render_template("inquiries/_statements.html", statements=statements)
    assert "Ana María" in beside_name and "ana@new.example" not in beside_name
    assert "Statement of the correction sought" not in beside_phone
    assert "Ana María" in all_of_them and "ana@new.example" in all_of_them
    assert "Email address" in all_of_them and "Full name" in all_of_them


def test_a_statement_needs_a_refused_correction(client, person, file_request, db):
    inquiry = file_request(person, kind="correction")
    response = client.post(
        f"/account/privacy-requests/{inquiry.id}/statement",
        data={"field": "name", "statement": "Please"},
    )
    assert response.status_code == 422
    assert "when we decline a correction" in response.get_data(as_text=True)
    assert counts(db)[2] == 0


def test_statements_are_exported_through_the_data_map():
    from webapp.models import personal_columns, privacy_of

    table = CorrectionStatement.__table__
    assert privacy_of(table).name == "Your statements of correction"
    assert personal_columns(table)["statement"].export
    assert personal_columns(table)["field"].export


# --- bad input -------------------------------------------------------------------------


BAD_REQUESTS = [
    ({"kind": ""}, "kind", "Choose what kind of request this is."),
    ({"kind": "complaint"}, "kind", "Not a valid choice"),
    ({"subject": ""}, "subject", "Give your request a short subject."),
    ({"subject": "  \t "}, "subject", "Give your request a short subject."),
    ({"subject": "s" * 201}, "subject", "Keep this under 200 characters."),
    ({"subject": "two\nlines"}, "subject", "Remove the invisible or control characters"),
    ({"subject": "null\x00byte"}, "subject", "Remove the invisible or control characters"),
    ({"message": ""}, "message", "Tell us what you would like to know or change."),
    ({"message": "m" * 5001}, "message", "Keep this under 5000 characters."),
    ({"message": "escape \x1b[31m red"}, "message", "Remove the invisible or control characters"),
    ({"message": "bidi \u202e override"}, "message", "Remove the invisible or control characters"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_REQUESTS)
def test_a_bad_request_is_refused_with_a_message_and_nothing_stored(
    client, person, db, outbox, change, field, message
):
    response = client.post("/account/privacy-requests", data=new_request(**change))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert f'id="{field}-error"' in html and 'aria-invalid="true"' in html
    assert counts(db) == (0, 0, 0)
    assert outbox.to("ana@example.com") == []


def test_a_multiline_message_keeps_its_line_breaks(client, person, db):
    body = "First line\r\n\tSecond line\nThird 👩‍👩‍👧"
    assert (
        client.post("/account/privacy-requests", data=new_request(message=body)).status_code == 303
    )
    assert db.exec(select(InquiryMessage)).one().body == body.strip()


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("reply", {"body": ""}, "Write your message."),
        ("reply", {"body": "b" * 5001}, "Keep this under 5000 characters."),
        ("reply", {"body": "\x00"}, "Remove the invisible or control characters"),
        ("statement", {"field": "name", "statement": ""}, "Write the correction you asked for."),
        ("statement", {"field": "salary", "statement": "x"}, "Not a valid choice"),
        ("statement", {"field": "name", "statement": "s" * 2001}, "Keep this under 2000"),
        ("statement", {"field": "name", "statement": "\x08"}, "Remove the invisible"),
    ],
)
def test_bad_thread_input_is_refused_and_nothing_stored(
    client, person, file_request, act_as_staff, db, path, data, message
):
    inquiry = file_request(person, kind="correction")
    act_as_staff("refuse", inquiry, reason="Accurate.")
    before = counts(db)
    response = client.post(f"/account/privacy-requests/{inquiry.id}/{path}", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert counts(db) == before


typed = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=300)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(kind=typed | st.sampled_from(list(service.KINDS)), subject=typed, message=typed)
def test_no_request_form_input_makes_a_server_error(client, person, kind, subject, message):
    data = {"kind": kind, "subject": subject, "message": message}
    assert client.post("/account/privacy-requests", data=data).status_code in (303, 422)


@FUZZ
@given(body=typed, field=typed | st.sampled_from(["name", "email", "other"]), statement=typed)
def test_no_thread_input_makes_a_server_error(
    client, person, file_request, act_as_staff, body, field, statement
):
    inquiry = file_request(person, kind="correction")
    act_as_staff("refuse", inquiry, reason="Accurate.")
    base = f"/account/privacy-requests/{inquiry.id}"
    assert client.post(f"{base}/reply", data={"body": body}).status_code in (303, 422)
    data = {"field": field, "statement": statement}
    assert client.post(f"{base}/statement", data=data).status_code in (303, 422)


# --- one person, never another's file --------------------------------------------------


def test_a_person_never_sees_or_changes_another_persons_requests(
    client, login_as, file_request, act_as_staff, db, outbox
):
    ben = make_person(db, "ben", "ben@example.com")
    theirs = file_request(ben, kind="correction", subject="Ben's private question")
    act_as_staff("refuse", theirs, reason="Ben's refusal reason")
    login_as("ana", email="ana@example.com")
    before = counts(db)
    outbox.deliver()
    outbox.catcher.clear()

    listing = client.get("/account/privacy-requests").get_data(as_text=True)
    assert "Ben&#39;s private question" not in listing
    base = f"/account/privacy-requests/{theirs.id}"
    missing = client.get(base)
    assert missing.status_code == 404
    assert "private question" not in missing.get_data(as_text=True)
    assert "refusal reason" not in missing.get_data(as_text=True)
    assert client.post(f"{base}/reply", data={"body": "Hijack"}).status_code == 404
    assert client.post(f"{base}/reply", data={"body": ""}).status_code == 404
    statement = {"field": "name", "statement": "Hijack"}
    assert client.post(f"{base}/statement", data=statement).status_code == 404
    assert client.post(f"{base}/statement", data={"field": "", "statement": ""}).status_code == 404
    assert client.get("/account/privacy-requests/999999").status_code == 404

    assert counts(db) == before
    db.refresh(theirs)
    assert theirs.status == "refused"
    assert outbox.deliver() == []


def test_the_pages_need_sign_in(client):
    for path in ("/account/privacy-requests", "/account/privacy-requests/1"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_every_element_id_on_the_persons_pages_is_unique(
    client, person, file_request, act_as_staff
):
    import re

    inquiry = file_request(person, kind="correction")
    act_as_staff("refuse", inquiry, reason="Accurate.")
    for path in ("/account/privacy-requests", f"/account/privacy-requests/{inquiry.id}"):
        ids = re.findall(r'\bid="([^"]+)"', client.get(path).get_data(as_text=True))
        assert len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))


# --- how many requests may wait at once ----------------------------------------------------


def test_new_requests_stop_at_the_limit_with_a_clear_page(client, person, db, outbox):
    sent = [
        client.post(
            "/account/privacy-requests",
            data={"kind": "access", "subject": f"Request {n}", "message": "Please."},
        ).status_code
        for n in range(service.MAX_WAITING + 3)
    ]
    assert sent == [303] * service.MAX_WAITING + [422] * 3
    db.rollback()
    assert len(db.exec(select(Inquiry).where(Inquiry.user_id == person.id)).all()) == 5
    page = client.get("/account/privacy-requests").get_data(as_text=True)
    assert service.WAITING_LIMIT in page
    assert 'action="/account/privacy-requests"' not in page  # no form that cannot work
    assert len(outbox.to("ana@example.com")) == service.MAX_WAITING  # one email per request


def test_an_answered_request_makes_room_for_a_new_one(app, client, person, db):
    for n in range(service.MAX_WAITING):
        client.post(
            "/account/privacy-requests",
            data={"kind": "access", "subject": f"Request {n}", "message": "Please."},
        )
    db.rollback()
    first = db.exec(select(Inquiry).where(Inquiry.user_id == person.id)).first()
    first.status = "answered"
    db.add(first)
    db.commit()
    response = client.post(
        "/account/privacy-requests",
        data={"kind": "access", "subject": "One more", "message": "Please."},
    )
    assert response.status_code == 303
