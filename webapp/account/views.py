"""`/account`: the signed-in home."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from .. import db
from ..auth import current
from ..closure.service import STATUS_LABELS
from ..consent import web as consent_web
from ..consent.service import PURPOSES
from . import service

bp = Blueprint("account", __name__)
#: What is waiting for the person comes with the person's own read: one round trip.
current.read_with_person(
    "account.home", service.STATUS_BY_SESSION, parameters=service.status_parameters
)


@bp.get("/account")
@login_required
def home():
    """Greet the person, say what is waiting for them, and show what they can control here."""
    state = consent_web.consent_state()
    unchosen = [
        p.label
        for p in PURPOSES
        if state.choices.get(p.id) is None and not state.refused_by_gpc(p.id)
    ]
    # The policy version to acknowledge is the layout's `policy_banner()`: the template asks it.
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    status = service.account_status(
        db.engine(), user.id, unchosen=unchosen, rows=current.read_with_person_rows()
    )
    return render_template(
        "account/home.html", user=user, status=status, closure_labels=STATUS_LABELS
    )
