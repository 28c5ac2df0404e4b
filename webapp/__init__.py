"""Sentro account: where a Sentro customer sees and controls what Sentro holds about them."""

from __future__ import annotations

import logging
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context
from flask_login import LoginManager
from sqlalchemy.orm import configure_mappers
from werkzeug.routing import IntegerConverter, Map

from . import config as config_module
from . import crypto, db, errors, layout, logsafe, navigation, security
from .pages import htmx
from .validators import MAX_ID

ROOT = Path(__file__).resolve().parent.parent
login_manager = LoginManager()


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the site: configuration, database, security, every capability's blueprint."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    settings = config_module.load(overrides, instance_path=app.instance_path)
    app.config.update(settings)
    development = app.config["SENTRO_ENV"] != "production"
    app.config.update(
        SESSION_COOKIE_NAME="sentro_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not development,
        PERMANENT_SESSION_LIFETIME=timedelta(days=app.config["SESSION_MAX_DAYS"]),
        MAX_CONTENT_LENGTH=1024 * 1024,
        TESTING=app.config["SENTRO_ENV"] == "testing",
    )
    _logging(app)
    logsafe.init_app(app)
    for warning in config_module.startup_warnings(app.config):
        logging.getLogger(__name__).warning("%s", warning)

    crypto.configure(app.config["DATA_ENCRYPTION_KEYS"], app.config["SECRET_KEY"])
    db.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    layout.init_app(app)
    htmx.init_app(app)
    app.url_map.converters["int"] = DatabaseId
    _login(app)
    _blueprints(app)
    # Every model is imported now: map them before any request. The ORM would do it on its
    # first query, but a page's person is built without one (webapp/driver.py).
    configure_mappers()
    security.limit_only_where_declared(app)
    _commands(app)
    _templates(app)
    return app


class DatabaseId(IntegerConverter):
    """`<int:…>` in every route: a number larger than an id column holds is simply not found."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


#: Every module with a blueprint (`bp`): each capability's views, and its staff views.
BLUEPRINTS = (
    "public.views",
    "auth.views",
    "account.views",
    "profile.views",
    "preferences.views",
    "policy.views",
    "policy.staff",
    "staff.views",
    "consent.views",
    "mydata.views",
    "closure.views",
    "closure.staff",
    "disclosures.views",
    "disclosures.staff",
    "inquiries.views",
    "inquiries.staff",
)


def _blueprints(app: Flask) -> None:
    from .auth import oidc

    oidc.init_app(app)
    for module in BLUEPRINTS:
        app.register_blueprint(import_module(f"{__name__}.{module}").bp)
    if app.config["SENTRO_ENV"] == "development":
        from .mail.devmail import bp as devmail

        app.register_blueprint(devmail)


#: Every module that adds `flask --app webapp …` commands (each has `init_app`).
COMMANDS = (
    "cli",
    "mail.cli",
    "preferences.cli",
    "policy.cli",
)


def _commands(app: Flask) -> None:
    for module in COMMANDS:
        import_module(f"{__name__}.{module}").init_app(app)


def _login(app: Flask) -> None:
    from .auth import current

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the provider's page says it all
    # Nothing reads `_fresh` (recent sign-in is judged by the session's auth_time), and the
    # cookie holds no hash of the client: see webapp/auth/current.py.
    login_manager.session_protection = None
    current.init_app(app, login_manager)


def _templates(app: Flask) -> None:
    from .templating import init_app

    init_app(app)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def _logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_RequestIdFilter())
    handler.addFilter(logsafe.RedactingFilter())  # no token, full address or email, ever
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s level=%(levelname)s request=%(request_id)s %(name)s: %(message)s"
        )
    )
    root = logging.getLogger("webapp")
    if not root.handlers:
        root.addHandler(handler)
        root.setLevel(logging.INFO)
