"""Error pages in the site layout; never a traceback, and a 503 when the database is down."""

from __future__ import annotations

import contextlib
import logging

from flask import Flask, g, render_template
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .db import DatabaseUnavailable

log = logging.getLogger(__name__)

MESSAGES = {
    400: (
        "Something in that request was not right",
        "Go back, check what you entered and try again.",
    ),
    403: ("You can't see this page", "Your account does not have access to it."),
    404: ("We can't find that page", "The link may be old or mistyped."),
    405: ("That didn't work", "This page can't be used that way."),
    413: ("That was too large", "Send something smaller."),
    422: ("Please check what you entered", "Some of it could not be accepted."),
    429: ("Too many attempts", "Please wait a minute, then try again."),
    500: ("Something went wrong on our side", "We have been told. Please try again in a moment."),
    503: (
        "Sentro is briefly unavailable",
        "Nothing you sent was lost or half-saved. Please try again in a minute.",
    ),
}


def render_error(status: int, detail: str | None = None):
    """The error page for `status` in the layout, safe to render even with the database down."""
    title, hint = MESSAGES.get(status, MESSAGES[500])
    if status >= 500:
        # The layout asks who is signed in; with the database failing, show it signed out.
        g._login_user = AnonymousUserMixin()
        db = g.pop("db_session", None)
        if db is not None:
            with contextlib.suppress(DatabaseUnavailable):
                db.close()
    return render_template(
        "errors/error.html", status=status, title=title, hint=detail or hint
    ), status


def init_app(app: Flask) -> None:
    """Register the error pages."""

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):
        return render_error(400, "The form had expired. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        response = error.get_response()
        body, status = render_error(error.code, getattr(error, "user_message", None))
        # Keep headers such as Retry-After and Allow.
        for name in ("Retry-After", "Allow", "WWW-Authenticate"):
            if name in response.headers:
                return body, status, {name: response.headers[name]}
        return body, status

    def _database(error: Exception):
        log.error("database unavailable: %s", error.__class__.__name__)
        return render_error(503)[0], 503, {"Retry-After": "30"}

    for kind in DatabaseUnavailable:
        app.register_error_handler(kind, _database)

    @app.errorhandler(InternalServerError)
    def _internal(error: InternalServerError):
        original = getattr(error, "original_exception", None)
        if isinstance(original, DatabaseUnavailable):  # raised outside a view
            return _database(original)
        log.exception("unhandled error", exc_info=original)
        return render_error(500)
