"""Email preferences: each person's choice per list, changed from the page or an emailed link."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlmodel import Session, select

from webapp import preferences, tokens
from webapp.mail import queue_email
from webapp.models import AuditEvent, Subscription, SubscriptionChange, User
from webapp.preferences import links, service
from webapp.preferences.service import Outcome


def make_person(db: Session, name: str = "rua", *, status: str = "active", email: str = "") -> int:
    user = User(
        issuer="https://id.test",
        subject=name,
        email=email or f"{name}@example.com",
        status=status,
    )
    db.add(user)
    db.commit()
    return user.id


def history(db: Session, user_id: int) -> list[tuple[str, bool, str]]:
    """The person's changes, oldest first, as committed now (ends the test's read snapshot)."""
    db.rollback()
    rows = db.exec(
        select(SubscriptionChange)
        .where(SubscriptionChange.user_id == user_id)
        .order_by(SubscriptionChange.id)
    )
    return [(r.list_id, r.subscribed, r.via) for r in rows]


# --- the rules --------------------------------------------------------------------------


def test_a_person_who_never_chose_has_each_lists_default(db):
    user_id = make_person(db)
    standing = {c.mailing_list.id: c.subscribed for c in service.choices(db, user_id)}
    assert standing == {
        "account": True,
        "policy-updates": True,
        "service-updates": True,
        "offers": False,
        "research": False,
    }
    assert all(c.changed_at is None for c in service.choices(db, user_id))


def test_a_change_stores_the_choice_its_history_and_an_audit_together(db):
    user_id = make_person(db)
    outcome = service.set_subscription(db, user_id, "service-updates", False, "page")
    assert outcome is Outcome.CHANGED
    assert not service.is_subscribed(db, user_id, "service-updates")
    assert history(db, user_id) == [("service-updates", False, "page")]
    audit = db.exec(select(AuditEvent).where(AuditEvent.user_id == user_id)).one()
    assert (audit.action, audit.field, audit.actor) == (
        "email-list.left",
        "service-updates",
        "self",
    )
    current = service.choice(db, user_id, "service-updates")
    assert current.changed_via == "page"
    assert current.how == "on this page"


def test_asking_for_what_is_already_so_changes_nothing(db):
    user_id = make_person(db)
    assert service.set_subscription(db, user_id, "offers", False, "page") is Outcome.UNCHANGED
    service.set_subscription(db, user_id, "offers", True, "page")
    assert service.set_subscription(db, user_id, "offers", True, "page") is Outcome.UNCHANGED
    assert history(db, user_id) == [("offers", True, "page")]
    assert db.exec(select(Subscription).where(Subscription.user_id == user_id)).all()


def test_leaving_and_rejoining_keeps_every_step(db):
    user_id = make_person(db)
    for subscribed, via in ((True, "page"), (False, "one-click"), (True, "page")):
        service.set_subscription(db, user_id, "research", subscribed, via)
    assert history(db, user_id) == [
        ("research", True, "page"),
        ("research", False, "one-click"),
        ("research", True, "page"),
    ]
    assert service.is_subscribed(db, user_id, "research")


def test_account_notices_cannot_be_switched_off(db):
    user_id = make_person(db)
    with pytest.raises(preferences.LockedList):
        service.set_subscription(db, user_id, "account", False, "page")
    assert history(db, user_id) == []


@pytest.mark.parametrize("list_id", ["", "newsletter", "ACCOUNT", "offers "])
def test_an_unknown_list_is_refused(db, list_id):
    user_id = make_person(db)
    with pytest.raises(preferences.UnknownList):
        service.set_subscription(db, user_id, list_id, False, "page")


@pytest.mark.parametrize("status", ["closed", "erased"])
def test_a_closed_account_is_on_no_list_and_nothing_is_written(db, status):
    user_id = make_person(db, status=status)
    assert service.set_subscription(db, user_id, "offers", True, "page") is Outcome.NO_ACCOUNT
    assert service.set_subscription(db, 9999, "offers", True, "page") is Outcome.NO_ACCOUNT
    assert db.exec(select(Subscription)).all() == []
    assert history(db, user_id) == []


@pytest.mark.parametrize(
    ("status", "list_id", "choice", "expected"),
    [
        ("active", "account", None, True),
        ("active", "service-updates", None, True),
        ("active", "service-updates", False, False),
        ("active", "offers", None, False),
        ("active", "offers", True, True),
        ("closed", "account", None, False),
        ("closed", "offers", True, False),
    ],
)
def test_may_send_is_the_suppression_check(db, status, list_id, choice, expected):
    user_id = make_person(db)
    if choice is not None:
        service.set_subscription(db, user_id, list_id, choice, "page")
    if status != "active":
        user = db.get(User, user_id)
        user.status = status
        db.add(user)
        db.commit()
    assert service.may_send(db, user_id, list_id) is expected


def test_may_send_nothing_to_an_unknown_person(db):
    assert service.may_send(db, 4242, "account") is False


def test_list_headers_carry_one_click_and_the_list_id(app):
    with app.app_context():
        headers = preferences.list_headers(7, "service-updates")
        assert headers == {
            "List-Unsubscribe": f"<{preferences.unsubscribe_url(7, 'service-updates')}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": '"Service updates" <service-updates.lists.sentro.co>',
        }
        assert headers["List-Unsubscribe"].startswith("<http://localhost/email/unsubscribe/")
        assert preferences.list_headers(7, "account") == {}
        with pytest.raises(preferences.LockedList):
            preferences.unsubscribe_url(7, "account")


def test_the_unsubscribe_link_never_shows_the_address(app, db):
    user_id = make_person(db, email="secret.person@example.com")
    with app.app_context():
        url = preferences.unsubscribe_url(user_id, "offers")
        token = url.rpartition("/")[2]
        from itsdangerous import base64_decode

        payload = base64_decode(token.split(".")[0])
    assert b"secret" not in payload and b"example" not in payload
    assert "secret" not in url


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("ana@example.com", "a••@e••••••.com"),
        ("x@y.nz", "x••@y••.nz"),
        ("someone.long@mail.co.nz", "s••••••••@m••••••.nz"),
        ("nodomain", "n•••••••"),
    ],
)
def test_addresses_are_masked(address, masked):
    assert service.masked_email(address) == masked


# --- every email --------------------------------------------------------------------------


def test_an_account_notice_says_why_and_links_preferences_without_unsubscribe(app, db, outbox):
    from tests.conftest import body_text, links_in

    user_id = make_person(db, "tama")
    with app.app_context():
        queue_email(
            db,
            template="preferences-link",
            to="tama@example.com",
            context={"link": "http://localhost/x"},
            user_id=user_id,
        )
        db.commit()
    message = outbox.last_to("tama@example.com")
    assert "List-Unsubscribe" not in message
    assert "List-Id" not in message
    text = body_text(message)
    assert "because it is about your account" in text
    assert "Manage all your email preferences" in text
    assert "Unsubscribe" not in text
    preference_links = [u for u in links_in(message) if "/email-preferences/" in u]
    assert preference_links


# --- the signed-in page --------------------------------------------------------------------


def test_the_page_needs_sign_in(client):
    response = client.get("/account/email-preferences")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_page_shows_a_switch_per_list_and_the_locked_one_says_why(
    client, person, count_queries
):
    with count_queries() as statements:
        page = client.get("/account/email-preferences")
    assert page.status_code == 200
    assert len(statements) <= 3
    html = page.get_data(as_text=True)
    assert html.count('role="switch"') == 5
    assert html.count('aria-checked="true"') == 3  # account, policy and service updates
    assert 'aria-disabled="true"' in html
    assert "Always sent" in html
    assert "Offers for other Sentro services" in html
    assert "until you choose otherwise" in html


def test_a_plain_form_saves_and_comes_back_to_the_page(client, person, db):
    response = client.post("/account/email-preferences/offers", data={"subscribed": "1"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account/email-preferences")
    assert service.is_subscribed(db, person.id, "offers")
    page = client.get("/account/email-preferences").get_data(as_text=True)
    assert "Saved: “Offers for other Sentro services” is on." in page
    assert "Turned on" in page and "on this page" in page
    assert history(db, person.id) == [("offers", True, "page")]


def test_htmx_gets_only_the_row_back(client, person, db):
    response = client.post(
        "/account/email-preferences/service-updates",
        data={"subscribed": "0"},
        headers={"HX-Request": "true", "HX-Target": "list-service-updates"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<li id="list-service-updates"')
    assert "<html" not in html
    assert 'aria-checked="false"' in html and "Saved" in html
    assert not service.is_subscribed(db, person.id, "service-updates")


@pytest.mark.parametrize(
    ("list_id", "data", "message"),
    [
        ("account", {"subscribed": "0"}, "can't be switched off"),
        ("offers", {}, "Choose on or off."),
        ("offers", {"subscribed": "yes"}, "Choose on or off."),
    ],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_a_refused_change_answers_422_beside_the_switch(
    client, person, db, list_id, data, message, htmx
):
    headers = {"HX-Request": "true", "HX-Target": f"list-{list_id}"} if htmx else {}
    response = client.post(f"/account/email-preferences/{list_id}", data=data, headers=headers)
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert message in html
    assert ("<html" in html) is not htmx
    assert history(db, person.id) == []


def test_an_unknown_list_is_404(client, person):
    assert (
        client.post("/account/email-preferences/nope", data={"subscribed": "1"}).status_code == 404
    )


# --- the page opened from an email, without signing in ---------------------------------------


def preference_token(app, user_id: int) -> str:
    with app.app_context():
        return links.preferences_token(user_id)


def test_the_emailed_link_opens_the_page_with_the_address_masked(app, client, db):
    user_id = make_person(db, "mere", email="mere@example.com")
    page = client.get(f"/email-preferences/{preference_token(app, user_id)}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "m•••@e••••••.com" in html
    assert "mere@example.com" not in html
    assert html.count('role="switch"') == 5


def test_a_switch_on_the_emailed_page_saves_as_an_email_link_change(app, client, db):
    user_id = make_person(db, "mere")
    token = preference_token(app, user_id)
    response = client.post(
        f"/email-preferences/{token}/lists/service-updates", data={"subscribed": "0"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/email-preferences/{token}")
    assert history(db, user_id) == [("service-updates", False, "email-link")]
    htmx = client.post(
        f"/email-preferences/{token}/lists/policy-updates",
        data={"subscribed": "0"},
        headers={"HX-Request": "true", "HX-Target": "list-policy-updates"},
    )
    assert htmx.status_code == 200 and 'aria-checked="false"' in htmx.get_data(as_text=True)


# --- an emailed link may only reduce mail ---------------------------------------------------


@pytest.mark.parametrize("list_id", ["research", "offers"])
def test_the_emailed_page_cannot_join_a_list(app, client, db, list_id):
    user_id = make_person(db, "mere")
    token = preference_token(app, user_id)
    for headers in ({}, {"HX-Request": "true", "HX-Target": f"list-{list_id}"}):
        response = client.post(
            f"/email-preferences/{token}/lists/{list_id}", data={"subscribed": "1"}, headers=headers
        )
        assert response.status_code == 403
        assert "Sign in to join this list" in response.get_data(as_text=True)
    assert history(db, user_id) == []
    assert not service.is_subscribed(db, user_id, list_id)


@pytest.mark.parametrize("via", ["email-link", "one-click"])
def test_no_emailed_way_of_changing_a_choice_can_join(db, via):
    user_id = make_person(db)
    with pytest.raises(service.NeedsSignIn):
        service.set_subscription(db, user_id, "offers", True, via)
    assert history(db, user_id) == []


def test_the_emailed_page_says_it_can_only_reduce_mail_and_offers_sign_in(app, client, db):
    user_id = make_person(db, "mere")
    html = client.get(f"/email-preferences/{preference_token(app, user_id)}").get_data(as_text=True)
    assert "can only take you off lists" in html
    assert "Sign in to manage your emails" in html
    assert "/login?next=/account/email-preferences" in html
    # Lists that are off show no working switch: nothing there to post.
    assert 'action="/email-preferences/' in html
    assert "/lists/research" not in html and "/lists/offers" not in html


def test_an_unsubscribe_link_cannot_be_turned_into_joining_lists(app, client, db, outbox):
    """The unsubscribe page's preference link, forwarded with the email, still only reduces."""
    user_id = make_person(db, "mere")
    with app.app_context():
        unsubscribe = links.unsubscribe_url(user_id, "service-updates").removeprefix(
            "http://localhost"
        )
    html = client.get(unsubscribe).get_data(as_text=True)
    [preference_page] = set(re.findall(r'href="(/email-preferences/[^"]+)"', html))
    token = preference_page.rsplit("/", 1)[1]
    for list_id in ("research", "offers"):
        response = client.post(
            f"/email-preferences/{token}/lists/{list_id}", data={"subscribed": "1"}
        )
        assert response.status_code == 403
    assert history(db, user_id) == []


def test_a_signed_in_person_can_still_join_any_list(client, person, db):
    assert (
        client.post("/account/email-preferences/research", data={"subscribed": "1"}).status_code
        == 303
    )
    assert service.is_subscribed(db, person.id, "research")


def expire(monkeypatch, days: int) -> None:
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + days * 24 * 3600)


def test_the_emailed_link_lasts_at_least_30_days(app, client, db, monkeypatch):
    user_id = make_person(db, "mere")
    token = preference_token(app, user_id)
    expire(monkeypatch, 59)
    page = client.get(f"/email-preferences/{token}")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count('role="switch"') == 5


def test_an_expired_link_offers_a_fresh_one_by_email(app, client, db, outbox, monkeypatch):
    from tests.conftest import links_in

    user_id = make_person(db, "mere", email="mere@example.com")
    token = preference_token(app, user_id)
    expire(monkeypatch, 61)
    page = client.get(f"/email-preferences/{token}")
    assert page.status_code == 200
    assert "This link has expired" in page.get_data(as_text=True)
    saving = client.post(f"/email-preferences/{token}/lists/offers", data={"subscribed": "1"})
    assert saving.status_code == 303 and history(db, user_id) == []
    sent = client.post(f"/email-preferences/{token}/new-link")
    assert sent.status_code == 200
    assert "m•••@e••••••.com" in sent.get_data(as_text=True)
    message = outbox.last_to("mere@example.com")
    fresh = next(u for u in links_in(message) if "/email-preferences/" in u and token not in u)
    again = client.get(fresh.removeprefix("http://localhost"))
    assert again.status_code == 200
    assert 'role="switch"' in again.get_data(as_text=True)


def test_asking_for_fresh_links_is_rate_limited(config, db, monkeypatch):
    from webapp import create_app

    app = create_app({**config, "RATELIMIT_ENABLED": True})
    user_id = make_person(db, "mere")
    token = preference_token(app, user_id)
    expire(monkeypatch, 61)
    client = app.test_client()
    statuses = [client.post(f"/email-preferences/{token}/new-link").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    app.extensions["sentro.engine"].dispose()


@pytest.mark.parametrize("status", ["closed", "erased"])
def test_a_closed_account_link_shows_a_calm_page(app, client, db, status):
    user_id = make_person(db, "gone", status=status)
    page = client.get(f"/email-preferences/{preference_token(app, user_id)}")
    assert page.status_code == 200
    assert "This address is on no list" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "eyJhIjoxfQ.bad.signature",
        "",
    ],
)
def test_a_damaged_preference_link_is_refused(client, token):
    response = client.get(f"/email-preferences/{token}")
    assert response.status_code in (400, 404)


def test_an_unsubscribe_token_does_not_open_the_preference_page(app, client, db):
    user_id = make_person(db)
    with app.app_context():
        token = tokens.make(tokens.UNSUBSCRIBE, [user_id, "offers"])
        as_user = tokens.make(tokens.UNSUBSCRIBE, user_id)
    assert client.get(f"/email-preferences/{token}").status_code == 400
    assert client.get(f"/email-preferences/{as_user}").status_code == 400
