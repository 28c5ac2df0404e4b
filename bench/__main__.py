"""`make bench` (`python -m bench [--quick] [--postgres URL]`): print and save the figures."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime

from . import load, mail, servers, web

RESULTS = servers.ROOT / "bench" / "RESULTS.md"


def machine() -> str:
    """The machine the figures come from."""
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    return "\n".join(
        [
            f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
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


def site_table(label: str, hello: load.Result, rows: list[web.Row]) -> str:
    """The Markdown table for one database."""
    lines = [
        f"### Pages on {label}",
        "",
        "| page | req/s | p50 ms | p99 ms | p99/p50 | ratio to hello-world | target | note |",
        "|---|---:|---:|---:|---:|---:|---|---|",
        f"| hello-world (yardstick) | {hello.rps:.0f} | {hello.p50_ms:.2f} | {hello.p99_ms:.2f} "
        f"| {hello.p99_ms / hello.p50_ms:.1f} | 1.00 | | |",
    ]
    for row in rows:
        target = f"≥ {row.target}" if row.target else ""
        r = row.result
        if r is None:
            lines.append(f"| {row.label} | – | – | – | – | – | {target} | {row.note} |")
            continue
        ratio = r.rps / hello.rps
        spread = r.p99_ms / r.p50_ms if r.p50_ms else 0
        verdict = ""
        if row.target:
            verdict = "met" if ratio >= row.target else f"missed by {row.target - ratio:.2f}"
        if spread > 4:
            verdict += (", " if verdict else "") + "p99 > 4×p50"
        note = "; ".join(x for x in (verdict, row.note) if x)
        lines.append(
            f"| {row.label} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {spread:.1f} "
            f"| {ratio:.2f} | {target} | {note} |"
        )
    return "\n".join(lines)


def mail_table(comparisons: list[mail.Comparison], campaign: mail.Campaign | None) -> str:
    """The mail delivery figures."""
    lines = [
        "### Mail delivery",
        "",
        "| database | messages | smtplib loop msg/s | outbox worker msg/s | ratio | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for c in comparisons:
        verdict = "met" if c.ratio >= 0.8 else f"missed by {0.8 - c.ratio:.2f}"
        lines.append(
            f"| {c.database} | {c.messages} | {c.bare_per_s:.0f} | {c.outbox_per_s:.0f} "
            f"| {c.ratio:.2f} | ≥ 0.8: {verdict} |"
        )
    if campaign is not None:
        dupes = campaign.received - campaign.unique
        lines += [
            "",
            "| two workers on PostgreSQL | queued | received | distinct Message-IDs | sent twice "
            "| marked sent | seconds | msg/s |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
            f"| campaign | {campaign.queued} | {campaign.received} | {campaign.unique} | {dupes} "
            f"| {campaign.marked_sent} | {campaign.seconds:.1f} "
            f"| {campaign.received / campaign.seconds:.0f} |",
        ]
    else:
        lines += ["", "Two workers on PostgreSQL: skipped (no TEST_DATABASE_URL or --postgres)."]
    return "\n".join(lines)


def main() -> None:
    """Run every benchmark, print the tables and write bench/RESULTS.md."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, smaller mail batches")
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=None, help="seconds per page")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if not load.have_wrk():
        sys.exit("wrk is needed: apt-get install -y wrk")
    seconds = args.seconds or (3 if args.quick else 8)
    mail_count = 1000 if args.quick else 4000
    campaign_count = 5000 if args.quick else 20_000
    servers.OUT.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def log(message: str) -> None:
        print(f"[{time.monotonic() - started:5.0f}s] {message}", file=sys.stderr, flush=True)

    from oidc_provider_mock import run_server_in_thread

    sections = []
    comparisons = []
    campaign = None
    with run_server_in_thread(port=0) as provider:
        provider_url = f"http://localhost:{provider.server_port}"
        databases = [("SQLite", f"sqlite:///{servers.OUT / 'bench.sqlite3'}")]
        if args.postgres:
            databases.append(("PostgreSQL", servers.fresh_postgres(args.postgres, "bench")))
        for label, url in databases:
            log(f"pages on {label}")
            hello, rows = web.measure_site(
                url, provider_url, users=args.users, seconds=seconds, log=log
            )
            sections.append(site_table(label, hello, rows))
        for label, url in databases:
            log(f"mail: outbox worker vs smtplib on {label}")
            target = (
                url if label == "SQLite" else servers.fresh_postgres(args.postgres, "bench_smtp")
            )
            if label == "SQLite":
                target = f"sqlite:///{servers.OUT / 'mail.sqlite3'}"
            comparisons.append(mail.compare(target, label, mail_count))
        if args.postgres:
            log(f"mail: two workers, {campaign_count} messages on PostgreSQL")
            campaign = mail.two_workers(args.postgres, campaign_count, provider_url)

    report = "\n\n".join(
        [
            "# Benchmark results",
            "Produced by `make bench`"
            + (" (--quick)" if args.quick else "")
            + f"; {args.users} seeded people; {seconds} s per page. "
            "Ratios compare with hello-world measured in the same run (before and after the "
            "pages, averaged): absolute figures drift on shared machines, ratios hold.",
            "## Machine\n\n" + machine(),
            *sections,
            mail_table(comparisons, campaign),
            f"Whole run: {time.monotonic() - started:.0f} s.",
        ]
    )
    print(report)
    if not args.no_write:
        RESULTS.write_text(report + "\n")


if __name__ == "__main__":
    main()
