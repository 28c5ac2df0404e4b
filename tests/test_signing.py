"""The kept serializers sign as itsdangerous, Flask and Flask-WTF do, keys rotated too."""

from __future__ import annotations

import pytest
from flask import session
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import validate_csrf
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from wtforms import ValidationError

from webapp.security import CookieSessions, csrf_token
from webapp.signing import KeptSerializer

#: Payloads itsdangerous does not compress (short, or without repeats), and one it does (long).
PAYLOADS = [
    "",
    "0b3f9a67c1d2e4f58a9b0c1d2e3f405162738495",
    {"sid": "Qx7-kP2_vN9aLm4TzR8wYc1HbJ6uEo3GsDf5Wi0Xn", "csrf_token": "9f2c4e6a8b0d1f3a5c7e"},
    [1, "two", None],
    {"_flashes": [["success", "Your privacy choices are saved. " * 12]]},
]


@pytest.fixture
def fixed_time(monkeypatch):
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: 1_790_000_000)


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("derivation", ["django-concat", "hmac", "concat", "none"])
def test_the_same_bytes_as_itsdangerous(payload, derivation, fixed_time):
    kwargs = {"salt": "some-salt", "signer_kwargs": {"key_derivation": derivation}}
    theirs = URLSafeTimedSerializer(["old-key", "new-key"], **kwargs)
    kept = KeptSerializer(["old-key", "new-key"], **kwargs)
    for _ in range(2):  # the second time from the kept signer and derived key
        assert kept.dumps(payload) == theirs.dumps(payload)
        assert kept.loads(theirs.dumps(payload)) == payload


def test_a_small_payload_is_left_uncompressed_and_reads_either_way(fixed_time):
    small = "a" * 40  # itsdangerous would compress it
    theirs, kept = URLSafeTimedSerializer("k", salt="s"), KeptSerializer("k", salt="s")
    assert theirs.dumps(small).startswith(".") and not kept.dumps(small).startswith(".")
    assert theirs.loads(kept.dumps(small)) == kept.loads(theirs.dumps(small)) == small


def test_a_rotated_key_still_verifies_and_a_foreign_one_does_not():
    signed_before = KeptSerializer("old-key", salt="s").dumps("value")
    assert KeptSerializer(["old-key", "new-key"], salt="s").loads(signed_before) == "value"
    with pytest.raises(BadSignature):
        KeptSerializer("another-key", salt="s").loads(signed_before)
    with pytest.raises(BadSignature):
        KeptSerializer("old-key", salt="another-salt").loads(signed_before)


def test_the_cookie_session_reads_and_writes_what_flask_does(app, fixed_time):
    app.config["SECRET_KEY_FALLBACKS"] = ["an-older-key"]
    ours = CookieSessions().get_signing_serializer(app)
    flasks = SecureCookieSessionInterface().get_signing_serializer(app)
    value = {"sid": "reference", "csrf_token": "secret", "_flashes": [("success", "Saved")]}
    assert ours.dumps(value) == flasks.dumps(value)
    assert ours.loads(flasks.dumps(value)) == flasks.loads(ours.dumps(value))
    older = URLSafeTimedSerializer(
        "an-older-key",
        salt=flasks.salt,
        serializer=flasks.serializer,
        signer_kwargs=flasks.signer_kwargs,
    )
    assert ours.loads(older.dumps(value)) == value  # signed before the key rotated


def test_the_csrf_token_is_one_flask_wtf_accepts_and_kept_for_the_request(app):
    with app.test_request_context("/"):
        token = csrf_token()
        assert csrf_token() is token
        validate_csrf(token)  # raises if Flask-WTF would refuse it
    with app.test_request_context("/"), pytest.raises(ValidationError, match=r"missing"):
        validate_csrf(token)  # another browser's cookie session holds another secret, or none


def test_the_csrf_token_follows_flask_wtfs_field_name(app):
    app.config["WTF_CSRF_FIELD_NAME"] = "xsrf"
    with app.test_request_context("/"):
        token = csrf_token()
        assert "xsrf" in session and "csrf_token" not in session
        validate_csrf(token)  # Flask-WTF reads the secret under its configured name
