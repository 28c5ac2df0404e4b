"""Every route, walked from the url_map: headers, CSRF, sign-in, staff-only, two people.

A route added later is covered by these tests without editing them; the few exceptions are
data in tests/routes.py.
"""

from __future__ import annotations

import pytest

from tests import routes
from tests.ownership import MARK, owned_rows, plant_rows, snapshot
from webapp.validators import database_id

ALL = routes.rules()
UNSAFE_ROUTES = [(r, m) for r in ALL for m in routes.methods(r) if m in routes.UNSAFE]
STAFF = [r for r in ALL if routes.staff_only(r)]
SIGNED_IN = [r for r in ALL if r.endpoint not in routes.PUBLIC]
#: What a person can name another's row through: URL variables, and form or query fields.
WITH_IDS = [r for r in ALL if (r.arguments or routes.form_fields(r)) and not routes.staff_only(r)]


def _request(client, method: str, path: str, **kwargs):
    return client.open(path, method=method, **kwargs)


# --- headers ---------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ALL, ids=routes.rule_id)
def test_every_route_sends_the_security_headers(rule, client, person):
    method = "GET" if "GET" in routes.methods(rule) else routes.methods(rule)[0]
    response = _request(client, method, routes.fill(rule), base_url="https://localhost")
    assert response.status_code < 500
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in {"same-origin", "no-referrer", "strict-origin"}
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert "HX-Request" in headers.get("Vary", "")


def test_plain_http_gets_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


# --- CSRF ------------------------------------------------------------------------------


@pytest.fixture
def csrf_on(config):
    config["WTF_CSRF_ENABLED"] = True
    return config


@pytest.mark.parametrize(
    ("rule", "method"), UNSAFE_ROUTES, ids=[f"{m} {routes.rule_id(r)}" for r, m in UNSAFE_ROUTES]
)
def test_unsafe_methods_need_a_csrf_token(rule, method, csrf_on, client, person, db):
    before = snapshot(db)
    response = _request(client, method, routes.fill(rule), data={"anything": "x"})
    if rule.endpoint in routes.CSRF_EXEMPT:
        assert response.status_code != 400 or "form had expired" not in response.text
        return
    assert response.status_code == 400, f"{method} {rule.rule} ran without a CSRF token"
    assert "The form had expired" in response.get_data(as_text=True)
    assert snapshot(db) == before


def test_the_csrf_exceptions_are_exactly_the_declared_ones(app):
    from webapp.security import csrf

    exempt = set()
    for endpoint, view in app.view_functions.items():
        if f"{view.__module__}.{view.__name__}" in csrf._exempt_views:
            exempt.add(endpoint)
    assert exempt == set(routes.CSRF_EXEMPT), "CSRF exemptions differ from routes.CSRF_EXEMPT"
    assert not csrf._exempt_blueprints


def _bad_tokens(app, user_id: int) -> dict[str, str]:
    """Tokens an attacker can make or find: garbage, tampered, another purpose, another key."""
    from itsdangerous import URLSafeSerializer

    from webapp import tokens
    from webapp.preferences import links

    with app.app_context():
        genuine = links.unsubscribe_token(user_id, "service-updates")
        return {
            "garbage": "not-a-token",
            "tampered": genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"),
            "truncated": genuine[: len(genuine) // 2],
            "another-purpose": tokens.make(tokens.PREFERENCES, user_id),
            "another-key": URLSafeSerializer("someone-elses-key", salt="sentro.unsubscribe").dumps(
                [user_id, "service-updates"]
            ),
            "a-locked-list": tokens.make(tokens.UNSUBSCRIBE, [user_id, "account"]),
            "a-huge-id": tokens.make(tokens.UNSUBSCRIBE, [2**63, "service-updates"]),
        }


EXEMPT = [r for r in ALL if r.endpoint in routes.CSRF_EXEMPT]


@pytest.mark.parametrize("rule", EXEMPT, ids=routes.rule_id)
def test_each_csrf_exempt_route_refuses_bad_tokens_and_changes_nothing(
    rule, app, csrf_on, owner_and_other, db
):
    """No cookie, no CSRF token: the token in the request is all that stands guard."""
    ana, _ben = owner_and_other
    stranger = app.test_client()  # a mail program: no cookies at all
    before = snapshot(db)
    for kind, token in _bad_tokens(app, ana.id).items():
        path = routes.fill(rule, {name: token for _c, name in routes.params(rule)})
        form = {name: token for name in routes.form_fields(rule)}
        form["List-Unsubscribe"] = "One-Click"  # RFC 8058's body, whatever the route
        response = stranger.post(path, data=form)
        assert 400 <= response.status_code < 500, f"{kind}: {response.status_code}"
    assert snapshot(db) == before, "a bad token changed something"


def test_the_declared_exceptions_name_real_routes():
    endpoints = {r.endpoint for r in ALL}
    for declared in (routes.PUBLIC, routes.CSRF_EXEMPT, routes.DOWNLOADS):
        assert set(declared) <= endpoints, set(declared) - endpoints


def test_a_valid_token_is_accepted(csrf_on, client, person):
    page = client.get("/logout").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303


def test_htmx_sends_the_token_from_the_layout(csrf_on, client, person):
    html = client.get("/account").get_data(as_text=True)
    token = html.split('"X-CSRFToken": "')[1].split('"')[0]
    assert client.post("/logout", headers={"X-CSRFToken": token}).status_code == 303


# --- staff only ------------------------------------------------------------------------


@pytest.mark.parametrize("rule", STAFF, ids=routes.rule_id)
def test_staff_routes_refuse_customers(rule, client, person, db):
    before = snapshot(db)
    for method in routes.methods(rule):
        response = _request(client, method, routes.fill(rule))
        assert response.status_code == 403, f"{method} {rule.rule}: {response.status_code}"
    assert snapshot(db) == before


@pytest.mark.parametrize("who", ["customer", "staff"])
def test_a_staff_page_reads_nothing_for_a_person_without_staff_rights(
    who, site, provider_url, monkeypatch
):
    """A staff page's reads go out with the person's own, before its guard answers: for a
    person without staff rights they find no rows, however full the queues (staff: they do)."""
    from tests.conftest import sign_in
    from tests.populate import CUSTOMER
    from tests.populate import STAFF as STAFF_MEMBER
    from webapp import driver
    from webapp.auth import sessions

    app, populated = site
    client = app.test_client()
    sign_in(client, provider_url, *(CUSTOMER if who == "customer" else STAFF_MEMBER))
    read = driver.fetch
    found: list[int] = []

    def recording(engine, *reads):
        results = read(engine, *reads)
        if reads and reads[0][0] is sessions.LOAD:  # the person's read and what came with it
            found.extend(len(rows) for rows in results[1:])
        return results

    monkeypatch.setattr(driver, "fetch", recording)
    pages = [(r, path) for r, path in routes.walked(populated) if routes.staff_only(r)]
    for _rule, path in pages:
        assert client.get(path).status_code == (403 if who == "customer" else 200), path
    assert len(pages) >= 5 and len(found) >= len(pages)
    if who == "customer":
        assert not any(found), found
    else:
        assert sum(found) > 0  # the control: the same reads find the staff's rows


def test_every_route_under_the_staff_prefix_has_the_staff_guard():
    unguarded = [
        routes.rule_id(r)
        for r in ALL
        if r.rule.startswith(routes.STAFF_PREFIX) and not routes.staff_only(r)
    ]
    assert not unguarded, f"staff pages without staff_required: {unguarded}"


def test_staff_routes_exist_and_open_for_staff(client, staff):
    assert STAFF, "no route carries staff_required"
    assert client.get("/staff/").status_code == 200


def test_the_staff_walker_finds_a_guarded_route_wherever_it_lives(app):
    from webapp.auth import staff_required
    from webapp.security import limiter

    @app.get("/_probe/not-under-staff")
    @limiter.limit("5 per minute")
    @staff_required
    def elsewhere():
        return "staff only"

    rule_map = {r.endpoint: r for r in app.url_map.iter_rules()}
    assert routes.staff_only(rule_map["elsewhere"], app)
    assert not routes.staff_only(rule_map["account.home"], app)


# --- signed out ------------------------------------------------------------------------


def _refused_signed_out(response) -> bool:
    """Sent to sign in, or refused outright."""
    if response.status_code in {401, 403}:
        return True
    location = response.headers.get("Location", "") if response.status_code in {302, 303} else ""
    return "/login" in location or "HX-Redirect" in response.headers


@pytest.mark.parametrize("rule", SIGNED_IN, ids=routes.rule_id)
def test_every_route_but_the_public_ones_refuses_a_signed_out_visitor(rule, client, db):
    before = snapshot(db)
    for method in routes.methods(rule):
        response = _request(client, method, routes.fill(rule), data={"anything": "x"})
        assert _refused_signed_out(response), f"{method} {rule.rule}: {response.status_code}"
    assert snapshot(db) == before


# --- two people ------------------------------------------------------------------------


@pytest.fixture
def owner_and_other(app, login_as, client, db):
    """Ana owns rows in every table linked to a person; then Ben signs in on the same client."""
    ana = login_as("ana-owner", email="ana.owner@example.com", name="Ana Owner")
    plant_rows(app, db, ana.id)
    client.post("/logout")
    ben = login_as("ben-other", email="ben.other@example.com", name="Ben Other")
    db.rollback()  # sign-out writes (the session ends, audited): start the walk after it
    return ana, ben


def _candidates(db, owner_id: int) -> list[int | str]:
    ids: set[int | str] = set()
    for rows in owned_rows(db, owner_id).values():
        for row in rows:
            ids.update(v for v in row.values() if isinstance(v, int) and not isinstance(v, bool))
            ids.update(
                v for k, v in row.items() if isinstance(v, str) and ("token" in k or k == "id")
            )
    return sorted(ids, key=str)


def _own_row_ids(db, user_id: int) -> set[int]:
    return {row["id"] for rows in owned_rows(db, user_id).values() for row in rows if "id" in row}


def test_the_walker_sees_every_table_linked_to_a_person(owner_and_other, db):
    ana, _ = owner_and_other
    owned = owned_rows(db, ana.id)
    empty = [table for table, rows in owned.items() if not rows]
    assert not empty, f"no rows planted for {empty}: add a factory in tests/ownership.py"


def walk(rule, client, db, owner, other, app=None) -> None:
    """As the signed-in `other`, try every id of `owner`'s in the URL, the form and the query.

    The other person's own row ids are left out: using one's own is no breach (and "This
    wasn't me" with their own sign-in would sign them out, ending the walk).
    """
    before = snapshot(db, only_user=owner.id)
    secrets = [owner.email, owner.name, MARK]
    names = [name for _converter, name in routes.params(rule)]
    fields = [*routes.form_fields(rule, app), "id", "user_id"]
    theirs = _own_row_ids(db, other.id)
    for value in [v for v in _candidates(db, owner.id) if v not in theirs]:
        path = routes.fill(rule, {name: value for name in names})
        sent = {name: str(value) for name in [*names, *fields]}
        for method in routes.methods(rule):
            if method in routes.UNSAFE:
                kwargs = {"data": sent}
            else:
                kwargs = {"query_string": {name: str(value) for name in fields}}
            response = _request(client, method, path, **kwargs)
            body = response.get_data(as_text=True)
            assert response.status_code < 500, f"{method} {path}"
            leaked = [s for s in secrets if s and s in body]
            assert not leaked, f"{method} {path} showed Ana's data to Ben: {leaked}"
    assert snapshot(db, only_user=owner.id) == before, f"Ben changed Ana's data via {rule.rule}"


@pytest.mark.skipif(not WITH_IDS, reason="no route takes an id yet")
@pytest.mark.parametrize("rule", WITH_IDS, ids=routes.rule_id)
def test_nobody_reaches_another_persons_data_through_an_id(rule, owner_and_other, client, db):
    ana, ben = owner_and_other
    walk(rule, client, db, ana, ben)


def test_the_walker_catches_a_route_that_shows_or_changes_anothers_rows(app, login_as, client, db):
    from flask import abort
    from sqlalchemy import delete, select

    from webapp import db as site_db
    from webapp.models import SignIn

    @app.get("/_probe/sign-ins/<int:sign_in_id>")
    def leaky(sign_in_id: int):
        row = site_db.session().get(SignIn, sign_in_id) or abort(404)
        return f"{row.user_agent} {row.user_id}"

    @app.post("/_probe/sign-ins/<int:sign_in_id>/forget")
    def careless(sign_in_id: int):
        session = site_db.session()
        session.execute(delete(SignIn).where(SignIn.id == sign_in_id))
        session.commit()
        return "", 204

    ana = login_as("ana-owner", email="ana.owner@example.com", name="Ana Owner")
    plant_rows(app, db, ana.id)
    client.post("/logout")
    ben = login_as("ben-other")
    db.rollback()  # sign-out writes (the session ends, audited): read after it
    session = db.execute(select(SignIn).where(SignIn.user_id == ana.id)).scalars().first()
    db.execute(
        SignIn.__table__.update().where(SignIn.id == session.id).values(user_agent=MARK + "-ua")
    )
    db.commit()
    rule_map = {r.endpoint: r for r in app.url_map.iter_rules()}
    with pytest.raises(AssertionError, match="showed Ana's data"):
        walk(rule_map["leaky"], client, db, ana, ben, app)
    with pytest.raises(AssertionError, match="changed Ana's data"):
        walk(rule_map["careless"], client, db, ana, ben, app)


def test_the_walker_tries_ids_sent_in_forms_and_query_strings(app, login_as, client, db):
    """A fixed URL that takes an id in its form or query string is walked like a URL id."""
    from flask import abort, request
    from sqlalchemy import delete, select

    from webapp import db as site_db
    from webapp.models import SignIn

    @app.get("/_probe/sign-in")
    def leaky_query():
        sign_in_id = request.args.get("sign_in", type=database_id)
        row = site_db.session().get(SignIn, sign_in_id or 0) or abort(404)
        return f"{row.user_agent} {row.user_id}"

    @app.post("/_probe/forget-sign-in")
    def careless_form():
        sign_in_id = request.form.get("sign_in", type=database_id)
        session = site_db.session()
        session.execute(delete(SignIn).where(SignIn.id == sign_in_id))
        session.commit()
        return "", 204

    ana = login_as("ana-owner", email="ana.owner@example.com", name="Ana Owner")
    plant_rows(app, db, ana.id)
    client.post("/logout")
    ben = login_as("ben-other")
    db.rollback()  # sign-out and sign-in write (sessions end, audited): read after them
    row = db.execute(select(SignIn).where(SignIn.user_id == ana.id)).scalars().first()
    db.execute(SignIn.__table__.update().where(SignIn.id == row.id).values(user_agent=MARK))
    db.commit()
    rule_map = {r.endpoint: r for r in app.url_map.iter_rules()}
    assert "sign_in" in routes.form_fields(rule_map["careless_form"], app)
    with pytest.raises(AssertionError, match="showed Ana's data"):
        walk(rule_map["leaky_query"], client, db, ana, ben, app)
    with pytest.raises(AssertionError, match="changed Ana's data"):
        walk(rule_map["careless_form"], client, db, ana, ben, app)
