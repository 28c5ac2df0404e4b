"""The logs of the Procfile's web process hold no token, no full IP address and no email."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from flask import url_for

from tests.conftest import SECRET
from webapp import tokens
from webapp.logsafe import RedactingFilter, redact, route_path, safe_query, unmatched_path
from webapp.models import User
from webapp.preferences.links import preferences_url, unsubscribe_url

ROOT = Path(__file__).resolve().parent.parent
CODE, STATE = "sEcReTcOdE4242abcdefXYZ", "sTaTe9876zyxwvutsrqPONM"


def web_command() -> str:
    """The Procfile's `web` command, exactly as an operator's platform runs it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("the Procfile has no web process")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def web_process(tmp_path, migrated, provider_url):
    """The Procfile's web command, on a free port, against the test database; yields its URL."""
    port = free_port()
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "SENTRO_ENV": "testing",
        "SECRET_KEY": SECRET,
        "DATABASE_URL": migrated,
        "OIDC_ISSUER": provider_url,
        "BASE_URL": "http://localhost",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    out, err = (tmp_path / "stdout.log").open("wb"), (tmp_path / "stderr.log").open("wb")
    process = subprocess.Popen(
        ["sh", "-c", web_command()],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=err,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            raise AssertionError((tmp_path / "stderr.log").read_text())
        yield base, tmp_path
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        out.close()
        err.close()


def test_the_web_process_logs_no_token_and_no_full_address(app, db, web_process):
    base, logs = web_process
    person = User(issuer="https://id.test", subject="log-1", email="logged.person@example.com")
    db.add(person)
    db.commit()
    with app.test_request_context():
        unsubscribe = unsubscribe_url(person.id, "service-updates")
        preferences = preferences_url(person.id)
        confirm_token = tokens.make(tokens.EMAIL_CHANGE, {"c": 1, "n": "ab" * 16})
        confirm = url_for("profile.confirm_email", token=confirm_token)
    secrets = [
        unsubscribe.rsplit("/", 1)[1],
        preferences.rsplit("/", 1)[1],
        confirm_token,
        CODE,
        STATE,
        "logged.person@example.com",
    ]
    referer = {"Referer": f"{preferences}?from={CODE}"}
    get = [
        f"/email/unsubscribe/{secrets[0]}",
        f"/email-preferences/{secrets[1]}",
        confirm,
        f"/auth/callback?code={CODE}&state={STATE}",
        f"/privacy?ref={CODE}&email=logged.person@example.com",
        f"/email/unsubscribe/{secrets[0]}/more",  # matches no route
        f"/{confirm_token}",
    ]
    for path in get:
        requests.get(base + path, headers=referer, allow_redirects=False, timeout=10)
    requests.post(
        base + f"/email/unsubscribe/{secrets[0]}",
        data={"List-Unsubscribe": "One-Click"},
        headers={"X-Forwarded-For": "203.0.113.99"},
        timeout=10,
    )
    time.sleep(0.3)  # the access line is written after the response is sent

    access = (logs / "stdout.log").read_text()
    everything = access + (logs / "stderr.log").read_text()
    assert "/email/unsubscribe/<token>" in access and "/auth/callback?code=" in access
    assert "/email/confirm/<token>" in access
    assert "127.0.0.0/24" in access  # the client is logged, by its network only
    leaked = [s for s in secrets if s in everything]
    assert leaked == []
    assert "127.0.0.1 " not in everything and "203.0.113.99" not in everything


@pytest.mark.parametrize(
    ("rule", "values", "logged"),
    [
        ("/email/unsubscribe/<token>", {"token": "abc.def.ghi"}, "/email/unsubscribe/<token>"),
        (
            "/account/privacy-requests/<int:inquiry_id>",
            {"inquiry_id": 12},
            "/account/privacy-requests/12",
        ),
        (
            "/email/done/<any(confirmed, cancelled):outcome>",
            {"outcome": "confirmed"},
            "/email/done/confirmed",
        ),
        (
            "/email-preferences/<token>/lists/<list_id>",
            {"token": "t", "list_id": "x"},
            "/email-preferences/<token>/lists/<list_id>",
        ),
    ],
)
def test_a_routed_path_is_logged_as_its_route(rule, values, logged):
    assert route_path(rule, values) == logged


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/", "/"),
        ("/wp-login.php", "/wp-login.php"),
        ("/eyJhbGciOi.J9eyJ1c2VyIjo0.fQ", "/[redacted]"),
        ("/abcdef0123456789abcdef", "/[redacted]"),
        ("/email/abc.def.ghi/x", "/email/[unmatched]"),
    ],
)
def test_an_unmatched_path_keeps_only_a_plain_first_segment(path, logged):
    assert unmatched_path(path) == logged


def test_query_values_are_never_logged():
    assert safe_query("code=abc&state=def&page=2&x") == (
        "code=[redacted]&state=[redacted]&page=[redacted]&x"
    )
    assert "eyJ" not in safe_query("eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyIjo0fQ.sig=1")


@pytest.mark.parametrize(
    ("text", "hidden", "shown"),
    [
        ("Invalid request from ip=198.51.100.23: bad", "198.51.100.23", "198.51.100.0/24"),
        ("from 2001:db8:abcd:12::1 now", "2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
        (
            "Error handling request GET /email/confirm/eyJjIjoxfQ.Z1x2bQ.abcDEF123_-x",
            "eyJjIjoxfQ",
            "",
        ),
        ("GET /auth/callback?code=Zq81kx&state=Y7", "Zq81kx", "code=[redacted]"),
        ("mail to dave.kowhai@example.com refused", "dave.kowhai@example.com", "[email]"),
        ("at 14:30:26 in 0.5s", "", "14:30:26"),
        ("Listening at: http://0.0.0.0:8000", "", "http://0.0.0.0:8000"),
    ],
)
def test_free_text_in_logs_is_redacted(text, hidden, shown):
    redacted = redact(text)
    assert (not hidden or hidden not in redacted) and shown in redacted


def test_the_apps_own_log_lines_are_redacted(caplog):
    record = logging.LogRecord(
        "webapp.x",
        logging.WARNING,
        __file__,
        1,
        "refused %s from %s",
        ("a@b.example", "10.1.2.3"),
        None,
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == "refused [email] from 10.1.2.0/24"
