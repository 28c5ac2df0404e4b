"""`/staff/disclosures`: the register where staff record each release of a person's information."""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_login import current_user

from .. import db
from ..auth import current, staff_required
from ..pages import page_or_fragment, see_other, wants_fragment
from ..security import client_ip
from ..validators import whole_number
from . import service
from .forms import DisclosureForm

bp = Blueprint("disclosures_staff", __name__, url_prefix="/staff/disclosures")


def _asked() -> tuple[str, int]:
    """The search (an email or account number; empty for everyone) and the page asked for."""
    query = request.args.get("person", "").strip()[:320]
    return query, whole_number(request.args.get("page"), high=service.MAX_PAGE) or 1


#: The register comes with the staff member's own read: one round trip.
current.read_with_person(
    "disclosures_staff.register",
    service.SEARCHED,
    service.REGISTER,
    parameters=lambda: service.register_parameters(*_asked()),
    staff=True,
)


def _page(form: DisclosureForm, *, status: int = 200, target: str = "record", notice: str = ""):
    """The register page, or the region htmx asked for."""
    query, page = _asked()
    found = service.register_page(db.engine(), query, page, rows=current.read_with_person_results())
    return page_or_fragment(
        "disclosures/register.html",
        f"disclosures/_{target}.html",
        target,
        status=status,
        form=form,
        rows=found.rows,
        more=found.more,
        page_number=page,
        query=query,
        person=found.person,
        lookup_error=found.lookup_error,
        legal_bases=service.LEGAL_BASES,
        today=service.today(),
        notice=notice,
    )


@bp.get("")
@staff_required
def register():
    """The register, newest first, optionally for one person; and the form to record a release."""
    target = "register" if wants_fragment("register") else "record"
    return _page(DisclosureForm(), target=target)


@bp.post("")
@staff_required
def record():
    """Record a release: 303 back to the register, or the form with messages (422)."""
    form = DisclosureForm(request.form)
    if not form.validate():
        return _page(form, status=422)
    categories = [*form.categories.data, *_split(form.other_categories.data)]
    result = service.record_disclosure(
        db.session(),
        staff=current_user,
        person=form.person.data,
        recipient=form.recipient.data,
        disclosed_on=form.disclosed_on.data,
        categories=categories,
        purpose=form.purpose.data,
        legal_basis=form.legal_basis.data,
        reference=form.reference.data or "",
        withheld_until=form.withheld_until.data,
        withheld_reason=form.withheld_reason.data or "",
        ip=client_ip(),
    )
    if not result.ok:
        for name, message in result.errors.items():
            getattr(form, name).errors = [message]
        return _page(form, status=422)
    notice = "Recorded the release."  # nothing about the case in a flash (the cookie carries it)
    if wants_fragment("record"):
        return _page(DisclosureForm(), notice=notice)
    flash(notice, "success")
    return see_other(url_for("disclosures_staff.register"))


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]
