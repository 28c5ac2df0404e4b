"""`make bench` (`python -m bench [--quick] [--postgres URL]`): print and save the figures."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime

from . import breakdown, load, mail, servers, web

RESULTS = servers.ROOT / "bench" / "RESULTS.md"


def _load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine(load_before: str) -> str:
    """The machine the figures come from, the command and the load average when it began."""
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    return "\n".join(
        [
            f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            "- command: `" + " ".join(["python -m bench", *sys.argv[1:]]) + "`",
            f"- load average (1, 5, 15 min) at the start: {load_before}",
            f"- nproc: {os.cpu_count()} ({platform.machine()}, {platform.system()})",
            f"- python: {sys.version.split()[0]}",
            "- gunicorn: " + " ".join(servers.GUNICORN) + " (the site and hello-world alike)",
            "- load: wrk, 1 thread, 8 connections, from a second process on loopback",
            "- free -h:",
            "",
            "```",
            memory,
            "```",
        ]
    )


HEADER = [
    "| database | row | per s | p50 ms | p99 ms | p99/p50 | compared with | ratio | target | note |",
    "|---|---|---:|---:|---:|---:|---|---:|---|---|",
]


def _verdict(ratio: float, target: float | None, spread: float | None) -> str:
    verdict = ""
    if target:
        verdict = "met" if ratio >= target else f"missed by {target - ratio:.2f}"
    if spread is not None and spread > 4:
        verdict += (", " if verdict else "") + "p99 > 4×p50"
    return verdict


def site_lines(label: str, yardsticks: dict[str, load.Result], rows: list[web.Row]) -> list[str]:
    """Table lines for one database: the yardsticks, then each page against its yardstick."""
    floor = "hello-db" if "hello-db" in yardsticks else "hello-world"
    lines = []
    for name, y in yardsticks.items():
        lines.append(
            f"| {label} | {name} (yardstick) | {y.rps:.0f} | {y.p50_ms:.2f} | {y.p99_ms:.2f} "
            f"| {y.p99_ms / y.p50_ms:.1f} | | 1.00 | | |"
        )
    base = yardsticks[floor]
    for row in rows:
        target = f"≥ {row.target}" if row.target else ""
        r = row.result
        if r is None:
            lines.append(
                f"| {label} | {row.label} | – | – | – | – | {floor} | – | {target} | {row.note} |"
            )
            continue
        ratio = r.rps / base.rps
        spread = r.p99_ms / r.p50_ms if r.p50_ms else 0
        note = "; ".join(x for x in (_verdict(ratio, row.target, spread), row.note) if x)
        lines.append(
            f"| {label} | {row.label} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} "
            f"| {spread:.1f} | {floor} | {ratio:.2f} | {target} | {note} |"
        )
    return lines


def mail_lines(comparisons: list[mail.Comparison], campaign: mail.Campaign | None) -> list[str]:
    """Table lines for mail: the outbox worker against bare smtplib, and two workers."""
    lines = []
    for c in comparisons:
        lines.append(
            f"| {c.database} | bare smtplib loop, {c.messages} messages (yardstick) "
            f"| {c.bare_per_s:.0f} | | | | | 1.00 | | |"
        )
        lines.append(
            f"| {c.database} | outbox worker (`mail send-queued`), {c.messages} messages "
            f"| {c.outbox_per_s:.0f} | | | | bare smtplib | {c.ratio:.2f} | ≥ 0.8 "
            f"| {'; '.join(x for x in (_verdict(c.ratio, 0.8, None), c.note) if x)} |"
        )
    if campaign is not None:
        dupes = campaign.received - campaign.unique
        lines.append(
            f"| PostgreSQL | two `mail send-queued` processes, {campaign.queued} queued "
            f"| {campaign.received / campaign.seconds:.0f} | | | | | | none sent twice "
            f"| received {campaign.received}, distinct {campaign.unique}, sent twice {dupes}, "
            f"marked sent {campaign.marked_sent}, {campaign.seconds:.1f} s |"
        )
    return lines


def main() -> None:
    """Run every benchmark, print the tables and write bench/RESULTS.md."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, smaller mail batches")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=None, help="seconds per page")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--mail", type=int, action="append", help="messages per mail comparison (repeatable)"
    )
    parser.add_argument(
        "--no-pages", action="store_true", help="mail rows only (no page rows, no breakdown)"
    )
    parser.add_argument("--no-mail", action="store_true", help="page rows only")
    args = parser.parse_args()
    if not load.have_wrk():
        sys.exit("wrk is needed: apt-get install -y wrk")
    seconds = args.seconds or (3 if args.quick else 8)
    mail_counts = args.mail or ([1000] if args.quick else [1000, 20_000])
    campaign_count = 5000 if args.quick else 20_000
    servers.OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    load_before = _load_average()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f}s] {message}", file=sys.stderr, flush=True)

    from webapp.dev.provider import run_provider

    lines: list[str] = []
    breakdowns: list[tuple[str, list[breakdown.Measured]]] = []
    breakdown_requests = 300 if args.quick else breakdown.DEFAULT_REQUESTS
    comparisons = []
    campaign = None
    with run_provider(port=0) as provider:
        provider_url = f"http://localhost:{provider.server_port}"
        databases = [("SQLite", servers.fresh_sqlite("bench.sqlite3"))]
        if args.postgres:
            databases.append(("PostgreSQL", servers.fresh_postgres(args.postgres, "bench")))
        for label, url in databases if not args.no_pages else ():
            log(f"where the time goes on {label}: in process, a database of its own")
            own = (
                servers.fresh_sqlite("breakdown.sqlite3")
                if label == "SQLite"
                else servers.fresh_postgres(args.postgres, "breakdown")
            )
            breakdowns.append((label, breakdown.run(own, breakdown_requests)))
            log(f"pages on {label}")
            yardsticks, rows = web.measure_site(
                url, provider_url, users=args.users, seconds=seconds, log=log
            )
            lines += site_lines(label, yardsticks, rows)
        for label, url in databases if not args.no_mail else ():
            log(f"mail: outbox worker vs smtplib on {label}")
            target = (
                url if label == "SQLite" else servers.fresh_postgres(args.postgres, "bench_smtp")
            )
            if label == "SQLite":
                target = servers.fresh_sqlite("mail.sqlite3")
            for count in mail_counts:
                comparisons.append(mail.compare(target, label, count))
        if args.postgres and not args.no_mail:
            log(f"mail: two workers, {campaign_count} messages on PostgreSQL")
            campaign = mail.two_workers(args.postgres, campaign_count, provider_url)

    report = "\n\n".join(
        [
            "# Benchmark results",
            "Produced by `make bench`"
            + (" (--quick)" if args.quick else "")
            + f"; {args.users} seeded people; {seconds} s per page. "
            "Ratios compare SQLite rows with hello-world and PostgreSQL rows with hello-db "
            "(hello-world plus `SELECT 1` on a pooled psycopg connection to the same server), "
            "each measured in the same run under the same gunicorn settings, before and after "
            "the pages, averaged: absolute figures drift on shared machines, ratios hold. "
            "Write rows make a real change on every request: the field save alternates two "
            "names over 16 signed-in people (each request replaces the value the last one "
            "stored), the one-click row takes a different seeded person off the list each "
            "time; each row's note counts the changes the database recorded. Signed-in rows "
            "send the session cookie a browser holds from its second page on, the CSRF secret "
            "already in it (the stack floor's alike), so no row writes a new cookie each time. "
            "The rows named "
            "'stack floor' are not the site: bench/floor.py is the smallest signed-in page on "
            "the same stack (Flask, flask-login loading one row, Flask-WTF, a short Jinja "
            "layout), served and loaded like the pages, to show how much of each target the "
            "stack itself leaves. Mail rows "
            "compare `mail send-queued` with a bare smtplib loop over the same messages.",
            "## Machine\n\n" + machine(load_before),
            "## Every row\n\n"
            + "\n".join(HEADER + lines + mail_lines(comparisons, campaign))
            + f"\n\nLoad average after the run: {_load_average()}.",
            *([breakdown.section(breakdowns, breakdown_requests)] if breakdowns else []),
            f"Whole run: {time.monotonic() - started:.0f} s.",
        ]
    )
    print(report)
    if not args.no_write:
        RESULTS.write_text(report + "\n")


if __name__ == "__main__":
    main()
