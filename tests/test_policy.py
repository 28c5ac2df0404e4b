"""The privacy policy people read: the version in effect, every version, upcoming versions,
the banner after a change and acknowledging it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from tests.conftest import body_text, links_in
from tests.policy_support import SUMMARY, V2, load_v1, people, publish, today
from webapp.cli import upgrade_database
from webapp.models import PolicyAcknowledgement, PolicyVersion, User
from webapp.policy import service
from webapp.policy.service import FIRST_VERSION_EFFECTIVE


def test_version_1_is_stored_by_db_upgrade_once(app, db):
    with app.app_context():
        upgrade_database()
        upgrade_database()
    stored = db.exec(select(PolicyVersion)).all()
    assert [(v.number, v.effective_on) for v in stored] == [(1, FIRST_VERSION_EFFECTIVE)]
    assert stored[0].text.startswith("# Sentro Privacy Policy")


def test_dev_seed_stores_version_1_too(app, db):
    result = app.test_cli_runner().invoke(args=["dev", "seed", "--users", "3"])
    assert result.exit_code == 0, result.output
    assert [v.number for v in db.exec(select(PolicyVersion))] == [1]


def test_privacy_shows_the_version_in_effect_without_sign_in(app, client):
    load_v1(app)
    page = client.get("/privacy")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Sentro Privacy Policy</h1>" in html
    assert "Version 1 · in effect since 1 December 2020" in html
    assert 'href="/privacy/versions"' in html
    assert 'id="email">Email</h2>' in html  # headings carry anchors a person can link to


def test_the_footer_links_to_the_policy(app, client):
    load_v1(app)
    assert 'href="/privacy">Privacy policy</a>' in client.get("/").get_data(as_text=True)


def test_without_any_version_privacy_says_not_found(client):
    assert client.get("/privacy").status_code == 404


def test_future_dated_version_2_is_announced_but_not_yet_in_effect(app, client, db, outbox):
    load_v1(app)
    everyone = people(db)
    effective = today() + timedelta(days=14)

    result = publish(app, effective_on=effective)
    assert result.ok and result.notices == 3

    current = client.get("/privacy").get_data(as_text=True)
    assert "Version 1 · in effect" in current
    assert f"Version 2 takes effect on {effective.day} {effective:%B %Y}" in current

    versions = client.get("/privacy/versions").get_data(as_text=True)
    assert 'Version 2</a>\n<span class="badge badge-warn">Upcoming</span>' in versions
    assert SUMMARY in versions

    for name in ("aroha", "ben", "chloe"):
        notice = outbox.last_to(everyone[name].email)
        assert (
            notice["Subject"] == f"Our privacy policy changes on {effective.day} {effective:%B %Y}"
        )
        assert SUMMARY in body_text(notice)
        assert "http://localhost/privacy/compare?from=1&to=2" in links_in(notice)
    assert outbox.to("left@example.com") == []
    assert outbox.to("closed@example.com") == []


def test_after_its_date_version_2_is_in_effect_and_announced_by_the_banner(app, db):
    load_v1(app)
    aroha = people(db)["aroha"]
    effective = today() + timedelta(days=14)
    publish(app, effective_on=effective)
    versions = service.timeline(db)

    assert service.version_in_effect(db, effective - timedelta(days=1)).number == 1
    assert service.banner(aroha, versions, effective - timedelta(days=1)) is None
    assert service.version_in_effect(db, effective).number == 2
    assert service.banner(aroha, versions, effective) == service.Banner(2, effective, since=1)


def test_a_version_in_effect_today_shows_on_privacy_and_in_a_banner_until_acknowledged(
    app, client, person, db
):
    load_v1(app)
    publish(app, effective_on=today())

    assert "Version 2 · in effect since" in client.get("/privacy").get_data(as_text=True)
    account = client.get("/account").get_data(as_text=True)
    assert 'id="policy-banner"' in account
    assert (
        'href="/privacy/compare?from=1&amp;to=2">See what changed since you last looked' in account
    )

    answer = client.post("/privacy/acknowledge", data={"version": "2", "next": "/account"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/account"
    account = client.get("/account").get_data(as_text=True)
    assert 'id="policy-banner"' not in account
    assert "you have seen version 2 of the privacy policy" in account

    record = db.exec(select(PolicyAcknowledgement)).one()
    assert (record.user_id, record.version, record.ip) == (person.id, 2, "127.0.0.1")
    assert record.at is not None
    assert db.get(User, person.id).policy_version_seen == 2


def test_acknowledging_through_htmx_swaps_the_banner_for_thanks(app, client, person, db):
    load_v1(app)
    publish(app, effective_on=today())
    answer = client.post(
        "/privacy/acknowledge",
        data={"version": "2"},
        headers={"HX-Request": "true", "HX-Target": "policy-banner"},
    )
    assert answer.status_code == 200
    html = answer.get_data(as_text=True)
    assert 'id="policy-banner"' in html
    assert "<html" not in html and "you have seen version 2" in html
    assert db.exec(select(PolicyAcknowledgement)).one().version == 2


def test_the_banner_compares_from_the_version_last_acknowledged(app, client, person):
    load_v1(app)
    publish(app, effective_on=today())
    client.post("/privacy/acknowledge", data={"version": "2"})
    publish(app, V2 + "\nA third version.\n", effective_on=today())
    publish(app, V2 + "\nA fourth version.\n", effective_on=today())
    account = client.get("/account").get_data(as_text=True)
    assert 'href="/privacy/compare?from=2&amp;to=4"' in account


def test_only_people_who_joined_before_a_version_took_effect_see_the_banner(
    app, client, login_as, db
):
    load_v1(app)
    long_standing = people(db)["aroha"]
    publish(app, effective_on=today() - timedelta(days=5), on=today() - timedelta(days=10))
    login_as("newcomer")
    assert 'id="policy-banner"' not in client.get("/account").get_data(as_text=True)
    assert service.banner(long_standing, service.timeline(db), today()).since == 1


@pytest.mark.parametrize("version", ["3", "0", "", "two", "99999999999", "-1"])
def test_acknowledging_anything_but_a_version_in_effect_is_refused(
    app, client, person, db, version
):
    load_v1(app)
    publish(app, effective_on=today())
    publish(app, V2 + "\nLater.\n", effective_on=today() + timedelta(days=30))
    answer = client.post("/privacy/acknowledge", data={"version": version})
    assert answer.status_code == 422
    assert "That version is not in effect" in answer.get_data(as_text=True)
    assert db.exec(select(PolicyAcknowledgement)).all() == []


def test_acknowledging_needs_sign_in(app, client):
    load_v1(app)
    assert client.post("/privacy/acknowledge", data={"version": "1"}).status_code == 302


def test_acknowledging_twice_records_once(app, client, person, db):
    load_v1(app)
    publish(app, effective_on=today())
    client.post("/privacy/acknowledge", data={"version": "2"})
    client.post("/privacy/acknowledge", data={"version": "2"})
    assert len(db.exec(select(PolicyAcknowledgement)).all()) == 1


def test_acknowledgements_are_part_of_the_data_map():
    from webapp.models import personal_columns, privacy_of

    table = PolicyAcknowledgement.__table__
    assert privacy_of(table).name == "Privacy policy acknowledgements"
    assert set(personal_columns(table)) == {"version", "at", "ip"}


def test_the_ip_of_an_acknowledgement_is_sealed_at_rest(app, client, person, db):
    from sqlalchemy import text

    load_v1(app)
    publish(app, effective_on=today())
    client.post("/privacy/acknowledge", data={"version": "2"})
    stored = db.exec(text("SELECT ip FROM policy_acknowledgement")).one()[0]
    assert stored and "127.0.0.1" not in stored


@pytest.mark.parametrize("banner_showing", [True, False])
def test_a_signed_in_page_issues_at_most_three_statements(
    app, client, person, count_queries, banner_showing
):
    load_v1(app)
    publish(app, effective_on=today())
    if not banner_showing:
        client.post("/privacy/acknowledge", data={"version": "2"})
    with count_queries() as cold:
        page = client.get("/account")
    with count_queries() as warm:
        client.get("/account")
    assert ('id="policy-banner"' in page.get_data(as_text=True)) is banner_showing
    assert len(cold) <= 3, cold
    assert len(warm) <= 2, warm  # the versions are cached; only the person is loaded


def test_versions_page_lists_every_version_with_summary_and_dates(app, client):
    load_v1(app)
    publish(app, effective_on=today())
    html = client.get("/privacy/versions").get_data(as_text=True)
    assert html.index("Version 2</a>") < html.index("Version 1</a>")
    assert ">In effect<" in html and ">Replaced<" in html
    assert SUMMARY in html
    assert "1 December 2020" in html


def test_a_single_version_page_says_whether_it_is_in_effect(app, client):
    load_v1(app)
    publish(app, effective_on=today() + timedelta(days=3))
    assert "Upcoming:" in client.get("/privacy/versions/2").get_data(as_text=True)
    assert "In effect since" in client.get("/privacy/versions/1").get_data(as_text=True)
    assert client.get("/privacy/versions/3").status_code == 404


def test_comparison_marks_words_with_text_for_screen_readers(app, client):
    load_v1(app)
    publish(app, effective_on=today())
    page = client.get("/privacy/compare?from=1&to=2")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<del><span class="visually-hidden">[deleted: </span>2002' in html
    assert '<ins><span class="visually-hidden">[inserted: </span>2020' in html
    assert "policy.css" in html


def test_comparison_defaults_to_the_newest_change(app, client):
    load_v1(app)
    publish(app, effective_on=today() + timedelta(days=9))
    html = client.get("/privacy/compare").get_data(as_text=True)
    assert "Changes from version 1 to version 2" in html


def test_comparison_with_one_version_says_there_is_nothing_to_compare(app, client):
    load_v1(app)
    page = client.get("/privacy/compare")
    assert page.status_code == 200
    assert "nothing to compare yet" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=1&to=1", "from", "Choose two different versions."),
        ("from=1&to=7", "to", "Choose a version that has been published."),
        ("from=abc&to=2", "from", "Choose a version that has been published."),
        ("from=-1&to=2", "from", "Choose a version that has been published."),
    ],
)
def test_comparing_what_is_not_a_pair_of_versions_says_why(app, client, query, field, message):
    load_v1(app)
    publish(app, effective_on=today())
    page = client.get(f"/privacy/compare?{query}")
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert f'<p class="field-error" id="compare-{field}-error">{message}</p>' in html
    assert f'aria-describedby="compare-{field}-error"' in html


def test_comparison_answers_htmx_with_the_region_only(app, client):
    load_v1(app)
    publish(app, effective_on=today())
    page = client.get(
        "/privacy/compare?from=2&to=1", headers={"HX-Request": "true", "HX-Target": "comparison"}
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" not in html and 'id="comparison"' in html


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    old=st.one_of(st.text(max_size=12), st.integers().map(str)),
    new=st.one_of(st.text(max_size=12), st.integers(min_value=-2, max_value=4).map(str)),
)
def test_no_comparison_query_makes_a_500(app, client, old, new):
    load_v1(app)  # stores version 1 once; later examples find it there
    response = client.get("/privacy/compare", query_string={"from": old, "to": new})
    assert response.status_code in (200, 422)
