"""After the soak: requests per fault window, the ledger against the database, mail against
the SMTP recording."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from webapp.preferences.lists import BY_ID

#: Requests that answer without the database (they say nothing about its recovery).
NO_DATABASE = {"page /privacy", "sign-in: /login"}
#: Requests that consult the rate limiter's store.
LIMITED = {"sign-in: /login", "sign-in: /auth/callback", "unsubscribe page"}


@dataclass
class Request:
    """One request the load sent to the site."""

    start: float
    end: float
    name: str
    status: int  # 0: no answer (connection refused or reset, timeout)


@dataclass
class Fault:
    """One fault: when it began, when the dependency was down and back, and its window's end."""

    name: str
    label: str
    start: float
    down: float | None = None  # None: nothing was down (a process killed and replaced)
    back: float | None = None
    end: float = 0.0
    depends: str = "site"  # which requests tell its recovery: site, database, limiter
    notes: list[str] = field(default_factory=list)


@dataclass
class Row:
    """One line of the table in SOAK.md."""

    label: str
    requests: int = 0
    other_5xx: int = 0
    down_503: int | None = None
    recovery_s: float | None = None
    lost_writes: int = 0
    lost_emails: int = 0
    twice_emails: int = 0
    no_answer: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    notes: list[str] = field(default_factory=list)


def read_requests(folder: Path) -> list[Request]:
    """The site's requests from requests.csv (the provider's are left out)."""
    found = []
    with open(folder / "requests.csv") as file:
        for start, end, _method, name, status, _error in csv.reader(file):
            if name.startswith("provider"):
                continue
            found.append(Request(float(start), float(end), name, int(status)))
    return found


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of `values`, 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _depends(request: Request, on: str) -> bool:
    if on == "database":
        return request.name not in NO_DATABASE
    if on == "limiter":
        return request.name in LIMITED
    return True


def window_row(label: str, requests: list[Request], fault: Fault | None) -> Row:
    """Count a window's requests: 5xx, 503 while down, time to the first 2xx after recovery."""
    row = Row(label)
    row.requests = len(requests)
    row.other_5xx = sum(1 for r in requests if r.status >= 500 and r.status != 503)
    row.no_answer = sum(1 for r in requests if r.status == 0)
    times = [(r.end - r.start) * 1000 for r in requests if 200 <= r.status < 400]
    row.p50_ms, row.p99_ms = percentile(times, 50), percentile(times, 99)
    if fault is None:
        row.notes.append(f"{sum(1 for r in requests if r.status == 503)} × 503")
        return row
    if fault.down is not None and fault.back is not None:
        down, back = fault.down, fault.back
        row.down_503 = sum(1 for r in requests if r.status == 503 and down <= r.start <= back)
        late = sum(1 for r in requests if r.status == 503 and r.start > back)
        if late:
            row.notes.append(f"{late} × 503 after the dependency was back")
    else:
        back = fault.start
        late = sum(1 for r in requests if r.status == 503)
        if late:
            row.notes.append(f"{late} × 503")
    # From the dependency's return, or from the first request that needed it if none came
    # sooner: the time the site kept failing, not the time the load happened to be quiet.
    after = sorted(
        (r for r in requests if r.end >= back and _depends(r, fault.depends)),
        key=lambda r: r.end,
    )
    first = next((r for r in after if 200 <= r.status < 300), None)
    if first is not None:
        failed = [r for r in after if r.end < first.end and (r.status == 0 or r.status >= 500)]
        since = back if failed else max(back, first.start)
        row.recovery_s = max(first.end - since, 0.0)
    row.notes += fault.notes
    return row


# --- the ledger ----------------------------------------------------------------------------


@dataclass
class LostWrite:
    """An acknowledged write the database does not hold."""

    kind: str
    who: str
    key: str
    acknowledged: object
    stored: object
    at: float


def read_ledger(folder: Path) -> list[dict]:
    """Every attempt and acknowledgement, in order."""
    lines = (folder / "ledger.jsonl").read_text().splitlines()
    return sorted((json.loads(line) for line in lines if line), key=lambda e: e["seq"])


def check_ledger(facts: dict, entries: list[dict]) -> tuple[list[LostWrite], dict]:
    """Compare the last acknowledged value of each (person, field) with the database.

    A write whose answer never came (503, reset connection) may or may not have landed: after
    the last acknowledged value, the database may hold that value or one attempted later,
    never anything else.
    """
    history: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    counts: Counter = Counter()
    for entry in entries:
        if entry["kind"] == "publish":
            counts[f"publish {entry['event']}"] += 1
            continue
        history[(entry["kind"], entry["who"], entry["key"])].append(entry)
        counts[f"{entry['kind']} {entry['event']}"] += 1

    ids = facts["ids"]
    names = {int(k): v for k, v in facts["names"].items()}
    choices = {(user_id, list_id): subscribed for user_id, list_id, subscribed in facts["choices"]}

    lost: list[LostWrite] = []
    for (kind, who, key), events in history.items():
        acks = [i for i, e in enumerate(events) if e["event"] == "ack"]
        if not acks:
            continue
        last = acks[-1]
        allowed = [events[last]["value"]] + [
            e["value"] for e in events[last + 1 :] if e["event"] == "attempt"
        ]
        user_id = int(who) if kind == "unsubscribe" else ids.get(who)
        if kind == "profile":
            stored = names.get(user_id)
        else:  # no row: the person never chose, so the list's default holds
            stored = choices.get((user_id, key), BY_ID[key].default)
        if stored not in allowed:
            lost.append(LostWrite(kind, who, key, events[last]["value"], stored, events[last]["t"]))
    counts["keys acknowledged"] = sum(
        1 for events in history.values() if any(e["event"] == "ack" for e in events)
    )
    return lost, dict(counts)


# --- mail ----------------------------------------------------------------------------------


@dataclass
class MailCheck:
    """The outbox against what the SMTP server recorded."""

    sent: int
    received: int
    lost: list[tuple[str, float]]  # (Message-ID, sent_at) of rows marked sent never received
    twice: list[tuple[str, list[float]]]  # (Message-ID, arrival times) received more than once
    queued: int
    failed: int
    leased: int  # still queued and held by a worker's lease (e.g. one that was killed)
    after_unsubscribe: int = 0  # list emails queued after the person's acknowledged unsubscribe


def read_record(path: Path) -> dict[str, list[float]]:
    """Message-ID -> arrival times, from the catcher's record."""
    arrivals: dict[str, list[float]] = defaultdict(list)
    if path.exists():
        for line in path.read_text().splitlines():
            at, message_id, _to = line.split("\t", 2)
            arrivals[message_id].append(float(at))
    return arrivals


def unsubscribes(entries: list[dict]) -> dict[tuple[int, str], float]:
    """(user id, list) -> when the first one-click unsubscribe for it was acknowledged."""
    first: dict[tuple[int, str], float] = {}
    for e in entries:
        if e["kind"] == "unsubscribe" and e["event"] == "ack":
            first.setdefault((int(e["who"]), e["key"]), e["t"])
    return first


def check_mail(facts: dict, record: Path, unsubscribed: dict[tuple[int, str], float]) -> MailCheck:
    """Every row marked sent arrived; which arrived twice; what is still waiting; and no list
    email queued for a person after their unsubscribe was acknowledged."""
    arrivals = read_record(record)
    waiting = facts["waiting"]
    return MailCheck(
        sent=len(facts["sent"]),
        received=sum(len(times) for times in arrivals.values()),
        lost=[(mid, float(at or 0)) for mid, at in facts["sent"] if mid not in arrivals],
        twice=[(mid, times) for mid, times in arrivals.items() if len(times) > 1],
        queued=waiting.get("queued", [0, 0])[0],
        failed=waiting.get("failed", [0, 0])[0],
        leased=waiting.get("queued", [0, 0])[1],
        after_unsubscribe=sum(
            1
            for user_id, list_id, created in facts["listed"]
            if (user_id, list_id) in unsubscribed and created > unsubscribed[(user_id, list_id)]
        ),
    )


# --- what the database held at the end ------------------------------------------------------


def snapshot(engine: Engine, issuer: str) -> dict:
    """The facts the checks read from the database, as JSON-ready data (saved with the run)."""
    with engine.connect() as db:
        ids = dict(
            db.execute(
                text('SELECT subject, id FROM "user" WHERE issuer = :issuer'), {"issuer": issuer}
            ).all()
        )
        names = {
            row.id: {"name": row.name, "preferred_name": row.preferred_name}
            for row in db.execute(text('SELECT id, name, preferred_name FROM "user"'))
            if row.id in ids.values()
        }
        choices = db.execute(text("SELECT user_id, list_id, subscribed FROM subscription")).all()
        listed = db.execute(
            text(
                "SELECT user_id, list_id, extract(epoch FROM created_at) FROM outbox_message "
                "WHERE list_id IS NOT NULL AND user_id IS NOT NULL"
            )
        ).all()
        sent = db.execute(
            text(
                "SELECT message_id, extract(epoch FROM sent_at) FROM outbox_message "
                "WHERE status = 'sent'"
            )
        ).all()
        waiting = db.execute(
            text(
                "SELECT status, count(*), count(claimed_by) FROM outbox_message "
                "WHERE status <> 'sent' GROUP BY status"
            )
        ).all()
    return {
        "ids": ids,
        "names": names,
        "choices": [list(row) for row in choices],
        "listed": [[u, lst, float(at)] for u, lst, at in listed],
        "sent": [[mid, float(at or 0)] for mid, at in sent],
        "waiting": {status: [count, claimed] for status, count, claimed in waiting},
    }
