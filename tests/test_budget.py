"""The performance budget, where it can be counted: SQL statements per signed-in page.

Throughput is measured by `make bench` (never by timed tests); the statement count is
deterministic, so it is asserted here for every page in the url_map.
"""

from __future__ import annotations

import re

import pytest

from tests import routes

MAX_STATEMENTS = 3
#: What a read-only page must not send: a transaction's own statements.
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
#: Pages that read every table about the person: one statement per table, however many rows
#: (tests/test_mydata.py proves the count does not grow with the rows).
#: Pages that read one statement per table of the data map, as the export and erasure do:
#: the person's whole export, and the closure approval's preview of what erasure will do.
PER_TABLE = {"mydata.export_json", "mydata.your_data", "closure_staff.confirm_approval"}
PAGES = [r.rule for r in routes.get_pages() if r.endpoint not in PER_TABLE]


@pytest.mark.parametrize("who", ["person", "staff"])
def test_every_signed_in_page_runs_at_most_three_statements(who, request, client, count_queries):
    request.getfixturevalue(who)
    over = {}
    for path in PAGES:
        client.get(path)  # warm: first use may load metadata or caches
        with count_queries() as statements:
            response = client.get(path)
        assert response.status_code < 500, path
        if len(statements) > MAX_STATEMENTS:
            over[path] = statements
    assert not over, "\n".join(
        f"{p}: {len(s)} statements\n  " + "\n  ".join(s) for p, s in over.items()
    )


def test_the_count_sees_the_user_load(client, person, count_queries):
    with count_queries() as statements:
        client.get("/account")
    assert 1 <= len(statements) <= MAX_STATEMENTS


def test_a_page_signs_its_csrf_token_once(client, person, monkeypatch):
    """base.html asks for the token twice (htmx header, sign-out form): it is signed once."""
    from itsdangerous import URLSafeTimedSerializer

    signed = []
    original = URLSafeTimedSerializer.dumps

    def counting(self, obj, salt=None):
        signed.append(bytes(self.salt))
        return original(self, obj, salt)

    monkeypatch.setattr(URLSafeTimedSerializer, "dumps", counting)
    html = client.get("/account").get_data(as_text=True)
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', html))
    assert len(tokens) == 1 and f'"X-CSRFToken": "{tokens.pop()}"' in html  # one token, reused
    assert signed.count(b"wtf-csrf-token") == 1


@pytest.mark.parametrize("who", ["customer", "staff"])
def test_every_page_of_the_populated_site_runs_at_most_three_statements_in_one_round_trip(
    who, site, provider_url
):
    """The same budget over every GET page with data in every table, rows in every queue and
    emailed links to open; on PostgreSQL its statements go in one round trip (a pipeline), with
    no BEGIN, COMMIT or ROLLBACK around them."""
    from tests.conftest import sign_in
    from tests.populate import CUSTOMER, STAFF
    from webapp.db import counting_round_trips, counting_statements

    app, populated = site
    engine = app.extensions["sentro.engine"]
    most_trips = 1 if engine.dialect.name == "postgresql" else MAX_STATEMENTS
    client = app.test_client()
    sign_in(client, provider_url, *(CUSTOMER if who == "customer" else STAFF))
    over, seen = {}, 0
    for rule, path in routes.walked(populated):
        if rule.endpoint in PER_TABLE:
            continue
        client.get(path)  # warm: first use may load metadata or caches
        with counting_statements(engine) as statements, counting_round_trips(engine) as trips:
            response = client.get(path)
        assert response.status_code < 500, path
        seen += response.status_code == 200
        control = [t for t in trips if t.lstrip().upper().startswith(CONTROL)]
        if len(statements) > MAX_STATEMENTS or len(trips) > most_trips or control:
            over[path] = [f"{len(trips)} round trips", *statements]
    assert seen >= 20
    assert not over, "\n".join(
        f"{p}: {len(s) - 1} statements, {s[0]}\n  " + "\n  ".join(s[1:]) for p, s in over.items()
    )
