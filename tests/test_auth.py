"""Sign-in through the OpenID provider: who a person is, what is recorded, how it fails."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from tests.conftest import links_in, sign_in
from webapp.models import SignIn, User


def test_sign_in_lands_on_account_with_the_name(client, login_as):
    login_as("ana", email="ana@example.com", name="Ana Customer")
    page = client.get("/account")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ana Customer" in html
    assert "ana@example.com" in html


def test_account_needs_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login?next=%2Faccount" in response.headers["Location"]


def test_first_sign_in_creates_the_person_and_records_it(client, login_as, db):
    user = login_as("ana", email="ana@example.com", name="Ana")
    sign_ins = db.exec(select(SignIn).where(SignIn.user_id == user.id)).all()
    assert len(sign_ins) == 1
    assert sign_ins[0].ip == "127.0.0.1"
    assert user.issuer.startswith("http://localhost:")


def test_a_known_email_with_another_subject_is_another_person(client, login_as, db, app):
    first = login_as("ana", email="same@example.com")
    client.post("/logout")
    second = login_as("impostor", email="same@example.com")
    assert first.id != second.id
    assert len(db.exec(select(User)).all()) == 2


def test_staff_group_makes_staff(client, login_as):
    assert login_as("sam", groups=["sentro-staff"]).is_staff
    client.post("/logout")
    assert not login_as("ana", groups=["customers"]).is_staff


def test_next_is_followed_only_within_the_site(client, provider_url):
    response = sign_in(
        client, provider_url, "ana", {"email": "a@example.com"}, next_path="/account"
    )
    assert response.headers["Location"].endswith("/account")


def test_next_to_another_site_is_ignored(client, provider_url):
    response = sign_in(
        client, provider_url, "ana", {"email": "a@example.com"}, next_path="//evil.example/x"
    )
    assert response.headers["Location"] == "/account"


def test_session_is_renewed_at_sign_in(client, provider_url):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    sign_in(client, provider_url, "ana", {"email": "a@example.com"})
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_out_ends_the_session_and_goes_to_the_provider(client, login_as, provider_url):
    login_as("ana")
    response = client.post("/logout")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(provider_url + "/oauth2/end_session")
    assert "id_token_hint=" in location
    assert "post_logout_redirect_uri=" in location
    assert client.get("/account").status_code == 302


def test_ending_all_sessions_signs_out_this_browser(client, login_as, app, db):
    from webapp.auth.service import end_all_sessions

    user = login_as("ana")
    end_all_sessions(db, db.get(User, user.id))
    assert client.get("/account").status_code == 302


def test_denied_at_the_provider_gives_a_clear_page(client, provider_url):
    start = client.get("/login")
    import requests

    answer = requests.post(
        start.headers["Location"], data={"action": "deny"}, allow_redirects=False, timeout=5
    )
    from urllib.parse import urlsplit

    callback = urlsplit(answer.headers["Location"])
    page = client.get(f"{callback.path}?{callback.query}")
    assert page.status_code == 400
    assert "Sign-in was cancelled" in page.get_data(as_text=True)
    assert "Try again" in page.get_data(as_text=True)


def test_callback_with_a_forged_state_creates_nothing(client, db):
    client.get("/login")
    page = client.get("/auth/callback?code=whatever&state=forged")
    assert page.status_code == 400
    assert "couldn" in page.get_data(as_text=True)
    assert db.exec(select(User)).all() == []


def test_provider_down_gives_a_clear_page(config, migrated):
    from webapp import create_app

    app = create_app({**config, "OIDC_ISSUER": "http://127.0.0.1:9"})
    page = app.test_client().get("/login")
    assert page.status_code == 502
    assert "couldn't reach the sign-in service" in page.get_data(as_text=True)


def test_staff_required_refuses_customers(app, client, login_as):
    from webapp.auth import staff_required

    @app.get("/_staff_probe")
    @staff_required
    def probe():
        return "staff only"

    login_as("ana")
    assert client.get("/_staff_probe").status_code == 403


def test_recent_login_required_sends_old_sessions_to_reauthenticate(
    app, client, login_as, age_sign_in
):
    from webapp.auth import recent_login_required

    @app.get("/_sensitive")
    @recent_login_required
    def sensitive():
        return "done"

    login_as("ana")
    assert client.get("/_sensitive").get_data(as_text=True) == "done"
    age_sign_in(3600)
    response = client.get("/_sensitive")
    assert response.status_code == 303
    assert "reauth=1" in response.headers["Location"]
    assert "prompt=login" in client.get(response.headers["Location"]).headers["Location"]


def test_starting_sign_in_again_and_again_keeps_the_session_cookie_small(client):
    for _ in range(30):
        assert client.get("/login").status_code == 302
    cookie = client.get_cookie("sentro_session")
    assert cookie is not None and len(cookie.value) < 1500


def test_only_the_newest_sign_in_started_can_finish(client, provider_url):
    import requests

    first = client.get("/login").headers["Location"]
    second = client.get("/login").headers["Location"]
    for start, expected in ((first, 400), (second, 303)):
        answer = requests.post(start, data={"sub": "ana"}, allow_redirects=False, timeout=5)
        callback = urlsplit(answer.headers["Location"])
        assert client.get(f"{callback.path}?{callback.query}").status_code == expected


@pytest.mark.parametrize("reference", ["²", "", "x" * 65, 42, None, ["list"], "1:0"])
def test_a_cookie_reference_that_names_no_session_is_nobody(client, person, reference):
    with client.session_transaction() as session:
        session["sid"] = reference
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    "said",
    [False, "false", None],  # None: the provider does not say (the claim is absent or null)
    ids=["unverified", "unverified-as-text", "not-said"],
)
def test_an_email_the_provider_did_not_verify_is_not_the_contact_email(
    client, login_as, db, outbox, said
):
    user = login_as("ana", email="typo@example.com", email_verified=said)
    assert user.email == ""
    assert user.provider_email == "typo@example.com"
    html = client.get("/account").get_data(as_text=True)
    assert "Confirm an email address" in html
    assert "/account/profile/email/edit" in html
    assert outbox.to("typo@example.com") == []  # nothing mailed to an address nobody confirmed

    # The site's own confirmation link is what makes an address the contact email.
    client.post("/account/profile/email", data={"email": "ana@example.com"})
    confirm = outbox.last_to("ana@example.com")
    [url] = [u for u in links_in(confirm) if "/email/confirm/" in u]
    assert client.post(urlsplit(url).path).status_code == 303
    db.rollback()
    assert db.get(User, user.id).email == "ana@example.com"


@pytest.mark.parametrize("said", [True, "true"])
def test_a_verified_provider_email_is_the_contact_email(login_as, said):
    assert login_as("ana", email="ana@example.com", email_verified=said).email == "ana@example.com"


def test_a_later_verified_sign_in_fills_a_missing_contact_email(client, login_as):
    assert login_as("ana", email="ana@example.com", email_verified=False).email == ""
    client.post("/logout")
    assert login_as("ana", email="ana@example.com", email_verified=True).email == "ana@example.com"
