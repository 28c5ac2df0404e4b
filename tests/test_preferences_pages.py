"""The pages behind email links say plainly what happens next, and a broken link still leads on."""

from __future__ import annotations

from html import unescape

import pytest

from tests.helpers import one_trip_on_postgresql, opened
from tests.test_preferences import expire, make_person, preference_token
from webapp import tokens
from webapp.preferences import links, service

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
    user_id = make_person(db, "rua")
    with app.app_context():
        path = links.unsubscribe_url(user_id, "service-updates").removeprefix("http://localhost")
    html = client.get(path).get_data(as_text=True)
    assert "One more click confirms it" in html
    assert "nothing has changed yet" in html
    assert '<button type="submit">Unsubscribe</button>' in html
    assert service.is_subscribed(db, user_id, "service-updates")


# --- what opening an emailed link costs --------------------------------------------------


def _list_row(html: str, list_id: str) -> str:
    return html.split(f'<li id="list-{list_id}"', 1)[1].split("</li>", 1)[0]


@pytest.mark.parametrize("signed_in", [False, True], ids=["anywhere", "signed-in-as-another"])
def test_the_emailed_preference_page_shows_its_persons_lists_in_one_round_trip(
    signed_in, request, app, client, db, count_queries
):
    """Their account and their choices, read together; a browser signed in as someone else
    reads its own person too, in the same round trip, and still sees only the link's person."""
    if signed_in:
        request.getfixturevalue("person")  # Ana, who never joined "offers"
    rua = make_person(db, "rua")
    service.set_subscription(db, rua, "offers", True, "page")
    path = f"/email-preferences/{preference_token(app, rua)}"
    page, statements, trips = opened(app, client, path, count_queries)
    main = page.get_data(as_text=True).split('<main id="main"', 1)[1].split("</main>", 1)[0]
    assert page.status_code == 200 and "r••@e••••••.com" in main and "a••@" not in main
    assert 'aria-checked="true"' in _list_row(main, "offers")
    assert len(statements) == 1 + signed_in, statements
    one_trip_on_postgresql(app, statements, trips)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anywhere", "signed-in-as-another"])
def test_the_unsubscribe_page_reads_its_persons_standing_in_one_round_trip(
    signed_in, request, app, client, db, count_queries
):
    if signed_in:
        request.getfixturevalue("person")  # Ana, who is not on "offers"
    rua = make_person(db, "rua")
    service.set_subscription(db, rua, "offers", True, "page")
    with app.app_context():
        path = links.unsubscribe_url(rua, "offers").removeprefix("http://localhost")
    page, statements, trips = opened(app, client, path, count_queries)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "One more click confirms it" in html
    assert len(statements) == 1 + signed_in, statements
    one_trip_on_postgresql(app, statements, trips)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anywhere", "signed-in"])
@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("damaged preference link", 400),
        ("expired preference link", 200),
        ("damaged unsubscribe link", 400),
        ("unsubscribe link to a list that is gone", 404),
    ],
)
def test_a_link_that_names_nobody_reads_nothing_about_anyone(
    kind, status, signed_in, request, app, client, db, count_queries, monkeypatch
):
    """Only the signed-in browser's own person is read: the same clear answer as ever."""
    if signed_in:
        request.getfixturevalue("person")
    rua = make_person(db, "rua")
    with app.app_context(), monkeypatch.context() as past:
        expire(past, -61)  # made 61 days ago
        expired = links.preferences_token(rua)
    with app.app_context():
        path = {
            "damaged preference link": f"/email-preferences/{links.preferences_token(rua)}x",
            "expired preference link": f"/email-preferences/{expired}",
            "damaged unsubscribe link": links.unsubscribe_url(rua, "offers")[:-2],
            "unsubscribe link to a list that is gone": "/email/unsubscribe/"
            + tokens.make(tokens.UNSUBSCRIBE, [rua, "gone"]),
        }[kind].removeprefix("http://localhost")
    response, statements, _ = opened(app, client, path, count_queries)
    assert response.status_code == status
    assert ("This link has expired" in response.get_data(as_text=True)) == (
        kind == "expired preference link"
    )
    assert len(statements) == signed_in, statements
