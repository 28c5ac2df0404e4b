"""`/staff`: where staff find the queues they work on."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..auth import staff_required

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.get("/")
@staff_required
def home():
    """The staff hub: every staff section this site serves."""
    return render_template("staff/home.html")
