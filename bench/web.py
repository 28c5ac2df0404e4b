"""The site's pages under load, each beside hello-world measured in the same run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, url_for

from . import load, servers

HEAVY_ROWS = 1000  # sign-ins and emails of the heavy user whose export is fetched
NAME_VALUES = {"name": "Bench Person", "preferred_name": "Bench"}
#: The export allows 10 an hour per person, so its row runs on a second server without limits.
UNLIMITED_APP = 'webapp:create_app({"RATELIMIT_ENABLED": False})'


@dataclass
class Row:
    """One line of the table: a measured page, or why it was not measured."""

    label: str
    result: load.Result | None = None
    note: str = ""
    target: float | None = None  # the ratio to hello-world the issue asks for


@dataclass
class Scenario:
    """A page to load: how to find it in the app and how to request it."""

    label: str
    build: Callable[[Flask, dict[str, Any]], dict[str, Any] | str]
    target: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _rule(app: Flask, path: str, method: str = "GET") -> bool:
    return any(r.rule == path and method in (r.methods or ()) for r in app.url_map.iter_rules())


def _get(path: str, *, signed_in: bool = True, who: str = "cookie"):
    def build(app: Flask, ctx: dict[str, Any]):
        if not _rule(app, path):
            return "not installed"
        headers = {"Cookie": f"sentro_session={ctx[who]}"} if signed_in else {}
        return {"path": path, "headers": headers}

    return build


def _field_save(app: Flask, ctx: dict[str, Any]):
    """An htmx save of the name group on the profile page (the same values each time)."""
    with app.test_request_context():
        path = url_for("profile.save", group="name")
    return {
        "path": path,
        "method": "POST",
        "body": urlencode({**NAME_VALUES, "seen": ctx["seen"], "csrf_token": ctx["csrf"]}),
        "headers": {
            "Cookie": f"sentro_session={ctx['cookie']}",
            "Content-Type": "application/x-www-form-urlencoded",
            "HX-Request": "true",
            "HX-Target": "field-name",
            "X-CSRFToken": ctx["csrf"],
        },
    }


def _one_click(app: Flask, ctx: dict[str, Any]):
    """The RFC 8058 one-click POST, at the URL the emails carry."""
    from webapp.preferences.links import unsubscribe_url

    with app.app_context(), app.test_request_context():
        url = unsubscribe_url(ctx["user_id"], "service-updates")
    return {
        "path": urlsplit(url).path,
        "method": "POST",
        "body": "List-Unsubscribe=One-Click",
        "headers": {"Content-Type": "application/x-www-form-urlencoded"},
    }


def _export(app: Flask, ctx: dict[str, Any]):
    """The heavy person's JSON export, on the site served without its rate limit."""
    spec = _get("/account/export.json", who="heavy")(app, ctx)
    return {**spec, "server": "unlimited"} if isinstance(spec, dict) else spec


SCENARIOS = (
    Scenario("signed-in `/account`", _get("/account"), target=0.5),
    Scenario("signed-in `/account/profile`", _get("/account/profile"), target=0.5),
    Scenario("htmx field save (profile)", _field_save),
    Scenario("`/privacy` (public)", _get("/privacy", signed_in=False)),
    Scenario("one-click unsubscribe POST", _one_click, target=0.35),
    Scenario("`/account/export.json`, heavy user", _export),
)


def make_heavy(app: Flask, user_id: int) -> None:
    """Give a person a long history: sign-ins and emails, so the export has work to do."""
    from webapp import db
    from webapp.mail.delivery import outbox
    from webapp.models import SignIn, utcnow

    now = utcnow()
    with app.app_context(), db.transaction() as session:
        session.add_all(
            SignIn(
                user_id=user_id, at=now - timedelta(hours=i), ip="203.0.113.7", user_agent="bench"
            )
            for i in range(HEAVY_ROWS)
        )
        session.execute(
            outbox.insert(),
            [
                {
                    "user_id": user_id,
                    "to_addr": "heavy@example.test",
                    "subject": f"Notice {i}",
                    "text_body": "Body " * 40,
                    "headers": {},
                    "message_id": f"<heavy-{user_id}-{i}@bench.invalid>",
                    "template": "bench",
                    "status": "sent",
                    "attempts": 1,
                    "next_attempt_at": now,
                    "created_at": now,
                    "sent_at": now,
                    "last_error": "",
                }
                for i in range(HEAVY_ROWS)
            ],
        )


def measure_site(
    database_url: str, provider_url: str, *, users: int, seconds: int, log
) -> tuple[load.Result, list[Row]]:
    """Seed, serve the site and hello-world under gunicorn, and load every scenario."""
    site_port, hello_port = servers.free_port(), servers.free_port()
    env = servers.site_env(
        database_url, provider_url, f"http://127.0.0.1:{site_port}", "smtp://127.0.0.1:9"
    )
    log("  db upgrade")
    servers.flask(env, "db", "upgrade")
    log(f"  dev seed --users {users}")
    servers.flask(env, "dev", "seed", "--users", str(users))

    from webapp import create_app
    from webapp.models import User

    app = create_app(
        {
            "SENTRO_ENV": "production",
            "SECRET_KEY": env["SECRET_KEY"],
            "DATA_ENCRYPTION_KEYS": [env["DATA_ENCRYPTION_KEYS"]],
            "DATABASE_URL": database_url,
            "OIDC_ISSUER": provider_url,
            "BASE_URL": env["BASE_URL"],
            "RATELIMIT_STORAGE_URI": env["RATELIMIT_STORAGE_URI"],
        }
    )
    rows: list[Row] = []
    hello_env = {**env, "PYTHONPATH": str(servers.ROOT)}
    unlimited_port = servers.free_port()
    with (
        servers.gunicorn("webapp:create_app()", env, site_port) as site,
        servers.gunicorn(UNLIMITED_APP, env, unlimited_port) as unlimited,
        servers.gunicorn("bench.hello:app", hello_env, hello_port) as hello,
    ):
        claims = {"email": "bench@example.test", "name": "Bench Person"}
        ctx: dict[str, Any] = {
            "cookie": servers.sign_in(site, provider_url, "bench-person", claims)
        }
        ctx["csrf"], ctx["cookie"] = servers.csrf_token(site, ctx["cookie"])
        ctx["seen"] = servers.save_once(site, ctx["cookie"], ctx["csrf"], NAME_VALUES)
        ctx["heavy"] = servers.sign_in(
            site, provider_url, "bench-heavy", {"email": "heavy@example.test", "name": "Heavy"}
        )
        with app.app_context():
            from sqlmodel import select

            from webapp import db

            session = db.session()
            ctx["user_id"] = session.exec(
                select(User.id).where(User.subject == "bench-person", User.issuer == provider_url)
            ).one()
            heavy_id = session.exec(
                select(User.id).where(User.subject == "bench-heavy", User.issuer == provider_url)
            ).one()
        make_heavy(app, heavy_id)

        log("  hello-world")
        before = load.run(hello + "/", seconds=seconds)
        for scenario in SCENARIOS:
            spec = scenario.build(app, ctx)
            if isinstance(spec, str):
                rows.append(Row(scenario.label, note=spec, target=scenario.target))
                continue
            log(f"  {scenario.label}")
            base = unlimited if spec.get("server") == "unlimited" else site
            result = load.run(
                base + spec["path"],
                seconds=seconds,
                method=spec.get("method", "GET"),
                body=spec.get("body", ""),
                headers=spec.get("headers"),
            )
            note = f"{result.bad} of {result.requests} not 2xx/3xx" if result.bad else ""
            if spec.get("server") == "unlimited":
                note = "; ".join(x for x in (note, "rate limit off for this row") if x)
            rows.append(Row(scenario.label, result, note, scenario.target))
        after = load.run(hello + "/", seconds=seconds)
    app.extensions["sentro.engine"].dispose()
    hello_result = load.Result(
        rps=(before.rps + after.rps) / 2,
        p50_ms=(before.p50_ms + after.p50_ms) / 2,
        p99_ms=(before.p99_ms + after.p99_ms) / 2,
    )
    return hello_result, rows
