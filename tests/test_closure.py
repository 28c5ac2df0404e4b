"""Closing an account: the person asks, follows and may cancel; staff review, hold, decide."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from tests.conftest import body_text, sign_in
from webapp.closure import erasure, purge, service
from webapp.closure.case import get_case
from webapp.models import AuditEvent, ClosureRequest, SignIn, User, utcnow
from webapp.wording import for_staff


def _ask(client, confirmation="CLOSE", reason=""):
    return client.post("/account/close", data={"confirmation": confirmation, "reason": reason})


def _approve(client, request_id: int):
    """Press the final button of the approval confirmation page."""
    return client.post(f"/staff/closures/{request_id}/approve", data={"confirmed": "yes"})


def _request_of(db, user) -> ClosureRequest:
    db.rollback()  # a fresh snapshot: what the app committed since
    return db.exec(select(ClosureRequest).where(ClosureRequest.user_id == user.id)).one()


# --- the person ------------------------------------------------------------------------


def test_the_close_page_says_what_is_kept_why_and_for_how_long(client, person):
    html = client.get("/account/close").get_data(as_text=True)
    retained = erasure.retained_by_law()
    assert retained, "the data map keeps at least the sign-in identity"
    for item in retained:
        assert item["label"] in html
        assert item["basis"] in html
    assert "7 years after closure" in html
    assert "wait 14 days before erasing" in html
    assert "Type CLOSE to confirm" in html


def test_the_close_page_leads_with_the_decision_and_folds_the_retention_away(client, person):
    html = client.get("/account/close").get_data(as_text=True)
    means = html.index("What closing means")
    download = html.index('href="/account/export.json"')
    form = html.index('id="close-form"')
    kept = html.index('<details class="panel disclosure"')
    assert means < download < form < kept, "meaning, download, form, then the folded detail"
    assert "Download your data first" in html
    assert "What we may have to keep, and why" in html[kept:]


def test_each_reason_for_keeping_is_said_once_per_category(client, person):
    html = client.get("/account/close").get_data(as_text=True)
    start = html.index('<details class="panel disclosure"')
    kept = html[start : html.index("</details>", start)]
    for group in erasure.kept_by_category():
        assert f"<h3>{group['category']}</h3>" in kept.replace("&#39;", "'")
        for reason in group["reasons"]:
            assert kept.count(reason["basis"].replace("'", "&#39;")) >= 1
    # The Privacy Act reason covers several columns of one table: one sentence, not one per row.
    bases = [item["basis"] for item in erasure.retained_by_law()]
    repeated = {basis for basis in bases if bases.count(basis) > 1}
    assert repeated, "the data map keeps several columns for the same reason"
    for basis in repeated:
        groups = [
            g for g in erasure.kept_by_category() for r in g["reasons"] if r["basis"] == basis
        ]
        assert kept.count(basis.replace("'", "&#39;")) == len(groups)


def test_the_close_page_needs_a_recent_sign_in(client, person, age_sign_in):
    age_sign_in(3600)
    for response in (client.get("/account/close"), _ask(client)):
        assert response.status_code == 303
        assert "reauth=1" in response.headers["Location"]


@pytest.mark.parametrize("typed", ["", "   ", "close it", "CLOSED", "yes", "C L O S E"])
def test_a_wrong_confirmation_is_refused_and_nothing_is_recorded(client, person, db, typed):
    response = _ask(client, confirmation=typed)
    assert response.status_code == 422
    assert "Type CLOSE to confirm you want to close it." in response.get_data(as_text=True)
    assert db.exec(select(ClosureRequest)).all() == []


def test_a_too_long_reason_is_refused_next_to_the_field(client, person, db):
    response = _ask(client, reason="x" * 1001)
    assert response.status_code == 422
    assert 'id="reason-error"' in response.get_data(as_text=True)
    assert db.exec(select(ClosureRequest)).all() == []


def test_htmx_gets_only_the_form_back_on_a_mistake(client, person):
    response = client.post(
        "/account/close",
        data={"confirmation": "nope"},
        headers={"HX-Request": "true", "HX-Target": "close-form"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert html.lstrip().startswith('<form id="close-form"')


def test_a_request_is_received_with_a_due_date_and_an_email(client, person, db, outbox):
    response = _ask(client, confirmation="close", reason="Moving overseas")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account/close/status")
    request = _request_of(db, person)
    assert (request.status, request.reason) == ("received", "Moving overseas")
    assert request.due_on > request.received_at.date()
    page = client.get("/account/close/status").get_data(as_text=True)
    assert "Received" in page and "We will answer by" in page
    email = outbox.last_to("ana@example.com")
    assert "We have your request" in email["Subject"]
    assert "http://localhost/account/close/status" in body_text(email)


def test_one_open_request_at_a_time(client, person, db):
    _ask(client)
    assert _ask(client).status_code == 422
    assert len(db.exec(select(ClosureRequest)).all()) == 1
    assert client.get("/account/close").status_code == 302  # straight to the status page


def test_cancelling_changes_nothing_else(client, person, db, outbox):
    before = (db.get(User, person.id).model_dump(), len(db.exec(select(SignIn)).all()))
    _ask(client)
    response = client.post("/account/close/cancel")
    assert response.status_code == 303
    assert _request_of(db, person).status == "cancelled"
    db.rollback()
    assert (db.get(User, person.id).model_dump(), len(db.exec(select(SignIn)).all())) == before
    assert "cancelled" in outbox.last_to("ana@example.com")["Subject"]
    assert client.get("/account").status_code == 200


def test_cancelling_without_a_request_says_so(client, person):
    client.post("/account/close/cancel")
    assert "no closure request to cancel" in client.get("/account/close/status").get_data(
        as_text=True
    )


def test_the_status_page_needs_at_most_three_queries(client, person, count_queries):
    _ask(client)
    with count_queries() as statements:
        assert client.get("/account/close/status").status_code == 200
    assert len(statements) <= 3, statements


# --- staff -----------------------------------------------------------------------------


def _staff_routes(app):
    return [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/staff/closures")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


def test_non_staff_get_403_on_every_staff_closure_page_and_action(app, client, person, db):
    _ask(client)
    request_id = _request_of(db, person).id
    routes = _staff_routes(app)
    assert len(routes) == 7
    for rule, method in routes:
        url = rule.rule.replace("<int:request_id>", str(request_id))
        response = client.open(url, method=method, data={"reason": "x", "what": "sign_in"})
        assert response.status_code == 403, (method, url)
    assert _request_of(db, person).status == "received"
    assert db.exec(select(AuditEvent).where(AuditEvent.actor == "staff")).all() == []


def test_signed_out_visitors_are_sent_to_sign_in(app):
    client = app.test_client()
    for rule, method in _staff_routes(app):
        response = client.open(rule.rule.replace("<int:request_id>", "1"), method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def _customer_requests(client, login_as, subs):
    """Each customer signs in, asks to close their account, and signs out."""
    ids = {}
    for sub in subs:
        user = login_as(sub, email=f"{sub}@example.com", name=sub.title())
        _ask(client)
        client.post("/logout")
        ids[sub] = user.id
    return ids


def test_the_queue_is_sorted_by_due_date_with_summary_age_and_holds(
    app, client, login_as, db, count_queries
):
    ids = _customer_requests(client, login_as, ["newer", "older"])
    older = db.exec(select(ClosureRequest).where(ClosureRequest.user_id == ids["older"])).one()
    older.received_at = utcnow() - dt.timedelta(days=10)
    older.due_on = older.due_on - dt.timedelta(days=10)
    db.add(older)
    db.commit()
    staff = login_as("sam", email="sam@sentro.co", groups=["sentro-staff"])
    service.add_hold(
        db, older.id, staff, what="sign_in.ip", legal_basis="Fraud inquiry", until="2031-01-31"
    )
    with count_queries() as statements:
        page = client.get("/staff/closures/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert len(statements) <= 3, statements
    assert html.index("older@example.com") < html.index("newer@example.com")
    assert "10 days" in html
    holds = re.findall(r"<td>(\d+|<span class=\"muted\">none</span>)</td>", html)
    assert holds == ["1", '<span class="muted">none</span>']  # older has the hold, newer none
    assert "Closure requests" in client.get("/staff/").get_data(as_text=True)


def _case(client, login_as, db, **claims):
    person = login_as("ana", email="ana@example.com", name="Ana Customer", **claims)
    _ask(client)
    client.post("/logout")
    staff = login_as("sam", email="sam@sentro.co", groups=["sentro-staff"])
    return person, staff, _request_of(db, person)


def test_decline_needs_a_reason(client, login_as, db):
    _, _, request = _case(client, login_as, db)
    response = client.post(f"/staff/closures/{request.id}/decline", data={"reason": "  "})
    assert response.status_code == 422
    assert 'id="decline-reason-error"' in response.get_data(as_text=True)
    assert _request_of(db, db.get(User, request.user_id)).status == "received"


def test_a_declined_request_carries_the_reason_and_the_complaint_route(
    client, login_as, db, outbox, provider_url
):
    person, staff, request = _case(client, login_as, db)
    reason = "You have an unpaid invoice under dispute; we must keep the account open."
    response = client.post(f"/staff/closures/{request.id}/decline", data={"reason": reason})
    assert response.status_code == 303
    request = _request_of(db, person)
    assert (request.status, request.decline_reason, request.decided_by) == (
        "declined",
        reason,
        staff.id,
    )
    email = body_text(outbox.last_to("ana@example.com"))
    assert reason in email and service.COMPLAINT_URL in email
    client.post("/logout")
    login_as("ana", email="ana@example.com")
    status = client.get("/account/close/status").get_data(as_text=True)
    assert "Declined" in status and reason in status and service.COMPLAINT_URL in status


def test_every_staff_action_is_audited_with_who(client, login_as, db):
    person, staff, request = _case(client, login_as, db)
    client.post(f"/staff/closures/{request.id}/review")
    client.post(
        f"/staff/closures/{request.id}/holds",
        data={"what": "user.name", "legal_basis": "Court order 12/2026", "until": "2030-01-01"},
    )
    client.post(f"/staff/closures/{request.id}/decline", data={"reason": "Court order"})
    db.rollback()
    events = db.exec(select(AuditEvent).where(AuditEvent.actor == "staff")).all()
    assert [e.action for e in events] == [
        "closure.review_started",
        "closure.hold_added",
        "closure.declined",
    ]
    assert {(e.actor_id, e.user_id) for e in events} == {(staff.id, person.id)}
    assert all(e.at and e.ip for e in events)


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"what": "", "legal_basis": "Law", "until": "2030-01-01"}, "hold-what"),
        ({"what": "no_such_table", "legal_basis": "Law", "until": "2030-01-01"}, "hold-what"),
        ({"what": "sign_in", "legal_basis": "", "until": "2030-01-01"}, "hold-basis"),
        ({"what": "sign_in", "legal_basis": "L" * 501, "until": "2030-01-01"}, "hold-basis"),
        ({"what": "sign_in", "legal_basis": "Law", "until": ""}, "hold-until"),
        ({"what": "sign_in", "legal_basis": "Law", "until": "31/01/2030"}, "hold-until"),
        ({"what": "sign_in", "legal_basis": "Law", "until": "2001-01-01"}, "hold-until"),
        ({"what": "sign_in", "legal_basis": "Law", "until": "2999-01-01"}, "hold-until"),
    ],
)
def test_a_bad_hold_is_refused_next_to_its_field(client, login_as, db, form, field):
    _, _, request = _case(client, login_as, db)
    response = client.post(f"/staff/closures/{request.id}/holds", data=form)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    db.expire_all()
    assert get_case(db.get_bind(), request.id).holds == []


def test_approving_without_the_confirmation_page_changes_nothing(client, login_as, db, outbox):
    person, _, request = _case(client, login_as, db)
    response = client.post(f"/staff/closures/{request.id}/approve")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/closures/{request.id}/approve")
    assert _request_of(db, person).status == "received"
    assert db.exec(select(AuditEvent).where(AuditEvent.actor == "staff")).all() == []


def test_the_confirmation_page_shows_what_is_erased_and_what_kept(client, login_as, db):
    person, staff, request = _case(client, login_as, db)
    basis = "Fraud inquiry FI-2026-7"
    service.add_hold(
        db, request.id, staff, what="sign_in.ip", legal_basis=basis, until="2031-01-31"
    )
    response = client.get(f"/staff/closures/{request.id}/approve")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    erased, kept = html.split('id="kept-heading"')
    assert "Sign-in history</strong> (1 record)" in erased  # the staff sign-in is another person's
    assert "IP address" not in erased.split("Sign-in history")[1].split("</li>")[0]
    assert "Full name (replaced by an anonymous value)" in erased
    for item in erasure.retained_by_law():
        # An undecided request has no decline reason: nothing of it to keep.
        if item["label"] == "Why we declined a closure request":
            assert for_staff(item["label"]) not in kept
        elif item["category"] in ("Account", "Account closure requests"):
            assert for_staff(item["label"]) in kept and for_staff(item["basis"]) in kept
    assert "Sign-in history: IP address" in kept and basis in kept and "31 January 2031" in kept
    assert "The email confirming the account was closed" in kept
    assert 'name="confirmed" value="yes"' in html
    assert _request_of(db, person).status == "under_review"  # the hold started the review


def test_the_confirmation_page_runs_the_approval_it_showed(client, login_as, db):
    person, _, request = _case(client, login_as, db)
    client.get(f"/staff/closures/{request.id}/approve")
    assert _approve(client, request.id).status_code == 303
    assert _request_of(db, person).status == "approved"


def test_a_decided_request_has_no_confirmation_page(client, login_as, db):
    _, _, request = _case(client, login_as, db)
    client.post(f"/staff/closures/{request.id}/decline", data={"reason": "Unpaid invoice"})
    response = client.get(f"/staff/closures/{request.id}/approve")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/closures/{request.id}")
    assert "Only a request that is received or under review" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


def test_the_confirmation_page_of_your_own_request_offers_no_button(client, login_as, db):
    staff = login_as("sam", email="sam@sentro.co", groups=["sentro-staff"])
    _ask(client)
    html = client.get(f"/staff/closures/{_request_of(db, staff).id}/approve").get_data(as_text=True)
    assert "another member of staff must decide it" in html
    assert 'name="confirmed"' not in html


def test_staff_cannot_decide_their_own_request(client, login_as, db):
    staff = login_as("sam", email="sam@sentro.co", groups=["sentro-staff"])
    _ask(client)
    request = _request_of(db, staff)
    _approve(client, request.id)
    assert _request_of(db, staff).status == "received"


def test_unknown_requests_are_404_for_staff(client, staff):
    assert client.get("/staff/closures/999").status_code == 404
    assert _approve(client, 999).status_code == 404
    assert client.get("/staff/closures/999/approve").status_code == 404
    assert client.post("/staff/closures/999/decline", data={"reason": "x"}).status_code == 404


def test_approval_waits_for_the_grace_period_and_the_person_can_still_cancel(
    app, client, login_as, db, outbox
):
    person, _, request = _case(client, login_as, db)
    _approve(client, request.id)
    request = _request_of(db, person)
    assert request.status == "approved"
    assert request.erase_after.date() == (utcnow() + dt.timedelta(days=14)).date()
    assert "approved" in outbox.last_to("ana@example.com")["Subject"]
    with app.app_context():
        assert purge.erase_due(db, utcnow() + dt.timedelta(days=13)) == "erased 0 accounts"
    db.rollback()
    client.post("/logout")
    login_as("ana", email="ana@example.com")
    client.post("/account/close/cancel")
    with app.app_context():
        assert purge.erase_due(db, utcnow() + dt.timedelta(days=15)) == "erased 0 accounts"
        db.commit()
    assert _request_of(db, person).status == "cancelled"
    assert db.get(User, person.id).status == "active"


def test_after_the_grace_period_privacy_purge_erases_and_sign_in_shows_closed(
    app, client, login_as, db, outbox, provider_url, monkeypatch
):
    person, _, request = _case(client, login_as, db)
    _approve(client, request.id)
    later = utcnow() + dt.timedelta(days=15)
    monkeypatch.setattr("webapp.cli.utcnow", lambda: later)
    result = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert "erased 1 accounts" in result.output, result.output
    db.rollback()
    user = db.get(User, person.id)
    assert (user.status, user.email, user.name) == ("closed", f"erased-{person.id}@invalid", "")
    completed = outbox.last_to("ana@example.com")
    assert completed["Subject"] == "Your Sentro account is closed"
    assert "Sign-in identity at the provider" in body_text(completed)
    client.post("/logout")
    response = sign_in(client, provider_url, "ana", {"email": "ana@example.com"})
    assert response.status_code == 403
    assert "This account is closed" in response.get_data(as_text=True)
    assert db.exec(select(SignIn).where(SignIn.user_id == person.id)).all() == []


def test_what_holds_nothing_is_not_listed_as_kept(app, login_as, db, client, outbox):
    """An approved request has no decline reason: the closure email must not say it is kept."""
    app.config["CLOSURE_GRACE_DAYS"] = 0
    person, _, request = _case(client, login_as, db)
    client.post(f"/staff/closures/{request.id}/approve", data={"confirmed": "yes"})
    closed = _request_of(db, person)
    kept = {(item["table"], item["column"]) for item in closed.retained_items}
    assert ("closure_request", "decline_reason") not in kept
    assert ("closure_request", "received_at") in kept
    completed = outbox.last_to("ana@example.com")
    assert completed["Subject"] == "Your Sentro account is closed"
    assert "Why we declined a closure request" not in body_text(completed)


def test_with_no_grace_period_approval_erases_at_once(config, login_as, db, app, client):
    app.config["CLOSURE_GRACE_DAYS"] = 0
    person, _, request = _case(client, login_as, db)
    _approve(client, request.id)
    assert _request_of(db, person).status == "completed"
    page = client.get(f"/staff/closures/{request.id}").get_data(as_text=True)
    assert "Kept after erasure" in page


# --- no input makes a 500 --------------------------------------------------------------

ANY_TEXT = st.text(max_size=2100) | st.sampled_from(["CLOSE", "\x00CLOSE", "sign_in", "2030-02-29"])
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(confirmation=ANY_TEXT, reason=ANY_TEXT)
def test_no_close_form_input_makes_an_error_page(client, person, confirmation, reason):
    response = _ask(client, confirmation=confirmation, reason=reason)
    assert response.status_code in (303, 422)
    client.post("/account/close/cancel")


@SETTINGS
@given(what=ANY_TEXT, basis=ANY_TEXT, until=ANY_TEXT, reason=ANY_TEXT)
def test_no_staff_form_input_makes_an_error_page(client, staff, db, what, basis, until, reason):
    user = User(issuer="https://id.test", subject="h", email="h@example.com")
    db.add(user)
    db.commit()
    with client.application.test_request_context():
        request = service.request_closure(db, user, confirmation="CLOSE").request
    hold = {"what": what, "legal_basis": basis, "until": until}
    assert client.post(f"/staff/closures/{request.id}/holds", data=hold).status_code in (303, 422)
    decline = client.post(f"/staff/closures/{request.id}/decline", data={"reason": reason})
    assert decline.status_code in (303, 422)
    db.rollback()
    db.delete(db.get(User, user.id))
    db.commit()


def test_the_case_page_needs_at_most_three_queries(client, login_as, db, count_queries):
    _, _, request = _case(client, login_as, db)
    with count_queries() as statements:
        page = client.get(f"/staff/closures/{request.id}")
    assert page.status_code == 200 and "Add a hold" in page.get_data(as_text=True)
    assert len(statements) <= 3, statements


def test_the_close_page_needs_at_most_three_queries(client, person, count_queries):
    with count_queries() as statements:
        assert client.get("/account/close").status_code == 200
    assert len(statements) <= 3, statements
