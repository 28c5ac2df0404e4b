"""The policy's read-only pages read everything they show in one round trip on PostgreSQL,
for a visitor who is not signed in as for a signed-in person (whose own read carries the
page's), and show what they showed when they read one statement at a time."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.policy_support import V2, load_v1, publish, today
from webapp.db import counting_round_trips, counting_statements
from webapp.models import PolicyVersion, utcnow

V3 = V2 + "\nWe keep backups for thirty-five days.\n"


@pytest.fixture
def three_versions(app):
    """Versions 1 and 2 in effect, version 3 upcoming: each compared pair differs in words."""
    load_v1(app)
    publish(app, effective_on=today())
    publish(app, V3, effective_on=today() + timedelta(days=3))


def reading(app, client, path: str) -> tuple[object, list[str], list[str]]:
    """The answer to GET `path`, its statements and its round trips (after one warming GET)."""
    engine = app.extensions["sentro.engine"]
    client.get(path)
    with counting_statements(engine) as statements, counting_round_trips(engine) as trips:
        answer = client.get(path)
    return answer, statements, trips


def one_round_trip(app, statements: list[str], trips: list[str]) -> bool:
    """One network wait on PostgreSQL; SQLite runs each statement in turn, nothing besides."""
    postgres = app.extensions["sentro.engine"].dialect.name == "postgresql"
    return len(trips) == (1 if postgres else len(statements))


def marked(html: str, tag: str) -> str:
    return " ".join(re.findall(rf"<{tag}>(.*?)</{tag}>", html, re.S))


@pytest.mark.parametrize("who", ["visitor", "person"])
@pytest.mark.parametrize(
    ("query", "old", "new"),
    [
        ("", 2, 3),  # the newest change
        ("to=2", 1, 2),  # to a version, from the one before it
        ("from=1", 1, 3),  # from a version, to the newest
        ("from=3&to=1", 3, 1),  # backwards
    ],
)
def test_a_comparison_reads_both_versions_with_the_timeline_in_one_round_trip(
    who, query, old, new, request, app, client, count_queries, three_versions
):
    if who == "person":
        request.getfixturevalue("person")
    with count_queries():
        pass  # warms the process's policy timeline, as a running site has it
    answer, statements, trips = reading(app, client, f"/privacy/compare?{query}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f"Changes from version {old} to version {new}" in html
    changed = marked(html, "ins") + marked(html, "del")
    assert ("2020" in changed) is (1 in (old, new))  # version 1 said 2002
    assert ("thirty-five days" in changed) is (3 in (old, new))
    # the timeline and the two versions (and the person with their session, when signed in)
    assert len(statements) == (2 if who == "visitor" else 3), statements
    assert one_round_trip(app, statements, trips), trips


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("to=7", {"to", "from"}),  # no version 7, so none before it either
        ("from=7", {"from"}),
        ("to=1", {"from"}),  # nothing before version 1
        ("from=x&to=2", {"from"}),
        ("from=3", {"from"}),  # the newest compared with itself
    ],
)
def test_a_missing_version_gets_the_same_clear_answer_in_one_round_trip(
    query, errors, app, client, count_queries, three_versions
):
    with count_queries():
        pass
    answer, statements, trips = reading(app, client, f"/privacy/compare?{query}")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    shown = set(re.findall(r'<p class="field-error" id="compare-(\w+)-error">', html))
    assert shown == errors
    expected = "Choose two different versions." if query == "from=3" else "has been published."
    assert expected in html
    assert one_round_trip(app, statements, trips), trips


@pytest.mark.parametrize("who", ["visitor", "person"])
def test_the_versions_page_is_one_round_trip(
    who, request, app, client, count_queries, three_versions
):
    if who == "person":
        request.getfixturevalue("person")
    with count_queries():
        pass
    answer, statements, trips = reading(app, client, "/privacy/versions")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert html.index("Version 3</a>") < html.index("Version 2</a>") < html.index("Version 1</a>")
    assert one_round_trip(app, statements, trips), trips


def test_the_versions_page_gives_each_version_it_lists_its_status(app, client, db, count_queries):
    """A version another process published is listed with its own status at once, while
    this process's cached timeline (the banner's) does not know it yet."""
    load_v1(app)
    publish(app, effective_on=today())
    with count_queries():
        pass  # the cache holds versions 1 and 2
    db.add(
        PolicyVersion(
            number=3,
            text=V3,
            summary="Backups.",
            effective_on=today(),
            published_at=utcnow(),
        )
    )
    db.commit()
    html = client.get("/privacy/versions").get_data(as_text=True)
    cards = html.split('<li class="card')[1:]
    assert [re.search(r"Version (\d)</a>", c)[1] for c in cards] == ["3", "2", "1"]
    assert "version-in-effect" in cards[0] and ">In effect<" in cards[0]
    assert "version-superseded" in cards[1] and ">Replaced<" in cards[1]


@pytest.mark.parametrize("number", ["0", "9", "99999999999"])
def test_the_notices_of_a_version_that_does_not_exist_are_not_found(
    number, app, client, staff, three_versions, count_queries
):
    with count_queries():
        pass
    answer, statements, trips = reading(app, client, f"/staff/policy/notices/{number}")
    assert answer.status_code == 404
    assert one_round_trip(app, statements, trips), trips


def test_the_staff_pages_read_with_the_staff_member_in_one_round_trip(
    app, client, staff, three_versions, count_queries
):
    with count_queries():
        pass
    form, statements, trips = reading(app, client, "/staff/policy/")
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and "Notices of version 3" in html
    assert one_round_trip(app, statements, trips), trips
    notices, statements, trips = reading(app, client, "/staff/policy/notices/2")
    assert notices.status_code == 200 and "Notices of version 2" in notices.get_data(as_text=True)
    assert one_round_trip(app, statements, trips), trips
