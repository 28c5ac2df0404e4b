"""The shared layout: kept once per app, yet each person sees only their own values in it."""

from __future__ import annotations

import re

import pytest

from tests.conftest import sign_in

STAFF_CLAIMS = {"email": "sam@sentro.co", "name": "Sam Staff", "groups": ["sentro-staff"]}
TOKEN = re.compile(r'(name="csrf_token" value="|"X-CSRFToken": ")([^"]+)"')
NAV = re.compile(r'<nav aria-label="Sections">.*?</nav>', re.S)


def _header(html: str) -> str:
    return html.split("<body", 1)[1].split("</header>", 1)[0]


def _tokens(html: str) -> set[str]:
    return {token for _, token in TOKEN.findall(html)}


def _without_person(html: str, email: str) -> str:
    """The page with the person's email, the CSRF token and the section lists taken out."""
    return NAV.sub("NAV", TOKEN.sub(r'\1TOKEN"', html.replace(email, "EMAIL")))


def test_two_people_signed_in_at_once_each_see_their_own_email_and_token(
    app, client, person, provider_url
):
    other = app.test_client()
    sign_in(other, provider_url, "sam", STAFF_CLAIMS)
    for _ in range(2):  # the second round is served from the kept markup
        for browser, email, not_theirs in (
            (client, person.email, "sam@sentro.co"),
            (other, "sam@sentro.co", person.email),
        ):
            html = browser.get("/account").get_data(as_text=True)
            header = _header(html)
            assert f'<span class="who wide-only">{email}</span>' in header
            assert not_theirs not in html
            assert len(_tokens(html)) == 1  # the htmx header and every form: this browser's own
    assert _tokens(client.get("/account").get_data(as_text=True)) != _tokens(
        other.get("/account").get_data(as_text=True)
    )
    kept = app.extensions["sentro.layout_kept"].values()
    assert kept and not any(
        person.email in "".join(k.top) + k.page or "sam@sentro.co" in "".join(k.top) + k.page
        for k in kept
    )


@pytest.fixture
def csrf_on(config):
    config["WTF_CSRF_ENABLED"] = True


def test_each_page_token_is_the_one_its_session_accepts(csrf_on, app, client, person, provider_url):
    other = app.test_client()
    sign_in(other, provider_url, "sam", STAFF_CLAIMS)
    mine = _tokens(client.get("/account").get_data(as_text=True)).pop()
    theirs = _tokens(other.get("/account").get_data(as_text=True)).pop()
    assert client.post("/logout", data={"csrf_token": theirs}).status_code == 400
    assert client.post("/logout", data={"csrf_token": mine}).status_code == 303


def test_the_email_in_the_header_is_escaped(login_as, client):
    login_as("quote", email="o'neil&co@example.com", name="O'Neil")
    header = _header(client.get("/account").get_data(as_text=True))
    assert '<span class="who wide-only">o&#39;neil&amp;co@example.com</span>' in header


def test_the_layout_is_the_same_for_a_person_and_for_staff_but_the_staff_sections(
    app, client, person, provider_url
):
    other = app.test_client()
    sign_in(other, provider_url, "sam", STAFF_CLAIMS)
    for path in ("/privacy/cookies", "/account/privacy-requests"):
        customer_html = client.get(path).get_data(as_text=True)
        staff_html = other.get(path).get_data(as_text=True)
        assert _without_person(customer_html, person.email) == _without_person(
            staff_html, "sam@sentro.co"
        ), path
        customer_nav, staff_nav = NAV.findall(customer_html), NAV.findall(staff_html)
        assert len(customer_nav) == len(staff_nav) == 2  # the phone menu and the side navigation
        customer_links = re.findall(r"<li>.*?</li>", customer_nav[0])
        staff_links = re.findall(r"<li>.*?</li>", staff_nav[0])
        assert staff_links[: len(customer_links)] == customer_links
        assert 'href="/staff/"' in staff_nav[0] and "/staff" not in customer_nav[0]


def test_signed_out_pages_offer_sign_in_and_no_one_s_email(client, person):
    assert client.post("/logout").status_code == 303  # CSRF is off unless a test turns it on
    html = client.get("/privacy/cookies").get_data(as_text=True)
    assert 'class="button" href="/login">Sign in</a>' in _header(html)
    assert person.email not in html and 'class="who' not in html
    assert 'class="wrap layout">' in html and "sidenav" not in html


def _sets_session_cookie(response) -> bool:
    return any(h.startswith("sentro_session=") for h in response.headers.getlist("Set-Cookie"))


def test_the_session_cookie_is_sent_again_only_when_it_changes(app, client, person):
    """The cookie is not permanent, so Flask does not re-sign it on every response: a page sends
    it when the CSRF secret is first made (the layout's forms need it), then no more."""
    client.get("/account")
    assert not _sets_session_cookie(client.get("/account"))
    visitor = app.test_client()
    assert _sets_session_cookie(visitor.get("/privacy"))  # the consent banner's form
    assert not _sets_session_cookie(visitor.get("/privacy"))
