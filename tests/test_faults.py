"""When something the site depends on fails: SMTP, the database, a mail worker, the provider."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from tests.fake_provider import GARBAGE, ID_TOKEN_FAULTS, fake_provider
from tests.helpers import Catcher, free_port
from webapp.mail.delivery import deliver_due, outbox
from webapp.mail.smtp import SmtpServer
from webapp.models import SignIn, User, utcnow

# --- helpers ---------------------------------------------------------------------------


def queue(db, count: int, tag: str = "m") -> list[str]:
    """Queue `count` messages directly in the outbox; return their Message-IDs."""
    now = utcnow() - timedelta(seconds=1)
    ids = [f"<{tag}-{n}@faults.test>" for n in range(count)]
    db.execute(
        outbox.insert(),
        [
            {
                "to_addr": f"person{n}@example.test",
                "subject": f"Message {n}",
                "text_body": "Kia ora",
                "headers": {},
                "message_id": message_id,
                "template": "test",
                "status": "queued",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "last_error": "",
            }
            for n, message_id in enumerate(ids)
        ],
    )
    db.commit()
    return ids


def received(catcher: Catcher) -> Counter:
    """How many times each Message-ID arrived."""
    return Counter(m["Message-ID"] for m in catcher.messages)


class Flaky(Catcher):
    """Accepts `accept` messages, then answers 421 (service not available) until told."""

    def __init__(self, accept: int) -> None:
        super().__init__()
        self.accept = accept

    async def handle_DATA(self, server, session, envelope) -> str:
        if len(self.messages) >= self.accept:
            return "421 4.3.0 Service not available, try later"
        return await super().handle_DATA(server, session, envelope)


class Slow(Catcher):
    """Takes its time over each message, like a busy relay."""

    delay = 0.05

    async def handle_DATA(self, server, session, envelope) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)


def _statuses(db) -> Counter:
    rows = db.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status)).all()
    db.rollback()
    return Counter(dict(rows))


# --- SMTP down during a batch ----------------------------------------------------------


def test_smtp_failing_mid_batch_then_back_delivers_each_message_exactly_once(app, db):
    ids = queue(db, 30)
    port = free_port()
    flaky = Flaky(accept=12)
    controller = Controller(flaky, hostname="127.0.0.1", port=port)
    controller.start()
    server = SmtpServer("127.0.0.1", port)
    engine = app.extensions["sentro.engine"]
    kwargs = {"mail_from": "Sentro <no-reply@sentro.co>", "worker": "w1"}

    first = deliver_due(engine, server, **kwargs)
    assert (first.sent, first.retrying) == (12, 18)

    controller.stop()  # now down altogether: connection refused
    later = utcnow() + timedelta(hours=1)
    down = deliver_due(engine, server, now=later, **kwargs)
    assert down.sent == 0 and down.errors

    flaky.accept = 10_000
    controller = Controller(flaky, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for hours in range(2, 12):  # past every backoff
            deliver_due(engine, server, now=utcnow() + timedelta(hours=hours), **kwargs)
    finally:
        controller.stop()
    counts = received(flaky)
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1
    assert _statuses(db) == {"sent": 30}


# --- a worker killed mid-batch ---------------------------------------------------------


def _worker(
    config: dict, smtp_port: int, *command: str, output=subprocess.DEVNULL, connections: int = 3
):
    """`flask mail COMMAND` (send-queued unless told) in a process of its own."""
    env = {
        **os.environ,
        "MAIL_SMTP_CONNECTIONS": str(connections),
        "PYTHONPATH": os.getcwd(),
        "SENTRO_ENV": "testing",
        "SECRET_KEY": config["SECRET_KEY"],
        "DATABASE_URL": config["DATABASE_URL"],
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "webapp", "mail", *(command or ["send-queued"])],
        env=env,
        stdout=output,
        stderr=subprocess.DEVNULL,
        text=True,
    )


@pytest.mark.parametrize("connections", [1, 3])
def test_a_worker_killed_mid_batch_loses_nothing_and_resends_at_most_the_one_in_flight(
    connections, app, db, config
):
    """Killed between SMTP's final dot and the row's commit, one message per connection is
    ambiguous.

    The server may have it while the row still says queued; the next worker sends it again
    with the same Message-ID (stable per outbox row), which receiving systems de-duplicate.
    Every other message is delivered exactly once.
    """
    ids = queue(db, 60)
    port = free_port()
    slow = Slow()
    controller = Controller(slow, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        worker = _worker(config, port, connections=connections)
        deadline = time.monotonic() + 60
        while len(slow.messages) < 15 and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert 15 <= len(slow.messages) < 60, "the worker was not stopped mid-batch"

        # Its lease (10 minutes) must run out before another worker takes the rows: wind the
        # clock of those rows forward rather than wait.
        db.execute(
            outbox.update()
            .where(outbox.c.status == "queued")
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )
        db.commit()
        assert _worker(config, port).wait(60) == 0
    finally:
        controller.stop()
    counts = received(slow)
    assert set(counts) == set(ids), "a message was lost"
    twice = [m for m, n in counts.items() if n > 1]
    assert len(twice) <= connections, f"sent twice: {twice}"
    assert max(counts.values()) <= 2
    assert _statuses(db) == {"sent": 60}


@pytest.mark.skipif(
    os.environ.get("TEST_DATABASE") == "postgres",
    reason="the database is made to vanish and return by a SQLite path; the loop is the same",
)
def test_a_mail_worker_outlives_a_database_outage_and_delivers_once_it_is_back(
    app, db, config, tmp_path
):
    ids = queue(db, 5)
    stored = Path(config["DATABASE_URL"].removeprefix("sqlite:///"))
    gone = tmp_path / "database"  # a folder that is not there: every connection fails
    catcher = Catcher()
    port = free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    worker = _worker(
        {**config, "DATABASE_URL": f"sqlite:///{gone / stored.name}"},
        port,
        "worker",
        "--interval",
        "0.2",
        output=subprocess.PIPE,
    )
    try:
        assert "started" in worker.stdout.readline()
        time.sleep(1.5)  # several tries at the database, every 0.2 s
        assert worker.poll() is None, "the worker ended when the database went away"
        gone.symlink_to(stored.parent)  # the database is back
        deadline = time.monotonic() + 30
        while len(catcher.messages) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        code = worker.wait(20)
        controller.stop()
    assert code == 0
    assert received(catcher) == Counter(dict.fromkeys(ids, 1))
    assert _statuses(db) == {"sent": 5}


def test_a_live_lease_keeps_a_second_worker_off_the_rows(app, db):
    queue(db, 5)
    engine = app.extensions["sentro.engine"]
    from webapp.mail.delivery import claim

    first = claim(engine, "w1", limit=10, now=utcnow())
    second = claim(engine, "w2", limit=10, now=utcnow())
    assert len(first) == 5 and second == []


@pytest.mark.skipif(
    os.environ.get("TEST_DATABASE") != "postgres", reason="concurrent workers need PostgreSQL"
)
def test_two_workers_at_once_send_nothing_twice(app, db, config):
    ids = queue(db, 400)
    catcher = Catcher()
    port = free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        workers = [_worker(config, port) for _ in range(2)]
        assert [w.wait(120) for w in workers] == [0, 0]
    finally:
        controller.stop()
    counts = received(catcher)
    assert set(counts) == set(ids)
    assert max(counts.values()) == 1


# --- the database unavailable ----------------------------------------------------------

UNAVAILABLE = {
    "postgresql, closed port": "postgresql://postgres@127.0.0.1:{port}/nowhere",
    "sqlite, unopenable path": "sqlite:////nonexistent-directory/for/sure/sentro.sqlite3",
}


@pytest.fixture(params=list(UNAVAILABLE), ids=list(UNAVAILABLE))
def down_app(request, config):
    from webapp import create_app

    url = UNAVAILABLE[request.param].format(port=free_port())
    app = create_app({**config, "DATABASE_URL": url})
    yield app
    app.extensions["sentro.engine"].dispose()


def _is_503_page(response) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "<html" in html and "Sentro is briefly unavailable" in html
    assert "Traceback" not in html and "OperationalError" not in html
    assert response.headers["Retry-After"]


def test_database_down_signed_in_pages_answer_503_in_the_layout(down_app):
    client = down_app.test_client()
    with client.session_transaction() as session:
        session["sid"] = "a-session-reference"
    _is_503_page(client.get("/account"))


def test_database_down_public_pages_still_work_and_healthz_says_so(down_app):
    client = down_app.test_client()
    assert client.get("/").status_code == 200  # needs no database
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["database"] == "down"


def test_database_down_one_click_unsubscribe_answers_503(down_app):
    from webapp.preferences.links import unsubscribe_url

    with down_app.test_request_context():
        url = unsubscribe_url(1, "service-updates")
    path = "/" + url.split("://", 1)[-1].split("/", 1)[-1]
    response = down_app.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 503


def test_database_failing_mid_sign_in_writes_nothing(app, client, provider_url, db):
    """The person row is flushed, then the sign-in record fails: neither is kept."""
    from tests.conftest import sign_in

    engine = app.extensions["sentro.engine"]

    def fail_on_sign_in(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SIGN_IN"):
            raise OperationalError(statement, parameters, Exception("disk I/O error"))

    event.listen(engine, "before_cursor_execute", fail_on_sign_in)
    try:
        response = sign_in(client, provider_url, "ana", {"email": "ana@example.com"})
    finally:
        event.remove(engine, "before_cursor_execute", fail_on_sign_in)
    _is_503_page(response)
    assert db.execute(select(func.count()).select_from(User)).scalar_one() == 0
    assert db.execute(select(func.count()).select_from(SignIn)).scalar_one() == 0


# --- the identity provider down or answering garbage -----------------------------------


@pytest.fixture
def fake(config):
    with fake_provider(config["OIDC_CLIENT_ID"]) as provider:
        yield provider


@pytest.fixture
def fake_app(config, fake, app):
    """The site signing in through the fake provider (`app` empties the tables afterwards)."""
    from webapp import create_app

    app = create_app({**config, "OIDC_ISSUER": fake.url})
    yield app
    app.extensions["sentro.engine"].dispose()


def _through_fake(client):
    start = client.get("/login")
    if start.status_code != 302:
        return start
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(answer.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def _clear_failure(response, status: int) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert "<html" in html and "sign" in html.lower()
    assert "Traceback" not in html and "Error:" not in html


def _users(fake_app) -> int:
    from sqlmodel import Session

    with Session(fake_app.extensions["sentro.engine"]) as session:
        return session.execute(select(func.count()).select_from(User)).scalar_one()


def test_the_fake_provider_signs_a_person_in_when_it_behaves(fake_app):
    response = _through_fake(fake_app.test_client())
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _users(fake_app) == 1


@pytest.mark.parametrize("fault", ID_TOKEN_FAULTS)
def test_a_token_that_fails_any_check_is_refused_and_creates_nobody(fault, fake, fake_app):
    fake.fault = fault
    response = _through_fake(fake_app.test_client())
    _clear_failure(response, 400)
    assert "could not be trusted" in response.get_data(as_text=True)
    assert _users(fake_app) == 0


@pytest.mark.parametrize(
    "announced",
    [
        lambda url: "https://evil.example",
        lambda url: url + "/",  # Discovery 1.0 section 4.3: identical, not merely equivalent
        lambda url: url.replace("127.0.0.1", "localhost"),
        lambda url: None,  # no issuer at all
    ],
    ids=["another-site", "trailing-slash", "another-host-name", "missing"],
)
def test_a_discovery_document_for_another_issuer_refuses_sign_in(announced, fake, fake_app, caplog):
    fake.discovery_changes = {"issuer": announced(fake.url)}
    with caplog.at_level("WARNING", logger="webapp"):
        response = _through_fake(fake_app.test_client())
    _clear_failure(response, 400)
    assert "could not be trusted" in response.get_data(as_text=True)
    assert any("not OIDC_ISSUER" in r.getMessage() for r in caplog.records)
    assert _users(fake_app) == 0


def test_the_issuer_is_checked_again_when_the_provider_answers(fake, fake_app):
    """The callback re-checks the document it uses, not only the one `/login` saw."""
    client = fake_app.test_client()
    start = client.get("/login")
    assert start.status_code == 302
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    fake.discovery_changes = {"issuer": "https://evil.example"}
    with fake_app.app_context():
        fake_app.extensions["sentro.oidc"].provider.server_metadata.clear()  # a new fetch
    callback = urlsplit(answer.headers["Location"])
    _clear_failure(client.get(f"{callback.path}?{callback.query}"), 400)
    assert _users(fake_app) == 0


@pytest.mark.parametrize("garbage", list(GARBAGE))
@pytest.mark.parametrize("where", ["discovery", "token", "jwks", "userinfo"])
def test_a_provider_answering_garbage_gets_a_clear_page(garbage, where, fake, fake_app):
    fake.fault, fake.garbage_at = garbage, where
    response = _through_fake(fake_app.test_client())
    _clear_failure(response, 502 if where == "discovery" else 400)
    assert _users(fake_app) == 0


def test_a_provider_that_is_down_gets_a_clear_page(config):
    from webapp import create_app

    app = create_app({**config, "OIDC_ISSUER": f"http://127.0.0.1:{free_port()}"})
    _clear_failure(app.test_client().get("/login"), 502)
    app.extensions["sentro.engine"].dispose()
