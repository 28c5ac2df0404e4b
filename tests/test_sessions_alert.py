"""The new-sign-in alert: a new device or network is told by email, with a link that ends it."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from tests.conftest import body_text, links_in, sign_in
from webapp.addresses import reduce_ip
from webapp.models import AuditEvent, OutboxMessage, UserSession

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"
SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
ANA = {"email": "ana@example.com", "name": "Ana Customer"}


@pytest.fixture
def browser(app, provider_url):
    """`browser(agent)`: a new browser with this user agent, signed in as Ana."""

    def open_browser(agent: str = "", address: str = "127.0.0.1"):
        client = app.test_client()
        if agent:
            client.environ_base["HTTP_USER_AGENT"] = agent
        client.environ_base["REMOTE_ADDR"] = address
        sign_in(client, provider_url, "ana", ANA)
        return client

    return open_browser


def alerts(outbox) -> list:
    return [m for m in outbox.to("ana@example.com") if "New sign-in" in m["Subject"]]


def test_the_first_sign_in_of_a_new_account_sends_no_alert(browser, outbox):
    browser()
    assert alerts(outbox) == []


def test_a_known_device_and_network_sends_no_alert(browser, outbox):
    browser()
    browser()
    assert alerts(outbox) == []


def test_a_new_device_is_told_by_email_with_device_network_and_local_time(browser, outbox):
    browser()
    before = datetime.now(ZoneInfo("Pacific/Auckland"))
    browser(FIREFOX)
    [alert] = alerts(outbox)
    text = body_text(alert)
    assert "Firefox 120 on Windows 10" in text
    assert "127.0.0.0/24" in text and "127.0.0.1" not in text
    assert re.search(rf"{before.day} {before:%B %Y}, \d\d:\d\d NZ[DS]T", text)
    assert alert["List-Id"] is None or "account" in alert["List-Id"]
    assert "unsubscribe" not in text.lower()  # transactional: the account list, always sent


def test_a_new_network_for_a_known_device_is_told_too(browser, outbox):
    browser()
    browser(address="203.0.113.9")
    [alert] = alerts(outbox)
    assert "203.0.113.0/24" in body_text(alert)


def test_at_most_one_alert_per_device_a_day(browser, outbox):
    browser()
    browser(FIREFOX, "198.51.100.1")
    browser(FIREFOX, "203.0.113.9")  # same new device, another new network, same day
    browser(SAFARI)
    assert [("Firefox" in body_text(m), "Safari" in body_text(m)) for m in alerts(outbox)] == [
        (True, False),
        (False, True),
    ]


def test_the_link_ends_that_session_after_a_fresh_sign_in(
    client, person, browser, outbox, provider_url, db, age_sign_in
):
    intruder = browser(FIREFOX)
    [link] = [u for u in links_in(alerts(outbox)[0]) if "/sessions/end/" in u]
    path = urlsplit(link).path
    age_sign_in(3600)  # the person's own browser signed in an hour ago
    asked = client.get(path)
    assert asked.status_code == 303 and "reauth=1" in asked.headers["Location"]
    start = client.get(asked.headers["Location"])
    import requests

    answer = requests.post(
        start.headers["Location"], data={"sub": "ana"}, allow_redirects=False, timeout=5
    )
    callback = urlsplit(answer.headers["Location"])
    back = client.get(f"{callback.path}?{callback.query}")
    assert back.headers["Location"] == path
    page = client.get(path)
    assert page.status_code == 200 and "Firefox 120 on Windows 10" in page.get_data(as_text=True)
    assert intruder.get("/account").status_code == 200  # a GET changes nothing
    done = client.post(path)
    assert done.status_code == 303
    assert intruder.get("/account").status_code == 302
    assert client.get("/account").status_code == 200
    db.rollback()
    assert "session-signed-out" in [e.action for e in db.exec(select(AuditEvent)).all()]


@pytest.mark.parametrize("token", ["nonsense", "a.b.c", "x" * 300])
def test_a_bad_link_says_so_and_changes_nothing(client, person, token):
    response = client.get(f"/account/security/sessions/end/{token}")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_a_link_for_another_persons_session_ends_nothing(
    app, client, person, provider_url, db, outbox
):
    from webapp import tokens

    bo = app.test_client()
    sign_in(bo, provider_url, "bo", {"email": "bo@example.com"})
    db.rollback()
    theirs = db.exec(select(UserSession).where(UserSession.user_id != person.id)).one()
    with app.test_request_context():
        token = tokens.make(tokens.SESSION_END, {"s": theirs.id, "u": theirs.user_id})
    assert client.get(f"/account/security/sessions/end/{token}").status_code == 404
    assert client.post(f"/account/security/sessions/end/{token}").status_code == 404
    assert bo.get("/account").status_code == 200


def test_a_link_in_the_persons_name_for_someone_elses_session_ends_nothing(
    app, client, person, provider_url, db
):
    """A genuine link naming the person, but a session of another account: not found."""
    from webapp import tokens

    bo = app.test_client()
    sign_in(bo, provider_url, "bo", {"email": "bo@example.com"})
    db.rollback()
    theirs = db.exec(select(UserSession).where(UserSession.user_id != person.id)).one()
    with app.test_request_context():
        token = tokens.make(tokens.SESSION_END, {"s": theirs.id, "u": person.id})
    page = client.get(f"/account/security/sessions/end/{token}")
    assert page.status_code == 404 and "not one of this account" in page.get_data(as_text=True)
    assert client.post(f"/account/security/sessions/end/{token}").status_code == 404
    assert bo.get("/account").status_code == 200


def test_a_link_to_this_browser_or_to_an_ended_session_offers_no_sign_out(
    app, client, person, browser, db
):
    from webapp import tokens

    laptop = browser(FIREFOX)
    assert laptop.post("/logout").status_code < 400
    db.rollback()
    rows = db.exec(select(UserSession).where(UserSession.user_id == person.id)).all()
    this = next(r for r in rows if r.ended_at is None)
    ended = next(r for r in rows if r.ended_at is not None)
    with app.test_request_context():
        links = {
            r.id: tokens.make(tokens.SESSION_END, {"s": r.id, "u": person.id})
            for r in (this, ended)
        }
    here = client.get(f"/account/security/sessions/end/{links[this.id]}").get_data(as_text=True)
    assert "That is the session in this browser" in here and "Sign out that session" not in here
    gone = client.get(f"/account/security/sessions/end/{links[ended.id]}").get_data(as_text=True)
    assert "already ended" in gone and "Sign out that session" not in gone
    assert "Firefox 120 on Windows 10" in gone


@pytest.mark.parametrize(
    ("stored", "network"),
    [("203.0.113.9", "203.0.113.0/24"), ("203.0.113.0/24", "203.0.113.0/24"), (None, None)],
)
def test_a_reduced_address_is_compared_as_its_network(stored, network):
    assert reduce_ip(stored) == network


def test_the_alert_is_queued_once_in_the_outbox(browser, db):
    browser()
    browser(FIREFOX)
    browser(FIREFOX)
    db.rollback()
    queued = db.exec(select(OutboxMessage).where(OutboxMessage.template == "new_sign_in")).all()
    assert len(queued) == 1 and queued[0].list_id == "account"
