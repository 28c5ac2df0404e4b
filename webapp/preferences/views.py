"""The preference pages (signed in, or through an emailed link) and the unsubscribe link."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from .. import db, tokens
from ..auth import current
from ..errors import render_error
from ..mail.service import set_list_extras
from ..pages import page_or_fragment, see_other, wants_fragment
from ..security import client_ip, csrf, limiter
from . import links, service
from .lists import MailingList
from .service import Outcome

bp = Blueprint("preferences", __name__)
log = logging.getLogger(__name__)

# The links in emails are this blueprint's routes, so serving it is what turns them on: every
# app that registers it gives each queued email its list headers and footer.
bp.record_once(lambda _state: set_list_extras(links.mail_extras))

ONE_CLICK = "One-Click"
#: The body RFC 8058 mail programs post, byte for byte, and its content type.
ONE_CLICK_BODY, FORM_ENCODED = b"List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"
BAD_LINK = "This link is damaged or was not made by Sentro. Nothing was changed."
GONE_LIST = "That mailing list no longer exists, so there is nothing to leave. Nothing was changed."
LOCKED = "Account and security notices can't be switched off while you have an account."
JOIN_SIGNED_IN = (
    "A link in an email can only take you off lists. Sign in to join this list. "
    "Nothing was changed."
)
#: The pages opened from an email, per address: plenty for a person, too few to guess tokens.
LINK_PAGE_LIMIT = "30 per minute"
#: Switches saved from the emailed page, per address (a person flips a handful of lists).
LINK_SAVE_LIMIT = "60 per minute"


PAGE = "preferences/page.html"
ROW = "preferences/_list_row.html"


def row_id(list_id: str) -> str:
    """The element id of a list's row, the target htmx swaps."""
    return f"list-{list_id}"


def _parse_choice() -> bool | None:
    value = request.form.get("subscribed")
    return {"1": True, "0": False}.get(value or "")


def _save(user_id: int, list_id: str, via: str, *, back: str, save_endpoint: str, **context):
    """Shared by both preference pages: parse, change, answer the row or redirect."""
    try:
        links.mailing_list(list_id)
    except links.UnknownList:
        abort(404)
    subscribed = _parse_choice()
    session = db.session()
    error, status = None, 200
    if subscribed is None:
        error, status = "Choose on or off.", 422
    else:
        try:
            service.set_subscription(session, user_id, list_id, subscribed, via, ip=client_ip())
        except links.LockedList:
            error, status = LOCKED, 422
        except service.NeedsSignIn:
            error, status = JOIN_SIGNED_IN, 403
    target = row_id(list_id)
    fragment = wants_fragment(target)
    current = service.choice(session, user_id, list_id)
    if error is None and not fragment:
        state = "on" if current.subscribed else "off"
        flash(f"Saved: “{current.mailing_list.name}” is {state}.", "success")
        return see_other(back)
    return page_or_fragment(
        PAGE,
        ROW,
        target,
        status=status,
        choice=current,
        choices=None if fragment else service.choices(session, user_id),
        errors={} if error is None else {list_id: error},
        saved=error is None,
        save_endpoint=save_endpoint,
        **context,
    )


# --- signed in ---------------------------------------------------------------------------


#: The page's choices come with the person's read: one round trip.
current.read_with_person("preferences.page", service.CHOICES_BY_SESSION)


@bp.get("/account/email-preferences")
@login_required
def page():
    """One switch per list, each saying when and how it last changed."""
    rows = current.read_with_person_rows()
    return render_template(
        PAGE,
        choices=service.choices_from_rows(rows)
        if rows is not None
        else service.choices(db.session(), current_user.id),
        save_endpoint="preferences.save",
        token=None,
        errors={},
    )


@bp.post("/account/email-preferences/<list_id>")
@login_required
def save(list_id: str):
    """Switch one list on or off."""
    return _save(
        current_user.id,
        list_id,
        "page",
        back=url_for("preferences.page"),
        save_endpoint="preferences.save",
        token=None,
    )


# --- through the link in an email, without signing in -------------------------------------


def _url_token() -> str:
    return str((request.view_args or {}).get("token", ""))


def _person_of_link() -> dict[str, Any] | None:
    """`LINK_PAGE`'s parameters: the person a good, unexpired link names (else nothing)."""
    try:
        return service.link_parameters(links.read_preferences_token(_url_token()))
    except tokens.BadToken:
        return None


#: A browser that is signed in reads the link's person with its own: one round trip.
current.read_with_person("preferences.by_token", service.LINK_PAGE, parameters=_person_of_link)


@bp.get("/email-preferences/<token>")
@limiter.limit(LINK_PAGE_LIMIT)
def by_token(token: str):
    """The person's lists and switches, opened from an email; the address masked."""
    try:
        user_id = links.read_preferences_token(token)
    except tokens.ExpiredToken:
        return render_template(
            "preferences/expired.html", token=token, days=links.PREFERENCE_LINK_DAYS
        )
    except tokens.BadToken:
        return render_error(400, BAD_LINK)
    page = service.link_page(db.engine(), user_id, rows=current.read_with_person_rows())
    if page is None:
        return render_template("preferences/no_list.html")
    return render_template(
        PAGE,
        choices=page.choices,
        save_endpoint="preferences.save_by_token",
        token=token,
        email=page.email,
        errors={},
    )


@bp.post("/email-preferences/<token>/lists/<list_id>")
@limiter.limit(LINK_SAVE_LIMIT)
def save_by_token(token: str, list_id: str):
    """Switch one list from the emailed page."""
    try:
        user_id = links.read_preferences_token(token)
    except tokens.ExpiredToken:
        page_url = url_for("preferences.by_token", token=token)
        if wants_fragment(row_id(list_id)):
            return "", 204, {"HX-Redirect": page_url}
        return see_other(page_url)
    except tokens.BadToken:
        return render_error(400, BAD_LINK)
    session = db.session()
    user = service.active_account(session, user_id)
    if user is None:
        return render_template("preferences/no_list.html")
    return _save(
        user_id,
        list_id,
        "email-link",
        back=url_for("preferences.by_token", token=token),
        save_endpoint="preferences.save_by_token",
        token=token,
        email=service.masked_email(user.email),
    )


def _link_owner() -> str:
    """Rate-limit key: the person the (possibly expired) link names, else the link itself."""
    token = (request.view_args or {}).get("token", "")
    try:
        return f"person:{links.read_preferences_token(token)}"
    except tokens.ExpiredToken as expired:
        return f"person:{expired.payload}"
    except tokens.BadToken:
        return f"token:{token[:200]}"


@bp.post("/email-preferences/<token>/new-link")
@limiter.limit("10 per hour")
@limiter.limit("3 per day", key_func=_link_owner)
def new_link(token: str):
    """Email a fresh preference link to the address on file (for an expired link)."""
    try:
        user_id = links.read_preferences_token(token)
    except tokens.ExpiredToken as expired:
        user_id = expired.payload
    except tokens.BadToken:
        return render_error(400, BAD_LINK)
    sent_to = service.send_fresh_link(db.session(), user_id)
    if sent_to is None:
        return render_template("preferences/no_list.html")
    return render_template("preferences/link_sent.html", email=sent_to)


# --- the unsubscribe link: List-Unsubscribe, and the footer of every list email ----------


def _read_unsubscribe_link(token: str):
    """((user id, list), None) for a good unsubscribe link; (None, the clear 4xx) otherwise."""
    try:
        return links.read_unsubscribe_token(token), None
    except links.UnknownList:
        return None, render_error(404, GONE_LIST)
    except (tokens.BadToken, links.LockedList):
        return None, render_error(400, BAD_LINK)


def _standing_of_link() -> dict[str, Any] | None:
    """`LINK_STANDING`'s parameters for the page (never the POST): a good link's person and list."""
    if request.method == "POST":
        return None
    try:
        user_id, mailing_list = links.read_unsubscribe_token(_url_token())
    except (tokens.BadToken, links.UnknownList, links.LockedList):
        return None
    return service.link_parameters(user_id, mailing_list.id)


#: A browser that is signed in reads the link's person with its own: one round trip.
current.read_with_person(
    "preferences.unsubscribe", service.LINK_STANDING, parameters=_standing_of_link
)


@limiter.limit(LINK_PAGE_LIMIT)
def _unsubscribe_page(token: str):
    """The page behind the link: a button, and nothing changed yet (limited per address)."""
    link, refused = _read_unsubscribe_link(token)
    if link is None:
        return refused
    user_id, mailing_list = link
    subscribed = service.link_standing(
        db.engine(), user_id, mailing_list, rows=current.read_with_person_rows()
    )
    if subscribed is None:
        return render_template("preferences/no_list.html")
    return render_template(
        "preferences/unsubscribe.html",
        token=token,
        mailing_list=mailing_list,
        subscribed=subscribed,
        preferences_token=links.preferences_token(user_id),
    )


def _one_click_answer(mailing_list: MailingList, outcome: Outcome) -> str:
    """The tiny page a mail program gets (it reads only the status): rendered once per app."""
    answers = current_app.extensions.setdefault("sentro.one_click_answers", {})
    key = (mailing_list.id, outcome)
    if key not in answers or current_app.jinja_env.auto_reload:
        # Without the layout's context (user, CSRF, nav): it depends on the list and outcome.
        tiny = current_app.jinja_env.get_template("preferences/one_click.html")
        answers[key] = tiny.render(mailing_list=mailing_list, outcome=outcome)
    return answers[key]


def _is_one_click() -> bool:
    """Whether the POST says `List-Unsubscribe=One-Click` (RFC 8058), in any form encoding."""
    if request.mimetype == FORM_ENCODED and request.get_data() == ONE_CLICK_BODY:
        return True  # what mail programs send: no form parsing needed to read it
    return request.form.get("List-Unsubscribe") == ONE_CLICK  # parsed from the cached body


@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail program's POST carries no cookie and no CSRF token
def unsubscribe(token: str):
    """GET shows a button and changes nothing; POST (one-click or the button) leaves the list."""
    if request.method != "POST":  # GET, and the HEAD Flask adds to it: link scanners send both
        return _unsubscribe_page(token)
    # Only the page is limited: mail providers send the one-click POST from a few addresses,
    # and a limit there would refuse real requests (RFC 8058 asks the POST to just work).
    link, refused = _read_unsubscribe_link(token)
    if link is None:
        return refused
    user_id, mailing_list = link
    one_click = _is_one_click()
    try:
        outcome = service.leave_by_link(
            db.engine(), user_id, mailing_list.id, "one-click" if one_click else "email-link"
        )
    except SQLAlchemyError as exc:
        # Never say "done" for a change that was not stored: 503 makes the mail program retry.
        log.error("unsubscribe not stored: %s", type(exc).__name__)
        body, status = render_error(503)
        return body, status, {"Retry-After": "30"}
    if one_click:
        return _one_click_answer(mailing_list, outcome)
    if outcome is Outcome.NO_ACCOUNT:
        return render_template("preferences/no_list.html")
    return render_template(
        "preferences/unsubscribed.html",
        mailing_list=mailing_list,
        preferences_token=links.preferences_token(user_id),
    )
