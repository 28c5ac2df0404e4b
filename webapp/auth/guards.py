"""Decorators that guard views: staff only, and a recent sign-in for sensitive actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, redirect, request, url_for
from flask_login import login_required

from ..models import utcnow
from ..pages import safe_next
from .current import current_session, has_staff_rights

F = TypeVar("F", bound=Callable[..., Any])


def staff_required(view: F) -> F:
    """Only staff (the STAFF_GROUP claim) may use the view; others get 403."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not has_staff_rights():
            abort(403)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def signed_in_recently(max_age_minutes: int | None = None) -> bool:
    """Whether the person authenticated at the provider within the allowed minutes."""
    minutes = max_age_minutes or current_app.config["REAUTH_MAX_AGE_MINUTES"]
    row = current_session()
    if row is None or row.auth_time is None:
        return False
    return utcnow() - row.auth_time <= timedelta(minutes=minutes)


def reauth_url(next_path: str) -> str:
    """Where to send a person to prove again who they are, then come back to `next_path`."""
    return url_for("auth.login", next=next_path, reauth=1)


def recent_login_required(view: F | None = None, *, minutes: int | None = None) -> Any:
    """Demand a sign-in within `minutes` (default REAUTH_MAX_AGE_MINUTES); else re-authenticate.

    Judged by the ID token's `auth_time` when the provider sends it, else by our own sign-in.
    """

    def decorate(fn: F) -> F:
        @wraps(fn)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if signed_in_recently(minutes):
                return fn(*args, **kwargs)
            back = request.full_path if request.method == "GET" else _referring_path()
            target = reauth_url(back.rstrip("?"))
            if request.headers.get("HX-Request"):
                return "", 204, {"HX-Redirect": target}
            return redirect(target, code=303)

        return wrapped  # type: ignore[return-value]

    return decorate(view) if view is not None else decorate


def _referring_path() -> str:
    referrer = request.referrer or ""
    host = request.host_url
    if referrer.startswith(host):
        return safe_next("/" + referrer[len(host) :]) or url_for("account.home")
    return url_for("account.home")
