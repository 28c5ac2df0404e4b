"""Privacy controls: only essential cookies until a person chooses, analytics only by consent."""

from __future__ import annotations

import re

import pytest

from tests.consent_helpers import (
    GA_ID,
    GTM,
    accept_all,
    csp,
    expired_cookie_names,
    has_tag,
    rows,
    set_cookie_names,
)
from webapp.consent.declarations import CONSENT_COOKIE, declaration_for


@pytest.fixture
def config(config):
    """These tests run with analytics configured, so that consent is what switches it on."""
    return {**config, "GA_MEASUREMENT_ID": GA_ID}


# --- before any choice -------------------------------------------------------------------


def test_a_fresh_visit_sets_only_essential_cookies_and_names_no_third_party_host(client):
    page = client.get("/")
    assert page.status_code == 200
    for name in set_cookie_names(page):
        declared = declaration_for(name)
        assert declared is not None and not declared.needs_consent, name
    html = page.get_data(as_text=True)
    assert re.findall(r"""(?:src|href|action)=["'](?:https?:)?//""", html) == []
    assert re.findall(r"https?://[^\s\"'<>]+", html) == []
    assert "googletagmanager" not in html and "analytics.js" not in html
    assert "google" not in csp(page)


def test_the_banner_asks_with_equal_answers_and_a_way_to_choose_each(client):
    html = client.get("/").get_data(as_text=True)
    assert 'aria-labelledby="consent-banner-title"' in html
    assert '<h2 id="consent-banner-title">Cookies and your privacy</h2>' in html
    accept = re.search(r"<button ([^>]*)>Accept all</button>", html)
    reject = re.search(r"<button ([^>]*)>Reject all</button>", html)
    assert accept and reject
    assert accept.group(1).replace("accept", "X") == reject.group(1).replace("reject", "X")
    assert 'href="/account/privacy-controls"' in html
    assert 'name="next" value="/"' in html


def test_the_cookies_page_lists_every_declaration(client):
    from webapp.consent.declarations import DECLARATIONS

    page = client.get("/privacy/cookies")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for declared in DECLARATIONS:
        assert f"<code>{declared.name.replace('<', '&lt;').replace('>', '&gt;')}</code>" in html
        assert declared.lifetime in html
    assert "Personalisation" in html and "None at present." in html
    assert 'href="/privacy/cookies"' in client.get("/").get_data(as_text=True)  # the footer


# --- choosing analytics, and withdrawing ---------------------------------------------------


def test_after_accepting_the_tag_appears_and_the_csp_admits_google_only_then(client):
    before = client.get("/account/privacy-controls")
    assert not has_tag(before)
    assert "googletagmanager" not in csp(before)

    answer = accept_all(client)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/"
    (cookie,) = [h for h in answer.headers.getlist("Set-Cookie") if h.startswith(CONSENT_COOKIE)]
    assert f"Max-Age={365 * 24 * 3600}" in cookie  # as declared: 365 days
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie

    page = client.get("/")
    assert has_tag(page)
    assert "Cookies and your privacy" not in page.get_data(as_text=True)
    policy = csp(page)
    assert f"script-src 'self' {GTM}" in policy
    assert "connect-src 'self' https://*.google-analytics.com" in policy
    assert "img-src 'self' data: https://*.google-analytics.com" in policy
    # A response without the tag (a fragment) keeps the strict policy.
    fragment = client.get(
        "/account/privacy-controls", headers={"HX-Request": "true", "HX-Target": "privacy-controls"}
    )
    assert "googletagmanager" not in csp(fragment)


def test_without_a_measurement_id_there_is_no_analytics_even_with_consent(config, migrated):
    from webapp import create_app

    app = create_app({**config, "GA_MEASUREMENT_ID": ""})
    client = app.test_client()
    accept_all(client)
    page = client.get("/privacy/cookies")
    assert "analytics.js" not in page.get_data(as_text=True)
    assert "google" not in csp(page)
    assert "Analytics is switched off" in page.get_data(as_text=True)
    app.extensions["sentro.engine"].dispose()


def test_after_withdrawing_the_tag_disappears_and_ga_cookies_are_expired(client):
    accept_all(client)
    client.set_cookie("_ga", "GA1.1.111.222")
    client.set_cookie("_ga_ABC123", "GS1.1.333")
    client.set_cookie("_gat_other", "kept: not ours to judge")
    assert not expired_cookie_names(client.get("/"))  # consent given: left alone

    answer = client.post("/account/privacy-controls", data={"analytics": "refuse"})
    assert answer.status_code == 303
    assert {"_ga", "_ga_ABC123"} <= expired_cookie_names(answer)
    assert "_gat_other" not in expired_cookie_names(answer)
    for header in answer.headers.getlist("Set-Cookie"):
        if header.startswith("_ga"):
            assert "Path=/" in header
            assert "Domain" not in header  # the tag sets them host-only (cookie_domain 'none')

    page = client.get("/")
    assert not has_tag(page)
    assert "google" not in csp(page)


def test_ga_cookies_on_a_real_domain_are_expired_on_that_domain_too(client):
    client.set_cookie("_ga", "GA1.1.1", domain="account.sentro.co")
    answer = client.get("/", base_url="http://account.sentro.co")
    expiring = [h for h in answer.headers.getlist("Set-Cookie") if h.startswith("_ga=")]
    assert len(expiring) == 2
    assert any("Domain=account.sentro.co" in h for h in expiring)
    assert all("Max-Age=0" in h for h in expiring)


def test_htmx_answers_swap_the_banner_or_reload_when_the_tag_changes(client):
    htmx = {"HX-Request": "true", "HX-Target": "consent-banner"}
    rejected = client.post(
        "/account/privacy-controls/banner", data={"decision": "reject"}, headers=htmx
    )
    assert rejected.status_code == 200
    assert "Your privacy choices are saved" in rejected.get_data(as_text=True)
    assert "<html" not in rejected.get_data(as_text=True)
    assert CONSENT_COOKIE in set_cookie_names(rejected)

    accepted = client.post(
        "/account/privacy-controls/banner", data={"decision": "accept"}, headers=htmx
    )
    # The tag needs a page whose CSP admits Google: the whole page is reloaded.
    assert accepted.headers["HX-Refresh"] == "true"
    assert has_tag(client.get("/"))


# --- Global Privacy Control ------------------------------------------------------------------


def test_gpc_keeps_analytics_off_whatever_was_stored(client):
    accept_all(client)
    client.set_cookie("_ga", "GA1.1.1")
    page = client.get("/", headers={"Sec-GPC": "1"})
    assert not has_tag(page)
    assert "google" not in csp(page)
    assert "_ga" in expired_cookie_names(page)
    controls = client.get("/account/privacy-controls", headers={"Sec-GPC": "1"})
    html = controls.get_data(as_text=True)
    assert "Your browser sends Global Privacy Control" in html
    assert "off (Global Privacy Control)" in html
    assert has_tag(client.get("/"))  # the stored choice stands when the signal stops


def test_gpc_keeps_analytics_off_for_a_signed_in_person_who_allowed_it(client, person):
    client.post("/account/privacy-controls", data={"analytics": "allow"})
    assert has_tag(client.get("/account"))
    assert not has_tag(client.get("/account", headers={"Sec-GPC": "1"}))


def test_the_banner_says_when_gpc_is_on(client):
    html = client.get("/", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    assert "Your browser sends Global Privacy Control" in html
    assert "Global Privacy Control" not in client.get("/").get_data(as_text=True)


def test_accepting_under_gpc_stores_refusals_through_gpc(client, person, db):
    accept_all(client, **{"Sec-GPC": "1"})
    stored = {(r.purpose, r.granted, r.source) for r in rows(db, person)}
    assert stored == {
        ("analytics", False, "gpc"),
        ("personalisation", False, "gpc"),
        ("research", True, "banner"),
    }


def test_the_banner_on_a_page_answering_a_post_returns_to_the_start(app):
    from flask import render_template

    with app.test_request_context("/some/form", method="POST"):
        html = render_template("consent/_banner_region.html")
    assert 'name="next" value="/"' in html
    with app.test_request_context("/some/page?tab=2"):
        html = render_template("consent/_banner_region.html")
    assert 'name="next" value="/some/page?tab=2"' in html
