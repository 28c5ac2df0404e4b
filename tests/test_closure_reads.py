"""What the closure pages read, whoever reads it and however it is sent.

The person's pages read their latest request with the person's own session; the staff queue
and a case are read with the member of staff's. Each person sees only their own request, a
case only its own holds, and the queue's filters and pages are those asked for.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from webapp.closure import queue
from webapp.closure.case import get_case
from webapp.dev.seed import seed_open_requests
from webapp.models import ClosureRequest


def _ask(client):
    return client.post("/account/close", data={"confirmation": "CLOSE"})


def _sign_in(client, login_as, sub: str, **claims):
    """Sign out whoever is signed in, then sign in as `sub`."""
    client.post("/logout")
    return login_as(sub, email=f"{sub}@example.com", name=sub.title(), **claims)


def _request_of(db, user) -> ClosureRequest:
    db.rollback()
    query = select(ClosureRequest).where(ClosureRequest.user_id == user.id)
    return db.exec(query.order_by(ClosureRequest.id.desc())).first()


def test_each_person_sees_their_own_latest_request(client, login_as):
    _sign_in(client, login_as, "ana")
    _ask(client)
    client.post("/account/close/cancel")
    _sign_in(client, login_as, "ben")
    _ask(client)  # an open request, but Ben's

    _sign_in(client, login_as, "ana")
    status = client.get("/account/close/status").get_data(as_text=True)
    assert "Your request: Cancelled" in status and "Ask again to close my account" in status
    assert client.get("/account/close").status_code == 200  # Ben's open request is not hers

    _ask(client)
    status = client.get("/account/close/status").get_data(as_text=True)
    assert "Your request: Received" in status and "Cancel my request" in status
    start = client.get("/account/close")
    assert start.status_code == 302 and start.headers["Location"].endswith("/account/close/status")


def test_someone_who_never_asked_is_offered_the_close_page(client, login_as):
    _sign_in(client, login_as, "ben")
    _ask(client)
    _sign_in(client, login_as, "ana")
    assert "You have not asked us to close your account." in client.get(
        "/account/close/status"
    ).get_data(as_text=True)


@pytest.mark.parametrize("path", ["/account/close", "/account/close/status"])
def test_signed_out_visitors_of_the_persons_pages_are_sent_to_sign_in(app, path):
    response = app.test_client().get(path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_case_page_shows_its_own_person_and_holds(client, login_as, db):
    ana = _sign_in(client, login_as, "ana")
    _ask(client)
    ben = _sign_in(client, login_as, "ben")
    _ask(client)
    _sign_in(client, login_as, "sam", groups=["sentro-staff"])
    held, other = _request_of(db, ana), _request_of(db, ben)
    client.post(
        f"/staff/closures/{held.id}/holds",
        data={"what": "sign_in.ip", "legal_basis": "Fraud inquiry", "until": "2031-01-31"},
    )

    page = client.get(f"/staff/closures/{held.id}").get_data(as_text=True)
    assert "ana@example.com" in page and "Fraud inquiry" in page
    page = client.get(f"/staff/closures/{other.id}").get_data(as_text=True)
    assert "ben@example.com" in page and "ana@example.com" not in page
    assert "Fraud inquiry" not in page and "No holds" in page


def test_a_case_read_on_its_own_is_the_request_its_person_and_its_holds(client, login_as, db):
    ana = _sign_in(client, login_as, "ana")
    _ask(client)
    request = _request_of(db, ana)
    case = get_case(db.get_bind(), request.id)
    assert (case.request.id, case.person.email, case.holds) == (request.id, ana.email, [])
    assert get_case(db.get_bind(), request.id + 1000) is None


def _ids_on(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'href="/staff/closures/(\d+)"', html)]


def test_the_queue_shows_the_status_asked_for(client, login_as, db):
    ana = _sign_in(client, login_as, "ana")
    _ask(client)
    client.post("/account/close/cancel")
    ben = _sign_in(client, login_as, "ben")
    _ask(client)
    _sign_in(client, login_as, "sam", groups=["sentro-staff"])
    cancelled, received = _request_of(db, ana).id, _request_of(db, ben).id

    for asked, shown in [
        ("", [received]),
        ("?status=received", [received]),
        ("?status=cancelled", [cancelled]),
        ("?status=approved", []),
        ("?status=all", [cancelled, received]),
        ("?status=nonsense", [received]),
    ]:
        html = client.get(f"/staff/closures/{asked}").get_data(as_text=True)
        assert sorted(_ids_on(html)) == sorted(shown), asked
        assert 'Cancelled <span class="count">1</span>' in html, asked


@pytest.mark.parametrize(
    ("requests", "asked", "shown", "rows"),
    [
        (0, 1, 1, 0),
        (0, 5, 1, 0),
        (4, 2, 2, 2),
        (4, 3, 2, 2),  # the queue ends exactly at the end of a page
        (5, 3, 3, 1),
        (5, 9, 3, 1),
        (5, 999999, 3, 1),
    ],
)
def test_a_queue_page_past_the_end_is_the_last_page(app, db, requests, asked, shown, rows):
    if requests:
        with app.app_context():
            seed_open_requests(requests)
    result = queue.page(db.get_bind(), page=asked, per_page=2)
    in_order = db.exec(
        select(ClosureRequest.id).order_by(ClosureRequest.due_on, ClosureRequest.id)
    ).all()
    assert (result.page, result.total) == (shown, requests)
    assert [row.request.id for row in result.rows] == in_order[(shown - 1) * 2 :][:rows]
