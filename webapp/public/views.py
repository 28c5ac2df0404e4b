"""The front page and `/healthz`."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import text

from .. import db
from ..db import DatabaseUnavailable

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    """Signed-in people go to their account; everyone else sees what the site is for."""
    if current_user.is_authenticated:
        return redirect(url_for("account.home"))
    return render_template("public/home.html")


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not (for load balancers)."""
    try:
        with db.reading_engine().connect() as connection:  # SELECT 1, no BEGIN/ROLLBACK
            connection.execute(text("SELECT 1"))
    except DatabaseUnavailable:
        return {"status": "unavailable", "database": "down"}, 503
    return {"status": "ok", "database": "up"}
