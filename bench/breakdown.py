"""Where each benchmarked page's CPU time goes, in process: the profile the issue asks for.

`python -m bench.breakdown [--postgres URL] [--requests N]` builds the site on a fresh database
of its own (a temporary SQLite file, or a database `fresh_postgres` makes beside URL's), sends
each row of the benchmark's table with Flask's test client as the load sends it (the same
scenarios, bench/web.py: the signed-in cookie of a sign-in, the htmx name save alternating two
names with a real CSRF token and `seen` digest, the one-click POST for another person each
time), and prints one line per page: CPU microseconds per request without a profiler, function
calls, the database's round trips, and that CPU time split into phases (bench/phases.py).
Hello-world and the stack floor (bench/floor.py) are measured the same way beside them. On
stderr, per row, the CPU time the samples found against the CPU time measured, as a check.

These are CPU figures of this process, not throughput: gunicorn's own HTTP work (much the same
for every row) is in the throughput figures only, and so is the database server's.
`python -m bench` puts the tables in bench/RESULTS.md (`section`).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType
from typing import Any

from flask import Flask
from werkzeug.test import TestResponse

from . import inprocess, phases, servers, web
from .inprocess import Send

#: Requests sent once before measuring: templates compiled, the layout's markup kept, pools full.
WARM_UP = 20
DEFAULT_REQUESTS = 1000
#: Turns each row's requests are measured in (un-profiled, then sampled), rows taking turns.
ROUNDS = 10


@dataclass
class Page:
    """A row: how to send one of its requests, and what a write row changes."""

    label: str
    request: Send  #: sends one request of the row
    site: bool = True  #: the site's own, so its database round trips can be counted
    changes: Callable[[], int] | None = None  #: real changes stored so far (write rows)
    entries: dict[CodeType, int] = field(default_factory=dict)  #: the app's view functions
    sent: int = 0

    def send(self) -> TestResponse:
        """One request, counted; an answer that is not 2xx/3xx stops the run."""
        self.sent += 1
        return inprocess.check(self.request(), self.label)


@dataclass
class Measured:
    """One row of the breakdown."""

    label: str
    cpu_us: float
    calls: float
    trips: int | None
    phases: dict[str, float] = field(default_factory=dict)
    samples: int = 0
    sampled_us: float = 0.0  #: CPU per request the samples found, their own cost left out
    note: str = ""


def _requests(app: Flask, spec: dict[str, Any]) -> Send:
    """The scenario's request, or its cycle's requests in turn, sent with a test client."""
    client = app.test_client(use_cookies=False)  # like wrk: the scenario's own Cookie header
    if "cycle" not in spec:
        path, headers = spec["path"], spec.get("headers") or {}
        return lambda: client.get(path, headers=headers)
    cycle: Iterator[Any] = itertools.cycle(spec["cycle"])

    def send() -> TestResponse:
        r = next(cycle)
        return client.open(r.path, method=r.method, data=r.body, headers=r.headers)

    return send


def _yardstick(app: Flask, label: str, path: str, cookie: str | None = None) -> Page:
    spec = {"path": path, "headers": {"Cookie": f"session={cookie}"} if cookie else {}}
    return Page(label, _requests(app, spec), site=False, entries=phases.view_entries(app))


def yardsticks(database_url: str) -> list[Page]:
    """Hello-world and the stack floor's three pages, each requested as the load requests it."""
    from .hello import app as hello

    floor = inprocess.floor_app(database_url)
    cookie = inprocess.check(floor.test_client().get("/sign-in"), "floor sign-in")
    value = cookie.headers["Set-Cookie"].partition("session=")[2].partition(";")[0]
    return [
        _yardstick(hello, "hello-world", "/"),
        *(
            _yardstick(floor, label, path, value if signed_in else None)
            for path, signed_in, label in web.FLOOR
        ),
    ]


def site_pages(app: Flask, people: int) -> list[Page]:
    """The benchmark's five target rows (bench/web.py's scenarios), made ready to send.

    A person signed in for the pages; one saver whose name is stored as NAME_B, with the
    digests of both names, so the save row alternates real changes; `people` seeded people,
    each of whom the one-click row takes off the list once.
    """
    from sqlmodel import select

    from webapp import db
    from webapp.dev.seed import SEED_ISSUER, seed_people
    from webapp.models import User

    _person, cookie = inprocess.start_session(app)
    _csrf, cookie = inprocess.csrf_token(app, cookie)  # a browser's cookie after its first page
    saver_id, saver_cookie = inprocess.start_session(app)
    csrf, saver_cookie = inprocess.csrf_token(app, saver_cookie)
    saver = {"id": saver_id, "cookie": saver_cookie, "csrf": csrf}
    saver["seen_a"] = inprocess.save_name(app, saver_cookie, csrf, web.NAME_A)
    saver["seen_b"] = inprocess.save_name(app, saver_cookie, csrf, web.NAME_B)
    with app.app_context():
        seed_people(people)
        ids = db.session().exec(
            select(User.id).where(User.issuer == SEED_ISSUER).order_by(User.id).limit(people)
        )
        ctx: dict[str, Any] = {"cookie": cookie, "savers": [saver], "seeded_ids": list(ids)}
    pages = []
    for scenario in web.SCENARIOS:
        if scenario.target is None:
            continue  # the export: no target, and limited to 10 an hour
        spec = scenario.build(app, ctx)
        if isinstance(spec, str):
            raise RuntimeError(f"{scenario.label}: {spec}")
        page = Page(scenario.label, _requests(app, spec), entries=phases.view_entries(app))
        if "count" in spec:
            kind = spec["count"]
            page.changes = lambda kind=kind: web.count_changes(app, kind, ctx)
        pages.append(page)
    return pages


@dataclass
class _Run:
    """A row being measured: its un-profiled turns' CPU times and its pooled samples."""

    page: Page
    cpu: list[float] = field(default_factory=list)
    samples: phases.Samples = field(default_factory=phases.Samples)
    changes: int = 0
    sent: int = 0

    def start(self) -> None:
        self.changes = self.page.changes() if self.page.changes else 0
        self.sent = self.page.sent
        for _ in range(WARM_UP):
            self.page.send()

    def turn(self, batch: int) -> None:
        self.cpu.append(inprocess.cpu_per_request(self.page.send, batch))
        phases.sample(self.page.send, batch, self.samples, self.page.entries)

    def finish(self, batch: int, app: Flask | None, cost: float) -> Measured:
        page = self.page
        calls = inprocess.calls_per_request(page.send, batch)
        trips = len(inprocess.round_trips(app, page.send)) if app and page.site else None
        note = ""
        if page.changes:
            changed, sent = page.changes() - self.changes, page.sent - self.sent
            note = f"{changed} of {sent} requests made a change"
            if changed != sent:
                raise RuntimeError(f"{page.label}: {note}, not every one")
        cpu_us = statistics.fmean(self.cpu)
        split = phases.attribute(self.samples, cpu_us, cost)
        sampled = sum(self.samples.seconds) - cost * self.samples.count
        sampled_us = sampled / (len(self.cpu) * batch) * 1e6
        count = self.samples.count
        return Measured(page.label, cpu_us, calls, trips, split, count, sampled_us, note)


def measure(
    pages: list[Page], requests: int, app: Flask | None = None, cost: float | None = None
) -> list[Measured]:
    """Warm each page up, then its CPU time and phases (`requests` of each), calls and trips.

    Measured in ROUNDS turns, each row in turn within each, un-profiled then sampled, so that
    a slower spell of the machine touches every row and both measures alike. A row's CPU time
    is the mean of all its un-profiled turns (not the quietest: a write row's periodic costs,
    SQLite's checkpoint of its log for one, are real); its samples are pooled and their shares
    applied to it. `cost`: what a sample costs the sampled thread (`phases.signal_cost`).
    """
    batch = max(requests // ROUNDS, 1)
    cost = phases.signal_cost() if cost is None else cost
    runs = [_Run(page) for page in pages]
    for run in runs:
        run.start()
    for _ in range(ROUNDS):
        for run in runs:
            run.turn(batch)
    return [run.finish(batch, app, cost) for run in runs]


def measure_all(app: Flask, database_url: str, requests: int) -> list[Measured]:
    """Every row on `app`'s database: the yardsticks, then the site's five target rows."""
    # the one-click row's people: warm-up, un-profiled and sampled, calls, round trips
    people = WARM_UP + 2 * requests + requests // ROUNDS + 1
    site = site_pages(app, people)  # first: the floor signs in as the first person stored
    try:
        return measure([*yardsticks(database_url), *site], requests, app)
    finally:
        inprocess.close_floor()


def table(rows: list[Measured]) -> list[str]:
    """Markdown lines: a row per page, the phases' microseconds adding up to the CPU column."""
    hello = next((r.cpu_us for r in rows if r.label == "hello-world"), 0.0)
    head = ["page", "CPU µs", "over hello-world", "calls", "round trips"]
    head += [p.heading for p in phases.PHASES]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for r in rows:
        cells = [
            r.label + (f" ({r.note})" if r.note else ""),
            f"{r.cpu_us:.0f}",
            f"{r.cpu_us - hello:+.0f}" if r.label != "hello-world" else "",
            f"{r.calls:.0f}",
            "–" if r.trips is None else str(r.trips),
            *(f"{r.phases[p.key]:.0f}" for p in phases.PHASES),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def legend() -> list[str]:
    """What each phase column holds."""
    return [f"- **{p.heading}**: {p.meaning}." for p in phases.PHASES]


def section(tables: list[tuple[str, list[Measured]]], requests: int) -> str:
    """The RESULTS.md section: how to read it, a table per database, the phases' meanings."""
    parts = [
        "## Where the time goes (in process, CPU per request)",
        "`python -m bench.breakdown`: each row sent as the load sends it, but in this process "
        f"with Flask's test client ({requests} requests timed without a profiler and "
        f"{requests} sampled, after {WARM_UP} of warm-up, in {ROUNDS} turns the rows take in "
        "rotation), so these are CPU microseconds of the Python process, not throughput. "
        "gunicorn's own HTTP work "
        "(much the same for every row) and the database server's are in the throughput figures "
        "only; the test client column stands where gunicorn's work would be and is no part of "
        "the site (a long URL or a form body makes it grow). The CPU column is "
        "measured without any profiler; the phases split it by where a timer's samples of the "
        "stack fell (bench/phases.py), so they add up to it; a phase moves by a few percent "
        "of its row from run to run (compare rows within one run). The garbage collector's "
        "time is a column of its own. Round trips are counted by the site's driver (on SQLite, "
        "statements); the yardsticks' are not (the floor sends one statement when signed in).",
    ]
    for label, rows in tables:
        parts.append(f"### {label}\n\n" + "\n".join(table(rows)))
    parts.append("\n".join(legend()))
    return "\n\n".join(parts)


def run(database_url: str, requests: int) -> list[Measured]:
    """Build the site on `database_url` (an empty database), measure every row, let go of it."""
    app = inprocess.site_app(database_url)
    try:
        return measure_all(app, database_url, requests)
    finally:
        app.extensions["sentro.engine"].dispose()


def main() -> None:
    """Print the breakdown of every row on SQLite, or on PostgreSQL with --postgres."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="a PostgreSQL URL: a fresh database is made beside it")
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            label, url = "PostgreSQL", servers.fresh_postgres(args.postgres, "breakdown")
        else:
            label, url = "SQLite", f"sqlite:///{Path(tmp) / 'breakdown.sqlite3'}"
        print(f"measuring on {label}…", file=sys.stderr)
        rows = run(url, args.requests)
    for r in rows:  # a check on the sampling: what the samples found against the CPU measured
        print(
            f"{r.label[:60]:60} {r.samples:6} samples, {r.sampled_us:5.0f} µs sampled"
            f" against {r.cpu_us:5.0f} µs measured",
            file=sys.stderr,
        )
    print(f"### {label}\n\n" + "\n".join(table(rows)) + "\n\n" + "\n".join(legend()))


if __name__ == "__main__":
    main()
