"""`/staff/closures`: the closure queue, holds, and staff's decision on each request."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for
from flask_login import current_user

from .. import db, queues
from ..auth import current, staff_required
from ..models import utcnow
from ..pages import page_or_fragment, see_other
from ..security import client_ip
from . import erasure, preview, service
from . import queue as closure_queue
from .case import CASE, CASE_HOLDS, Case, case_parameters, get_case
from .views import done

bp = Blueprint("closure_staff", __name__, url_prefix="/staff/closures")


def _queue_asked() -> dict[str, Any]:
    """The queue's filter, search and page number, as the query string asks."""
    return {
        "status": request.args.get("status", "open"),
        "search": queues.search_text(request.args.get("q")),
        "page": queues.page_number(request.args.get("page")),
    }


#: The queue page, and the request the case page names, come with the staff member's own read.
current.read_with_person(
    "closure_staff.queue",
    closure_queue.COUNTS,
    closure_queue.PAGE,
    parameters=lambda: closure_queue.parameters(**_queue_asked()),
    staff=True,
)
current.read_with_person(
    "closure_staff.case",
    CASE,
    CASE_HOLDS,
    parameters=lambda: case_parameters((request.view_args or {})["request_id"]),
    staff=True,
)


def _case_or_404(request_id: int, rows: list[list[tuple]] | None = None) -> Case:
    case = get_case(db.engine(), request_id, rows=rows)
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


FILTER_LABELS = {"open": "Open", **service.STATUS_LABELS, "all": "All"}


@bp.get("/")
@staff_required
def queue():
    """One page of the requests with a status (open by default), soonest due first."""
    result = closure_queue.page(
        db.engine(), **_queue_asked(), rows=current.read_with_person_results()
    )
    return page_or_fragment(
        "closure/staff_queue.html",
        "closure/_queue.html",
        "queue",
        result=result,
        filters=FILTER_LABELS,
        labels=service.STATUS_LABELS,
    )


@bp.get("/<int:request_id>")
@staff_required
def case(request_id: int):
    """One request: the person, the holds, and the decision forms."""
    return _case_page(
        _case_or_404(request_id, current.read_with_person_results()),
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


@bp.get("/<int:request_id>/approve")
@staff_required
def confirm_approval(request_id: int):
    """Before approving: exactly what erasure will delete and keep, and the final button."""
    case = _case_or_404(request_id)
    if case.request.status not in ("received", "under_review"):
        flash("Only a request that is received or under review can be approved.", "error")
        return see_other(url_for(".case", request_id=request_id))
    grace_days = current_app.config["CLOSURE_GRACE_DAYS"]
    erase_on = utcnow() + dt.timedelta(days=max(grace_days, 0))
    return render_template(
        "closure/staff_approve.html",
        case=case,
        preview=preview.preview(db.session(), case, erase_on),
        erase_on=erase_on,
        grace_days=grace_days,
        hold_labels=dict(erasure.hold_keys()),
        own_request=case.request.user_id == current_user.id,
    )


@bp.post("/<int:request_id>/approve")
@staff_required
def approve(request_id: int):
    """Approve once confirmed on the page above: erase now, or after the grace period."""
    if request.form.get("confirmed") != "yes":
        # Approval erases an account: it is only ever the answer to the confirmation page.
        return see_other(url_for(".confirm_approval", request_id=request_id))
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
