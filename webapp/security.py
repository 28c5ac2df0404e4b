"""The security baseline every response gets: CSRF, headers, rate limits, the client's IP."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def client_ip() -> str:
    """The client's IP address, after trusting TRUSTED_PROXIES hops of X-Forwarded-For."""
    return request.remote_addr or ""


def init_app(app: Flask) -> None:
    """Install CSRF, rate limiting, proxy handling, request ids and the response headers."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    app.config.setdefault("RATELIMIT_ENABLED", True)
    csrf.init_app(app)
    limiter.init_app(app)

    issuer = app.config.get("OIDC_ISSUER") or ""
    provider_origin = ""
    if issuer:
        parts = urlsplit(issuer)
        provider_origin = f"{parts.scheme}://{parts.netloc}"

    @app.before_request
    def _request_id() -> None:
        g.request_id = secrets.token_hex(8)

    @app.after_request
    def _headers(response: Response) -> Response:
        # Forms may lead to the provider (sign-out ends the session there).
        form_action = f"'self' {provider_origin}".strip()
        csp = {
            "default-src": "'self'",
            "script-src": "'self'",
            "style-src": "'self'",
            "img-src": "'self' data:",
            "connect-src": "'self'",
            "form-action": form_action,
            "frame-ancestors": "'none'",
            "base-uri": "'none'",
            "object-src": "'none'",
        }
        extra = g.get("csp_extra", {})
        for directive, sources in extra.items():
            csp[directive] = f"{csp.get(directive, '')} {sources}".strip()
        headers = response.headers
        headers.setdefault("Content-Security-Policy", "; ".join(f"{k} {v}" for k, v in csp.items()))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        headers.add("Vary", "HX-Request")
        if request.endpoint != "static":
            headers.setdefault("Cache-Control", "no-store")
        headers["X-Request-Id"] = g.get("request_id", "")
        return response
