"""The pages behind email links say plainly what happens next, and a broken link still leads on."""

from __future__ import annotations

from html import unescape

import pytest

from tests.test_preferences import expire, make_person, preference_token
from webapp.preferences import links

SIGN_IN = "Sign in to manage your emails"
SIGN_IN_HREF = 'href="/login?next=/account/email-preferences"'


def offers_sign_in(html: str) -> bool:
    return SIGN_IN in html and SIGN_IN_HREF in unescape(html).replace("%2F", "/")


@pytest.mark.parametrize(
    "path",
    [
        "/email-preferences/nonsense",
        "/email-preferences/eyJhIjoxfQ.bad.signature",
        "/email/unsubscribe/nonsense",
    ],
)
def test_a_damaged_email_link_offers_sign_in_to_manage_emails(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert offers_sign_in(response.get_data(as_text=True))


def test_other_error_pages_do_not_talk_about_emails(client):
    html = client.get("/no-such-page").get_data(as_text=True)
    assert SIGN_IN not in html
    assert "Go to the start" in html


def test_an_expired_preference_link_offers_sign_in(app, client, db, monkeypatch):
    token = preference_token(app, make_person(db, "mere"))
    expire(monkeypatch, 61)
    html = client.get(f"/email-preferences/{token}").get_data(as_text=True)
    assert "This link has expired" in html
    assert offers_sign_in(html)


def test_a_link_for_a_closed_account_offers_sign_in(app, client, db):
    token = preference_token(app, make_person(db, "gone", status="closed"))
    html = client.get(f"/email-preferences/{token}").get_data(as_text=True)
    assert "This address is on no list" in html
    assert offers_sign_in(html)


def test_a_bad_email_change_link_offers_sign_in(client):
    html = client.get("/account/profile/email/confirm/nonsense").get_data(as_text=True)
    assert "This link isn" in html
    assert offers_sign_in(html)


def test_the_unsubscribe_page_says_one_more_click_confirms_and_changes_nothing(app, client, db):
    from webapp.preferences import service

    user_id = make_person(db, "rua")
    with app.app_context():
        path = links.unsubscribe_url(user_id, "service-updates").removeprefix("http://localhost")
    html = client.get(path).get_data(as_text=True)
    assert "One more click confirms it" in html
    assert "nothing has changed yet" in html
    assert '<button type="submit">Unsubscribe</button>' in html
    assert service.is_subscribed(db, user_id, "service-updates")
