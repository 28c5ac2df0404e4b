"""`/staff/closures`: the closure queue, holds, and staff's decision on each request."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for
from flask_login import current_user

from .. import db
from ..auth import staff_required
from ..pages import page_or_fragment
from ..security import client_ip
from . import erasure, service
from .views import done

bp = Blueprint("closure_staff", __name__, url_prefix="/staff/closures")


def _case_or_404(request_id: int) -> service.Case:
    case = service.get_case(db.session(), request_id)
    if case is None:
        abort(404)
    return case


def _case_page(case, *, fragment: str, target: str, errors: dict, form: dict, status: int):
    return page_or_fragment(
        "closure/staff_case.html",
        fragment,
        target,
        status=status,
        case=case,
        errors=errors,
        form=form,
        hold_keys=erasure.hold_keys(),
        hold_labels=dict(erasure.hold_keys()),
        labels=service.STATUS_LABELS,
        grace_days=current_app.config["CLOSURE_GRACE_DAYS"],
    )


@bp.get("/")
@staff_required
def queue():
    """Open requests, soonest due first."""
    return render_template(
        "closure/staff_queue.html",
        cases=service.queue(db.session()),
        labels=service.STATUS_LABELS,
        hold_labels=dict(erasure.hold_keys()),
    )


@bp.get("/<int:request_id>")
@staff_required
def case(request_id: int):
    """One request: the person, the holds, and the decision forms."""
    return _case_page(
        _case_or_404(request_id),
        fragment="closure/_hold_form.html",
        target="hold-form",
        errors={},
        form={},
        status=200,
    )


@bp.post("/<int:request_id>/review")
@staff_required
def review(request_id: int):
    """Start reviewing a received request."""
    result = service.start_review(db.session(), request_id, current_user, ip=client_ip())
    _flash(result, "Marked as under review.")
    return done(url_for(".case", request_id=request_id))


@bp.post("/<int:request_id>/holds")
@staff_required
def add_hold(request_id: int):
    """Keep named data past erasure, with its legal basis and end date."""
    form = {key: request.form.get(key, "") for key in ("what", "legal_basis", "until")}
    result = service.add_hold(db.session(), request_id, current_user, ip=client_ip(), **form)
    if not result.ok:
        case = _case_or_404(request_id)
        return _case_page(
            case,
            fragment="closure/_hold_form.html",
            target="hold-form",
            errors=result.errors,
            form=form,
            status=422,
        )
    flash("Hold added.", "success")
    return done(url_for(".case", request_id=request_id))


@bp.post("/<int:request_id>/approve")
@staff_required
def approve(request_id: int):
    """Approve: erase now, or after the grace period."""
    result = service.approve(
        db.session(),
        request_id,
        current_user,
        grace_days=current_app.config["CLOSURE_GRACE_DAYS"],
        ip=client_ip(),
    )
    _flash(result, "Approved.")
    return done(url_for(".case", request_id=request_id))


@bp.post("/<int:request_id>/decline")
@staff_required
def decline(request_id: int):
    """Decline, with the reason the person is told."""
    form = {"reason": request.form.get("reason", "")}
    result = service.decline(
        db.session(), request_id, current_user, reason=form["reason"], ip=client_ip()
    )
    if not result.ok:
        return _case_page(
            _case_or_404(request_id),
            fragment="closure/_decline_form.html",
            target="decline-form",
            errors=result.errors,
            form=form,
            status=422,
        )
    flash("Declined; the person has been told why.", "success")
    return done(url_for(".case", request_id=request_id))


def _flash(result: service.Result, success: str) -> None:
    if result.request is None:
        abort(404)
    flash(success if result.ok else result.errors["request"], "success" if result.ok else "error")
