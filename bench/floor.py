"""A third yardstick: the smallest honest signed-in page on this stack.

Flask with flask-login (a request loader reading the person's row by id, one statement),
Flask-WTF's CSRF protection, Flask's signed cookie session and a short Jinja layout that
carries a CSRF token: what every signed-in page of any site built on this stack pays before
it does anything of its own. Served by gunicorn with the site's settings beside it, against
the same database (`BENCH_FLOOR_DB_URL`: the seeded SQLite file or PostgreSQL), it shows how
much of the gap between hello-world and a page the stack itself takes.

- `GET /signed-in`: the layout, the person's name and email, a CSRF token.
- `GET /trivial`: signed in, answers a line of text (no template, no token).
- `GET /public`: signed out, the layout with a CSRF token (the cookie session is written).
- `GET /sign-in`: signs the browser in as the person with the smallest id (bench only).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from flask import Flask, render_template
from flask_login import LoginManager, UserMixin, login_required, login_user
from flask_wtf.csrf import CSRFProtect, generate_csrf

URL = os.environ.get("BENCH_FLOOR_DB_URL", "sqlite:///:memory:")
app = Flask(__name__, template_folder=str(Path(__file__).with_name("floor_templates")))
app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "floor-" + "x" * 40)
CSRFProtect(app)
login = LoginManager(app)

if URL.startswith("sqlite"):
    _local = threading.local()

    def _row(sql: str, params: tuple) -> tuple | None:
        connection = getattr(_local, "connection", None)
        if connection is None:
            connection = _local.connection = sqlite3.connect(URL.removeprefix("sqlite:///"))
        return connection.execute(sql.replace("%s", "?"), params).fetchone()

else:
    import psycopg
    from sqlalchemy.pool import QueuePool

    _pool = QueuePool(
        lambda: psycopg.connect(URL.replace("postgresql+psycopg", "postgresql"), autocommit=True),
        pool_size=5,
        max_overflow=5,
        reset_on_return=None,
    )

    def _row(sql: str, params: tuple) -> tuple | None:
        connection = _pool.connect()
        try:
            return connection.cursor().execute(sql, params).fetchone()
        finally:
            connection.close()


class Person(UserMixin):
    """The signed-in person: their id, email and name."""

    def __init__(self, id: int, email: str | None, name: str | None) -> None:
        self.id, self.email, self.name = id, email, name


@login.user_loader
def load(user_id: str) -> Person | None:
    """One statement: the person's row by id."""
    row = _row('SELECT id, email, name FROM "user" WHERE id = %s', (int(user_id),))
    return Person(*row) if row else None


@app.get("/signed-in")
@login_required
def signed_in() -> str:
    """The layout with the person's name and a CSRF token."""
    return render_template("page.html", cards=("Profile", "Email", "Privacy", "Security"))


@app.get("/trivial")
@login_required
def trivial() -> str:
    """Signed in, a line of text."""
    from flask_login import current_user

    return f"Hello, {current_user.name}"


@app.get("/public")
def public() -> str:
    """Signed out: the layout with a CSRF token."""
    return render_template("page.html", cards=("Profile", "Email", "Privacy", "Security"))


@app.get("/sign-in")
def sign_in() -> str:
    """Bench only: sign this browser in as the person with the smallest id."""
    (first,) = _row('SELECT min(id) FROM "user"', ())
    login_user(load(str(first)))
    generate_csrf()  # the cookie holds its CSRF secret, as a browser's does after one page
    return "signed in"
