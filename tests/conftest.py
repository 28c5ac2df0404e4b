"""Fixtures: a real OpenID provider, a real SMTP server, a real database (SQLite or PostgreSQL).

`TEST_DATABASE=postgres` runs the suite against `TEST_DATABASE_URL` (each xdist worker gets a
database of its own); otherwise each worker uses a SQLite file. The schema is made once per
run by the Alembic migrations, so the migrations are exercised by every test.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.helpers import Catcher, smtp_server
from webapp import create_app
from webapp.db import counting_statements, make_engine
from webapp.dev.provider import run_provider
from webapp.models import User, metadata

SECRET = "test-secret-key-that-is-long-enough-0123456789"

# CI replays the same examples every run, so a red build is never luck; a developer's runs
# keep exploring new inputs (and each one found becomes an @example).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


# --- the run's shared services ---------------------------------------------------------


@pytest.fixture(scope="session")
def provider_url() -> Iterator[str]:
    """oidc-provider-mock on a loopback thread; its URL is the issuer."""
    with run_provider(port=0) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture(scope="session")
def smtp() -> Iterator[tuple[Catcher, int]]:
    with smtp_server() as running:
        yield running


def new_database(tmp_path_factory, worker_id: str, suffix: str = "") -> str:
    """A new, empty database of this worker's own (PostgreSQL under TEST_DATABASE=postgres)."""
    if os.environ.get("TEST_DATABASE") == "postgres":
        base = os.environ.get("TEST_DATABASE_URL")
        if not base:
            pytest.fail("TEST_DATABASE=postgres needs TEST_DATABASE_URL")
        url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
        # One database per xdist worker and per checkout: two clones testing at once on one
        # server (worktrees, a developer beside CI) never drop each other's tables.
        checkout = hashlib.sha1(str(Path(__file__).resolve().parent).encode()).hexdigest()[:8]
        name = f"{url.database}_{worker_id}_{checkout}{suffix}"
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return url.set(database=name).render_as_string(hide_password=False)
    return f"sqlite:///{tmp_path_factory.mktemp('db' + suffix) / 'sentro.sqlite3'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id) -> str:
    """A database of this worker's own, migrated to the newest schema."""
    return new_database(tmp_path_factory, worker_id)


@pytest.fixture(scope="session")
def migrated(database_url) -> str:
    """Run the migrations once; every test then starts from empty tables."""
    app = create_app({"SENTRO_ENV": "testing", "SECRET_KEY": SECRET, "DATABASE_URL": database_url})
    from webapp.cli import upgrade_database

    with app.app_context():
        upgrade_database()
    app.extensions["sentro.engine"].dispose()
    _empty_tables(database_url)  # what the upgrade loaded too: each test says what it needs
    return database_url


def _empty_tables(url: str) -> None:
    engine = make_engine(url)
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f'DELETE FROM "{table}"'))
    engine.dispose()


# --- per test --------------------------------------------------------------------------


def settings(database_url: str, provider_url: str, smtp_port: int) -> dict:
    """The settings a test app runs with."""
    return {
        "SENTRO_ENV": "testing",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": database_url,
        "OIDC_ISSUER": provider_url,
        "OIDC_CLIENT_ID": "sentro-account-tests",
        "OIDC_CLIENT_SECRET": "test-client-secret",
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "BASE_URL": "http://localhost",
        "RATELIMIT_ENABLED": False,
        # CSRF is proven by tests that switch it back on (tests/test_security.py).
        "WTF_CSRF_ENABLED": False,
        "STAFF_GROUP": "sentro-staff",
    }


@pytest.fixture
def config(migrated, provider_url, smtp) -> dict:
    """The settings a test app runs with; a test may change them before using `app`."""
    return settings(migrated, provider_url, smtp[1])


@pytest.fixture
def site(populated_site):
    """The populated site (below), with rate limits off as its app was built.

    Flask-Limiter's limiter is one object that each new app re-configures: a test that built an
    app with limits on must not leave them on for this long-lived app.
    """
    from webapp.security import limiter

    limiter.enabled = False
    return populated_site


@pytest.fixture(scope="session")
def populated_site(tmp_path_factory, worker_id, provider_url, smtp):
    """A populated site of its own database (tests/populate.py), built once per worker.

    Yields (app, Site): a person with data in every table, staff queues with rows, two policy
    versions and live tokens. Tests that use it only read, so they share it.
    """
    from tests.populate import populate_site
    from webapp.cli import upgrade_database

    config = settings(new_database(tmp_path_factory, worker_id, "_site"), provider_url, smtp[1])
    app = create_app(config)
    with app.app_context():
        upgrade_database()
    populated = populate_site(app, provider_url, sign_in)
    populated.settings = config
    yield app, populated
    app.extensions["sentro.engine"].dispose()


@pytest.fixture
def app(config, migrated):
    app = create_app(config)
    yield app
    app.extensions["sentro.engine"].dispose()
    _empty_tables(migrated)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    """An ORM session on the test's database (no app context: requests must not share `g`)."""
    from sqlmodel import Session

    with Session(app.extensions["sentro.engine"], expire_on_commit=False) as session:
        yield session


def sign_in(client, provider_url: str, sub: str, claims: dict, *, next_path: str = "") -> object:
    """Go through the real authorization code flow as `sub`; return the callback's response.

    Like most providers, the test provider says it verified the email unless a test says not.
    """
    claims = {"email_verified": True, **claims}
    requests.put(f"{provider_url}/users/{sub}", json=claims, timeout=5).raise_for_status()
    start = client.get("/login" + (f"?next={next_path}" if next_path else ""))
    assert start.status_code == 302, start.status_code
    answer = requests.post(
        start.headers["Location"], data={"sub": sub}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302, answer.text
    callback = urlsplit(answer.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


@pytest.fixture
def login_as(client, provider_url, app):
    """Sign in through the provider as a person with these claims; returns their User row."""

    def login(sub: str = "customer-1", **claims) -> User:
        claims.setdefault("email", f"{sub}@example.com")
        claims.setdefault("name", sub.replace("-", " ").title())
        response = sign_in(client, provider_url, sub, claims)
        assert response.status_code == 303, response.get_data(as_text=True)
        from sqlmodel import Session, select

        with Session(app.extensions["sentro.engine"]) as session:
            return session.exec(select(User).where(User.subject == sub)).one()

    return login


@pytest.fixture
def person(login_as) -> User:
    """A signed-in customer."""
    return login_as("ana", email="ana@example.com", name="Ana Customer")


@pytest.fixture
def staff(login_as) -> User:
    """A signed-in member of staff."""
    return login_as("sam", email="sam@sentro.co", name="Sam Staff", groups=["sentro-staff"])


@pytest.fixture
def age_sign_in(app):
    """`age_sign_in(seconds)`: every session proved who its person is `seconds` earlier."""
    from datetime import timedelta

    from sqlmodel import Session, select

    from webapp.models import UserSession

    def age(seconds: int = 3600) -> None:
        with Session(app.extensions["sentro.engine"]) as session:
            for row in session.exec(select(UserSession)).all():
                row.auth_time = row.auth_time - timedelta(seconds=seconds)
                session.add(row)
            session.commit()

    return age


@dataclass
class Outbox:
    """What the real SMTP server received, after delivering what is queued."""

    app: object
    catcher: Catcher

    def deliver(self) -> list[EmailMessage]:
        from webapp.mail.cli import deliver_until_idle

        with self.app.app_context():
            deliver_until_idle()
        return list(self.catcher.messages)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.deliver()

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.deliver() if address in m["To"]]

    def last_to(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert found, f"no email to {address}"
        return found[-1]


@pytest.fixture
def outbox(app, smtp) -> Iterator[Outbox]:
    catcher, _port = smtp
    catcher.clear()
    yield Outbox(app, catcher)
    catcher.clear()


def body_text(message: EmailMessage) -> str:
    """The plain-text body of an email."""
    return message.get_body(preferencelist=("plain",)).get_content()


def links_in(message: EmailMessage) -> list[str]:
    """Every http(s) link in the text body."""
    return re.findall(r"https?://[^\s>\"]+", body_text(message))


pytest_plugins = ["tests.browser", "tests.a11y"]


@pytest.fixture
def count_queries(app):
    """`with count_queries() as statements:` lists the SQL the app ran inside the block."""
    from contextlib import contextmanager

    engine = app.extensions["sentro.engine"]

    @contextmanager
    def counting():
        # Count what a warm process runs: the policy timeline is cached per process (30 s).
        from webapp.policy.views import timeline

        with app.test_request_context():
            timeline()
        with counting_statements(engine) as statements:
            yield statements

    return counting
