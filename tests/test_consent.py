"""Privacy controls: only essential cookies until a person chooses, analytics only by consent."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from webapp.consent.declarations import CONSENT_COOKIE, declaration_for
from webapp.consent.service import Choices, stored_choices
from webapp.models import ConsentChoice, User, utcnow

GA_ID = "G-TEST12345"
GTM = "https://www.googletagmanager.com"


@pytest.fixture
def config(config):
    """These tests run with analytics configured, so that consent is what switches it on."""
    return {**config, "GA_MEASUREMENT_ID": GA_ID}


def set_cookie_names(response) -> list[str]:
    return [h.split("=", 1)[0].strip() for h in response.headers.getlist("Set-Cookie")]


def expired_cookie_names(response) -> set[str]:
    return {
        h.split("=", 1)[0].strip()
        for h in response.headers.getlist("Set-Cookie")
        if "Max-Age=0" in h
    }


def has_tag(response) -> bool:
    html = response.get_data(as_text=True)
    return "js/analytics.js" in html and f'data-measurement-id="{GA_ID}"' in html


def csp(response) -> str:
    return response.headers["Content-Security-Policy"]


def accept_all(client, **headers):
    return client.post(
        "/account/privacy-controls/banner",
        data={"decision": "accept", "next": "/"},
        headers=headers,
    )


def rows(db, user: User) -> list[ConsentChoice]:
    db.rollback()  # a fresh transaction sees what the app committed since
    return list(
        db.exec(
            select(ConsentChoice).where(ConsentChoice.user_id == user.id).order_by(ConsentChoice.id)
        ).all()
    )


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


# --- storage -----------------------------------------------------------------------------------


def test_signed_in_choices_are_stored_with_time_source_and_policy_version(client, person, db):
    start = utcnow()
    client.post("/account/privacy-controls", data={"analytics": "allow", "research": "refuse"})
    first = rows(db, person)
    assert [(r.purpose, r.granted, r.source) for r in first] == [
        ("analytics", True, "controls"),
        ("research", False, "controls"),
    ]
    assert all(start - timedelta(seconds=1) <= r.at <= utcnow() for r in first)
    assert all(r.policy_version is None for r in first)  # no policy capability installed here

    client.post("/account/privacy-controls/banner", data={"decision": "reject"})
    assert [r.source for r in rows(db, person)][2:] == ["banner"] * 3
    assert stored_choices(db, person.id) == Choices(
        {"analytics": False, "personalisation": False, "research": False}
    )
    assert db.get(User, person.id).consent_summary == "nnn"
    html = client.get("/account/privacy-controls").get_data(as_text=True)
    assert "Your recent choices" in html and "the cookie banner" in html


def test_the_summary_on_the_user_row_always_equals_the_latest_rows(client, person, db):
    for form in (
        {"analytics": "allow"},
        {"personalisation": "refuse", "analytics": "refuse"},
        {"research": "allow", "analytics": "allow"},
    ):
        client.post("/account/privacy-controls", data=form)
        db.rollback()
        user = db.get(User, person.id)
        assert Choices.from_summary(user.consent_summary) == stored_choices(db, person.id)


def test_the_policy_version_in_effect_is_recorded_when_the_policy_capability_offers_it(
    client, person, db, monkeypatch
):
    import sys
    import types

    policy = types.ModuleType("webapp.policy.service")
    policy.version_in_effect = lambda session: types.SimpleNamespace(number=3)
    monkeypatch.setitem(sys.modules, "webapp.policy", types.ModuleType("webapp.policy"))
    monkeypatch.setitem(sys.modules, "webapp.policy.service", policy)
    client.post("/account/privacy-controls", data={"analytics": "allow"})
    assert [r.policy_version for r in rows(db, person)] == [3]


def test_a_failing_policy_lookup_still_stores_the_choice(client, person, db, monkeypatch):
    import sys
    import types

    def broken(session):
        raise RuntimeError("policy tables missing")

    policy = types.ModuleType("webapp.policy.service")
    policy.version_in_effect = broken
    monkeypatch.setitem(sys.modules, "webapp.policy", types.ModuleType("webapp.policy"))
    monkeypatch.setitem(sys.modules, "webapp.policy.service", policy)
    assert client.post("/account/privacy-controls", data={"research": "allow"}).status_code == 303
    assert [(r.purpose, r.policy_version) for r in rows(db, person)] == [("research", None)]


def test_a_visitors_choice_lives_in_the_signed_cookie_and_survives_sign_in_and_out(
    client, login_as
):
    client.post("/account/privacy-controls", data={"analytics": "allow"})
    assert has_tag(client.get("/"))
    login_as("ana")
    account = client.get("/account")
    assert has_tag(account)  # their account has no choice yet: this browser's stands
    assert "Cookies and your privacy" not in account.get_data(as_text=True)
    client.post("/logout")
    assert has_tag(client.get("/"))


def test_a_signed_in_persons_own_choice_wins_over_the_browsers(client, login_as, db):
    client.post("/account/privacy-controls", data={"analytics": "allow"})
    person = login_as("ana")
    with db.begin():
        user = db.get(User, person.id)
        user.consent_summary = "n--"  # chosen on another device
        db.add(user)
    assert not has_tag(client.get("/account"))


@pytest.mark.parametrize("value", ["garbage", "eyJjIjoieXl5In0", ""])
def test_a_forged_or_broken_consent_cookie_counts_as_no_choice(client, value):
    client.set_cookie(CONSENT_COOKIE, value)
    page = client.get("/")
    assert page.status_code == 200
    assert not has_tag(page)
    assert "Cookies and your privacy" in page.get_data(as_text=True)


def test_an_expired_consent_cookie_asks_again(client, app, monkeypatch):
    accept_all(client)
    from webapp.consent import web

    monkeypatch.setattr(web, "CONSENT_TOKEN", web.tokens.Purpose("consent", -1))
    page = client.get("/")
    assert not has_tag(page)
    assert "Cookies and your privacy" in page.get_data(as_text=True)


# --- the budget: no query of its own on signed-in pages ----------------------------------------


@pytest.mark.parametrize("path", ["/account", "/account/privacy-controls", "/privacy/cookies"])
def test_signed_in_pages_stay_within_three_statements(client, person, count_queries, path):
    client.post("/account/privacy-controls", data={"analytics": "allow", "research": "allow"})
    with count_queries() as statements:
        page = client.get(path)
    assert page.status_code == 200
    assert has_tag(page)
    assert len(statements) <= 3, statements


def test_the_banner_and_tag_add_no_query_to_a_signed_in_page(client, person, count_queries):
    with count_queries() as undecided:
        client.get("/account")
    client.post("/account/privacy-controls/banner", data={"decision": "accept"})
    with count_queries() as decided:
        client.get("/account")
    assert len(decided) == len(undecided) == 1  # flask-login's load of the user


# --- bad input changes nothing -------------------------------------------------------------------


def test_an_unknown_banner_answer_changes_nothing(client, person, db):
    page = client.post("/account/privacy-controls/banner", data={"decision": "maybe"})
    assert page.status_code == 422
    assert "Choose “Accept all” or “Reject all”." in page.get_data(as_text=True)
    assert CONSENT_COOKIE not in set_cookie_names(page)
    assert rows(db, person) == []
    fragment = client.post(
        "/account/privacy-controls/banner",
        data={"decision": ""},
        headers={"HX-Request": "true", "HX-Target": "consent-banner"},
    )
    assert fragment.status_code == 422
    assert 'id="consent-banner-error"' in fragment.get_data(as_text=True)


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"analytics": "yes"}, "analytics", "Choose whether to allow analytics."),
        ({"research": "allow", "personalisation": "1"}, "personalisation", "personalisation"),
        ({}, "controls", "at least one purpose"),
        ({"unrelated": "allow"}, "controls", "at least one purpose"),
    ],
)
def test_bad_choices_are_refused_next_to_the_field(client, person, db, form, field, message):
    page = client.post("/account/privacy-controls", data=form)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert f'id="{field}-error"' in html
    assert message in html
    if field != "controls":
        assert 'aria-invalid="true"' in html
    assert rows(db, person) == []
    assert CONSENT_COOKIE not in set_cookie_names(page)


def test_the_banner_returns_only_to_pages_of_this_site(client):
    answer = client.post(
        "/account/privacy-controls/banner", data={"decision": "reject", "next": "//evil.example/"}
    )
    assert answer.headers["Location"] == "/"


def test_the_forms_need_a_csrf_token(config, migrated):
    from webapp import create_app

    app = create_app({**config, "WTF_CSRF_ENABLED": True})
    client = app.test_client()
    for path, data in (
        ("/account/privacy-controls/banner", {"decision": "accept"}),
        ("/account/privacy-controls", {"analytics": "allow"}),
    ):
        answer = client.post(path, data=data)
        assert answer.status_code == 400
        assert CONSENT_COOKIE not in set_cookie_names(answer)
    app.extensions["sentro.engine"].dispose()


def test_a_malformed_measurement_id_stops_the_site_from_starting(config, migrated):
    from webapp import create_app
    from webapp.config import ConfigError

    with pytest.raises(ConfigError, match="GA_MEASUREMENT_ID"):
        create_app({**config, "GA_MEASUREMENT_ID": "UA-123'><script>"})
