"""How a view answers: the whole page, or only the fragment htmx asked for.

The rule used everywhere: a request whose HX-Target names a fragment's element id gets that
fragment; everything else (plain browsers, boosted links, history restores) gets the full
page. Validation errors answer 422 with the same choice; successful posts from plain forms
redirect (post/redirect/get).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, render_template
from flask_htmx import HTMX
from werkzeug.wrappers import Response

htmx = HTMX()


def wants_fragment(target_id: str) -> bool:
    """True when htmx asked to swap the element with this id (never for history restores)."""
    return bool(htmx) and htmx.target == target_id and not htmx.history_restore_request


def page_or_fragment(
    page: str, fragment: str, target_id: str, *, status: int = 200, **context
) -> tuple[str, int]:
    """Render `fragment` for an htmx swap of `target_id`, else the full `page`."""
    template = fragment if wants_fragment(target_id) else page
    return render_template(template, **context), status


def see_other(location: str) -> Response:
    """The answer to a successful plain form post: 303 to the page to show next."""
    return redirect(location, code=303)


def safe_next(target: str | None) -> str | None:
    """`target` if it is a same-site relative path, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target
