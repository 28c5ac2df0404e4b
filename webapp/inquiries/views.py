"""`/account/privacy-requests`: a person's privacy questions and requests, and their threads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, request, url_for
from flask_login import current_user, login_required

from .. import db, timefmt
from ..auth import current
from ..errors import render_error
from ..pages import page_or_fragment, see_other, wants_fragment
from ..security import client_ip
from . import reads, service
from .forms import NewInquiryForm, ReplyForm, StatementForm

bp = Blueprint("inquiries", __name__, url_prefix="/account/privacy-requests")


def _thread_id() -> dict[str, Any]:
    """The thread's reads' parameter: the request in the URL (still only the person's own)."""
    return {"inquiry_id": request.view_args["inquiry_id"]}  # type: ignore[index]


#: Each page's reads come with the person's own read: one round trip on PostgreSQL.
current.read_with_person("inquiries.mine", *reads.REQUESTS_BY_SESSION)
current.read_with_person("inquiries.thread", *reads.THREAD_BY_SESSION, parameters=_thread_id)


@bp.app_template_global()
def correction_label(field_name: str) -> str:
    """What a statement of correction is about, in words (for `_statements.html`)."""
    return service.correctable_fields().get(field_name, field_name)


@bp.errorhandler(service.InquiryNotFound)
def _not_found(_error: service.InquiryNotFound):
    return render_error(404)


def _list(
    form: NewInquiryForm,
    *,
    status: int = 200,
    notice: str = "",
    rows: reads.WithPerson | None = None,
):
    found = reads.requests_of(db.engine(), current_user.id, rows=rows)
    return page_or_fragment(
        "inquiries/mine.html",
        "inquiries/_requests.html",
        "privacy-requests",
        status=status,
        form=form,
        inquiries=found.inquiries,
        limit_reached=service.at_limit(found.inquiries),
        limit_message=service.WAITING_LIMIT,
        statements=found.statements,
        kinds=service.KINDS,
        statuses=service.STATUSES,
        notice=notice,
    )


@bp.get("")
@login_required
def mine():
    """The person's requests, and the form to send a new one."""
    kind = request.args.get("kind", "")
    form = NewInquiryForm(data={"kind": kind if kind in service.KINDS else "access"})
    return _list(form, rows=current.read_with_person_results())


@bp.post("")
@login_required
def send():
    """Send a new request: 303 to its thread, or the form with messages (422)."""
    form = NewInquiryForm(request.form)
    if not form.validate():
        return _list(form, status=422)
    result = service.open_inquiry(
        db.session(),
        current_user,
        kind=form.kind.data,
        subject=form.subject.data,
        message=form.message.data,
        ip=client_ip(),
    )
    if "limit" in result.errors:
        return _list(form, status=422)  # the page says why no new request can be sent
    if not result.ok:
        form.kind.errors = [result.errors["kind"]]
        return _list(form, status=422)
    notice = f"Sent. We will answer by {timefmt.day(result.inquiry.due, None)}."
    if wants_fragment("privacy-requests"):
        return _list(NewInquiryForm(), notice=notice)
    flash(notice, "success")
    return see_other(url_for("inquiries.thread", inquiry_id=result.inquiry.id))


def _thread(
    inquiry_id: int,
    *,
    reply: ReplyForm | None = None,
    statement: StatementForm | None = None,
    status: int = 200,
    notice: str = "",
    rows: reads.WithPerson | None = None,
):
    found = reads.thread_of(db.engine(), current_user.id, inquiry_id, rows=rows)
    inquiry = found.inquiry
    return page_or_fragment(
        "inquiries/thread.html",
        "inquiries/_thread.html",
        "thread",
        status=status,
        inquiry=inquiry,
        messages=found.messages,
        reply=reply or ReplyForm(),
        statement_form=statement or StatementForm(),
        can_attach=service.can_attach_statement(inquiry),
        statements=found.statements,
        kinds=service.KINDS,
        statuses=service.STATUSES,
        notice=notice,
    )


@bp.get("/<int:inquiry_id>")
@login_required
def thread(inquiry_id: int):
    """One request: its status, due date and every message."""
    return _thread(inquiry_id, rows=current.read_with_person_results())


@bp.post("/<int:inquiry_id>/reply")
@login_required
def reply(inquiry_id: int):
    """Add a message to the thread: 303 back to it, or the thread with a message (422)."""
    form = ReplyForm(request.form)
    if form.validate():
        result = service.reply_as_person(
            db.session(), current_user, inquiry_id, form.body.data, ip=client_ip()
        )
        if result.ok:
            return _done(inquiry_id, "Your message is in the thread.")
        form.body.errors = [result.errors["body"]]
    return _thread(inquiry_id, reply=form, status=422)


@bp.post("/<int:inquiry_id>/statement")
@login_required
def attach_statement(inquiry_id: int):
    """Attach a statement of the correction sought, after a refused correction."""
    form = StatementForm(request.form)
    if form.validate():
        result = service.attach_statement(
            db.session(),
            current_user,
            inquiry_id,
            field_name=form.field.data,
            statement=form.statement.data,
            ip=client_ip(),
        )
        if result.ok:
            return _done(inquiry_id, "Your statement is attached and shown beside the information.")
        for name, message in result.errors.items():
            getattr(form, name).errors = [message]
    return _thread(inquiry_id, statement=form, status=422)


def _done(inquiry_id: int, notice: str):
    if wants_fragment("thread"):
        return _thread(inquiry_id, notice=notice)
    flash(notice, "success")
    return see_other(url_for("inquiries.thread", inquiry_id=inquiry_id))
