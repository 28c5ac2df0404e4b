"""The staff queues at the scale of a bad week: paged, counted per status, searchable.

Both queues — closure requests and privacy requests — keep the same promises: every request
with the chosen status is on exactly one page, the counts per status are exact, and a request
is found by its number, or by part of the person's name or email.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from webapp.dev.seed import seed_open_requests
from webapp.models import ClosureRequest, Inquiry, User
from webapp.models.closure import OPEN_STATUSES

#: queue path, the link to one request in it, the open statuses, the default filter's name
QUEUES = {
    "closures": ("/staff/closures/", r'href="/staff/closures/(\d+)"', ClosureRequest),
    "privacy requests": (
        "/staff/privacy-requests",
        r'href="/staff/privacy-requests/(\d+)"',
        Inquiry,
    ),
}


@pytest.fixture
def seeded(app):
    """Seed `count` people, each with an open closure request and an open privacy request."""

    def seed(count: int) -> None:
        with app.app_context():
            assert seed_open_requests(count) == (count, count)

    return seed


def ids_on(html: str, link: str) -> list[int]:
    return [int(found) for found in re.findall(link, html)]


def open_ids(db, model) -> set[int]:
    db.rollback()
    if model is ClosureRequest:
        query = select(model.id).where(model.status.in_(OPEN_STATUSES))
    else:
        query = select(model.id).where(model.status.in_(("open", "extended")))
    return set(db.exec(query).all())


@pytest.mark.parametrize("queue", QUEUES)
def test_more_than_500_open_requests_are_each_on_exactly_one_page(client, staff, db, seeded, queue):
    path, link, model = QUEUES[queue]
    seeded(520)
    seen: list[int] = []
    for page in range(1, 12):
        html = client.get(f"{path}?page={page}").get_data(as_text=True)
        assert f"Page {page} of 11" in html
        seen += ids_on(html, link)
    assert "Showing 501–520 of 520" in html and 'rel="next"' not in html
    assert len(seen) == len(set(seen)) == 520
    assert set(seen) == open_ids(db, model)


@pytest.mark.parametrize("queue", QUEUES)
def test_the_first_page_of_a_big_queue_costs_three_statements(
    client, staff, seeded, count_queries, queue
):
    path, link, _ = QUEUES[queue]
    seeded(120)
    client.get(path)
    with count_queries() as statements:
        html = client.get(path).get_data(as_text=True)
    assert len(ids_on(html, link)) == 50
    assert len(statements) <= 3, statements


def test_the_closure_queue_counts_each_status_in_the_filters(client, staff, seeded):
    seeded(120)  # the seed spreads received, under review and approved evenly
    html = client.get("/staff/closures/").get_data(as_text=True)
    for label, count in [("Open", 120), ("Received", 40), ("Under review", 40), ("Approved", 40)]:
        assert f'{label} <span class="count">{count}</span>' in html, label
    approved = client.get("/staff/closures/?status=approved").get_data(as_text=True)
    assert "Showing 1–40 of 40 closure requests" in approved
    assert approved.count("erasure ") == 40


def test_the_privacy_request_queue_counts_a_reply_to_a_refusal_as_waiting(
    client, staff, db, seeded
):
    seeded(10)  # two of them are extended
    refused = db.exec(select(Inquiry).where(Inquiry.status == "open")).first()
    refused.status, refused.refusal_reason = "refused", "No."
    db.add(refused)
    db.commit()  # its last message is the person's: it stays in the waiting list
    html = client.get("/staff/privacy-requests").get_data(as_text=True)
    assert 'Waiting for an answer <span class="count">10</span>' in html
    assert 'Received <span class="count">7</span>' in html
    assert 'More time needed <span class="count">2</span>' in html
    assert 'Refused <span class="count">1</span>' in html


@pytest.mark.parametrize("queue", QUEUES)
def test_a_request_is_found_by_its_number_or_part_of_a_name_or_email(
    client, staff, db, seeded, queue
):
    path, link, model = QUEUES[queue]
    seeded(60)
    person = db.exec(select(User).where(User.email == "person7@example.test")).one()
    person.name = "Mereana O'Brien-Tūhoe"
    db.add(person)
    db.commit()
    request_id = db.exec(select(model.id).where(model.user_id == person.id)).one()
    for search in [str(request_id), f"#{request_id}", "PERSON7@example.test", "o'brien-tū"]:
        html = client.get(path, query_string={"q": search}).get_data(as_text=True)
        assert ids_on(html, link) == [request_id], search
    several = client.get(path, query_string={"q": "person1"}).get_data(as_text=True)
    assert len(ids_on(several, link)) == 11  # person1 and person10 to person19
    assert "of 11" in several and 'value="person1"' in several


@pytest.mark.parametrize("queue", QUEUES)
@pytest.mark.parametrize("search", ["%", "_", "\\", "person%", "nobody@example.test", "99999"])
def test_a_search_that_matches_nothing_says_so(client, staff, seeded, queue, search):
    path, link, _ = QUEUES[queue]
    seeded(5)
    response = client.get(path, query_string={"q": search})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and ids_on(html, link) == []
    assert "match “" in html


@pytest.mark.parametrize("queue", QUEUES)
@pytest.mark.parametrize(
    "query",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"page": "１"},
        {"page": "99999999999"},
        {"status": "nonsense"},
        {"q": "\x00\x1f"},
        {"q": "x" * 5000},
    ],
)
def test_no_query_string_breaks_a_queue(client, staff, seeded, queue, query):
    path, link, _ = QUEUES[queue]
    seeded(60)
    response = client.get(path, query_string=query)
    assert response.status_code == 200
    if "page" in query:
        assert ids_on(response.get_data(as_text=True), link), "a sensible page is shown"


def test_a_page_past_the_end_shows_the_last_page(client, staff, seeded):
    seeded(60)
    html = client.get("/staff/closures/?page=40").get_data(as_text=True)
    assert "Showing 51–60 of 60" in html and "Page 2 of 2" in html


def test_htmx_gets_only_the_queue_back(client, staff, seeded):
    seeded(60)
    for path in ("/staff/closures/?page=2", "/staff/privacy-requests?page=2"):
        html = client.get(path, headers={"HX-Request": "true", "HX-Target": "queue"}).get_data(
            as_text=True
        )
        assert html.lstrip().startswith('<section id="queue"') and "<html" not in html


def test_dev_seed_makes_a_bad_week_and_running_it_again_adds_nothing(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["dev", "seed", "--users", "5", "--open-requests", "30"])
    assert "seeded 30 closure requests and 30 privacy requests" in first.output, first.output
    again = runner.invoke(args=["dev", "seed", "--users", "5", "--open-requests", "30"])
    assert "seeded 0 closure requests and 0 privacy requests" in again.output, again.output
    assert len(open_ids(db, ClosureRequest)) == len(open_ids(db, Inquiry)) == 30
