"""Sign-in, the provider's callback, and sign-out."""

from __future__ import annotations

import logging

from authlib.integrations.base_client import OAuthError
from flask import (
    Blueprint,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from .. import db
from ..models import utcnow
from ..pages import safe_next
from ..security import client_ip, csrf, limiter
from . import backchannel, current, service
from .oidc import LEEWAY_SECONDS, checked_metadata, claims_options, logout_token_provider, provider

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)


def _callback_url() -> str:
    return current_app.config["BASE_URL"] + url_for("auth.callback")


@bp.get("/login")
@limiter.limit("20 per minute")
def login():
    """Send the person to the provider; `reauth=1` makes them authenticate again."""
    next_path = safe_next(request.args.get("next"))
    reauth = request.args.get("reauth") == "1"
    if current_user.is_authenticated and not reauth:
        return redirect(next_path or url_for("account.home"))
    session["next"] = next_path
    # Authlib keeps one state entry per sign-in started; a person who starts several without
    # finishing would grow the cookie past what browsers keep. Only the newest can be finished.
    for key in [k for k in session if k.startswith("_state_provider_")]:
        del session[key]
    extra = {"prompt": "login", "max_age": 0} if reauth else {}
    try:
        checked_metadata()
        return provider().authorize_redirect(_callback_url(), **extra)
    except service.SignInRefused as exc:
        log.warning("sign-in refused: %s", exc.reason)
        return _failed("refused")
    except Exception as exc:  # noqa: BLE001 - any provider failure gets the same calm page
        log.warning("sign-in could not start: %s: %s", type(exc).__name__, exc)
        return _failed("unreachable")


@bp.get("/auth/callback")
@limiter.limit("20 per minute")
def callback():
    """Check everything the provider sent, then sign the person in."""
    try:
        checked_metadata()
        token = provider().authorize_access_token(
            claims_options=claims_options(), leeway=LEEWAY_SECONDS
        )
        if "id_token" not in token or "userinfo" not in token:
            raise service.SignInRefused("the token response carried no checked ID token")
        userinfo = None
        if provider().load_server_metadata().get("userinfo_endpoint"):
            userinfo = dict(provider().userinfo(token=token))
        identity = service.identity_from_claims(
            current_app.config["OIDC_ISSUER"], dict(token["userinfo"]), userinfo
        )
    except OAuthError as exc:
        log.warning("sign-in refused by the provider or bad state: %s", exc.error)
        return _failed("denied" if exc.error == "access_denied" else "refused")
    except service.SignInRefused as exc:
        log.warning("sign-in refused: %s", exc.reason)
        return _failed("refused")
    except Exception as exc:  # noqa: BLE001 - a token that fails any check, or a provider down
        log.warning("sign-in failed: %s: %s", type(exc).__name__, exc)
        return _failed("refused")

    signed = service.sign_in(
        db.session(),
        identity,
        staff_group=current_app.config["STAFF_GROUP"],
        ip=client_ip(),
        user_agent=request.user_agent.string,
        lifetimes=current.lifetimes(),
        id_token=token["id_token"],
        replaces=current.reference_in_cookie(),
    )
    if signed.reference is None:
        return render_template("auth/closed.html", closed_at=signed.user.closed_at), 403

    next_path = safe_next(session.get("next"))
    current.begin(signed.reference)
    log.info("signed in user=%s", signed.user.id)
    return redirect(next_path or url_for("account.home"), code=303)


def _failed(reason: str):
    status = 502 if reason == "unreachable" else 400
    return render_template("auth/failed.html", reason=reason), status


@bp.get("/logout")
def logout_page():
    """A page with the sign-out button (sign-out itself is a POST)."""
    if not current_user.is_authenticated:
        return redirect(url_for("public.home"))
    return render_template("auth/logout.html")


@bp.post("/logout")
def logout():
    """End this session (every copy of the cookie with it), then the provider's."""
    store = db.session()  # holds the session row, whose sealed id_token loads when read
    row = current.current_session()
    id_token = row.id_token if row is not None else None
    if row is not None:
        service.sign_out(store, row)
    current.forget()
    signed_out = current_app.config["BASE_URL"] + url_for("auth.signed_out")
    try:
        end_session = provider().load_server_metadata().get("end_session_endpoint")
    except Exception as exc:  # noqa: BLE001 - provider down: our own sign-out still stands
        log.warning("provider metadata unavailable at sign-out: %s", type(exc).__name__)
        end_session = None
    if end_session and id_token:
        logout = provider().create_logout_url(
            post_logout_redirect_uri=signed_out, id_token_hint=id_token
        )
        return redirect(logout["url"], code=303)
    return redirect(signed_out, code=303)


@bp.post("/auth/backchannel-logout")
@csrf.exempt  # the provider calls from its server: no cookie, no CSRF token, by design
@limiter.limit("120 per minute")
def backchannel_logout():
    """OpenID Connect Back-Channel Logout: end the sessions a valid logout token names.

    200 when done; 400 with a JSON error for any token that fails a check (nothing ends);
    never cached.
    """
    no_store = {"Cache-Control": "no-store"}
    try:
        try:
            checker = logout_token_provider()
        except Exception as exc:  # the provider's discovery unreachable or unreadable
            log.warning("back-channel logout: provider unavailable: %s", type(exc).__name__)
            raise backchannel.LogoutTokenRefused("the provider's keys could not be read") from exc
        now = utcnow()
        claims = backchannel.verify(request.form.get("logout_token"), checker, now=now)
        ended = backchannel.end_sessions(db.session(), claims, now=now)
    except backchannel.LogoutTokenRefused as exc:
        log.warning("back-channel logout refused: %s", exc.reason)
        body = {"error": "invalid_request", "error_description": exc.reason}
        return jsonify(body), 400, no_store
    log.info("back-channel logout ended %s sessions", ended)
    return "", 200, no_store


@bp.get("/signed-out")
def signed_out():
    """Where the provider sends the person back after sign-out."""
    return render_template("auth/signed_out.html")
