"""Where a request's CPU time goes: a profile that charges every moment to one named phase.

A phase is entered when a function that belongs to it is called (its entry points are named
below by file and function) and left when that call returns; whatever runs in between belongs
to it, except the time of a nested phase, which belongs to the nested one. So each moment is
charged once, to the nearest enclosing phase: the database work a page's sign-in does is
"database", the layout state a template asks for is "site hooks", and the phases add up to the
whole. Time outside every entry point is the HTTP shell's.

The profile is a `sys.setprofile` hook: it reads the CPU clock only when the phase changes, and
counts every call and return. A profiler slows each call by about as much as the call itself,
so its raw figures are not the request's. They are corrected with the un-profiled run of the
same requests: each phase's clock readings lose their own cost, then a fixed cost per profiler
event, the one that makes the phases add up to the un-profiled CPU time. What is left is an
estimate of each phase (good to a few percent of the request); the total is measured.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType

from .servers import ROOT


@dataclass(frozen=True)
class Phase:
    """A column of the breakdown: what it charges, and where that is in the code."""

    key: str
    heading: str
    meaning: str
    entries: str = ""  #: a regex over `path:qualified name` (paths as `_where` gives them)


PHASES = (
    Phase(
        "shell",
        "HTTP shell",
        "outside Flask's dispatch: the test client building the request, Werkzeug's request "
        "and response objects, Flask's app and request contexts, URL matching, teardown",
    ),
    Phase(
        "cookie",
        "cookie session",
        "Flask's signed cookie session, opened and saved (itsdangerous)",
        r"flask/sessions\.py:.*\.(open|save)_session|webapp/security\.py:CookieSessions\.",
    ),
    Phase(
        "csrf",
        "CSRF",
        "Flask-WTF's check of a POST's token and the signing of the page's token",
        r"flask_wtf/csrf\.py:|webapp/security\.py:csrf_token$",
    ),
    Phase(
        "login",
        "sign-in",
        "flask-login and the site's person and session load "
        "(webapp/auth/current.py, sessions.py, guards.py), its database work aside",
        r"flask_login/|webapp/auth/(current|sessions|guards)\.py:|bench/floor\.py:load$",
    ),
    Phase(
        "hooks",
        "site hooks",
        "the site's before/after-request hooks and per-request layout state: request id and "
        "security headers (webapp/security.py), layout and navigation, consent, the limiter",
        r"webapp/(security|layout|navigation|logsafe)\.py:|webapp/consent/web\.py:"
        r"|flask_limiter/|limits/",
    ),
    Phase(
        "view",
        "view",
        "the view and the services it calls, their database work and templates aside",
        r"flask/app\.py:Flask\.dispatch_request$",
    ),
    Phase(
        "db",
        "database",
        "SQLAlchemy, the site's driver layer (webapp/db.py, driver.py) and sqlite3 or "
        "psycopg, whoever asked: CPU in this process only, the server's work is not in it",
        r"(sqlalchemy|sqlmodel|psycopg|psycopg_pool)/|webapp/(db|driver)\.py:"
        r"|bench/floor\.py:_row$",
    ),
    Phase(
        "jinja",
        "templates",
        "Jinja rendering: flask.templating, jinja2 and the compiled templates",
        r"flask/templating\.py:|jinja2/|templates/|bench/floor_templates/",
    ),
    Phase(
        "other",
        "other",
        "Flask's dispatch itself (signals, the response made from the view's value) and "
        "what no phase names",
        r"flask/app\.py:Flask\.full_dispatch_request$",
    ),
)
SHELL = 0
_RULES = [(i, re.compile(p.entries)) for i, p in enumerate(PHASES) if p.entries]
_ROOT = f"{ROOT}/"


def _where(code: CodeType) -> str:
    path = code.co_filename
    if "site-packages/" in path:
        path = path.rpartition("site-packages/")[2]
    elif path.startswith(_ROOT):
        path = path.removeprefix(_ROOT)
    return f"{path}:{code.co_qualname}"


def phase_of(code: CodeType) -> int:
    """The phase whose entry point `code` is, or -1: it then runs in its caller's phase."""
    where = _where(code)
    for index, rule in _RULES:
        if rule.match(where):
            return index
    return -1


@dataclass
class Tally:
    """What one profiled run charged to each phase."""

    seconds: list[float]  #: CPU seconds between the clock readings at phase changes
    events: list[int]  #: profiler events (calls and returns, of Python and C functions)
    changes: list[int]  #: phase changes on either side of which the phase stood

    @property
    def calls(self) -> int:
        """Function calls, C functions' included (a call and its return are two events)."""
        return sum(self.events) // 2


def profile(send: Callable[[], object], requests: int) -> Tally:
    """Send `requests` requests under the phase profiler."""
    count = len(PHASES)
    tally = Tally([0.0] * count, [0] * count, [0] * count)
    seconds, events, changes = tally.seconds, tally.events, tally.changes
    kinds: dict[CodeType, int] = {}
    stack: list[tuple[object, int]] = []  # (the entry's frame, the phase to go back to)
    clock = time.process_time
    state: list = [SHELL, 0.0]  # the phase now, the clock when it began

    def on_event(frame, event: str, _arg) -> None:
        here = state[0]
        events[here] += 1
        if event == "call":
            code = frame.f_code
            phase = kinds.get(code)
            if phase is None:
                phase = kinds[code] = phase_of(code)
            if phase >= 0 and phase != here:
                now = clock()
                seconds[here] += now - state[1]
                changes[here] += 1
                changes[phase] += 1
                stack.append((frame, here))
                state[0], state[1] = phase, now
        elif event == "return" and stack and stack[-1][0] is frame:
            now = clock()
            seconds[here] += now - state[1]
            back = stack.pop()[1]
            changes[here] += 1
            changes[back] += 1
            state[0], state[1] = back, now

    state[1] = clock()
    sys.setprofile(on_event)
    try:
        for _ in range(requests):
            send()
    finally:
        sys.setprofile(None)
    seconds[state[0]] += clock() - state[1]
    if stack:
        raise RuntimeError(f"phase {PHASES[state[0]].key} entered and never left")
    return tally


def clock_cost() -> float:
    """Seconds one reading of the CPU clock takes (the profiler reads it at each change)."""
    clock = time.process_time
    best = float("inf")
    for _ in range(5):
        start = clock()
        for _ in range(1000):
            clock()
        best = min(best, (clock() - start) / 1001)
    return best


def attribute(tally: Tally, cpu_us: float, requests: int, reading: float) -> dict[str, float]:
    """Microseconds per request of each phase, adding up to the un-profiled `cpu_us`.

    Each phase loses half a clock `reading` for every change on either side of it, then the
    per-event cost that makes the phases sum to the measured total; a phase that would go
    below zero is zero, and the rest are scaled to keep the sum.
    """
    total = cpu_us * requests / 1e6
    kept = [s - c * reading / 2 for s, c in zip(tally.seconds, tally.changes, strict=True)]
    per_event = (sum(kept) - total) / max(sum(tally.events), 1)
    left = [max(k - per_event * e, 0.0) for k, e in zip(kept, tally.events, strict=True)]
    scale = total / sum(left) if sum(left) else 0.0
    return {p.key: x * scale / requests * 1e6 for p, x in zip(PHASES, left, strict=True)}
