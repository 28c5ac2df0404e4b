"""bench/SOAK.md: one row per fault and one for steady state, the targets, the ledger."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from bench.servers import ROOT

from .check import Fault, LostWrite, MailCheck, Request, Row, percentile, window_row

HEADER = (
    "| fault | requests | 5xx other than 503 | 503 while down "
    "| seconds from recovery to the first 2xx | writes acknowledged but lost | emails lost "
    "| emails sent twice | no answer (reset, refused) | p50 ms | p99 ms | notes |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


def _owner(at: float, starts: list[float]) -> int:
    """The index of the window an event at `at` belongs to (0 is the warm-up)."""
    index = 0
    for n, start in enumerate(starts):
        if at >= start:
            index = n
    return index


WARM_UP = "warm-up (Locust's ramp, everyone signing in)"


def rows(
    requests: list[Request],
    steady: tuple[float, float],
    faults: list[Fault],
    lost: list[LostWrite],
    mail: MailCheck,
) -> list[Row]:
    """The table: the warm-up, steady state, then each fault's window until the next fault."""
    # A request belongs to the window its answer (or its failure) came in.
    table = [
        window_row(WARM_UP, [r for r in requests if r.end < steady[0]], None),
        window_row("steady state", [r for r in requests if steady[0] <= r.end < steady[1]], None),
    ]
    for fault in faults:
        inside = [r for r in requests if fault.start <= r.end < fault.end]
        table.append(window_row(fault.label, inside, fault))
    starts = [0.0, steady[0]] + [f.start for f in faults]
    for write in lost:
        table[_owner(write.at, starts)].lost_writes += 1
    for _message_id, sent_at in mail.lost:
        table[_owner(sent_at, starts)].lost_emails += 1
    for _message_id, arrivals in mail.twice:
        # Charged to the window of the first delivery: that is when it was in flight.
        table[_owner(min(arrivals), starts)].twice_emails += 1
    return table


def _cell(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table_text(table: list[Row]) -> str:
    """The Markdown table."""
    lines = [HEADER]
    for row in table:
        cells = [
            row.label,
            row.requests,
            row.other_5xx,
            row.down_503,
            row.recovery_s,
            row.lost_writes,
            row.lost_emails,
            row.twice_emails,
            row.no_answer,
            row.p50_ms,
            row.p99_ms,
            "; ".join(row.notes),
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def targets(table: list[Row], faults: list[Fault], mail: MailCheck) -> list[str]:
    """Each of the issue's targets, met or not, from the figures."""
    steady = table[1]
    kills = sum(1 for f in faults if f.name == "mail-kill")
    checks = [
        ("no 500 anywhere", sum(r.other_5xx for r in table) == 0),
        ("no acknowledged write lost", sum(r.lost_writes for r in table) == 0),
        ("no email lost", not mail.lost),
        ("no list email queued after an acknowledged unsubscribe", not mail.after_unsubscribe),
        (
            f"an email sent twice only where a mail worker was killed (at most {kills})",
            len(mail.twice) <= kills
            and all(
                r.twice_emails == 0
                for r, f in zip(table[2:], faults, strict=False)
                if f.name != "mail-kill"
            ),
        ),
        (
            "back to 2xx within 5 s of the dependency's return",
            all(r.recovery_s is not None and r.recovery_s <= 5 for r in table[2:]),
        ),
        (
            "Redis down: the site keeps serving and never 500s",
            all(
                r.other_5xx == 0 and (r.down_503 or 0) == 0
                for r, f in zip(table[2:], faults, strict=False)
                if f.name == "redis-stop"
            ),
        ),
        (
            f"steady-state p99 within 4 × p50 ({steady.p99_ms:.0f} ms vs 4 × {steady.p50_ms:.0f} ms)",
            steady.p99_ms <= 4 * steady.p50_ms,
        ),
    ]
    return [f"- {'met' if ok else '**missed**'}: {what}" for what, ok in checks]


def by_kind(requests: list[Request]) -> str:
    """Steady state per kind of request: how many, p50, p99, slowest (2xx and 3xx answers)."""
    kinds: dict[str, list[float]] = {}
    for r in requests:
        if 200 <= r.status < 400:
            kinds.setdefault(r.name, []).append((r.end - r.start) * 1000)
    lines = ["| request | answered | p50 ms | p99 ms | slowest ms |", "|---|---:|---:|---:|---:|"]
    for name, times in sorted(kinds.items()):
        lines.append(
            f"| {name} | {len(times)} | {percentile(times, 50):.0f} | {percentile(times, 99):.0f} "
            f"| {max(times):.0f} |"
        )
    return "\n".join(lines)


def timeline(faults: list[Fault], origin: float) -> list[str]:
    """When each fault began, its dependency went and came back, in seconds from the load's start."""
    lines = []
    for f in faults:
        down = (
            ""
            if f.down is None
            else f", down {f.down - origin:.1f} s, back {f.back - origin:.1f} s"
        )
        lines.append(
            f"- {f.label}: at {f.start - origin:.1f} s{down}, window ends {f.end - origin:.1f} s"
        )
    return lines


def _shown(folder: Path) -> str:
    """The folder relative to the checkout when it is inside it."""
    folder = folder.resolve()
    return str(folder.relative_to(ROOT)) if folder.is_relative_to(ROOT) else str(folder)


def _machine(run: dict) -> list[str]:
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.rstrip()
    samples = run["load_average"]
    started = datetime.fromisoformat(run["started"])
    return [
        f"- date: {started:%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} cores ({platform.machine()}, {platform.system()} "
        f"{platform.release()}), python {sys.version.split()[0]}",
        f"- load average (1 min) before the soak started: {samples[0]:.2f}; during it, sampled "
        f"each second: lowest {min(samples):.2f}, mean {sum(samples) / len(samples):.2f}, "
        f"highest {max(samples):.2f}",
        "- free -h (when the report was written):",
        "",
        "```",
        memory,
        "```",
    ]


def write(
    path: Path,
    *,
    table: list[Row],
    mail: MailCheck,
    lost: list[LostWrite],
    counts: dict,
    run: dict,
    folder: Path,
    faults: list[Fault],
    requests: list[Request],
) -> Path:
    """Write SOAK.md and return its path."""
    args = argparse.Namespace(**run["args"])
    crashed = run["crashed"]
    steady, origin = run["steady"], run["load_start"]
    command = f"make soak SOAK_MINUTES={args.minutes:g}"
    lines = [
        "# Soak: load and faults",
        "",
        f"Written by `{command}` (`python -m bench.soak --minutes {args.minutes:g} "
        f"--users {args.users} --people {args.people} --publish-every {args.publish_every:g}`). "
        f"Raw records of this run: `{_shown(folder)}` (not committed).",
        "",
        *_machine(run),
        "",
        "This machine is shared: 2 cores and, while this ran, other engineers' test suites. "
        "Read latencies as upper bounds and compare them within this run only; counts of "
        "errors, lost writes and emails do not depend on the machine's speed.",
        "",
        "## What ran",
        "",
        "Everything on loopback, each its own process: a PostgreSQL cluster and a Redis server "
        "of the soak's own (never the machine's), the development OpenID provider, an SMTP "
        "catcher recording every message's Message-ID, gunicorn with the Procfile's web command "
        "(2 sync workers, bound to 127.0.0.1), two `flask --app webapp mail worker` processes, "
        f"and Locust headless with {args.users} users: people signing in through the provider, "
        "opening pages, saving their name through htmx with the CSRF token and switching lists; "
        "mail programs posting RFC 8058 one-click unsubscribes for seeded people; one staff "
        f"member publishing a policy version every {args.publish_every:g} s, whose notice fans "
        f"out through the outbox to the {args.people} seeded people and the signed-in ones.",
        "",
        "A request is counted in the window its answer came in. "
        "A fault's window runs from the fault to the next fault; steady state from the end of "
        "the warm-up (the first minute at most: Locust's ramp, when every simulated person "
        "signs in at once) to the first fault. *503 while down* counts 503 answers to requests sent "
        "while the dependency was down; *seconds from recovery to the first 2xx* runs from the "
        "dependency's return (or the kill) to the end of the first 2xx answer to a request "
        "that needs it (the database, the limiter's store, or any page); when no request "
        "failed after the return it runs from the first such request, so a quiet moment in "
        "the load does not count as downtime. Killed mail workers are replaced at once, as a "
        "process supervisor would.",
        "",
        "## Results",
        "",
        table_text(table),
        "",
        "Targets:",
        "",
        *targets(table, faults, mail),
        "",
        "Timeline:",
        "",
        *timeline(faults, origin),
        "",
        "Steady state by kind of request:",
        "",
        by_kind([r for r in requests if steady[0] <= r.end < steady[1]]),
        "",
        "## The ledger",
        "",
        "Every write Locust was told succeeded (2xx) was recorded with a sequence number and "
        "the attempts before it; afterwards each (person, field) in the database was compared "
        "with the last acknowledged value (a later attempt whose answer was lost may have "
        "landed; nothing else may be there).",
        "",
        "- " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())),
        f"- acknowledged writes lost: {len(lost)}",
    ]
    for write_ in lost[:20]:
        lines.append(
            f"  - {write_.kind} {write_.who} {write_.key}: acknowledged {write_.acknowledged!r}, "
            f"stored {write_.stored!r}"
        )
    lines += [
        "",
        "## Mail",
        "",
        f"- outbox rows marked sent: {mail.sent}; messages the SMTP server recorded: "
        f"{mail.received}",
        f"- marked sent but never received: {len(mail.lost)}",
        f"- received more than once (same Message-ID): {len(mail.twice)}",
    ]
    for message_id, arrivals in mail.twice[:10]:
        lines.append(f"  - {message_id}: {len(arrivals)} times")
    lines += [
        f"- still queued at the end: {mail.queued} (of which held by a worker's lease: "
        f"{mail.leased}); failed: {mail.failed}",
        f"- list emails queued for a person after their one-click unsubscribe was "
        f"acknowledged: {mail.after_unsubscribe}",
        f"- mail workers that exited by themselves (restarted): {len(crashed)}",
        "",
    ]
    path.write_text("\n".join(lines))
    return path
