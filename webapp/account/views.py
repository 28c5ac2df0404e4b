"""`/account`: the signed-in home."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

bp = Blueprint("account", __name__)


@bp.get("/account")
@login_required
def home():
    """Greet the person and show what they can see and control here."""
    return render_template("account/home.html", user=current_user)
