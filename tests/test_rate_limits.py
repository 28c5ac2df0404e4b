"""Rate limits on sign-in, email change, export and the token pages: past the limit, a 429 page in
the site layout; the one-click unsubscribe POST is never limited."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.conftest import sign_in
from tests.helpers import free_port
from tests.test_preferences import make_person
from webapp import create_app
from webapp.preferences import links


@pytest.fixture
def config(config):
    """The usual settings with the limiter on, counting in a store of this test's own."""
    return {**config, "RATELIMIT_ENABLED": True, "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex}


def assert_too_many(response) -> None:
    """A 429 in the layout: the heading, the hint and the site's main region, no traceback."""
    html = response.get_data(as_text=True)
    assert response.status_code == 429, html[:500]
    assert "Too many attempts" in html
    assert "Please wait a minute, then try again." in html
    assert '<main id="main"' in html
    assert "Traceback" not in html


def hit(client, method: str, path: str, times: int, **kwargs) -> list[int]:
    """The statuses of `times` identical requests."""
    return [client.open(path, method=method, **kwargs).status_code for _ in range(times)]


TOKEN_ROUTES = [
    # (method, path, limit per minute from one address)
    ("GET", "/email-preferences/not-a-token", 30),
    ("POST", "/email-preferences/not-a-token/lists/offers", 60),
    ("GET", "/email/unsubscribe/not-a-token", 30),
    ("GET", "/account/profile/email/confirm/not-a-token", 30),
    ("POST", "/account/profile/email/confirm/not-a-token", 30),
    ("GET", "/account/profile/email/undo/not-a-token", 30),
    ("POST", "/account/profile/email/undo/not-a-token", 30),
]


@pytest.mark.parametrize(("method", "path", "limit"), TOKEN_ROUTES)
def test_token_pages_refuse_guessing_past_their_limit(client, method, path, limit):
    statuses = hit(client, method, path, limit)
    assert 429 not in statuses
    assert all(status < 500 for status in statuses)
    assert_too_many(client.open(path, method=method))


@pytest.mark.parametrize("path", ["/login", "/auth/callback?code=x&state=y"])
def test_sign_in_is_limited_per_address(client, path):
    assert 429 not in hit(client, "GET", path, 20)
    assert_too_many(client.get(path))


def test_the_one_click_unsubscribe_post_is_never_limited(app, client, db):
    user_id = make_person(db, "ana", email="ana@example.com")
    with app.app_context():
        url = links.unsubscribe_url(user_id, "service-updates")
    path = url.removeprefix("http://localhost")
    statuses = hit(client, "POST", path, 80, data={"List-Unsubscribe": "One-Click"})
    assert statuses == [200] * 80
    # ...while the page behind the same link is limited.
    assert 429 not in hit(client, "GET", path, 30)
    assert_too_many(client.get(path))


def test_email_changes_are_limited_per_person_not_per_address(app, client, person, provider_url):
    asked = [
        client.post("/account/profile/email", data={"email": f"ana{n}@example.org"}).status_code
        for n in range(5)
    ]
    assert asked == [303] * 5
    assert_too_many(client.post("/account/profile/email", data={"email": "ana9@example.org"}))

    # Someone else behind the same address still may.
    other = app.test_client()
    sign_in(other, provider_url, "bo", {"email": "bo@example.com", "name": "Bo"})
    answer = other.post("/account/profile/email", data={"email": "bo2@example.org"})
    assert answer.status_code == 303


def test_exports_are_limited_per_person_with_the_page_in_the_layout(client, person):
    assert hit(client, "GET", "/account/export.json", 10) == [200] * 10
    assert_too_many(client.get("/account/export.json"))


# --- the limits' store down ---------------------------------------------------------------


@pytest.fixture
def redis_down_app(app, config):
    """The site with its limits stored in a Redis that is not there (`app` empties the tables)."""
    app = create_app({**config, "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{free_port()}"})
    yield app
    app.extensions["sentro.engine"].dispose()


@pytest.mark.parametrize(("method", "path", "limit"), TOKEN_ROUTES[:3])
def test_with_redis_down_limited_pages_still_answer_and_still_limit_per_process(
    redis_down_app, method, path, limit
):
    client = redis_down_app.test_client()
    statuses = hit(client, method, path, limit)
    assert all(status < 500 for status in statuses), statuses
    assert 429 not in statuses
    # Failing open would let a token guesser through; each process keeps counting in memory.
    assert_too_many(client.open(path, method=method))


def test_with_redis_down_sign_in_and_one_click_unsubscribe_work(redis_down_app, db):
    client = redis_down_app.test_client()
    assert client.get("/login").status_code == 302
    user_id = make_person(db, "ana", email="ana@example.com")
    with redis_down_app.app_context():
        path = links.unsubscribe_url(user_id, "offers").removeprefix("http://localhost")
    answer = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200


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


def test_only_views_that_declare_a_limit_do_limiter_work(app, client):
    # Every limit is a decorator on its view; no request pays for a pass that finds none.
    from webapp.security import limiter

    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    assert not limiter.limit_manager.default_limits
    assert not limiter.limit_manager.application_limits
    statuses = [client.get("/login").status_code for _ in range(21)]
    assert statuses[:20] == [302] * 20 and statuses[20] == 429  # the view's own limit holds


def test_a_view_without_a_limit_leaves_no_limiter_state_and_a_limited_one_says_its_limit(
    app, client
):
    from flask.globals import request_ctx

    seen = []
    app.teardown_request_funcs[None].insert(
        0,
        lambda _e: seen.append(
            hasattr(request_ctx._get_current_object(), "_limiter_request_context")
        ),
    )
    page = client.get("/privacy")
    assert "X-RateLimit-Limit" not in page.headers and seen == [False]
    limited = client.get("/login")
    assert limited.headers["X-RateLimit-Limit"] == "20" and seen == [False, True]
