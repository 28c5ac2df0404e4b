"""Consent in a request: the browser's cookie and GPC signal, the analytics tag and its CSP.

The state is worked out once per request and only when something asks for it; for signed-in
people it is read from the User row flask-login loads anyway, so it costs no query.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask_login import current_user

from .. import tokens
from ..config import ConfigError
from ..db import DatabaseUnavailable
from .declarations import CONSENT_COOKIE, CONSENT_LIFETIME_DAYS, is_analytics_cookie
from .service import ANALYTICS, Choices, ConsentState

CONSENT_TOKEN = tokens.Purpose("consent", CONSENT_LIFETIME_DAYS * 24 * 3600)

#: Only responses that carry the analytics tag admit Google's hosts (webapp/security.py merges).
ANALYTICS_CSP = {
    "script-src": "https://www.googletagmanager.com",
    "connect-src": "https://*.google-analytics.com https://*.analytics.google.com "
    "https://www.googletagmanager.com",
    "img-src": "https://*.google-analytics.com https://www.googletagmanager.com",
}


def sends_gpc() -> bool:
    """Whether this request carries Global Privacy Control (`Sec-GPC: 1`)."""
    return request.headers.get("Sec-GPC", "").strip() == "1"


def browser_choices() -> Choices:
    """The choices in this browser's consent cookie (none when absent, forged or expired)."""
    value = request.cookies.get(CONSENT_COOKIE)
    if not value:
        return Choices()
    try:
        payload = tokens.read(CONSENT_TOKEN, value)
    except tokens.BadToken:
        return Choices()
    return Choices.from_summary(payload.get("c") if isinstance(payload, dict) else None)


def current_choices() -> Choices:
    """The choices in force: a signed-in person's own, filled in from this browser's cookie."""
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    if user.is_authenticated:
        mine = Choices.from_summary(user.consent_summary)
        return mine if mine.all_known else mine.filled_from(browser_choices())
    return browser_choices()


def consent_state() -> ConsentState:
    """The consent that applies to this request (worked out once)."""
    found = g.get("consent_state")
    if found is None:
        found = g.consent_state = ConsentState(current_choices(), gpc=sends_gpc())
    return found


def use_state(state: ConsentState) -> None:
    """The state for the rest of this request, after the person changed their choices."""
    g.consent_state = state


#: The pages where every choice is made, or the banner's own answer: no banner there.
_CHOOSING = frozenset({"consent.controls", "consent.save_controls", "consent.answer_banner"})


def banner_shown() -> bool:
    """Whether this page asks for consent: only until a choice is known, and not where it is made."""
    return consent_state().undecided and request.endpoint not in _CHOOSING


def analytics_id() -> str:
    """The measurement id when this response may carry the analytics tag, else "".

    Saying yes also admits Google's hosts in this response's Content-Security-Policy.
    """
    measurement_id = current_app.config["GA_MEASUREMENT_ID"]
    if not measurement_id or not consent_state().allows(ANALYTICS):
        return ""
    extra = dict(g.get("csp_extra", {}))
    for directive, sources in ANALYTICS_CSP.items():
        if sources not in extra.get(directive, ""):
            extra[directive] = f"{extra.get(directive, '')} {sources}".strip()
    g.csp_extra = extra
    return measurement_id


def remember_in_browser(response: Response, choices: Choices) -> None:
    """Write the choices to this browser's signed consent cookie (it survives sign-out)."""
    response.set_cookie(
        CONSENT_COOKIE,
        tokens.make(CONSENT_TOKEN, {"c": choices.summary()}),
        max_age=CONSENT_LIFETIME_DAYS * 24 * 3600,
        path="/",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        httponly=True,
        samesite="Lax",
    )


def expire_analytics_cookies(response: Response) -> Response:
    """Remove the analytics provider's cookies the browser still sends without consent."""
    names = [name for name in request.cookies if is_analytics_cookie(name)]
    if not names or request.endpoint == "static":
        return response
    try:
        allowed = consent_state().allows(ANALYTICS)
    except DatabaseUnavailable:  # who is signed in is unknown: keep to what the browser says
        allowed = ConsentState(browser_choices(), gpc=sends_gpc()).allows(ANALYTICS)
    if allowed:
        return response
    host = request.host.rsplit(":", 1)[0] if "]" not in request.host else ""
    for name in names:
        # The tag sets them host-only (cookie_domain 'none'); a browser may have kept a copy
        # for the host as a domain too, so both are expired.
        response.delete_cookie(name, path="/")
        if "." in host and not host.replace(".", "").isdigit():
            response.delete_cookie(name, path="/", domain=host)
    return response


def init_app(app: Flask) -> None:
    """Check the setting, expose the state to templates, expire cookies after withdrawal."""
    measurement_id = app.config.get("GA_MEASUREMENT_ID", "")
    if measurement_id and not _valid_measurement_id(measurement_id):
        raise ConfigError("GA_MEASUREMENT_ID must look like G-XXXXXXXXXX (or be empty)")
    app.jinja_env.globals["consent_state"] = consent_state
    app.jinja_env.globals["analytics_id"] = analytics_id
    app.jinja_env.globals["consent_banner_shown"] = banner_shown
    app.after_request(expire_analytics_cookies)


def _valid_measurement_id(value: str) -> bool:
    rest = value.removeprefix("G-")
    return value.startswith("G-") and 4 <= len(rest) <= 20 and rest.isalnum() and rest.isascii()
