"""Signed tokens: one purpose each, tamper-proof, surviving key rotation."""

import pytest

from webapp import create_app, tokens


def test_a_token_reads_back(app):
    with app.app_context():
        assert tokens.read(tokens.UNSUBSCRIBE, tokens.make(tokens.UNSUBSCRIBE, [7, "offers"])) == [
            7,
            "offers",
        ]


def test_a_token_for_one_purpose_is_refused_for_another(app):
    with app.app_context():
        token = tokens.make(tokens.PREFERENCES, 7)
        with pytest.raises(tokens.BadToken):
            tokens.read(tokens.UNSUBSCRIBE, token)


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t[:-2], lambda t: t + "x", lambda t: "x" + t, lambda t: "", lambda t: "%%%"],
)
def test_tampered_tokens_are_refused(app, mangle):
    with app.app_context():
        token = tokens.make(tokens.UNSUBSCRIBE, [7, "offers"])
        with pytest.raises(tokens.BadToken):
            tokens.read(tokens.UNSUBSCRIBE, mangle(token))


def test_old_links_work_after_the_key_rotates(config, migrated):
    old = create_app(config)
    with old.app_context():
        token = tokens.make(tokens.UNSUBSCRIBE, [7, "offers"])
    rotated = create_app(
        {**config, "SECRET_KEY": "n" * 48, "SECRET_KEY_FALLBACKS": [config["SECRET_KEY"]]}
    )
    with rotated.app_context():
        assert tokens.read(tokens.UNSUBSCRIBE, token) == [7, "offers"]
        assert tokens.make(tokens.UNSUBSCRIBE, [7, "offers"]) != token  # signed with the new key
    forgotten = create_app({**config, "SECRET_KEY": "n" * 48})
    with forgotten.app_context(), pytest.raises(tokens.BadToken):
        tokens.read(tokens.UNSUBSCRIBE, token)


def test_expired_tokens_say_so(app, monkeypatch):
    import time

    with app.app_context():
        token = tokens.make(tokens.EMAIL_CHANGE, {"id": 3})
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 25 * 3600)
        with pytest.raises(tokens.ExpiredToken) as raised:
            tokens.read(tokens.EMAIL_CHANGE, token)
    assert raised.value.payload == {"id": 3}
