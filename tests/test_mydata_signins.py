"""Sign-in activity: each sign-in, its IP kept sealed, reduced after 30 days, gone after 365."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import select

from tests.conftest import sign_in
from webapp import retention
from webapp.addresses import IpPolicy, purge_addresses, reduce_ip
from webapp.models import AuditEvent, SignIn, User
from webapp.mydata.signins import device_summary, page_number

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0"


def add_sign_in(db, user_id: int, *, at: datetime, ip: str | None = "203.0.113.77", ua=FIREFOX):
    row = SignIn(user_id=user_id, at=at, ip=ip, user_agent=ua)
    db.add(row)
    db.commit()
    return row


def other_person(db) -> User:
    user = User(issuer="https://elsewhere.example", subject="bo", email="bo@example.com")
    db.add(user)
    db.commit()
    return user


# --- the page ---------------------------------------------------------------------------


def test_the_page_lists_sign_ins_newest_first_with_ip_device_and_dates(client, person, db):
    add_sign_in(db, person.id, at=datetime(2025, 1, 2, 3, 4, tzinfo=UTC), ip="2001:db8::5")
    html = client.get("/account/security").get_data(as_text=True)
    assert html.index("127.0.0.1") < html.index("2001:db8::5")  # today's first
    assert "Firefox 120 on Windows 10" in html
    assert "2 January 2025, 16:04 NZDT" in html
    # The keeping rules are said once for the page, not repeated on every row.
    assert html.count("We keep the full IP address for") == 1
    assert "Full address until" not in html and "Deleted on" not in html


def test_the_page_shows_only_the_persons_own_sign_ins(client, person, db):
    stranger = other_person(db)
    add_sign_in(db, stranger.id, at=NOW, ip="198.51.100.99")
    assert "198.51.100.99" not in client.get("/account/security").get_data(as_text=True)


def test_a_reduced_address_is_shown_as_its_network(client, person, db):
    add_sign_in(db, person.id, at=NOW - timedelta(days=40))
    purge_addresses(db, NOW, IpPolicy())
    db.commit()
    html = client.get("/account/security").get_data(as_text=True)
    assert "203.0.113.0/24" in html
    assert "(network only)" in html


def test_the_page_is_at_most_three_statements(client, person, db, count_queries):
    for day in range(30):
        add_sign_in(db, person.id, at=NOW - timedelta(days=day))
    with count_queries() as statements:
        assert client.get("/account/security").status_code == 200
    assert len(statements) <= 3


@pytest.mark.parametrize("query", [{}, {"page": "2"}])
def test_the_page_is_read_with_the_person_in_one_round_trip(
    app, client, person, db, count_queries, query
):
    """The person with their session, a page of sign-ins and the sessions: three statements,
    sent together on PostgreSQL; SQLite runs them in turn."""
    from webapp.db import counting_round_trips

    for minute in range(25):
        add_sign_in(db, person.id, at=NOW - timedelta(minutes=minute))
    client.get("/account/security", query_string=query)  # warm
    engine = app.extensions["sentro.engine"]
    with count_queries() as statements, counting_round_trips(engine) as trips:
        response = client.get("/account/security", query_string=query)
    assert response.status_code == 200
    assert len(statements) == 3, statements
    assert len(trips) == (1 if engine.dialect.name == "postgresql" else 3), trips


def test_sign_ins_are_paged(client, person, db):
    for minute in range(25):
        add_sign_in(db, person.id, at=NOW - timedelta(minutes=minute), ip=f"192.0.2.{minute}")
    first = client.get("/account/security").get_data(as_text=True)
    second = client.get("/account/security?page=2").get_data(as_text=True)
    assert first.count('class="sign-in"') == 20 and "Older sign-ins" in first
    assert second.count('class="sign-in"') == 6 and "Newer sign-ins" in second
    assert "Older sign-ins" not in second


def test_htmx_paging_gets_only_the_list(client, person):
    headers = {"HX-Request": "true", "HX-Target": "sign-ins"}
    fragment = client.get("/account/security?page=1", headers=headers).get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="sign-ins"')
    assert "<html" not in fragment
    boosted = client.get("/account/security", headers={"HX-Request": "true"})
    assert "<html" in boosted.get_data(as_text=True)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.text(max_size=30))
@example(raw="²")  # a digit to str.isdigit, not to int()
def test_no_page_parameter_makes_an_error(client, person, raw):
    assert client.get("/account/security", query_string={"page": raw}).status_code == 200


@pytest.mark.parametrize(
    ("raw", "page"), [(None, 1), ("", 1), ("0", 1), ("-2", 1), ("3", 3), ("x", 1), ("99999999", 1)]
)
def test_page_numbers(raw, page):
    assert page_number(raw) == page


def test_sections_are_in_the_navigation(client, person):
    html = client.get("/account").get_data(as_text=True)
    assert "Your data" in html and "Sign-in activity" in html


# --- sealed at rest -----------------------------------------------------------------------


@pytest.mark.parametrize("ip", ["203.0.113.77", "2001:db8:abcd:12::1"])
def test_the_raw_database_holds_no_readable_ip_address(db, person, ip):
    add_sign_in(db, person.id, at=NOW - timedelta(days=31), ip=ip)
    stored = " ".join(r[0] or "" for r in db.execute(text("SELECT ip FROM sign_in")).all())
    assert ip not in stored and "127.0.0.1" not in stored
    purge_addresses(db, NOW, IpPolicy())
    db.commit()
    network = reduce_ip(ip)
    stored = " ".join(r[0] or "" for r in db.execute(text("SELECT ip FROM sign_in")).all())
    assert network.split("/")[0] not in stored
    assert db.exec(select(SignIn.ip).where(SignIn.ip_reduced)).all() == [network]


# --- reduction and deletion -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("10.0.0.1", "10.0.0.0/24"),
        ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),
        ("fe80::1%eth0", "fe80::/48"),
        ("not an address", None),
        ("", None),
        (None, None),
    ],
)
def test_reducing_an_address_keeps_only_its_network(ip, network):
    assert reduce_ip(ip) == network


@settings(deadline=None)
@given(st.ip_addresses())
def test_a_reduced_network_always_contains_the_address(address):
    network = ipaddress.ip_network(reduce_ip(str(address)))
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    assert network.prefixlen == (24 if address.version == 4 else 48)
    assert address in network


def test_the_purge_reduces_and_deletes_on_the_stated_dates(db, person):
    policy = IpPolicy(full_days=30, retention_days=365)
    at = {
        "fresh": NOW - timedelta(days=30) + timedelta(seconds=1),
        "reduce": NOW - timedelta(days=30),
        "keep": NOW - timedelta(days=365) + timedelta(seconds=1),
        "delete": NOW - timedelta(days=365),
    }
    rows = {name: add_sign_in(db, person.id, at=moment).id for name, moment in at.items()}
    report = purge_addresses(db, NOW, policy)
    db.commit()
    db.expire_all()
    assert "sign_in.ip: 1 rows deleted, 2 reduced" in report
    kept = {r.id: r for r in db.exec(select(SignIn)).all()}
    assert rows["delete"] not in kept
    assert kept[rows["fresh"]].ip == "203.0.113.77" and not kept[rows["fresh"]].ip_reduced
    for name in ("reduce", "keep"):
        assert kept[rows[name]].ip == "203.0.113.0/24" and kept[rows[name]].ip_reduced
    assert policy.reduce_on(at["reduce"]) == NOW and policy.delete_on(at["delete"]) == NOW
    assert "sign_in.ip: 0 rows deleted, 0 reduced" in purge_addresses(db, NOW, policy)


def test_the_periods_are_settings_used_by_privacy_purge(config, db, person):
    from webapp import create_app

    app = create_app({**config, "SIGNIN_IP_FULL_DAYS": 7, "SIGNIN_RETENTION_DAYS": 10})
    add_sign_in(db, person.id, at=NOW - timedelta(days=8))
    gone = add_sign_in(db, person.id, at=NOW - timedelta(days=10)).id
    with app.app_context():
        reports = dict(retention.run_all(db, NOW))
    assert "sign_in.ip: 1 rows deleted, " in reports["IP addresses"]
    assert db.get(SignIn, gone) is None
    result = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert "IP addresses: " in result.output
    app.extensions["sentro.engine"].dispose()


def test_a_full_period_beyond_the_retention_is_refused():
    with pytest.raises(ValueError):
        IpPolicy(full_days=400, retention_days=365)


# --- devices ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "summary"),
    [
        (FIREFOX, "Firefox 120 on Windows 10"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
            "Mobile Safari 17 on iOS 17 (iPhone)",
        ),
        ("", "Unknown device"),
        ("Werkzeug/3.1", "Unknown device"),
    ],
)
def test_device_summary(agent, summary):
    assert device_summary(agent) == summary


# --- "This wasn't me" -----------------------------------------------------------------------


@pytest.fixture
def second_browser(app, provider_url, person):
    """Another browser signed in to the same account."""
    other = app.test_client()
    sign_in(other, provider_url, "ana", {"email": "ana@example.com"})
    assert other.get("/account").status_code == 200
    return other


def _a_sign_in_of(db, user_id: int) -> int:
    return db.exec(select(SignIn.id).where(SignIn.user_id == user_id)).first()


def test_this_wasnt_me_ends_every_session(client, person, second_browser, db, config):
    response = client.post(
        "/account/security/not-me", data={"sign_in": _a_sign_in_of(db, person.id)}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account/security/signed-out")
    assert second_browser.get("/account").status_code == 302
    assert client.get("/account").status_code == 302
    db.rollback()  # end the test session's snapshot: read what the request committed
    events = db.exec(select(AuditEvent).where(AuditEvent.user_id == person.id)).all()
    assert [e.action for e in events] == ["sign-in-not-recognised"]


def test_the_signed_out_page_points_to_the_password_at_the_provider(config, client):
    from webapp import create_app

    app = create_app({**config, "OIDC_ACCOUNT_URL": "https://id.example/account/password"})
    html = app.test_client().get("/account/security/signed-out").get_data(as_text=True)
    assert 'href="https://id.example/account/password"' in html
    app.extensions["sentro.engine"].dispose()
    html = client.get("/account/security/signed-out").get_data(as_text=True)
    assert "Your sign-in provider manages it" in html


@pytest.mark.parametrize(
    "given_id",
    # Numbers beyond an id column (2**31) and beyond what SQLite binds (2**63) are not ids.
    [
        *["", "abc", "999999", "stranger", "99999999999999999999", str(2**63), str(2**31)],
        *["-1", "0", "²", "１", "1e3"],
    ],
)
def test_a_sign_in_that_is_not_theirs_changes_nothing(client, person, second_browser, db, given_id):
    if given_id == "stranger":
        given_id = str(add_sign_in(db, other_person(db).id, at=NOW).id)
    response = client.post("/account/security/not-me", data={"sign_in": given_id})
    assert response.status_code == 422
    assert "Nothing was changed" in response.get_data(as_text=True)
    assert second_browser.get("/account").status_code == 200
    db.rollback()
    assert db.get(User, person.id).session_generation == 0
    assert db.exec(select(AuditEvent)).all() == []


def test_this_wasnt_me_needs_the_csrf_token(config, provider_url, db):
    from webapp import create_app

    app = create_app({**config, "WTF_CSRF_ENABLED": True})
    browser = app.test_client()
    sign_in(browser, provider_url, "ana", {"email": "ana@example.com"})
    user = db.exec(select(User).where(User.subject == "ana")).one()
    response = browser.post(
        "/account/security/not-me", data={"sign_in": _a_sign_in_of(db, user.id)}
    )
    assert response.status_code == 400
    assert browser.get("/account").status_code == 200
    app.extensions["sentro.engine"].dispose()
