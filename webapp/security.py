"""The security baseline every response gets: CSRF, headers, rate limits, the client's IP."""

from __future__ import annotations

import hashlib
import os
import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request, session
from flask.globals import request_ctx
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from .signing import KeptSerializer

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def client_ip() -> str:
    """The client's IP address, after trusting TRUSTED_PROXIES hops of X-Forwarded-For."""
    return request.remote_addr or ""


def person_or_ip() -> str:
    """Rate-limit key: the signed-in person, else the client's address."""
    from flask_login import current_user

    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{client_ip()}"


def init_app(app: Flask) -> None:
    """Install CSRF, rate limiting, proxy handling, request ids and the response headers."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    app.config.setdefault("RATELIMIT_ENABLED", True)
    # The limits' store (Redis) down must not take the site down: each process then counts in
    # its own memory (the same limits, per process instead of shared) until the store answers
    # again, and any other storage error is logged, not turned into a 500. See the README.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    if str(app.config.get("RATELIMIT_STORAGE_URI", "")).startswith(("redis://", "rediss://")):
        # A store that stops answering (not only one that refuses) costs a second, not a hang.
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1}
        )
    app.session_interface = CookieSessions()
    csrf.init_app(app)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.context_processor(lambda: {"csrf_token": csrf_token})  # after Flask-WTF's: this wins
    limiter.init_app(app)

    issuer = app.config.get("OIDC_ISSUER") or ""
    provider_origin = ""
    if issuer:
        parts = urlsplit(issuer)
        provider_origin = f"{parts.scheme}://{parts.netloc}"

    # Forms may lead to the provider (sign-out ends the session there).
    base_csp = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "form-action": f"'self' {provider_origin}".strip(),
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "object-src": "'none'",
    }
    # Built once: the headers are the same on every response (a view may widen the CSP).
    fixed_csp = _csp_text(base_csp)
    fixed = (
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
    )

    @app.before_request
    def _request_id() -> None:
        g.request_id = secrets.token_hex(8)

    @app.after_request
    def _headers(response: Response) -> Response:
        extra = g.get("csp_extra")
        csp = fixed_csp
        if extra:
            widened = dict(base_csp)
            for directive, sources in extra.items():
                widened[directive] = f"{widened.get(directive, '')} {sources}".strip()
            csp = _csp_text(widened)
        headers = response.headers
        present = {name.lower() for name, _value in headers}  # a view's own header wins
        wanted = [("Content-Security-Policy", csp), *fixed]
        if request.is_secure:
            wanted.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
        if request.endpoint != "static":
            wanted.append(("Cache-Control", "no-store"))
        headers.extend([(name, value) for name, value in wanted if name.lower() not in present])
        headers.add("Vary", "HX-Request")
        headers["X-Request-Id"] = g.get("request_id", "")
        return response


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, its serializer built once per key set, not per request.

    Flask builds the serializer (and its signer) afresh to open and to save every cookie; the
    keys change only with SECRET_KEY and SECRET_KEY_FALLBACKS, which the cache is keyed on. It
    is a `KeptSerializer` (webapp/signing.py) given Flask's arguments: it signs as Flask's does.
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple, URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The serializer for the app's current keys."""
        if not app.secret_key:
            return None
        fallbacks = tuple(app.config["SECRET_KEY_FALLBACKS"] or ())
        key = (app.secret_key, fallbacks)
        found = self._serializers.get(key)
        if found is None:
            found = self._serializers[key] = KeptSerializer(
                [*fallbacks, app.secret_key],  # the current key last, as Flask orders them
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={
                    "key_derivation": self.key_derivation,
                    "digest_method": self.digest_method,
                },
            )
        return found


#: Flask-WTF's salt for the CSRF token: its `validate_csrf` checks what `csrf_token` signs.
CSRF_SALT = "wtf-csrf-token"


def csrf_token() -> str:
    """The page's CSRF token (templates' `csrf_token()`): signed once a request, then reused.

    Flask-WTF's `generate_csrf` with its serializer kept per key, not built for each token: the
    raw secret in the cookie session under WTF_CSRF_FIELD_NAME (made on first need), signed
    with WTF_CSRF_SECRET_KEY or SECRET_KEY and kept in `g` under the same name for the
    request, where Flask-WTF's forms find it too.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = g.get(field)
    if token is None:
        secret_key = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
        kept = app.extensions.setdefault("sentro.csrf_serializers", {})
        signing = kept.get(secret_key)
        if signing is None:
            signing = kept[secret_key] = KeptSerializer(secret_key, salt=CSRF_SALT)
        raw = session.get(field)
        if not isinstance(raw, str):
            raw = session[field] = hashlib.sha1(os.urandom(64)).hexdigest()
        token = signing.dumps(raw)
        setattr(g, field, token)
    return token


def limit_only_where_declared(app: Flask) -> bool:
    """Leave rate limiting to the views that declare a limit; others do no limiter work.

    Every limit of this site is a decorator on its view (`@limiter.limit`, `@limiter.shared_limit`),
    and a decorated view checks its own limits when it runs. Flask-Limiter also checks every
    request in a `before_request` pass, for default, application, blueprint and meta limits:
    this site has none, so that pass found nothing to check and cost about 4 % of a page. Called
    once every blueprint is registered; should such a limit ever be configured, the pass stays.
    Returns whether the pass was removed.
    """
    manager = limiter.limit_manager
    configured = (
        manager.default_limits,
        manager.application_limits,
        manager._blueprint_limits,  # no public reader: blueprints decorated with a limit
        app.config.get("RATELIMIT_META"),
    )
    if any(configured):
        return False
    passes = app.before_request_funcs.get(None, [])
    passes[:] = [f for f in passes if f != limiter._check_request_limit]
    # Its after-request (rate-limit headers) and teardown hooks make a limiter context on
    # every request; only a request whose view checked a limit has anything for them.
    after = app.after_request_funcs.get(None, [])
    after[:] = [_after_a_limit(f) if _of_limiter(f) else f for f in after]
    teardown = app.teardown_request_funcs.get(None, [])
    teardown[:] = [_after_a_limit(f) if _of_limiter(f) else f for f in teardown]
    return True


def _of_limiter(hook: object) -> bool:
    bound = getattr(hook, "__self__", None) or (getattr(hook, "args", None) or (None,))[0]
    return bound is limiter


def _after_a_limit(hook):
    """`hook` of Flask-Limiter's, run only when a view of this request checked a limit."""

    def run(value=None):
        if hasattr(request_ctx._get_current_object(), "_limiter_request_context"):
            return hook(value)
        return value

    return run


def _csp_text(policy: dict[str, str]) -> str:
    return "; ".join(f"{k} {v}" for k, v in policy.items())
