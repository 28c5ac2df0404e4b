"""The layout every page shares (`templates/base.html`), with as little work per request as it can.

The header, the section navigation and the footer depend on nothing but the script root,
whether someone is signed in, their staff rights and the page's endpoint, besides two values of
the request: the person's email and the CSRF token. The `_layout.html` macros are rendered once
per app for each such key with placeholders where those two go, and the markup is kept; a
request escapes its own email and token into the kept markup, so nothing of one person is kept.
The banners' states are worked out once a request, and `base.html` includes a banner only when
it shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import Flask, current_app, get_flashed_messages, request
from flask_login import current_user
from markupsafe import Markup, escape

from .security import csrf_token

#: What the kept markup holds in place of a request's own values (escaping leaves it alone).
_HOLE = "\x00{}\x00"
_HOLES = re.compile("\x00(email|token)\x00")
_FILLS = {"email": _HOLE.format("email"), "token": _HOLE.format("token")}


@dataclass(frozen=True, slots=True)
class Layout:
    """One request's layout: the kept markup filled in, and what the banners show."""

    assets: Markup
    top: Markup  #: <body> and the site header
    page: Markup  #: the page's frame up to <main>: the side navigation when signed in
    footer: Markup
    policy_banner: Any  #: the policy change to acknowledge, if any (policy/_banner.html)
    consent_banner: bool  #: whether to ask for consent here (consent/_banner_region.html)
    analytics_id: str  #: the measurement id when this response carries the analytics tag
    flashes: list[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class _Kept:
    top: tuple[str, ...]  #: literal markup at even indexes, the name of a hole at odd ones
    page: Markup


def request_layout() -> Layout:
    """This request's layout (`base.html` asks once): kept markup, the person's values, banners."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    ask = app.jinja_env.globals
    user = current_user._get_current_object()  # type: ignore[attr-defined]
    signed_in = bool(user.is_authenticated)
    staff = signed_in and bool(ask["has_staff_rights"]())
    endpoint = request.endpoint
    kept = _kept(app, signed_in, staff, endpoint)
    values = {"email": escape(user.email) if signed_in else "", "token": escape(csrf_token())}
    top = list(kept.top)
    for i in range(1, len(top), 2):
        top[i] = values[top[i]]
    policy = ask.get("policy_banner")
    consent = ask.get("consent_banner_shown")
    analytics = ask.get("analytics_id")
    return Layout(
        assets=_layout_piece(app, "assets"),
        top=Markup("".join(top)),
        page=kept.page,
        footer=_layout_piece(app, "footer"),
        policy_banner=policy() if policy else None,
        consent_banner=bool(consent and consent()),
        analytics_id=analytics() if analytics else "",
        flashes=get_flashed_messages(with_categories=True),
    )


def _kept(app: Flask, signed_in: bool, staff: bool, endpoint: str | None) -> _Kept:
    """The `_layout.html` header and page frame for this key, rendered once and kept.

    With template auto-reload on (development) they are rendered afresh on every request.
    """
    cache = app.extensions.setdefault("sentro.layout_kept", {})
    if not signed_in and endpoint != "auth.login":
        endpoint = None  # signed out, only the sign-in page differs (no "Sign in" button)
    key = (request.script_root, signed_in, staff, endpoint)
    found = cache.get(key)
    if found is None:
        module = app.jinja_env.get_template("_layout.html").module  # type: ignore[attr-defined]
        top = module.top(signed_in, staff, endpoint, _FILLS["email"], _FILLS["token"])
        found = _Kept(
            tuple(_HOLES.split(str(top))), Markup(module.page(signed_in, staff, endpoint))
        )
        if not app.jinja_env.auto_reload:
            cache[key] = found
    return found


def _layout_piece(app: Flask, name: str) -> Markup:
    """A `_layout.html` macro's markup, rendered once per app and script root (see that file).

    With template auto-reload on (development) it is rendered afresh on every request.
    """
    cache = app.extensions.setdefault("sentro.layout_pieces", {})
    key = (request.script_root, name)
    found = cache.get(key)
    if found is None:
        macro = getattr(app.jinja_env.get_template("_layout.html").module, name)
        found = Markup(macro())
        if not app.jinja_env.auto_reload:
            cache[key] = found
    return found


def init_app(app: Flask) -> None:
    """Expose `request_layout()` to `base.html` and `layout_piece(name)` to every template."""
    app.jinja_env.globals["request_layout"] = request_layout
    # Bound to this app: no lookup through `current_app` for a piece.
    app.jinja_env.globals["layout_piece"] = partial(_layout_piece, app)
