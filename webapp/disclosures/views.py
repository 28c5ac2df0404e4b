"""`/account/disclosures`: has my information been provided, and to whom."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from .. import db
from ..auth import current
from . import service

bp = Blueprint("disclosures", __name__)
#: The person's releases come with the person's own read: one round trip.
current.read_with_person(
    "disclosures.mine", service.DISCLOSURES_BY_SESSION, parameters=service.disclosures_parameters
)


@bp.get("/account/disclosures")
@login_required
def mine():
    """Every release about the person they may see, and the standing third parties."""
    disclosures = service.disclosures_for_person(
        db.engine(), current_user.id, rows=current.read_with_person_rows()
    )
    return render_template(
        "disclosures/mine.html",
        disclosures=disclosures,
        third_parties=service.third_parties(),
    )
