"""The site's pages under load, each beside hello-world measured in the same run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from flask import Flask, url_for

from . import load, servers

HEAVY_ROWS = 1000  # sign-ins and emails of the heavy user whose export is fetched
NAME_A = {"name": "Bench Person", "preferred_name": "Bench"}
NAME_B = {"name": "Bench Persona", "preferred_name": "Ben"}
SAVERS = 16  # people whose names the field-save row changes in turn (twice wrk's connections)
ONE_CLICK_PEOPLE = 40_000  # seeded people the one-click row takes off a list, one per request
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
    """htmx saves of the name group, each a real change: people in turn, values alternating.

    Every saver's name is stored as B before the run; the cycle posts A for each saver, then B
    for each, with the `seen` digest of the value it replaces. With more savers than wrk has
    connections, a saver's next request starts only after their previous one has finished.
    """
    with app.test_request_context():
        path = url_for("profile.save", group="name")
    cycle = []
    for values, seen_key in ((NAME_A, "seen_b"), (NAME_B, "seen_a")):
        for saver in ctx["savers"]:
            cycle.append(
                load.Request(
                    path,
                    "POST",
                    urlencode({**values, "seen": saver[seen_key], "csrf_token": saver["csrf"]}),
                    {
                        "Cookie": f"sentro_session={saver['cookie']}",
                        "Content-Type": "application/x-www-form-urlencoded",
                        "HX-Request": "true",
                        "HX-Target": "field-name",
                        "X-CSRFToken": saver["csrf"],
                    },
                )
            )
    return {"path": path, "cycle": cycle, "count": "profile-corrected"}


def _one_click(app: Flask, ctx: dict[str, Any]):
    """The RFC 8058 one-click POST at the URL the emails carry: a different person each time."""
    from webapp.preferences.links import unsubscribe_url

    with app.app_context(), app.test_request_context():
        paths = [urlsplit(unsubscribe_url(i, "service-updates")).path for i in ctx["seeded_ids"]]
    cycle = [
        load.Request(
            p,
            "POST",
            "List-Unsubscribe=One-Click",
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        for p in paths
    ]
    return {"path": paths[0], "cycle": cycle, "count": "unsubscribed"}


def _export(app: Flask, ctx: dict[str, Any]):
    """The heavy person's JSON export, on the site served without its rate limit."""
    spec = _get("/account/export.json", who="heavy")(app, ctx)
    return {**spec, "server": "unlimited"} if isinstance(spec, dict) else spec


SCENARIOS = (
    Scenario("signed-in `/account`", _get("/account"), target=0.5),
    Scenario("signed-in `/account/profile`", _get("/account/profile"), target=0.5),
    Scenario("htmx field save (profile), a real change each time", _field_save, target=0.35),
    Scenario("`/privacy` (public)", _get("/privacy", signed_in=False), target=0.6),
    Scenario("one-click unsubscribe POST, another person each time", _one_click, target=0.5),
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


def count_changes(app: Flask, kind: str, ctx: dict[str, Any]) -> int:
    """How many real changes a write row made: name corrections, or people taken off the list."""
    from sqlalchemy import func, select

    from webapp import db
    from webapp.models import AuditEvent
    from webapp.models.preferences import Subscription

    with app.app_context():
        session = db.session()
        if kind == "profile-corrected":
            query = select(func.count()).where(
                AuditEvent.action == "profile-corrected",
                AuditEvent.field == "name",
                AuditEvent.user_id.in_([s["id"] for s in ctx["savers"]]),
            )
        else:
            query = select(func.count()).where(
                Subscription.list_id == "service-updates",
                Subscription.subscribed.is_(False),
                Subscription.user_id.in_(ctx["seeded_ids"]),
            )
        return int(session.execute(query).scalar_one())


def change_note(changed: int, answered: int) -> str:
    """What a write row's note says of its changes against the answers wrk read.

    wrk counts the answers it read before its time ran out; the requests still in flight then
    reach the site and make their change too, so a row whose every request makes one counts a
    few more changes than answers. Which answered request failed, if one did, it cannot tell.
    """
    if changed <= answered:
        return f"{changed} of {answered} requests made a change"
    return (
        f"{changed} changes for {answered} answers read"
        " (the requests in flight when the load stopped made theirs too)"
    )


def _average(a: load.Result, b: load.Result) -> load.Result:
    return load.Result(
        rps=(a.rps + b.rps) / 2, p50_ms=(a.p50_ms + b.p50_ms) / 2, p99_ms=(a.p99_ms + b.p99_ms) / 2
    )


def _savers(app: Flask, site: str, provider_url: str) -> list[dict[str, Any]]:
    """Sign in the field-save row's people; store each one's name as B, knowing both digests."""
    from sqlmodel import select

    from webapp import db
    from webapp.models import User

    savers = []
    for n in range(SAVERS):
        sub = f"bench-saver-{n}"
        cookie = servers.sign_in(site, provider_url, sub, {"email": f"{sub}@example.test"})
        csrf, cookie = servers.csrf_token(site, cookie)
        seen_a = servers.save_once(site, cookie, csrf, NAME_A)
        seen_b = servers.save_once(site, cookie, csrf, NAME_B)
        with app.app_context():
            user_id = (
                db.session()
                .exec(select(User.id).where(User.subject == sub, User.issuer == provider_url))
                .one()
            )
        savers.append(
            {"id": user_id, "cookie": cookie, "csrf": csrf, "seen_a": seen_a, "seen_b": seen_b}
        )
    return savers


#: The stack's own floor (bench/floor.py): what any page on Flask, flask-login, Flask-WTF and
#: Jinja pays, measured like the pages. Not targets: they show how far a target is reachable.
FLOOR = [
    ("/trivial", True, "stack floor: signed in, one statement, a line of text"),
    ("/signed-in", True, "stack floor: signed in, one statement, a layout with a CSRF token"),
    ("/public", False, "stack floor: signed out, a layout with a CSRF token"),
]


def _floor_rows(floor: str, seconds: int, log) -> list[Row]:
    log("  stack floor")
    answer = requests.get(floor + "/sign-in", timeout=10)
    answer.raise_for_status()
    cookie = {"Cookie": f"session={answer.cookies['session']}"}
    rows = []
    for path, signed_in, label in FLOOR:
        result = load.run(floor + path, seconds=seconds, headers=cookie if signed_in else None)
        rows.append(Row(label, result, "yardstick, not the site"))
    return rows


def measure_site(
    database_url: str, provider_url: str, *, users: int, seconds: int, log
) -> tuple[dict[str, load.Result], list[Row]]:
    """Seed, serve the site and the yardsticks under gunicorn, and load every scenario.

    Returns the yardsticks (`hello-world`, and `hello-db` on PostgreSQL: each measured before
    and after the pages, averaged) and the rows.
    """
    site_port, hello_port = servers.free_port(), servers.free_port()
    env = servers.site_env(
        database_url, provider_url, f"http://127.0.0.1:{site_port}", "smtp://127.0.0.1:9"
    )
    log("  db upgrade")
    servers.flask(env, "db", "upgrade")
    log(f"  dev seed --users {users}")
    servers.flask(env, "dev", "seed", "--users", str(users))

    from webapp import create_app
    from webapp.dev.seed import SEED_ISSUER
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
    postgres = not database_url.startswith("sqlite")
    if postgres:
        hello_env["BENCH_HELLO_DB_URL"] = database_url.replace("postgresql+psycopg", "postgresql")
    unlimited_port, hello_db_port, floor_port = (servers.free_port() for _ in range(3))
    floor_env = {**hello_env, "BENCH_FLOOR_DB_URL": database_url}
    with (
        servers.gunicorn("webapp:create_app()", env, site_port) as site,
        servers.gunicorn(UNLIMITED_APP, env, unlimited_port) as unlimited,
        servers.gunicorn("bench.hello:app", hello_env, hello_port) as hello,
        servers.gunicorn(
            "bench.hello_db:app" if postgres else "bench.hello:app", hello_env, hello_db_port
        ) as hello_db,
        servers.gunicorn("bench.floor:app", floor_env, floor_port) as floor,
    ):
        claims = {"email": "bench@example.test", "name": "Bench Person"}
        signed_in = servers.sign_in(site, provider_url, "bench-person", claims)
        # The cookie as a browser holds it from its second page on: with the CSRF secret the
        # first page added, so a page row does not pay for writing a new cookie each request.
        ctx: dict[str, Any] = {"cookie": servers.csrf_token(site, signed_in)[1]}
        ctx["savers"] = _savers(app, site, provider_url)
        ctx["heavy"] = servers.sign_in(
            site, provider_url, "bench-heavy", {"email": "heavy@example.test", "name": "Heavy"}
        )
        with app.app_context():
            from sqlmodel import select

            from webapp import db

            session = db.session()
            heavy_id = session.exec(
                select(User.id).where(User.subject == "bench-heavy", User.issuer == provider_url)
            ).one()
            ctx["seeded_ids"] = list(
                session.exec(
                    select(User.id)
                    .where(User.issuer == SEED_ISSUER)
                    .order_by(User.id)
                    .limit(ONE_CLICK_PEOPLE)
                )
            )
        make_heavy(app, heavy_id)

        log("  hello-world" + (", hello-db" if postgres else ""))
        before = {"hello-world": load.run(hello + "/", seconds=seconds)}
        if postgres:
            before["hello-db"] = load.run(hello_db + "/", seconds=seconds)
        rows += _floor_rows(floor, seconds, log)
        for scenario in SCENARIOS:
            spec = scenario.build(app, ctx)
            if isinstance(spec, str):
                rows.append(Row(scenario.label, note=spec, target=scenario.target))
                continue
            log(f"  {scenario.label}")
            base = unlimited if spec.get("server") == "unlimited" else site
            changes_before = count_changes(app, spec["count"], ctx) if "count" in spec else 0
            result = load.run(
                base + spec["path"],
                seconds=seconds,
                method=spec.get("method", "GET"),
                body=spec.get("body", ""),
                headers=spec.get("headers"),
                cycle=spec.get("cycle"),
            )
            notes = [f"{result.bad} of {result.requests} not 2xx/3xx"] if result.bad else []
            if "count" in spec:
                changed = count_changes(app, spec["count"], ctx) - changes_before
                notes.append(change_note(changed, result.requests))
            if spec.get("server") == "unlimited":
                notes.append("rate limit off for this row")
            rows.append(Row(scenario.label, result, "; ".join(notes), scenario.target))
        yardsticks = {
            "hello-world": _average(before["hello-world"], load.run(hello + "/", seconds=seconds))
        }
        if postgres:
            yardsticks["hello-db"] = _average(
                before["hello-db"], load.run(hello_db + "/", seconds=seconds)
            )
    app.extensions["sentro.engine"].dispose()
    return yardsticks, rows
