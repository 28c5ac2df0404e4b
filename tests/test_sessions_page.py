"""Sessions on /account/security: see each signed-in browser, sign out one, all others, or all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.conftest import sign_in
from webapp.models import AuditEvent, User, UserSession, utcnow

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
HX = {"HX-Request": "true", "HX-Target": "sessions"}


@pytest.fixture
def laptop(app, provider_url, person):
    """The same person signed in on a second browser (Firefox on Windows)."""
    other = app.test_client()
    other.environ_base["HTTP_USER_AGENT"] = FIREFOX
    sign_in(other, provider_url, "ana", {"email": "ana@example.com"})
    assert other.get("/account").status_code == 200
    return other


def session_ids(db, user_id: int, *, live: bool = True) -> list[int]:
    db.rollback()
    query = select(UserSession.id).where(UserSession.user_id == user_id)
    if live:
        query = query.where(UserSession.ended_at.is_(None))
    return list(db.exec(query.order_by(UserSession.id)).all())


def audit_actions(db) -> list[str]:
    db.rollback()
    return [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def signed_in(*clients) -> list[bool]:
    return [c.get("/account").status_code == 200 for c in clients]


def test_every_live_session_is_listed_with_this_browser_marked(client, person, laptop):
    fragment = client.get("/account/security", headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith('<section id="sessions"')
    assert fragment.count('<li class="session') == 2
    assert fragment.count("This browser") == 1
    assert "Firefox 120 on Windows 10" in fragment
    assert "127.0.0.0/24" in fragment and "127.0.0.1" not in fragment  # the network only
    # One "Sign out" per other session; none for this browser.
    assert fragment.count('name="session"') == 1
    assert "Sign out all other sessions" in fragment


def test_the_page_shows_the_sessions_beside_the_sign_ins_and_one_not_me_action(client, person):
    html = client.get("/account/security").get_data(as_text=True)
    assert html.index('id="sessions"') < html.index('id="sign-ins"')
    assert html.count("This wasn't me") == 1
    assert "No other browser is signed in." in html
    assert "css/sessions.css" in html


def test_another_persons_sessions_are_not_shown(app, client, person, provider_url):
    stranger = app.test_client()
    stranger.environ_base["HTTP_USER_AGENT"] = FIREFOX
    sign_in(stranger, provider_url, "bo", {"email": "bo@example.com"})
    assert "Firefox" not in client.get("/account/security", headers=HX).get_data(as_text=True)


def test_sign_out_one_other_session(client, person, laptop, db):
    mine, theirs = session_ids(db, person.id)
    response = client.post("/account/security/sessions/end", data={"session": theirs})
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/account/security"
    )
    assert "That session is signed out." in client.get("/account/security").get_data(as_text=True)
    assert signed_in(client, laptop) == [True, False]
    assert session_ids(db, person.id) == [mine]
    assert audit_actions(db) == ["session-signed-out"]


def test_with_htmx_the_list_is_swapped_in_place(client, person, laptop, db):
    _mine, theirs = session_ids(db, person.id)
    response = client.post("/account/security/sessions/end", data={"session": theirs}, headers=HX)
    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and fragment.lstrip().startswith('<section id="sessions"')
    assert "Firefox" not in fragment and "No other browser is signed in." in fragment


def test_sign_out_all_other_sessions(app, client, person, laptop, provider_url, db):
    tablet = app.test_client()
    sign_in(tablet, provider_url, "ana", {"email": "ana@example.com"})
    response = client.post("/account/security/sessions/end-others")
    assert response.status_code == 303
    assert signed_in(client, laptop, tablet) == [True, False, False]
    assert audit_actions(db) == ["other-sessions-signed-out"]
    fragment = client.post("/account/security/sessions/end-others", headers=HX)
    assert "No other browser is signed in." in fragment.get_data(as_text=True)


def test_this_wasnt_me_ends_every_session_this_one_too(client, person, laptop, db):
    response = client.post("/account/security/not-me")
    assert response.headers["Location"].endswith("/account/security/signed-out")
    assert signed_in(client, laptop) == [False, False]
    assert session_ids(db, person.id) == []
    assert audit_actions(db) == ["sign-in-not-recognised"]


@pytest.mark.parametrize(
    "given",
    ["", "abc", "-1", "0", "²", "1e3", "99999999999999999999", str(2**63), "this", "stranger"],
)
def test_a_session_that_is_not_anothers_of_theirs_changes_nothing(
    app, client, person, laptop, provider_url, db, given
):
    mine, _theirs = session_ids(db, person.id)
    if given == "this":
        given = str(mine)
    elif given == "stranger":
        other = app.test_client()
        sign_in(other, provider_url, "bo", {"email": "bo@example.com"})
        db.rollback()
        bo = db.exec(select(User).where(User.subject == "bo")).one()
        given = str(session_ids(db, bo.id)[0])
    response = client.post("/account/security/sessions/end", data={"session": given})
    assert response.status_code == 422
    assert "Nothing was changed" in response.get_data(as_text=True) or "this browser" in (
        response.get_data(as_text=True)
    )
    assert signed_in(client, laptop) == [True, True]
    assert len(session_ids(db, person.id)) == 2 and audit_actions(db) == []


def test_an_ended_session_cannot_be_ended_twice(client, person, laptop, db):
    _mine, theirs = session_ids(db, person.id)
    client.post("/account/security/sessions/end", data={"session": theirs})
    again = client.post("/account/security/sessions/end", data={"session": theirs})
    assert again.status_code == 422 and audit_actions(db) == ["session-signed-out"]


def test_a_reduced_session_address_is_still_shown_as_its_network(client, person, laptop, db):
    _mine, theirs = session_ids(db, person.id)
    row = db.get(UserSession, theirs)
    row.ip, row.ip_reduced = "203.0.113.0/24", True
    db.add(row)
    db.commit()
    fragment = client.get("/account/security", headers=HX).get_data(as_text=True)
    assert "203.0.113.0/24" in fragment


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (("last_active_at", lambda row: row.last_active_at - timedelta(hours=1)), "idle too long"),
        (("expires_at", lambda row: utcnow() - timedelta(seconds=1)), "past its absolute end"),
        (("generation", lambda row: row.generation - 1), "from before signing out everywhere"),
    ],
)
def test_a_session_that_no_longer_signs_in_is_not_listed_though_not_ended(
    client, person, laptop, db, change, why
):
    _mine, theirs = session_ids(db, person.id)
    row = db.get(UserSession, theirs)
    name, value = change
    setattr(row, name, value(row))
    db.add(row)
    db.commit()
    assert signed_in(laptop) == [False], why
    fragment = client.get("/account/security", headers=HX).get_data(as_text=True)
    assert fragment.count('<li class="session') == 1 and "Firefox" not in fragment, why
    assert "No other browser is signed in." in fragment
