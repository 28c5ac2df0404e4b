"""The site and the yardsticks as apps in this process, and the loops that measure a request.

`python -m bench.profile` and `python -m bench.breakdown` send requests with Flask's test
client instead of over HTTP: call counts and CPU time per request move far less with the
machine's load than wall-clock throughput, so they compare request paths between commits on
a busy machine. What they leave out is the HTTP server's own work (gunicorn's parsing and
writing), the same for every page.
"""

from __future__ import annotations

import cProfile
import importlib
import os
import pstats
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlmodel import Session
from werkzeug.test import TestResponse

from webapp.db import counting_round_trips

from .servers import CSRF_IN_LAYOUT, SEEN_IN_FORM

#: A request of a measured row: sends one, returns the answer.
Send = Callable[[], TestResponse]
FLOOR_DATABASE = "BENCH_FLOOR_DB_URL"


def site_app(database_url: str, **overrides: Any) -> Flask:
    """The site on `database_url`, migrated: CSRF and rate limiting on, as in production.

    SENTRO_ENV is `testing` only so that no mail server, provider or encryption key is needed
    and the test client may use plain http (the production session cookie is `Secure`).
    """
    from webapp import create_app
    from webapp.cli import upgrade_database

    app = create_app(
        {
            "SENTRO_ENV": "testing",
            "SECRET_KEY": "profile-" + "x" * 40,
            "DATABASE_URL": database_url,
            "OIDC_ISSUER": "http://127.0.0.1:9",
            "OIDC_CLIENT_ID": "profile",
            "OIDC_CLIENT_SECRET": "profile",
            "SMTP_URL": "smtp://127.0.0.1:9",
            "BASE_URL": "http://localhost",
            **overrides,
        }
    )
    with app.app_context():
        upgrade_database()
    return app


def start_session(app: Flask, name: str = "Pro File") -> tuple[int, str]:
    """A new person signed in by a session row started directly (no provider).

    Returns their id and the value of the session cookie that names the row: only the
    reference, as after a real sign-in's redirect, before any page has added a CSRF secret.
    """
    from webapp.auth import current, sessions
    from webapp.models import User, utcnow

    with Session(app.extensions["sentro.engine"], expire_on_commit=False) as db:
        subject = f"profile-{uuid.uuid4()}"
        user = User(
            issuer="http://127.0.0.1:9", subject=subject, email=f"{subject}@example.test", name=name
        )
        db.add(user)
        db.flush()
        with app.app_context():
            limits = sessions.Lifetimes.from_config(app.config)
            reference, _row = sessions.start(db, user, now=utcnow(), lifetimes=limits, staff=False)
        db.commit()
        user_id = user.id
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie[current.REFERENCE] = reference
    found = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert found is not None and user_id is not None
    return user_id, found.value


def signed_in_client(app: Flask) -> Any:
    """A test client that keeps its cookies, signed in as a new person."""
    _user_id, value = start_session(app)
    client = app.test_client()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return client


def _cookie_from(answer: TestResponse, name: str, default: str) -> str:
    found = re.search(rf"{re.escape(name)}=([^;]*)", answer.headers.get("Set-Cookie", ""))
    return found.group(1) if found else default


def csrf_token(app: Flask, cookie: str) -> tuple[str, str]:
    """The CSRF token /account hands to htmx, and the session cookie that now holds its secret.

    Read from the rendered layout, as a browser gets it: the POSTs measured carry a real token.
    """
    name = app.config["SESSION_COOKIE_NAME"]
    page = app.test_client(use_cookies=False).get(
        "/account", headers={"Cookie": f"{name}={cookie}"}
    )
    found = CSRF_IN_LAYOUT.search(page.get_data(as_text=True))
    if not found:
        raise RuntimeError(f"no CSRF token on /account: {page.status_code}")
    return found.group(1), _cookie_from(page, name, cookie)


def save_name(app: Flask, cookie: str, csrf: str, values: dict[str, str]) -> str:
    """Save the name group once as the form would; the `seen` digest of what is now stored."""
    name = app.config["SESSION_COOKIE_NAME"]
    client = app.test_client(use_cookies=False)
    jar = {"Cookie": f"{name}={cookie}", "X-CSRFToken": csrf}

    def seen() -> str:
        page = client.get("/account/profile/name/edit", headers=jar)
        found = SEEN_IN_FORM.search(page.get_data(as_text=True))
        if not found:
            raise RuntimeError(f"no seen digest on the name form: {page.status_code}")
        return found.group(1)

    saved = client.post(
        "/account/profile/name",
        data={**values, "seen": seen(), "csrf_token": csrf},
        headers=jar,
    )
    if saved.status_code != 303:
        raise RuntimeError(f"saving the name failed: {saved.status_code}")
    return seen()


def floor_app(database_url: str) -> Flask:
    """bench/floor.py's app reading the person from `database_url`, as gunicorn would serve it.

    The floor takes its database from BENCH_FLOOR_DB_URL when imported, so it is imported again
    for another database (the previous one's PostgreSQL pool closed first).
    """
    before = os.environ.get(FLOOR_DATABASE)
    os.environ[FLOOR_DATABASE] = database_url
    try:
        import bench.floor as floor

        if database_url != floor.URL:
            if hasattr(floor, "_pool"):
                floor._pool.dispose()
            floor = importlib.reload(floor)
    finally:
        if before is None:
            del os.environ[FLOOR_DATABASE]
        else:
            os.environ[FLOOR_DATABASE] = before
    return floor.app


def close_floor() -> None:
    """Let go of the floor's PostgreSQL connections (it keeps a pool, as under gunicorn)."""
    floor = sys.modules.get("bench.floor")
    if floor is not None and hasattr(floor, "_pool"):
        floor._pool.dispose()


def check(answer: TestResponse, label: str) -> TestResponse:
    """`answer`, unless it is not 2xx/3xx: a refused request must never be measured."""
    if not 200 <= answer.status_code < 400:
        raise RuntimeError(f"{label}: answered {answer.status_code}, not 2xx/3xx")
    return answer


def calls_per_request(send: Send, requests: int) -> float:
    """Function calls per request of `send` as cProfile counts them (C functions' too)."""
    profile = cProfile.Profile()
    profile.enable()
    try:
        for _ in range(requests):
            send()
    finally:
        profile.disable()
    return pstats.Stats(profile).total_calls / requests  # type: ignore[attr-defined]


def cpu_per_request(send: Send, requests: int) -> float:
    """CPU microseconds per request of `send`, without any profiler."""
    start = time.process_time()
    for _ in range(requests):
        send()
    return (time.process_time() - start) / requests * 1e6


def round_trips(app: Flask, send: Send) -> list[str]:
    """What the site's database driver sends for one request of `send`, a line a round trip."""
    with counting_round_trips(app.extensions["sentro.engine"]) as trips:
        send()
    return trips
