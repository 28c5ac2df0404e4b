"""Your data: the export (JSON and a printable page) and the sign-in activity page."""

from __future__ import annotations

from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, logout_user
from sqlmodel import Session

from .. import db
from ..pages import page_or_fragment, see_other
from ..security import client_ip, limiter
from ..validators import database_id
from . import service, signins

bp = Blueprint("mydata", __name__)

#: Whole exports are costly and sensitive: a person may take this many an hour.
EXPORT_LIMIT = "10 per hour"


def _per_person() -> str:
    """Rate-limit key: the signed-in person, else the client address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{client_ip()}"


@bp.get("/account/export.json")
@login_required
@limiter.shared_limit(EXPORT_LIMIT, scope="account-export", key_func=_per_person)
def export_json():
    """Everything Sentro holds about the person, as a JSON download (streamed)."""
    service.record_export(db.session(), current_user, form="json")
    # The body is written after this view returns, so it reads through a session of its own
    # that the stream closes, not the request's (already closed by then).
    reader = Session(db.engine(), expire_on_commit=False)
    export = service.build_export(reader, current_user)
    filename = f"sentro-export-{export.generated_at:%Y-%m-%d}.json"
    return Response(
        _closing(service.export_json(export), reader),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _closing(chunks: Iterator[bytes], reader: Session) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        reader.close()


@bp.get("/account/your-data")
@login_required
@limiter.shared_limit(EXPORT_LIMIT, scope="account-export", key_func=_per_person)
def your_data():
    """The same export as a readable, printable page."""
    service.record_export(db.session(), current_user, form="page")
    export = service.build_export(db.session(), current_user)
    return render_template("mydata/your_data.html", export=export)


def _security_page(*, status: int = 200, error: str = ""):
    listing = signins.history(
        db.session(),
        current_user.id,
        page=signins.page_number(request.args.get("page")),
        policy=signins.IpPolicy.from_config(current_app.config),
    )
    return page_or_fragment(
        "mydata/security.html",
        "mydata/_sign_ins.html",
        "sign-ins",
        status=status,
        listing=listing,
        error=error,
    )


@bp.get("/account/security")
@login_required
def security():
    """The person's sign-ins, newest first, with when each address is reduced and deleted."""
    return _security_page()


@bp.post("/account/security/not-me")
@login_required
def not_me():
    """End every session of the account, this one included, then say how to secure it."""
    sign_in_id = request.form.get("sign_in", type=database_id)
    if not signins.report_not_me(db.session(), current_user, sign_in_id):
        return _security_page(
            status=422, error="We could not find that sign-in. Nothing was changed."
        )
    logout_user()
    session.clear()
    return see_other(url_for("mydata.signed_out_everywhere"))


@bp.get("/account/security/signed-out")
def signed_out_everywhere():
    """After "This wasn't me": every session has ended; change the password at the provider."""
    return render_template(
        "mydata/signed_out.html", account_url=current_app.config["OIDC_ACCOUNT_URL"]
    )
