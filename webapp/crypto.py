"""Values sealed at rest (IP addresses): encrypted with keys from the environment, never the database.

`DATA_ENCRYPTION_KEYS` holds Fernet keys, newest first: the first seals, every one opens, so
keys rotate without losing old rows. Outside production a key is derived from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

_keys: MultiFernet | None = None


def configure(keys: list[str], secret_key: str) -> None:
    """Install the sealing keys for this process (called by `create_app`)."""
    global _keys
    if not keys:
        derived = hashlib.sha256(b"sentro.data-key:" + secret_key.encode()).digest()
        keys = [base64.urlsafe_b64encode(derived).decode()]
    _keys = MultiFernet([Fernet(k.encode()) for k in keys])


def seal(value: str) -> str:
    """Encrypt `value` with the current key."""
    if _keys is None:
        raise RuntimeError("crypto.configure() has not run")
    return _keys.encrypt(value.encode()).decode()


def unseal(token: str) -> str | None:
    """Decrypt a sealed value; None when no configured key opens it."""
    if _keys is None:
        raise RuntimeError("crypto.configure() has not run")
    try:
        return _keys.decrypt(token.encode()).decode()
    except InvalidToken:
        return None


def new_key() -> str:
    """A fresh key for DATA_ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode()


class Sealed(TypeDecorator[str]):
    """A string column stored encrypted: the database never holds the readable value."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else seal(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        return None if value is None else unseal(value)
