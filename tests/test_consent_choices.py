"""Privacy choices: stored with time and source, kept in budget, and bad input refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.consent_helpers import GA_ID, accept_all, has_tag, rows, set_cookie_names
from webapp.consent.declarations import CONSENT_COOKIE
from webapp.consent.service import Choices, stored_choices
from webapp.models import ConsentChoice, User, utcnow


@pytest.fixture
def config(config):
    """These tests run with analytics configured, so that consent is what switches it on."""
    return {**config, "GA_MEASUREMENT_ID": GA_ID}


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
    assert all(r.policy_version is None for r in first)  # no policy version published here

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


def test_the_policy_version_in_effect_is_recorded_with_the_choice(client, person, db):
    from webapp.policy import service as policy

    policy.load_first_version(db, utcnow())
    db.commit()
    client.post("/account/privacy-controls", data={"analytics": "allow"})
    assert [r.policy_version for r in rows(db, person)] == [1]


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


def _history_table(html: str) -> str:
    start = html.index("Your recent choices")
    return html[html.index("<tbody>", start) : html.index("</tbody>", start)]


def test_the_controls_page_shows_the_persons_twelve_latest_choices_newest_first(client, person, db):
    accept_all(client)  # the oldest three: made through the banner
    for i in range(12):
        client.post("/account/privacy-controls", data={"analytics": ("allow", "refuse")[i % 2]})
    stranger = User(issuer="https://elsewhere.example", subject="bo", email="bo@example.com")
    db.add(stranger)
    db.flush()
    later = utcnow() + timedelta(hours=1)
    for source in ("banner", "gpc"):  # another person's, newer than any of the person's own
        db.add(
            ConsentChoice(
                user_id=stranger.id, purpose="research", granted=True, at=later, source=source
            )
        )
    db.commit()
    table = _history_table(client.get("/account/privacy-controls").get_data(as_text=True))
    assert table.count("<tr>") == 12
    assert "the cookie banner" not in table and "Global Privacy Control" not in table
    assert table.index("Not allowed") < table.index("Allowed")  # the last choice first


def test_a_visitors_controls_page_reads_nothing_from_the_database(client, count_queries):
    with count_queries() as statements:
        page = client.get("/account/privacy-controls")
    assert page.status_code == 200 and "Your recent choices" not in page.get_data(as_text=True)
    assert statements == []


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
    assert len(decided) == len(undecided) <= 3  # the choices come with the user row


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
