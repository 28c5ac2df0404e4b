"""Configuration: production refuses to start unsafe; development has embedded defaults."""

import pytest

from webapp import create_app
from webapp.config import DEV_SECRET_KEY, ConfigError, load

GOOD = {
    "SENTRO_ENV": "production",
    "SECRET_KEY": "x" * 40,
    "OIDC_ISSUER": "https://id.sentro.co",
    "DATA_ENCRYPTION_KEYS": ["lbZ9kpZT6nfm0qCFgbY0V8YmqXtVZpoV2C0J1xmxpj0="],
    "BASE_URL": "https://account.sentro.co",
    "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
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
        ({"RATELIMIT_STORAGE_URI": None}, "RATELIMIT_STORAGE_URI"),
        ({"RATELIMIT_STORAGE_URI": ""}, "RATELIMIT_STORAGE_URI"),
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


def test_production_without_rate_limit_storage_refuses_to_start(tmp_path, monkeypatch):
    """Unset is not a choice: per-worker memory would multiply every limit by the workers."""
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    production = {k: v for k, v in GOOD.items() if k != "RATELIMIT_STORAGE_URI"}
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        load(production, instance_path=str(tmp_path))


def test_production_with_memory_named_starts_and_warns(tmp_path, caplog):
    settings = {**GOOD, "RATELIMIT_STORAGE_URI": "memory://", "DATABASE_URL": "sqlite://"}
    with caplog.at_level("WARNING", logger="webapp"):
        app = create_app(settings)
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert any("RATELIMIT_STORAGE_URI is memory://" in r.getMessage() for r in caplog.records)


def test_production_with_a_shared_store_starts_quietly(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="webapp"):
        create_app({**GOOD, "DATABASE_URL": "sqlite://"})
    assert not [r for r in caplog.records if "RATELIMIT" in r.getMessage()]


def test_development_defaults(tmp_path):
    settings = load({"SENTRO_ENV": "development"}, instance_path=str(tmp_path))
    assert settings["SECRET_KEY"] == DEV_SECRET_KEY
    assert settings["RATELIMIT_STORAGE_URI"] == "memory://"
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
