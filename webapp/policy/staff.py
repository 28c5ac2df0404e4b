"""`/staff/policy`: staff publish a new version, exactly as `flask policy publish` does."""

from __future__ import annotations

from flask import Blueprint, flash, render_template, request, url_for

from .. import db
from ..auth import staff_required
from ..models import utcnow
from ..pages import page_or_fragment, see_other, wants_fragment
from . import service
from .views import today

bp = Blueprint("policy_staff", __name__, url_prefix="/staff/policy")


@bp.get("/")
@staff_required
def publish_form():
    """The form for a new version, with the versions published so far."""
    return _page(form={}, errors={})


@bp.post("/")
@staff_required
def publish():
    """Publish the version and queue its notices; 422 with the reasons when anything is refused."""
    form = request.form
    text = form.get("text", "")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        try:
            text = service.text_from_file(upload.read())
        except ValueError as error:
            return _page(form=form, errors={"text": str(error)}, status=422)
    session = db.session()
    result = service.publish(
        session,
        text=text,
        summary=form.get("summary", ""),
        effective_on=service.parse_date(form.get("effective_on")),
        today=today(),
        now=utcnow(),
    )
    if not result.ok:
        session.rollback()
        return _page(form=form, errors=result.errors, status=422)
    session.commit()
    count = result.notices
    message = (
        f"Version {result.version.number} is published; "
        f"{count:,} notice{'' if count == 1 else 's'} queued."
    )
    if wants_fragment("publish-form"):
        return render_template(
            "policy/_publish_form.html", form={}, errors={}, done=message, on=today()
        )
    flash(message, "success")
    return see_other(url_for("policy.versions"))


def _page(*, form, errors: dict[str, str], status: int = 200):
    return page_or_fragment(
        "policy/staff.html",
        "policy/_publish_form.html",
        "publish-form",
        status=status,
        form=form,
        errors=errors,
        versions=service.versions(db.session()),
        on=today(),
    )
