"""Real collaborators for the tests: a mail catcher on loopback, a live site for the browser."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from aiosmtpd.controller import Controller
from werkzeug.serving import make_server


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Catcher:
    """An aiosmtpd handler that keeps every message it receives, in order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        message = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()


@contextmanager
def smtp_server() -> Iterator[tuple[Catcher, int]]:
    """A real SMTP server on loopback; yields the catcher and the port."""
    catcher = Catcher()
    port = free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield catcher, port
    finally:
        controller.stop()


@contextmanager
def live_server(app) -> Iterator[str]:
    """Serve `app` on a loopback thread; yields its base URL."""
    server = make_server("localhost", app.config["_LIVE_PORT"], app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


def opened(app, browser, path: str, count_queries):
    """The page at `path` opened a second time (the first warms caches): the response, the
    statements it ran and the round trips they took."""
    from webapp.db import counting_round_trips

    browser.get(path)
    with (
        count_queries() as statements,
        counting_round_trips(app.extensions["sentro.engine"]) as trips,
    ):
        response = browser.get(path)
    return response, statements, trips


def one_trip_on_postgresql(app, statements: list[str], trips: list[str]) -> None:
    """On PostgreSQL the statements go out together (one pipeline); SQLite runs them in turn.
    Either way a page that only reads sends no BEGIN, COMMIT or ROLLBACK."""
    postgres = app.extensions["sentro.engine"].dialect.name == "postgresql"
    assert len(trips) == (1 if postgres else len(statements)), trips
    assert not [t for t in trips if t.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK"))]
