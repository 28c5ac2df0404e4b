"""Configuration: production refuses to start unsafe; development has embedded defaults."""

import pytest

from webapp import create_app
from webapp.config import DEV_SECRET_KEY, ConfigError, load

GOOD = {
    "SENTRO_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "OIDC_ISSUER": "https://id.sentro.co",
    "DATA_ENCRYPTION_KEYS": ["k"],
    "BASE_URL": "https://account.sentro.co",
}


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": DEV_SECRET_KEY}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"OIDC_ISSUER": None}, "OIDC_ISSUER"),
        ({"OIDC_ISSUER": "http://id.sentro.co"}, "https"),
        ({"DATA_ENCRYPTION_KEYS": []}, "DATA_ENCRYPTION_KEYS"),
        ({"BASE_URL": "http://account.sentro.co"}, "BASE_URL"),
        ({"SENTRO_ENV": "staging"}, "SENTRO_ENV"),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, change, complaint):
    with pytest.raises(ConfigError, match=complaint):
        load({**GOOD, **change}, instance_path=str(tmp_path))


@pytest.mark.parametrize("issuer", ["http://localhost:5001", "http://127.0.0.1:9400"])
def test_production_allows_a_loopback_http_issuer(tmp_path, issuer):
    assert (
        load({**GOOD, "OIDC_ISSUER": issuer}, instance_path=str(tmp_path))["OIDC_ISSUER"] == issuer
    )


def test_development_defaults(tmp_path):
    settings = load({"SENTRO_ENV": "development"}, instance_path=str(tmp_path))
    assert settings["SECRET_KEY"] == DEV_SECRET_KEY
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'sentro.sqlite3'}"


def test_environment_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "old-one, older-one")
    monkeypatch.setenv("TRUSTED_PROXIES", "2")
    settings = load({"SENTRO_ENV": "testing"}, instance_path=str(tmp_path))
    assert settings["SECRET_KEY_FALLBACKS"] == ["old-one", "older-one"]
    assert settings["TRUSTED_PROXIES"] == 2


def test_trusted_proxies_decide_the_client_ip(config, migrated):
    from webapp.security import client_ip

    app = create_app({**config, "TRUSTED_PROXIES": 1})
    seen = {}

    @app.get("/_ip")
    def ip():
        seen["ip"] = client_ip()
        return "ok"

    app.test_client().get(
        "/_ip",
        headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert seen["ip"] == "198.51.100.7"


def test_without_trusted_proxies_forwarded_for_is_ignored(app):
    from webapp.security import client_ip

    seen = {}

    @app.get("/_ip")
    def ip():
        seen["ip"] = client_ip()
        return "ok"

    app.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.9"})
    assert seen["ip"] == "127.0.0.1"
