"""What a log line may hold: no token, no full IP address, no email address.

An access line names the route, not the URL the visitor typed: each path variable is shown by
its name (`/email/unsubscribe/<token>`) unless it is a number or one of a fixed set of words,
and every query value is replaced (`?code=[redacted]&state=[redacted]`); a path no route
matched keeps only its first segment. The app records that form in the WSGI environ
(`SAFE_PATH`) as soon as it has routed a request, and the gunicorn logger the Procfile names
(`webapp.gunicorn_logger`) writes it with the client's address reduced to its network.
Free text (error lines, the app's own log) passes through `redact` as a safety net.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, request

from .addresses import reduce_ip

#: The WSGI environ key under which the app leaves the loggable form of the request's path.
SAFE_PATH = "sentro.log_path"
REDACTED = "[redacted]"
#: Path variables whose values are safe to log: numbers and a fixed choice of words.
SAFE_CONVERTERS = frozenset({"int", "any"})

_VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
#: A first path segment worth keeping: a plain lower-case word, perhaps with an extension.
_WORD = re.compile(r"[A-Za-z][a-z_-]{0,23}(?:\.[a-z0-9]{1,5})?")
_QUERY_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-\[\]]{0,23}")


def route_path(rule: str, values: dict[str, Any]) -> str:
    """The path as its route declares it, with only numbers and fixed words filled in."""

    def fill(match: re.Match[str]) -> str:
        name = match["name"]
        if match["converter"] in SAFE_CONVERTERS and name in values:
            return str(values[name])
        return f"<{name}>"

    return _VARIABLE.sub(fill, rule)


def unmatched_path(path: str) -> str:
    """A path no route matched: its first segment if that is a plain word, nothing more."""
    segments = path.split("/")
    first = segments[1] if len(segments) > 1 else ""
    if first and not _WORD.fullmatch(first):
        first = REDACTED
    rest = "/[unmatched]" if len(segments) > 2 and any(segments[2:]) else ""
    return f"/{first}{rest}"


def safe_query(query: str) -> str:
    """A query string with every value replaced, and any key that is not a plain name too."""
    pairs = parse_qsl(query, keep_blank_values=True)
    shown = [
        (key if _QUERY_KEY.fullmatch(key) else REDACTED) + (f"={REDACTED}" if value else "")
        for key, value in pairs
    ]
    return "&".join(shown)


def origin(url: str | None) -> str:
    """Only the scheme and host of a URL (a Referer may carry a token in its path or query)."""
    if not url:
        return "-"
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" if parts.scheme and parts.hostname else REDACTED


_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![0-9A-Fa-f:])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_QUERY_VALUE = re.compile(r"([?&][\w.\-\[\]]+=)[^&\s\"']+")
#: Signed tokens (itsdangerous: dot-separated base64url) and long random strings (codes).
_TOKEN = re.compile(
    r"(?<![\w-])(?=[\w.-]*\d)[\w-]{8,}(?:\.[\w-]{4,})+"
    r"|(?<![\w-])(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]{24,}"
)


def _address(match: re.Match[str]) -> str:
    try:
        if ipaddress.ip_address(match[0]).is_unspecified:
            return match[0]  # 0.0.0.0 or ::, as in "Listening at: http://0.0.0.0:8000"
    except ValueError:
        return match[0]  # not an address (a time such as 14:30:05)
    return reduce_ip(match[0]) or REDACTED


def redact(text: str) -> str:
    """Free text with IP addresses reduced, emails, query values and token-like strings hidden."""
    text = _QUERY_VALUE.sub(rf"\1{REDACTED}", text)
    text = _EMAIL.sub("[email]", text)
    text = _TOKEN.sub(REDACTED, text)
    text = _IPV4.sub(_address, text)
    return _IPV6.sub(_address, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through `redact` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        record.msg, record.args = redact(message), ()
        return True


def init_app(app: Flask) -> None:
    """Leave the loggable path of each request in its environ, as soon as it is routed."""

    @app.url_value_preprocessor
    def _remember_safe_path(_endpoint: str | None, values: dict[str, Any] | None) -> None:
        rule = request.url_rule
        request.environ[SAFE_PATH] = (
            route_path(rule.rule, values or {})
            if rule is not None
            else unmatched_path(request.path)
        )
