"""Every signed token the site issues, made and checked here (itsdangerous).

Each purpose has its own salt, so a token made for one purpose is refused for another. The
current SECRET_KEY signs; every key in SECRET_KEY_FALLBACKS still verifies, so rotating the
key never breaks a link already sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer


@dataclass(frozen=True)
class Purpose:
    """What a token is for, and how long it lives (None: forever)."""

    name: str
    max_age_seconds: int | None


UNSUBSCRIBE = Purpose("unsubscribe", None)  # a link in a two-year-old email still works
PREFERENCES = Purpose("preferences", 60 * 24 * 3600)
EMAIL_CHANGE = Purpose("email-change", 24 * 3600)  # single use: the service checks it once
#: The old address's "this wasn't me" link: cancels a pending change or undoes a confirmed one.
EMAIL_CHANGE_UNDO = Purpose("email-change-undo", 30 * 24 * 3600)
#: The new-sign-in alert's link: ends that session (after a fresh sign-in) for a week.
SESSION_END = Purpose("session-end", 7 * 24 * 3600)


class BadToken(Exception):
    """The token is not one of ours for this purpose: tampered, truncated or for another use."""


class ExpiredToken(BadToken):
    """The token was genuine but is past its lifetime; `payload` is what it carried."""

    def __init__(self, payload: Any) -> None:
        super().__init__("expired")
        self.payload = payload


def _keys() -> tuple[str, ...]:
    # itsdangerous signs with the last key and verifies with every one.
    config = current_app.config
    return (*reversed(config["SECRET_KEY_FALLBACKS"]), config["SECRET_KEY"])


def _serializer(purpose: Purpose) -> URLSafeSerializer | URLSafeTimedSerializer:
    return _serializer_for(purpose, _keys())


# Built once per purpose and set of keys, not per link: a serializer holds no state between
# calls, and the one-click unsubscribe POST reads a token on every request.
@lru_cache(maxsize=64)
def _serializer_for(
    purpose: Purpose, keys: tuple[str, ...]
) -> URLSafeSerializer | URLSafeTimedSerializer:
    salt = f"sentro.{purpose.name}"
    if purpose.max_age_seconds is None:
        return URLSafeSerializer(list(keys), salt=salt)
    return URLSafeTimedSerializer(list(keys), salt=salt)


def make(purpose: Purpose, payload: Any) -> str:
    """A URL-safe token carrying `payload` (JSON-serialisable) for `purpose`."""
    return _serializer(purpose).dumps(payload)


def read(purpose: Purpose, token: str) -> Any:
    """The payload of a genuine, unexpired token for `purpose`; raises BadToken otherwise."""
    serializer = _serializer(purpose)
    try:
        if isinstance(serializer, URLSafeTimedSerializer):
            return serializer.loads(token, max_age=purpose.max_age_seconds)
        return serializer.loads(token)
    except SignatureExpired as exc:
        raise ExpiredToken(exc.payload and serializer.load_payload(exc.payload)) from exc
    except (BadSignature, UnicodeError, ValueError, TypeError) as exc:
        raise BadToken(str(exc)) from exc
