"""`/account/close`: what closing means, the request, its status, and cancelling it."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import db
from ..auth import current, recent_login_required
from ..models.closure import OPEN_STATUSES, ClosureRequest
from ..pages import htmx, page_or_fragment, see_other
from . import erasure, purge, service  # noqa: F401 - purge registers its `privacy purge` steps

bp = Blueprint("closure", __name__, url_prefix="/account/close")
#: The person's latest request comes with the person's own read: one round trip.
current.read_with_person("closure.start", service.LATEST_BY_SESSION)
current.read_with_person("closure.status", service.LATEST_BY_SESSION)


def _request_shown() -> ClosureRequest | None:
    """The person's latest closure request: read with the person, or else now."""
    return service.request_shown(db.engine(), current_user.id, rows=current.read_with_person_rows())


def done(location: str):
    """After a successful post: 303 for plain forms, a full navigation for htmx."""
    if htmx:
        return "", 204, {"HX-Redirect": location}
    return see_other(location)


def _start_page(errors: dict[str, str] | None = None, form: dict | None = None, status=200):
    return page_or_fragment(
        "closure/start.html",
        "closure/_close_form.html",
        "close-form",
        status=status,
        errors=errors or {},
        form=form or {},
        categories=erasure.categories_erased(),
        kept=erasure.kept_by_category(),
        confirmation_word=service.CONFIRMATION_WORD,
        grace_days=current_app.config["CLOSURE_GRACE_DAYS"],
    )


@bp.get("")
@recent_login_required
def start():
    """Explain what closing means and what Sentro must keep, then ask for confirmation."""
    latest = _request_shown()
    if latest is not None and latest.status in OPEN_STATUSES:
        return redirect(url_for("closure.status"))
    return _start_page()


@bp.post("")
@recent_login_required
def submit():
    """Receive the request; its status page is next."""
    form = {"reason": request.form.get("reason", ""), "confirmation": ""}
    result = service.request_closure(
        db.session(),
        current_user,
        confirmation=request.form.get("confirmation", ""),
        reason=form["reason"],
    )
    if not result.ok:
        return _start_page(result.errors, form, status=422)
    flash("We have your request. We have emailed you a receipt.", "success")
    return done(url_for("closure.status"))


@bp.get("/status")
@login_required
def status():
    """Where the request stands, at any time."""
    latest = _request_shown()
    return render_template(
        "closure/status.html",
        closure=latest,
        is_open=latest is not None and latest.status in OPEN_STATUSES,
        labels=service.STATUS_LABELS,
        complaint_url=service.COMPLAINT_URL,
    )


@bp.post("/cancel")
@login_required
def cancel():
    """Withdraw the request while it is not completed."""
    result = service.cancel(db.session(), current_user)
    if result.ok:
        flash("Your request is cancelled. Your account stays as it is.", "success")
    else:
        flash(result.errors["request"], "error")
    return done(url_for("closure.status"))
