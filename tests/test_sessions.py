"""Sessions held by the site: the cookie is a reference, sign-out ends every copy, time ends them."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from datetime import timedelta
from importlib.metadata import version

import pytest
from sqlmodel import select

from tests.conftest import sign_in
from webapp.auth import current, guards, service
from webapp.models import AuditEvent, User, UserSession, utcnow

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"


def copy_of(client, app):
    """Another browser holding a copy of `client`'s cookies (a synced profile, malware)."""
    other = app.test_client()
    other.set_cookie("sentro_session", client.get_cookie("sentro_session").value)
    return other


def rows(db, **where) -> list[UserSession]:
    db.rollback()  # read what the requests committed
    db.expire_all()
    query = select(UserSession).order_by(UserSession.id)
    for name, value in where.items():
        query = query.where(getattr(UserSession, name) == value)
    return list(db.exec(query).all())


def reauthenticate(client, sub: str):
    """Prove again who one is (the re-authentication flow), in the same browser."""
    from urllib.parse import urlsplit

    import requests

    start = client.get("/login?reauth=1")
    answer = requests.post(
        start.headers["Location"], data={"sub": sub}, allow_redirects=False, timeout=5
    )
    callback = urlsplit(answer.headers["Location"])
    response = client.get(f"{callback.path}?{callback.query}")
    assert response.status_code == 303
    return response


@pytest.fixture
def clock(monkeypatch):
    """Move the site's clock: `clock.advance(minutes=…)`."""

    class Clock:
        offset = timedelta(0)

        def advance(self, **delta) -> None:
            self.offset += timedelta(**delta)

    frozen = Clock()
    for module in (current, service, guards):
        monkeypatch.setattr(module, "utcnow", lambda: utcnow() + frozen.offset)
    return frozen


# --- sign-out signs out -----------------------------------------------------------------


def test_a_copy_of_the_cookie_is_signed_out_with_the_original(app, client, person, db):
    copy = copy_of(client, app)
    assert copy.get("/account/profile").status_code == 200
    client.post("/logout")
    replay = copy.get("/account/profile")
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]
    [row] = rows(db, user_id=person.id)
    assert row.ended_at is not None and row.end_reason == "signed-out"
    assert row.id_token is None  # kept only for the sign-out; gone with it
    assert [e.action for e in db.exec(select(AuditEvent)).all()] == ["signed-out"]


def test_sign_out_names_the_session_to_the_provider(client, person, provider_url):
    location = client.post("/logout").headers["Location"]
    assert location.startswith(provider_url) and "id_token_hint=" in location


def test_each_sign_in_is_a_session_of_its_own(app, client, person, provider_url, db):
    laptop = app.test_client()
    sign_in(laptop, provider_url, "ana", {"email": "ana@example.com"})
    assert len(rows(db, user_id=person.id)) == 2
    client.post("/logout")
    assert laptop.get("/account").status_code == 200


def test_signing_in_again_ends_the_browsers_previous_session(app, client, person, provider_url, db):
    before = copy_of(client, app)
    reauthenticate(client, "ana")
    assert before.get("/account").status_code == 302
    assert client.get("/account").status_code == 200
    assert [r.end_reason for r in rows(db)] == ["signed-in-again", ""]


def test_a_cookie_from_before_server_side_sessions_is_signed_out(client, person):
    """On deploy, cookie sessions (flask-login's `_user_id`) simply stop signing anyone in."""
    with client.session_transaction() as session:
        session.clear()
        session.update({"_user_id": f"{person.id}:0", "_fresh": True, "auth_time": 1})
    assert client.get("/account").status_code == 302


# --- nothing personal in any cookie ------------------------------------------------------


def cookie_payload(value: str) -> str:
    """What anyone who sees the cookie can read (itsdangerous signs, it does not encrypt)."""
    payload = value.split(".")
    compressed = value.startswith(".")
    data = payload[1] if compressed else payload[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode()


def test_no_cookie_holds_a_personal_value(client, provider_url, db):
    seen: list[str] = []

    def cookies_now() -> None:
        for cookie in client._cookies.values():  # every cookie the site has set, as stored
            value = cookie.value
            seen.append(cookie_payload(value) if cookie.key == "sentro_session" else value)

    client.get("/login")
    cookies_now()
    email, name = "ana.private@example.com", "Ana Private-Person"
    sign_in(client, provider_url, "ana-sub-7731", {"email": email, "name": name})
    cookies_now()
    client.post("/account/email-preferences/service-updates", data={"subscribed": "0"})
    cookies_now()  # a flash is waiting
    client.get("/account/email-preferences")
    client.get("/account/security")
    cookies_now()
    client.post("/account/profile/email", data={"email": "ana.new-address@example.com"})
    cookies_now()  # a flash about the new address is waiting
    client.get("/account/profile")
    user = db.exec(select(User).where(User.subject == "ana-sub-7731")).one()
    [row] = rows(db, user_id=user.id)
    client.post("/logout")
    client.get("/")
    cookies_now()
    agent = f"Werkzeug/{version('werkzeug')}"
    personal = [
        email,
        "ana.new-address@example.com",
        name,
        "ana-sub-7731",
        "127.0.0.1",
        hashlib.sha512(f"127.0.0.1|{agent}".encode()).hexdigest(),
        f'"{user.id}:0"',  # flask-login's "id:generation"
        '"_user_id"',
        '"_id"',
        '"_fresh"',
        '"auth_time"',
        '"id_token"',
    ]
    id_token = row.id_token
    assert id_token and id_token.count(".") == 2
    text = "\n".join(seen)
    assert seen, "the walk saw no cookie"
    assert '"sid"' in text  # the reference is there, and only it
    for value in [*personal, id_token, id_token.split(".")[1]]:
        assert value not in text, value


# --- one statement -----------------------------------------------------------------------


@pytest.fixture
def who(app):
    """A page that only asks who is signed in."""
    from flask_login import current_user, login_required

    @app.get("/_who")
    @login_required
    def who():
        return str(current_user.id)

    return "/_who"


def test_one_statement_loads_the_person_and_the_session(who, client, person, count_queries):
    client.get("/_who")
    with count_queries() as statements:
        assert client.get("/_who").get_data(as_text=True) == str(person.id)
    assert len(statements) == 1
    assert "user_session" in statements[0] and "JOIN" in statements[0].upper()


def test_last_active_is_written_now_and_then_not_per_request(
    client, person, clock, count_queries, db
):
    with count_queries() as statements:
        for _ in range(3):
            clock.advance(seconds=50)
            client.get("/account")
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    clock.advance(minutes=3)
    with count_queries() as statements:
        client.get("/account")
    assert len([s for s in statements if s.lstrip().upper().startswith("UPDATE")]) == 1
    [row] = rows(db)
    assert row.last_active_at > row.created_at + timedelta(minutes=5)


# --- lifetimes ---------------------------------------------------------------------------


def test_a_session_ends_after_the_idle_time(client, person, clock):
    clock.advance(minutes=14)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=14)  # active 14 minutes ago: still in
    assert client.get("/account").status_code == 200
    clock.advance(minutes=16)
    assert client.get("/account").status_code == 302


def test_an_active_session_still_ends_at_its_absolute_lifetime(client, person, clock):
    for _ in range(int(24 * 60 / 10) - 1):
        clock.advance(minutes=10)
        assert client.get("/account").status_code == 200
    clock.advance(minutes=11)
    assert client.get("/account").status_code == 302


def test_lifetimes_are_configurable(config, app):
    from webapp import create_app
    from webapp.auth.sessions import Lifetimes

    other = create_app(
        {**config, "SESSION_IDLE_MINUTES": 5, "SESSION_MAX_DAYS": 2, "STAFF_SESSION_HOURS": 1}
    )
    limits = Lifetimes.from_config(other.config)
    assert (limits.idle, limits.absolute, limits.staff) == (
        timedelta(minutes=5),
        timedelta(days=2),
        timedelta(hours=1),
    )
    assert limits.touch_every == timedelta(minutes=1)
    other.extensions["sentro.engine"].dispose()


def test_staff_removed_from_the_group_lose_staff_when_the_staff_session_ends(
    client, staff, clock, provider_url
):
    import requests

    # Removed at the provider; no new sign-in here.
    requests.put(f"{provider_url}/users/sam", json={"groups": []}, timeout=5).raise_for_status()
    assert client.get("/staff/").status_code == 200
    for _ in range(int(8 * 60 / 10) - 1):
        clock.advance(minutes=10)
        assert client.get("/staff/").status_code == 200
    clock.advance(minutes=11)
    assert client.get("/staff/").status_code == 302  # the staff session is over: sign in again
    reauthenticate(client, "sam")
    assert client.get("/staff/").status_code == 403


def test_a_customer_session_started_before_becoming_staff_has_no_staff_rights(
    app, client, person, provider_url
):
    other = app.test_client()
    sign_in(other, provider_url, "ana", {"email": "ana@example.com", "groups": ["sentro-staff"]})
    assert other.get("/staff/").status_code == 200
    assert client.get("/staff/").status_code == 403  # its sign-in granted no staff rights


def test_ending_all_sessions_ends_the_rows(client, person, db):
    from webapp.auth.service import end_all_sessions

    end_all_sessions(db, db.get(User, person.id))
    assert client.get("/account").status_code == 302
    assert all(r.ended_at is not None for r in rows(db))


# --- the data map: exported, erased at closure, purged -----------------------------------


def test_the_export_contains_the_sessions_but_not_the_id_token(client, person, db):
    document = client.get("/account/export.json").get_json()
    text = json.dumps(document)
    [category] = [c for c in document["categories"] if c["name"] == "Signed-in sessions"]
    [record] = category["records"]
    assert record["ip"] == "127.0.0.1" and record["device"]
    assert "id_token" not in record and "token_hash" not in record
    [row] = rows(db)
    assert row.id_token.split(".")[1] not in text


def test_closing_the_account_erases_its_sessions(app, client, person, db):
    from webapp.closure.erasure import erase_account
    from webapp.models import ClosureRequest

    request = ClosureRequest(user_id=person.id, status="approved", due_on=utcnow().date())
    db.add(request)
    db.commit()
    with app.test_request_context():
        erase_account(db, request, db.get(User, person.id), [], utcnow())
        db.commit()
    assert rows(db) == []
    assert client.get("/account").status_code == 302


def test_privacy_purge_deletes_ended_and_expired_sessions_and_reduces_old_addresses(
    app, client, person, provider_url, db
):
    from webapp import retention
    from webapp.auth.sessions import Lifetimes, start

    user = db.get(User, person.id)
    now = utcnow()
    limits = Lifetimes(absolute=timedelta(days=60))
    _, old = start(
        db, user, now=now - timedelta(days=31), lifetimes=limits, staff=False, ip="203.0.113.77"
    )
    old.last_active_at = now
    _, idle = start(db, user, now=now - timedelta(hours=1), lifetimes=limits, staff=False)
    _, expired = start(db, user, now=now - timedelta(days=2), lifetimes=Lifetimes(), staff=False)
    expired.last_active_at = now
    db.add_all([old, idle, expired])
    db.commit()
    client.post("/logout")  # the person's own session: ended
    old_id = old.id
    with app.app_context():
        app.config.update(SESSION_MAX_DAYS=60)
        reports = dict(retention.run_all(db, now))
    assert reports["ended sessions"] == "3 ended sessions deleted"
    assert "user_session.ip: 0 addresses removed, 1 reduced" in reports["IP addresses"]
    [kept] = rows(db)
    assert (kept.id, kept.ip, kept.ip_reduced) == (old_id, "203.0.113.0/24", True)
