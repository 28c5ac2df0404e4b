"""`/account/profile`: see and correct what Sentro holds about you, one field group at a time.

Every control is a link or a form that works without JavaScript; htmx swaps the group's
region `field-<group>` in place instead of loading the whole page.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for
from flask_login import current_user, login_required

from .. import db
from ..auth import current, recent_login_required
from ..models import PendingEmailChange, User, utcnow
from ..pages import htmx, see_other, wants_fragment
from ..security import client_ip, limiter, person_or_ip
from ..tokens import EMAIL_CHANGE, EMAIL_CHANGE_UNDO, Purpose
from . import email_change, forms, service
from .forms import GROUPS

bp = Blueprint("profile", __name__, url_prefix="/account/profile")

EDITABLE = "any(name, phone, address, timezone)"
#: Each request mails two addresses: a person may ask this often (and typos need a retry).
EMAIL_CHANGE_LIMIT = "5 per hour"
#: The emailed links, per address: plenty for a person, too few to guess tokens.
EMAIL_LINK_LIMIT = "30 per minute"
#: Announced in the page's live region when htmx swaps in a refused form.
NOT_SAVED = {
    "notice": "Not saved: please check the message by the field.",
    "notice_category": "error",
}


def _me() -> User:
    """The signed-in person's row itself (not the proxy), for the service to update."""
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _render(
    group: str | None,
    *,
    editing: bool = False,
    status: int = 200,
    fragment: bool | None = None,
    **context,
):
    """The page, or only the group's region when htmx asked for it (`fragment`, if known)."""
    user = _me()
    if fragment is None:
        fragment = bool(group) and wants_fragment(f"field-{group}")
    whole_page = not fragment and not editing  # the only one that lists cards
    facts = service.profile_facts(
        db.engine(),
        user,
        cards=whole_page,
        pending=whole_page or (group == "email" and not editing),
        rows=current.read_with_person_rows() if whole_page else None,
    )
    context = {
        "user": user,
        "facts": facts,
        "groups": GROUPS,
        "editing_group": group if editing else None,
        "as_fragment": fragment,
        "account_url": current_app.config["OIDC_ACCOUNT_URL"],
        "current_time": utcnow(),  #: shown beside the time zone, in it
        "ui": _macros(),
        **context,
    }
    if fragment:
        template = f"profile/_{group}.html"
    else:
        template = "profile/edit.html" if editing else "profile/show.html"
    return render_template(template, **context), status


def _macros():
    """templates/profile/_macros.html as a module, which Jinja keeps with the loaded template.

    The partials call its macros as `ui.<macro>`: an `{% import %}` in each partial would make
    a module per include (with context), or find the kept one through a ChainMap of every
    template global (without), about 120 to 165 calls each time.
    """
    return current_app.jinja_env.get_template("profile/_macros.html").module


def _form_for(group: str, **context) -> dict:
    """Context for a group's edit form: the stored values and the digest it was made from."""
    values = service.group_values(_me(), group)
    if group == "address" and not values["country"]:
        values["country"] = current_app.config["PHONE_DEFAULT_REGION"]  # the site's own region
    return {
        "values": values,
        "seen": service.fingerprint(_me(), group),
        "errors": {},
        **context,
    }


def _whole_page_facts() -> dict | None:
    """The whole page's cards and pending change come with the person's read (one round trip)."""
    return None if htmx and htmx.target else {"now": utcnow()}


current.read_with_person(
    "profile.show",
    service.facts_statement(True, True, by_session=True),
    parameters=_whole_page_facts,
)


@bp.get("")
@login_required
def show():
    """The whole profile, or one group's value when htmx cancels an edit."""
    target = (htmx.target or "") if htmx else ""
    group = target.removeprefix("field-")
    if target.startswith("field-") and group in GROUPS:
        return _render(group)
    return _render(None)


@bp.get(f"/<{EDITABLE}:group>/edit")
@login_required
def edit(group: str):
    """The group's form: swapped in place by htmx, a page of its own otherwise."""
    return _render(group, editing=True, **_form_for(group))


@bp.post(f"/<{EDITABLE}:group>")
@login_required
def save(group: str):
    """Save a group: its new value to htmx, a redirect to the page otherwise; 422 if refused."""
    typed = forms.read_form(GROUPS[group], request.form)
    typed_seen = str(request.form.get("seen", ""))
    outcome = service.update_group(
        db.session(),
        _me(),
        group,
        typed,
        seen=typed_seen,
        ip=client_ip(),
    )
    if not outcome.ok:
        # After a conflict the form is made from what is stored now, so saving again is a choice.
        seen = service.fingerprint(_me(), group) if outcome.conflict else typed_seen
        return _render(
            group,
            editing=True,
            status=422,
            values=outcome.values,
            errors=outcome.errors,
            seen=seen,
            **NOT_SAVED,
        )
    return _done(group, outcome.message)


def _done(group: str, message: str):
    if wants_fragment(f"field-{group}"):
        return _render(group, fragment=True, notice=message)
    flash(message, "success")
    return see_other(url_for("profile.show") + f"#field-{group}")


@bp.get("/email/edit")
@recent_login_required
def edit_email():
    """The form for a new contact email (after a recent sign-in)."""
    return _render("email", editing=True, values={"email": ""}, errors={})


@bp.post("/email")
@recent_login_required
@limiter.limit(EMAIL_CHANGE_LIMIT, key_func=person_or_ip)
def change_email():
    """Send the confirmation link to the new address and a notice to the old one."""
    typed = str(request.form.get("email", ""))
    outcome = email_change.request_email_change(db.session(), _me(), typed, ip=client_ip())
    if not outcome.ok:
        return _render(
            "email",
            editing=True,
            status=422,
            values={"email": typed},
            errors=outcome.errors,
            **NOT_SAVED,
        )
    return _done("email", outcome.message)


@bp.post("/email/cancel")
@login_required
def cancel_email():
    """Withdraw the pending email change."""
    cancelled = email_change.cancel_email_change(db.session(), _me(), ip=client_ip())
    message = "The email change is cancelled." if cancelled else "There was no change to cancel."
    return _done("email", message)


def _change_of_link(purpose: Purpose) -> Callable[[], dict[str, int] | None]:
    """The parameters of the change a link's page shows (never its POST's): a genuine link's."""

    def parameters() -> dict[str, int] | None:
        if request.method == "POST":
            return None
        token = str((request.view_args or {}).get("token", ""))
        return email_change.link_parameters(purpose, token)

    return parameters


#: A browser that is signed in reads the link's change with its person: one round trip.
current.read_with_person(
    "profile.confirm_email", email_change.CHANGE_OF_LINK, parameters=_change_of_link(EMAIL_CHANGE)
)
current.read_with_person(
    "profile.undo_email", email_change.CHANGE_OF_LINK, parameters=_change_of_link(EMAIL_CHANGE_UNDO)
)


def _shown_change(purpose: Purpose, token: str) -> PendingEmailChange:
    """The change a link's page shows (a GET only looks): raises LinkProblem as the POST does."""
    return email_change.change_for_page(
        db.engine(), purpose, token, rows=current.read_with_person_rows()
    )


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(EMAIL_LINK_LIMIT)
def confirm_email(token: str):
    """The new address's link: a page with a button (mail scanners follow links, not forms)."""
    try:
        if request.method == "POST":
            email_change.confirm_email_change(db.session(), token, ip=client_ip())
            return see_other(url_for("profile.email_link_done", outcome="confirmed"))
        change = _shown_change(EMAIL_CHANGE, token)
    except email_change.LinkProblem as exc:
        return _link_problem(exc.reason)
    if change.status != "pending" or change.expires_at <= utcnow():
        return _link_problem("used" if change.status != "pending" else "expired")
    return render_template("profile/confirm_email.html", change=change, token=token)


@bp.route("/email/undo/<token>", methods=["GET", "POST"])
@limiter.limit(EMAIL_LINK_LIMIT)
def undo_email(token: str):
    """The old address's "this wasn't me" link: cancel the change, or undo it."""
    try:
        if request.method == "POST":
            outcome = email_change.undo_email_change(db.session(), token, ip=client_ip())
            return see_other(url_for("profile.email_link_done", outcome=outcome))
        change = _shown_change(EMAIL_CHANGE_UNDO, token)
    except email_change.LinkProblem as exc:
        return _link_problem(exc.reason)
    if change.status not in {"pending", "confirmed"}:
        return _link_problem("used")
    masked = email_change.mask_email(change.new_email)
    return render_template("profile/undo_email.html", change=change, token=token, masked=masked)


@bp.get("/email/done/<any(confirmed, cancelled, restored):outcome>")
def email_link_done(outcome: str):
    """What following an email link did."""
    return render_template(
        "profile/email_done.html",
        outcome=outcome,
        account_url=current_app.config["OIDC_ACCOUNT_URL"],
    )


def _link_problem(reason: str):
    status = {"invalid": 400, "expired": 410, "used": 410}.get(reason)
    if status is None:
        abort(400)
    return render_template("profile/link_problem.html", reason=reason), status


@bp.app_template_filter("phone_display")
def _phone_display(value: str) -> str:
    return forms.phone_display(value or "")


@bp.app_template_filter("country_name")
def _country_name(code: str) -> str:
    return forms.country_name(code or "")


@bp.app_template_filter("provider_name")
def _provider_name(issuer: str) -> str:
    return urlsplit(issuer or "").hostname or issuer or "your sign-in provider"


bp.add_app_template_global(forms.countries, "countries")
bp.add_app_template_global(forms.time_zones, "time_zone_choices")
bp.add_app_template_filter(forms.zone_label, "zone_name")
