"""Every route, walked from the url_map: headers, CSRF, staff-only, two people, rate limits, fuzz.

A route added later is covered by these tests without editing them; the few exceptions are
data in tests/routes.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import routes
from tests.ownership import MARK, owned_rows, plant_rows, snapshot

ALL = routes.rules()
UNSAFE_ROUTES = [(r, m) for r in ALL for m in routes.methods(r) if m in routes.UNSAFE]
STAFF = [r for r in ALL if r.rule.startswith(routes.STAFF_PREFIX)]
WITH_IDS = [r for r in ALL if r.arguments and not r.rule.startswith(routes.STAFF_PREFIX)]


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
    assert exempt <= set(routes.CSRF_EXEMPT), f"undeclared CSRF exemptions: {exempt}"
    assert not csrf._exempt_blueprints


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


@pytest.mark.parametrize("rule", STAFF, ids=routes.rule_id)
def test_staff_routes_need_sign_in(rule, client):
    for method in routes.methods(rule):
        response = _request(client, method, routes.fill(rule))
        assert response.status_code in {302, 303, 401, 403}


def test_staff_routes_exist_and_open_for_staff(client, staff):
    assert STAFF, "no staff routes found under /staff"
    assert client.get("/staff/").status_code == 200


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


def test_the_walker_sees_every_table_linked_to_a_person(owner_and_other, db):
    ana, _ = owner_and_other
    owned = owned_rows(db, ana.id)
    empty = [table for table, rows in owned.items() if not rows]
    assert not empty, f"no rows planted for {empty}: add a factory in tests/ownership.py"


def walk(rule, client, db, owner) -> None:
    """As the signed-in other person, try every id of `owner`'s in the URL and the form."""
    before = snapshot(db, only_user=owner.id)
    secrets = [owner.email, owner.name, MARK]
    names = [name for _converter, name in routes.params(rule)]
    for value in _candidates(db, owner.id):
        path = routes.fill(rule, {name: value for name in names})
        form = {name: str(value) for name in [*names, "id", "user_id"]}
        for method in routes.methods(rule):
            kwargs = {"data": form} if method in routes.UNSAFE else {}
            response = _request(client, method, path, **kwargs)
            body = response.get_data(as_text=True)
            assert response.status_code < 500, f"{method} {path}"
            leaked = [s for s in secrets if s and s in body]
            assert not leaked, f"{method} {path} showed Ana's data to Ben: {leaked}"
    assert snapshot(db, only_user=owner.id) == before, f"Ben changed Ana's data via {rule.rule}"


@pytest.mark.skipif(not WITH_IDS, reason="no route takes an id yet")
@pytest.mark.parametrize("rule", WITH_IDS, ids=routes.rule_id)
def test_nobody_reaches_another_persons_data_through_an_id(rule, owner_and_other, client, db):
    ana, _ben = owner_and_other
    walk(rule, client, db, ana)


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
    login_as("ben-other")
    db.rollback()  # sign-out writes (the session ends, audited): read after it
    session = db.execute(select(SignIn).where(SignIn.user_id == ana.id)).scalars().first()
    db.execute(
        SignIn.__table__.update().where(SignIn.id == session.id).values(user_agent=MARK + "-ua")
    )
    db.commit()
    rule_map = {r.endpoint: r for r in app.url_map.iter_rules()}
    with pytest.raises(AssertionError, match="showed Ana's data"):
        walk(rule_map["leaky"], client, db, ana)
    with pytest.raises(AssertionError, match="changed Ana's data"):
        walk(rule_map["careless"], client, db, ana)


# --- rate limits across processes ------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379"
_HITS = """
import json, sys
from webapp import create_app
config = json.loads(sys.argv[1])
client = create_app(config).test_client()
print(json.dumps([client.get("/login").status_code for _ in range(int(sys.argv[2]))]))
"""


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"REQUIRE_REDIS=1 but Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable ({exc}); CI sets REQUIRE_REDIS=1")


def _two_processes(config: dict, storage: str) -> tuple[list[int], list[int]]:
    settings = {
        **config,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_KEY_PREFIX": f"test-{uuid.uuid4().hex}",
    }

    def run(count: int) -> list[int]:
        done = subprocess.run(
            [sys.executable, "-c", _HITS, json.dumps(settings), str(count)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run(15), run(10)


def test_sign_in_limit_holds_across_processes_with_redis(config):
    _redis_or_skip()
    first, second = _two_processes(config, REDIS_URL)
    assert 429 not in first
    assert second.count(429) == 5, second  # 20 per minute, shared


def test_memory_storage_is_per_process(config):
    """The control: without a shared storage each process counts alone."""
    first, second = _two_processes(config, "memory://")
    assert 429 not in first + second


# --- fuzz: no input makes a 5xx --------------------------------------------------------

FORM_ROUTES = [(r, m) for r, m in UNSAFE_ROUTES] + [
    (r, "GET") for r in ALL if r.arguments and "GET" in routes.methods(r)
]
text = st.text(max_size=80)
headers = st.fixed_dictionaries(
    {},
    optional={
        "HX-Request": st.sampled_from(["true", "false", "", "1"]),
        "HX-Target": text.filter(lambda s: s.isprintable()),
        "HX-Trigger": text.filter(lambda s: s.isprintable()),
        "Content-Type": st.sampled_from(
            ["application/x-www-form-urlencoded", "multipart/form-data", "text/plain", "a/b"]
        ),
    },
)


@pytest.fixture
def session_cookie(client, person) -> str:
    """The signed-in person's cookie, put back before each example (a sign-out must not stick)."""
    return client.get_cookie("sentro_session").value


@pytest.mark.parametrize(
    ("rule", "method"), FORM_ROUTES, ids=[f"{m} {routes.rule_id(r)}" for r, m in FORM_ROUTES]
)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    form=st.dictionaries(text, text, max_size=6),
    raw=st.one_of(st.none(), st.binary(max_size=200)),
    extra=headers,
    arg=st.one_of(text.filter(lambda s: s and "/" not in s and s.isprintable()), st.integers()),
)
def test_no_input_makes_a_server_error(
    rule, method, form, raw, extra, arg, client, session_cookie, db
):
    client.set_cookie("sentro_session", session_cookie)
    path = routes.fill(rule, {name: arg for _c, name in routes.params(rule)})
    before = snapshot(db)
    kwargs: dict = {"headers": extra}
    if method != "GET":
        kwargs["data"] = raw if raw is not None else form
    response = _request(client, method, path, **kwargs)
    assert response.status_code < 500, f"{method} {path} → {response.status_code}"
    if response.status_code >= 400:
        assert snapshot(db) == before, "a rejected request changed the database"
