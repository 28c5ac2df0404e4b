"""Changing the contact email: only the new address's link changes it, and the old one is told."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from tests.conftest import body_text, links_in
from tests.helpers import one_trip_on_postgresql, opened
from webapp import tokens
from webapp.models import AuditEvent, OutboxMessage, PendingEmailChange, User, utcnow
from webapp.profile import email_change

HX = {"HX-Request": "true", "HX-Target": "field-email"}


def fresh(db, model, **where):
    """Rows as the database holds them now."""
    db.rollback()
    query = select(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return list(db.exec(query).all())


def link_path(message, part: str) -> str:
    """The path of the link in `message` whose URL contains `part`."""
    [url] = [u for u in links_in(message) if part in u]
    return urlsplit(url).path


def ask_for(client, address: str = "new@example.com"):
    return client.post("/account/profile/email", data={"email": address})


def test_the_address_changes_only_when_the_link_sent_to_it_is_followed(client, person, db, outbox):
    response = ask_for(client, "Ana.New@EXAMPLE.com")
    assert response.status_code == 303
    assert fresh(db, User, id=person.id)[0].email == "ana@example.com"

    confirm = outbox.last_to("Ana.New@example.com")  # the domain is normalised
    assert "Confirm your new email address" in confirm["Subject"]
    path = link_path(confirm, "/email/confirm/")
    page = client.get(path)
    assert page.status_code == 200 and "Confirm this address" in page.get_data(as_text=True)
    assert fresh(db, User, id=person.id)[0].email == "ana@example.com"  # looking changes nothing

    done = client.post(path)
    assert done.status_code == 303
    assert fresh(db, User, id=person.id)[0].email == "Ana.New@example.com"
    assert "is confirmed" in client.get(done.headers["Location"]).get_data(as_text=True)
    assert client.post(path).status_code == 410  # the link works once
    assert "already been used" in client.get(path).get_data(as_text=True)


def test_a_visitor_who_is_not_signed_in_can_confirm_with_the_button(
    app, config, client, person, db, outbox
):
    ask_for(client)
    path = link_path(outbox.last_to("new@example.com"), "/email/confirm/")
    app.config["WTF_CSRF_ENABLED"] = True  # a real form post from a fresh browser
    visitor = app.test_client()
    page = visitor.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert visitor.post(path).status_code == 400
    assert visitor.post(path, data={"csrf_token": token}).status_code == 303
    assert fresh(db, User, id=person.id)[0].email == "new@example.com"


def test_the_old_address_is_told_with_the_new_one_masked(client, person, outbox):
    ask_for(client, "new.address@example.org")
    notice = outbox.last_to("ana@example.com")
    text = body_text(notice)
    assert "n•••@e•••.org" in text
    assert "new.address" not in text and "new.address" not in notice["Subject"]
    assert link_path(notice, "/email/undo/")


def test_both_emails_are_in_the_outbox_with_the_request(client, person, db):
    ask_for(client)
    rows = fresh(db, OutboxMessage, user_id=person.id)
    assert sorted(r.template for r in rows) == ["email_change_confirm", "email_change_notice"]
    assert all(r.list_id is None for r in rows)  # account notices: transactional


def test_the_profile_shows_the_pending_change_and_can_cancel_it(client, person, db, outbox):
    ask_for(client)
    html = client.get("/account/profile").get_data(as_text=True)
    assert "Waiting for confirmation" in html and "new@example.com" in html
    response = client.post("/account/profile/email/cancel", headers=HX)
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Waiting for confirmation" not in text and "The email change is cancelled." in text
    assert fresh(db, PendingEmailChange, user_id=person.id)[0].status == "cancelled"
    assert client.get(link_path(outbox.last_to("new@example.com"), "/confirm/")).status_code == 410


def test_a_newer_request_replaces_the_older_one(client, person, db, outbox):
    ask_for(client, "first@example.com")
    first_link = link_path(outbox.last_to("first@example.com"), "/confirm/")
    ask_for(client, "second@example.com")
    assert client.post(first_link).status_code == 410
    assert fresh(db, User, id=person.id)[0].email == "ana@example.com"


def test_this_wasnt_me_cancels_a_pending_change(client, person, db, outbox):
    ask_for(client)
    undo = link_path(outbox.last_to("ana@example.com"), "/email/undo/")
    assert "Stop this email change?" in client.get(undo).get_data(as_text=True)
    response = client.post(undo)
    assert response.status_code == 303
    assert "cancelled" in client.get(response.headers["Location"]).get_data(as_text=True)
    confirm = link_path(outbox.last_to("new@example.com"), "/confirm/")
    assert client.post(confirm).status_code == 410
    assert fresh(db, User, id=person.id)[0].email == "ana@example.com"


def test_this_wasnt_me_after_confirmation_restores_the_address_and_signs_out_everywhere(
    client, person, db, outbox
):
    ask_for(client)
    client.post(link_path(outbox.last_to("new@example.com"), "/confirm/"))
    assert fresh(db, User, id=person.id)[0].email == "new@example.com"
    undo = link_path(outbox.last_to("ana@example.com"), "/email/undo/")
    assert "Restore my previous address" in client.get(undo).get_data(as_text=True)
    response = client.post(undo)
    user = fresh(db, User, id=person.id)[0]
    assert user.email == "ana@example.com"
    assert user.session_generation == person.session_generation + 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Secure your account" in page and "password" in page
    assert client.get("/account/profile").status_code == 302  # this session was signed out too
    assert client.post(undo).status_code == 410


def test_every_step_is_audited(client, person, db, outbox):
    ask_for(client)
    client.post(link_path(outbox.last_to("new@example.com"), "/confirm/"))
    events = fresh(db, AuditEvent, user_id=person.id)
    assert [e.action for e in events] == ["email-change-requested", "email-changed"]
    assert all(e.field == "email" and e.ip == "127.0.0.1" for e in events)
    assert "new@example.com" not in events[1].new_value


def test_changing_the_email_needs_a_recent_sign_in(client, person, db, outbox, age_sign_in):
    age_sign_in(3600)
    page = client.get("/account/profile/email/edit")
    assert page.status_code == 303 and "reauth=1" in page.headers["Location"]
    swap = client.get("/account/profile/email/edit", headers=HX)
    assert swap.status_code == 204 and "reauth=1" in swap.headers["HX-Redirect"]
    refused = ask_for(client)
    assert refused.status_code == 303 and "reauth=1" in refused.headers["Location"]
    assert fresh(db, PendingEmailChange, user_id=person.id) == []
    assert fresh(db, OutboxMessage, user_id=person.id) == []


def test_the_email_form_swaps_in_with_htmx(client, person):
    response = client.get("/account/profile/email/edit", headers=HX)
    text = response.get_data(as_text=True)
    assert text.lstrip().startswith('<section id="field-email"')
    assert 'hx-post="/account/profile/email"' in text


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an email address"),
        ("not-an-email", "valid email address"),
        ("ana@", "valid email address"),
        ("ana@example", "valid email address"),
        ("ANA@example.com", "already your contact email"),
        ("ü@example.com", "valid email address"),
        ("a" * 300 + "@example.com", "valid email address"),
        ("a" * 400, "too long"),
    ],
)
def test_a_bad_address_is_refused_beside_the_field_and_nothing_is_sent(
    client, person, db, typed, message
):
    response = client.post("/account/profile/email", data={"email": typed}, headers=HX)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert message in text and 'aria-invalid="true"' in text
    assert fresh(db, PendingEmailChange, user_id=person.id) == []
    assert fresh(db, OutboxMessage, user_id=person.id) == []


def test_an_expired_link_changes_nothing(app, client, person, db):
    user = db.get(User, person.id)
    with app.test_request_context():
        email_change.request_email_change(
            db, user, "new@example.com", now=utcnow() - timedelta(days=2)
        )
        [change] = fresh(db, PendingEmailChange, user_id=person.id)
        token = tokens.make(tokens.EMAIL_CHANGE, {"c": change.id, "n": change.nonce})
    for method in (client.get, client.post):
        response = method(f"/account/profile/email/confirm/{token}")
        assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert fresh(db, User, id=person.id)[0].email == "ana@example.com"


@pytest.mark.parametrize("kind", ["tampered", "other purpose", "other nonce", "not a dict"])
def test_a_forged_link_is_refused(app, client, person, db, outbox, kind):
    ask_for(client)
    [change] = fresh(db, PendingEmailChange, user_id=person.id)
    with app.test_request_context():
        token = {
            "tampered": tokens.make(tokens.EMAIL_CHANGE, {"c": change.id, "n": change.nonce})[:-3]
            + "abc",
            "other purpose": tokens.make(
                tokens.EMAIL_CHANGE_UNDO, {"c": change.id, "n": change.nonce}
            ),
            "other nonce": tokens.make(tokens.EMAIL_CHANGE, {"c": change.id, "n": "0" * 32}),
            "not a dict": tokens.make(tokens.EMAIL_CHANGE, [change.id]),
        }[kind]
    response = client.post(f"/account/profile/email/confirm/{token}")
    assert response.status_code == 400
    assert fresh(db, User, id=person.id)[0].email == "ana@example.com"


def test_old_email_changes_are_purged_after_the_undo_window(app, person, db):
    user = db.get(User, person.id)
    with app.test_request_context():
        email_change.request_email_change(
            db, user, "old@example.com", now=utcnow() - timedelta(days=31)
        )
        email_change.request_email_change(db, user, "new@example.com")
    report = email_change.purge_email_changes(db, utcnow())
    db.commit()
    assert report == "deleted 1"
    assert [c.new_email for c in fresh(db, PendingEmailChange, user_id=person.id)] == [
        "new@example.com"
    ]


def test_the_new_address_is_masked_for_the_old_one():
    assert email_change.mask_email("jo.bloggs@example.com") == "j•••@e•••.com"
    assert email_change.mask_email("a@localhost") == "a•••@l•••"


def test_no_input_to_the_email_field_gives_a_server_error(client, person, db):
    @settings(max_examples=75, deadline=None, suppress_health_check=list(HealthCheck))
    @given(typed=st.one_of(st.text(max_size=400), st.emails()))
    def check(typed: str) -> None:
        pending = len(fresh(db, PendingEmailChange, user_id=person.id))
        queued = len(fresh(db, OutboxMessage, user_id=person.id))
        response = client.post("/account/profile/email", data={"email": typed}, headers=HX)
        assert response.status_code in (200, 422), response.status_code
        if response.status_code == 422:
            assert len(fresh(db, PendingEmailChange, user_id=person.id)) == pending
            assert len(fresh(db, OutboxMessage, user_id=person.id)) == queued
        assert fresh(db, User, id=person.id)[0].email == "ana@example.com"

    check()


def test_the_email_to_an_unconfirmed_address_carries_nothing_but_its_confirmation(
    client, person, db, outbox
):
    ask_for(client, "mistyped@example.com")
    confirm = outbox.last_to("mistyped@example.com")
    assert confirm["List-Unsubscribe"] is None and confirm["List-Unsubscribe-Post"] is None
    links = links_in(confirm)
    assert len(links) == 1 and "/email/confirm/" in links[0]
    html = confirm.get_body(preferencelist=("html",)).get_content()
    assert re.findall(r'href="([^"]+)"', html) == [links[0]]
    # Whoever owns a mistyped address learns nothing about the account, not even its name.
    assert "Ana" not in body_text(confirm) and "Ana" not in html
    # The notice to the confirmed address still lets the person manage their mail.
    notice = outbox.last_to("ana@example.com")
    assert any("/email-preferences/" in link for link in links_in(notice))


# --- what opening an emailed link costs --------------------------------------------------


LINKS = {
    "confirm": ("new@example.com", "Confirm this address"),
    "undo": ("ana@example.com", "Stop this email change?"),
}


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anywhere"])
@pytest.mark.parametrize("link", list(LINKS))
def test_an_email_change_link_shows_its_page_in_one_round_trip_and_changes_nothing(
    link, signed_in, app, client, person, db, outbox, count_queries
):
    """The change the link names, read with the signed-in person, or alone in a fresh
    browser: one round trip on PostgreSQL, and no transaction (looking writes nothing)."""
    ask_for(client)
    to, button = LINKS[link]
    path = link_path(outbox.last_to(to), f"/email/{link}/")
    browser = client if signed_in else app.test_client()
    page, statements, trips = opened(app, browser, path, count_queries)
    assert page.status_code == 200 and button in page.get_data(as_text=True)
    assert len(statements) == 1 + signed_in, statements
    one_trip_on_postgresql(app, statements, trips)
    [change] = fresh(db, PendingEmailChange, user_id=person.id)
    assert (
        change.status == "pending" and fresh(db, User, id=person.id)[0].email == "ana@example.com"
    )


@pytest.mark.parametrize("signed_in", [True, False], ids=["signed-in", "anywhere"])
@pytest.mark.parametrize("link", list(LINKS))
def test_a_forged_email_change_link_reads_nothing_about_anyone(
    link, signed_in, app, client, person, db, outbox, count_queries
):
    """Only the signed-in browser's own person is read; the answer is the same 400."""
    ask_for(client)
    to, _ = LINKS[link]
    path = link_path(outbox.last_to(to), f"/email/{link}/")
    browser = client if signed_in else app.test_client()
    response, statements, _ = opened(app, browser, path[:-3] + "abc", count_queries)
    assert response.status_code == 400 and "This link isn" in response.get_data(as_text=True)
    assert len(statements) == signed_in, statements
