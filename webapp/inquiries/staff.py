"""`/staff/privacy-requests`: the queue by due date, and answering, extending, refusing, closing."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import db, queues
from ..auth import current, staff_required
from ..errors import render_error
from ..models import utcnow
from ..pages import page_or_fragment, see_other, wants_fragment
from ..security import client_ip
from . import casework, reads, service
from .forms import ExtendForm, RefuseForm, ReplyForm
from .queue import QUEUE_BY_STAFF, WAITING
from .queue import page as queue_page
from .queue import parameters as queue_parameters

bp = Blueprint("inquiries_staff", __name__, url_prefix="/staff/privacy-requests")
FILTERS = {WAITING: "Waiting for an answer", **service.STATUSES, "all": "All"}


def _asked() -> tuple[str, str, int]:
    """The queue's filter, search and page number, from the query string."""
    return (
        request.args.get("status", WAITING),
        queues.search_text(request.args.get("q")),
        queues.page_number(request.args.get("page")),
    )


def _case_id() -> dict[str, Any]:
    """The case's reads' parameter: the request in the URL."""
    return {"inquiry_id": request.view_args["inquiry_id"]}  # type: ignore[index]


#: Each page's reads come with the staff person's own read: one round trip on PostgreSQL.
current.read_with_person(
    "inquiries_staff.queue",
    *QUEUE_BY_STAFF,
    parameters=lambda: queue_parameters(*_asked()),
    staff=True,
)
current.read_with_person(
    "inquiries_staff.show", *reads.CASE_BY_STAFF, parameters=_case_id, staff=True
)


@bp.errorhandler(service.InquiryNotFound)
def _not_found(_error: service.InquiryNotFound):
    return render_error(404)


@bp.get("")
@staff_required
def queue():
    """One page of the requests waiting for an answer (or with another status), soonest due first."""
    status, search, number = _asked()
    result = queue_page(
        db.engine(),
        status=status,
        search=search,
        page=number,
        rows=current.read_with_person_results(),
    )
    return page_or_fragment(
        "inquiries/queue.html",
        "inquiries/_queue.html",
        "queue",
        result=result,
        filters=FILTERS,
        kinds=service.STAFF_KINDS,
        statuses=service.STATUSES,
        today=utcnow().date(),
    )


def _case(
    inquiry_id: int,
    *,
    status: int = 200,
    notice: str = "",
    rows: reads.WithPerson | None = None,
    **forms,
):
    found = reads.case_of(db.engine(), inquiry_id, rows=rows)
    return page_or_fragment(
        "inquiries/case.html",
        "inquiries/_case.html",
        "case",
        status=status,
        case=found,
        inquiry=found.inquiry,
        statements=found.statements,
        fields=service.correctable_fields(),
        answer_form=forms.get("answer") or ReplyForm(),
        extend_form=forms.get("extend") or ExtendForm(),
        refuse_form=forms.get("refuse") or RefuseForm(),
        close_error=forms.get("close_error", ""),
        kinds=service.STAFF_KINDS,
        statuses=service.STATUSES,
        complaint_route=service.COMPLAINT_ROUTE,
        notice=notice,
    )


@bp.get("/<int:inquiry_id>")
@staff_required
def show(inquiry_id: int):
    """One request: the person, the thread, and what staff can do next."""
    return _case(inquiry_id, rows=current.read_with_person_results())


def _done(inquiry_id: int, notice: str) -> Response | tuple[str, int]:
    if wants_fragment("case"):
        return _case(inquiry_id, notice=notice)
    flash(notice, "success")
    return see_other(url_for("inquiries_staff.show", inquiry_id=inquiry_id))


def _refused(inquiry_id: int, name: str, form, errors: dict[str, str]):
    for field, message in errors.items():
        getattr(form, field).errors = [message]
    return _case(inquiry_id, status=422, **{name: form})


@bp.post("/<int:inquiry_id>/answer")
@staff_required
def answer(inquiry_id: int):
    """Answer in the thread; the person gets an email that the answer is there."""
    form = ReplyForm(request.form)
    if not form.validate():
        return _case(inquiry_id, status=422, answer=form)
    result = casework.answer(db.session(), current_user, inquiry_id, form.body.data, ip=client_ip())
    if not result.ok:
        return _refused(inquiry_id, "answer", form, result.errors)
    return _done(inquiry_id, "Answer sent; the person has been told by email.")


@bp.post("/<int:inquiry_id>/extend")
@staff_required
def extend(inquiry_id: int):
    """Extend the due date with a reason; the person is told both."""
    form = ExtendForm(request.form)
    if not form.validate():
        return _case(inquiry_id, status=422, extend=form)
    result = casework.extend(
        db.session(),
        current_user,
        inquiry_id,
        new_due=form.new_due.data,
        reason=form.extension_reason.data,
        ip=client_ip(),
    )
    if not result.ok:
        return _refused(inquiry_id, "extend", form, result.errors)
    return _done(inquiry_id, "Extended; the person has been told the new date and why.")


@bp.post("/<int:inquiry_id>/refuse")
@staff_required
def refuse(inquiry_id: int):
    """Refuse with a reason; the person is told it and how to complain."""
    form = RefuseForm(request.form)
    if not form.validate():
        return _case(inquiry_id, status=422, refuse=form)
    result = casework.refuse(
        db.session(), current_user, inquiry_id, reason=form.refusal_reason.data, ip=client_ip()
    )
    if not result.ok:
        return _refused(inquiry_id, "refuse", form, result.errors)
    return _done(inquiry_id, "Refused; the person has been told why and how to complain.")


@bp.post("/<int:inquiry_id>/close")
@staff_required
def close(inquiry_id: int):
    """Close the request."""
    result = casework.close(db.session(), current_user, inquiry_id, ip=client_ip())
    if not result.ok:
        return _case(inquiry_id, status=422, close_error=result.errors["close"])
    return _done(inquiry_id, "Closed.")
