"""`/staff/policy`: staff publish a new version, as `flask policy publish` does, in three steps.

The form starts from the newest version's text; the preview shows the word comparison with
it and the exact number of people to be emailed; only the preview's final button publishes.
Publishing stores the version and starts its notices in one transaction; the mail worker
sends them, and the page follows their progress.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, render_template, request, url_for

from .. import db
from ..auth import current, staff_required
from ..auth.current import read_with_person_results
from ..models import utcnow
from ..pages import page_or_fragment, see_other
from . import notices, preview, reading, service
from .views import today

bp = Blueprint("policy_staff", __name__, url_prefix="/staff/policy")
#: How often the page asks how far the notices have got while they are going out.
POLL_SECONDS = 3


def _number_in_path() -> dict[str, int] | None:
    return reading.notice_parameters((request.view_args or {}).get("number"))


#: The staff member's read brings the page's own: one round trip (`staff_required` decides).
current.read_with_person(
    "policy_staff.publish_form", reading.VERSIONS, notices.NEWEST_PROGRESS, staff=True
)
current.read_with_person(
    "policy_staff.notice_progress",
    reading.VERSION_NUMBER,
    notices.PROGRESS,
    parameters=_number_in_path,
    staff=True,
)


@bp.get("/")
@staff_required
def publish_form():
    """The form for a new version, starting from the newest text; the versions published so far."""
    return _form_page(form=None, errors={})


@bp.post("/preview")
@staff_required
def preview_draft():
    """The draft compared with the newest version, and who will be emailed; or back to editing."""
    if request.form.get("step") == "edit":
        return _form_page(form=request.form, errors={})
    return _preview_or_errors()


@bp.post("/")
@staff_required
def publish():
    """Publish once confirmed on the preview: the version and its notices, then back to the page."""
    if request.form.get("confirmed") != "yes":
        return _preview_or_errors()  # never publish what staff have not seen previewed
    form = request.form
    session = db.session()
    result = service.publish(
        session,
        text=form.get("text", ""),
        summary=form.get("summary", ""),
        effective_on=service.parse_date(form.get("effective_on")),
        today=today(),
        now=utcnow(),
    )
    if not result.ok:
        session.rollback()
        return _form_page(form=form, errors=result.errors, status=422)
    session.commit()
    assert result.version is not None
    flash(
        f"Version {result.version.number} is published. Its notices are being sent by the mail "
        "worker; their progress is below.",
        "success",
    )
    return see_other(url_for(".publish_form"))


@bp.get("/notices/<int:number>")
@staff_required
def notice_progress(number: int):
    """How far the notices of version `number` have got (htmx polls this while they go out)."""
    progress = reading.notice_progress(db.engine(), number, rows=read_with_person_results())
    if progress is None:
        abort(404)
    return page_or_fragment(
        "policy/staff_notices.html",
        "policy/_notice_progress.html",
        f"notices-{number}",
        number=number,
        progress=progress,
        poll_seconds=POLL_SECONDS,
    )


def _preview_or_errors():
    form = request.form
    text = form.get("text", "")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        try:
            text = service.text_from_file(upload.read())
        except ValueError as error:
            return _form_page(form=form, errors={"text": str(error)}, status=422)
    draft = preview.check(
        db.session(),
        text=text,
        summary=form.get("summary", ""),
        effective_on=service.parse_date(form.get("effective_on")),
        today=today(),
    )
    if not draft.ok:
        return _form_page(form={**form, "text": text}, errors=draft.errors, status=422)
    return render_template("policy/staff_preview.html", draft=draft)


def _form_page(*, form, errors: dict[str, str], status: int = 200):
    # Read with the person on the page itself; after a post, in one round trip of its own.
    versions, progress = reading.publish_page(db.engine(), rows=read_with_person_results())
    newest = versions[0] if versions else None
    if form is None:
        form = {"text": newest.text if newest else ""}
    return (
        render_template(
            "policy/staff.html",
            form=form,
            errors=errors,
            versions=versions,
            newest=newest,
            progress=progress,
            poll_seconds=POLL_SECONDS,
            on=today(),
        ),
        status,
    )
