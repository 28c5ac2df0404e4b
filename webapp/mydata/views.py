"""Your data: the export (JSON and a printable page) and the sign-in activity page."""

from __future__ import annotations

from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlmodel import Session

from .. import db, tokens
from ..auth import current, recent_login_required
from ..auth.current import current_session, forget
from ..errors import render_error
from ..pages import page_or_fragment, see_other, wants_fragment
from ..security import client_ip, limiter
from ..validators import whole_number
from . import service, sessions, signins

bp = Blueprint("mydata", __name__)

#: Whole exports are costly and sensitive: a person may take this many an hour.
EXPORT_LIMIT = "10 per hour"


def _per_person() -> str:
    """Rate-limit key: the signed-in person, else the client address."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{client_ip()}"


def _sign_in_page() -> int:
    return signins.page_number(request.args.get("page"))


#: The security page's sign-ins and sessions come with the person's own read: one round trip.
current.read_with_person(
    "mydata.security",
    signins.HISTORY_BY_SESSION,
    sessions.SESSIONS_BY_SESSION,
    parameters=lambda: signins.history_parameters(_sign_in_page()),
)
#: So does the session an alert's link names (only if it is the person's; the view checks).
current.read_with_person(
    "mydata.end_session_link",
    sessions.LINKED_BY_SESSION,
    parameters=lambda: sessions.link_parameters((request.view_args or {}).get("token", "")),
)


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


def _security_page(*, status: int = 200, error: str = "", target: str = "sign-ins"):
    row = current_session()
    listing = signins.history(
        db.engine(),
        current_user.id,
        page=_sign_in_page(),
        policy=signins.IpPolicy.from_config(current_app.config),
        rows=current.read_with_person_rows(0),
    )
    live = sessions.live(
        db.engine(),
        current_user,
        row.id if row else None,
        rows=current.read_with_person_rows(1),
    )
    fragment = "mydata/_sessions.html" if target == "sessions" else "mydata/_sign_ins.html"
    return page_or_fragment(
        "mydata/security.html",
        fragment,
        target,
        status=status,
        listing=listing,
        sessions=live,
        error=error,
        error_at=target if error else "",
    )


@bp.get("/account/security")
@login_required
def security():
    """The person's sessions and sign-ins, with when each address is reduced and deleted."""
    return _security_page(target="sessions" if wants_fragment("sessions") else "sign-ins")


@bp.post("/account/security/sessions/end")
@login_required
def end_session():
    """Sign out one of the person's other browsers; its cookie, wherever it is, stops working."""
    session_id = whole_number(request.form.get("session"))
    this = current_session()
    if this is not None and session_id == this.id:
        return _security_page(
            status=422,
            error="That is this browser: use Sign out at the top of the page.",
            target="sessions",
        )
    if not sessions.end_session(db.session(), current_user, session_id):
        return _security_page(
            status=422,
            error="We could not find that session. Nothing was changed.",
            target="sessions",
        )
    return _sessions_changed("That session is signed out.")


@bp.post("/account/security/sessions/end-others")
@login_required
def end_other_sessions():
    """Sign out every browser of the account except this one."""
    this = current_session()
    count = sessions.end_other_sessions(db.session(), current_user, this.id if this else None)
    return _sessions_changed(
        "Every other session is signed out." if count else "No other session was signed in."
    )


def _sessions_changed(notice: str):
    if wants_fragment("sessions"):
        return _security_page(target="sessions")
    flash(notice, "success")
    return see_other(url_for("mydata.security"))


@bp.post("/account/security/not-me")
@login_required
def not_me():
    """End every session of the account, this one included, then say how to secure it."""
    raw = request.form.get("sign_in")
    sign_in_id = whole_number(raw)
    if raw is not None and not signins.report_not_me(db.session(), current_user, sign_in_id):
        return _security_page(
            status=422, error="We could not find that sign-in. Nothing was changed."
        )
    if raw is None:
        signins.report_not_me_everywhere(db.session(), current_user)
    forget()
    return see_other(url_for("mydata.signed_out_everywhere"))


@bp.get("/account/security/signed-out")
def signed_out_everywhere():
    """After "This wasn't me": every session has ended; change the password at the provider."""
    return render_template(
        "mydata/signed_out.html", account_url=current_app.config["OIDC_ACCOUNT_URL"]
    )


@bp.route("/account/security/sessions/end/<token>", methods=["GET", "POST"])
@recent_login_required
def end_session_link(token: str):
    """The new-sign-in alert's link: after a fresh sign-in, confirm, then end that session."""
    try:
        row = sessions.session_from_link(
            db.engine(), current_user, token, rows=current.read_with_person_rows()
        )
    except tokens.BadToken:
        return render_error(400, "This link is not valid or has expired. Nothing was changed.")
    if row is None:
        return render_error(404, "That session is not one of this account's.")
    this = current_session()
    if request.method == "POST" and (this is None or row.id != this.id):
        sessions.end_session(db.session(), current_user, row.id)
        flash("That session is signed out.", "success")
        return see_other(url_for("mydata.security"))
    return render_template(
        "mydata/end_session.html",
        row=row,
        token=token,
        is_this_browser=this is not None and row.id == this.id,
        ended=row.ended_at is not None,
    )
