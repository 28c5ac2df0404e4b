"""Configuration, read once from the environment (and an `.env` file in the working folder).

Nothing else in the project reads `os.environ`: every setting is a key of `app.config`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEV_SECRET_KEY = "dev-only-secret-key-never-use-in-production"
MEMORY_STORAGE = "memory://"

#: name -> (default, parser). The README's configuration table lists the same names.
_SETTINGS: dict[str, tuple[Any, Any]] = {
    "SENTRO_ENV": ("production", str),
    "SECRET_KEY": (None, str),
    "SECRET_KEY_FALLBACKS": ([], lambda v: [k.strip() for k in v.split(",") if k.strip()]),
    "DATABASE_URL": (None, str),
    "BASE_URL": ("http://localhost:5000", lambda v: v.rstrip("/")),
    "OIDC_ISSUER": (None, lambda v: v.rstrip("/")),
    "OIDC_CLIENT_ID": ("sentro-account", str),
    "OIDC_CLIENT_SECRET": ("", str),
    "OIDC_ACCOUNT_URL": ("", str),
    "STAFF_GROUP": ("sentro-staff", str),
    "SMTP_URL": ("smtp://localhost:8025", str),
    "MAIL_FROM": ("Sentro <no-reply@sentro.co>", str),
    "MAIL_SMTP_CONNECTIONS": (3, lambda v: max(1, min(int(v), 16))),
    # Unset: memory outside production; production insists on a choice (see _check_production).
    "RATELIMIT_STORAGE_URI": (None, str.strip),
    "TRUSTED_PROXIES": (0, int),
    "DATA_ENCRYPTION_KEYS": ([], lambda v: [k.strip() for k in v.split(",") if k.strip()]),
    "REAUTH_MAX_AGE_MINUTES": (10, int),
    "SESSION_IDLE_MINUTES": (15, int),
    "SESSION_MAX_DAYS": (1, int),
    "STAFF_SESSION_HOURS": (8, int),
    "GA_MEASUREMENT_ID": ("", str.strip),  # empty: no analytics at all
    "SIGNIN_IP_FULL_DAYS": (30, int),
    "SIGNIN_RETENTION_DAYS": (365, int),
    "CLOSURE_GRACE_DAYS": (14, int),
    "PHONE_DEFAULT_REGION": ("NZ", lambda v: v.strip().upper()),
}


class ConfigError(RuntimeError):
    """The configuration would make the site unsafe or unable to start."""


def load(overrides: dict[str, Any] | None = None, *, instance_path: str) -> dict[str, Any]:
    """Return the settings: defaults < .env file < environment < explicit overrides."""
    raw: dict[str, Any] = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    raw.update({k: os.environ[k] for k in _SETTINGS if k in os.environ})
    settings: dict[str, Any] = {}
    for name, (default, parse) in _SETTINGS.items():
        settings[name] = parse(raw[name]) if name in raw else default
    settings.update(overrides or {})

    env = settings["SENTRO_ENV"]
    if env not in {"production", "development", "testing"}:
        raise ConfigError(f"SENTRO_ENV must be production, development or testing, not {env!r}")
    if settings["DATABASE_URL"] is None:
        settings["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'sentro.sqlite3'}"
    if env == "production":
        _check_production(settings)
    else:
        settings["SECRET_KEY"] = settings["SECRET_KEY"] or DEV_SECRET_KEY
        settings["RATELIMIT_STORAGE_URI"] = settings["RATELIMIT_STORAGE_URI"] or MEMORY_STORAGE
    return settings


def startup_warnings(settings: dict[str, Any]) -> list[str]:
    """What an operator should hear about at start: allowed, but probably not what they want."""
    warnings = []
    if settings["SENTRO_ENV"] == "production" and settings["RATELIMIT_STORAGE_URI"].startswith(
        MEMORY_STORAGE
    ):
        warnings.append(
            "RATELIMIT_STORAGE_URI is memory://: every worker process counts rate limits alone, "
            "so a client gets the limit once per worker (name a shared store such as redis://)"
        )
    return warnings


def _check_production(settings: dict[str, Any]) -> None:
    key = settings["SECRET_KEY"]
    if not key or key == DEV_SECRET_KEY or len(key) < 32:
        raise ConfigError("SECRET_KEY must be set to a random value of at least 32 characters")
    issuer = settings["OIDC_ISSUER"]
    if not issuer:
        raise ConfigError("OIDC_ISSUER must name the OpenID Connect provider")
    parts = urlsplit(issuer)
    if parts.scheme != "https" and parts.hostname not in {"localhost", "127.0.0.1", "::1"}:
        raise ConfigError("OIDC_ISSUER must use https (plain http is allowed on loopback only)")
    base = urlsplit(settings["BASE_URL"])
    if base.scheme != "https" and base.hostname not in {"localhost", "127.0.0.1", "::1"}:
        raise ConfigError("BASE_URL must use https (mail clients refuse one-click over http)")
    if not settings["DATA_ENCRYPTION_KEYS"]:
        raise ConfigError("DATA_ENCRYPTION_KEYS must hold at least one key (see README)")
    # Per-process memory silently multiplies every limit by the number of workers: only an
    # operator who names it gets it (and a warning at start, startup_warnings).
    if not settings["RATELIMIT_STORAGE_URI"]:
        raise ConfigError(
            "RATELIMIT_STORAGE_URI must name a store shared by every worker (redis://host:6379), "
            "or memory:// explicitly for a single process"
        )
