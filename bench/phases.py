"""Where a request's CPU time goes: samples of the request's stack, each charged to one phase.

A phase is entered when a function that belongs to it is called (its entry points are named
below by file and function) and left when that call returns; whatever runs in between belongs
to it, except the time of a nested phase, which belongs to the nested one. So each moment is
charged once, to the nearest enclosing phase: the database work a page's sign-in does is
"database", the layout state a template asks for is "site hooks", and the phases add up to the
whole. Time outside every entry point is the test client's.

The requests run as they do un-profiled while a timer interrupts them every INTERVAL of wall
time (SIGALRM): the handler finds the nearest entry point on the interrupted stack and charges
its phase with the CPU time this thread used since the previous sample (its own CPU clock, so
time spent waiting for PostgreSQL is not charged, and the handler's own time is left out). The
shares found are applied to the CPU time measured without the timer. With the thousand or so
samples a row gets, a phase moves by a few percent of its request from run to run (tens of
µs on a signed-in page, on a shared virtual machine); on mixes of known cost, and against
functions of the site timed directly, the shares came within a few percent of the request.

Two easier ways were tried and give wrong shares. A deterministic profiler (cProfile, a
`sys.setprofile` hook): on Python 3.11 it slows every call many times over and plain bytecode
by half, so its figures, even scaled to the real total, move time between phases. A sampling
thread: it must take the interpreter's lock to read the stack, and gets it where the request
releases it (os.urandom, sqlite3, a socket), so those places take the samples of their
neighbours. An OS signal reaches the request thread wherever it is.
"""

from __future__ import annotations

import gc
import inspect
import re
import signal
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import CodeType

from flask import Flask

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
        "client",
        "test client",
        "outside the app: Werkzeug's test client building the WSGI environ and reading the "
        "answer, where gunicorn parses and writes HTTP instead (not measured here)",
    ),
    Phase(
        "wsgi",
        "WSGI",
        "in the app, outside Flask's dispatch: Werkzeug's request and response objects, "
        "Flask's app and request contexts, URL matching, teardown",
        r"flask/app\.py:Flask\.wsgi_app$",
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
        "the view function and the services it calls, their database work and templates "
        "aside (a decorator such as login_required, around it, is the sign-in's)",
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
        "gc",
        "garbage collector",
        "Python's cyclic garbage collector, whichever allocation set it off: a collection of "
        "the oldest generation takes milliseconds and would swell whatever phase it fell in",
    ),
    Phase(
        "other",
        "other",
        "Flask's dispatch itself (signals, the response made from the view's value) and "
        "what no phase names",
        r"flask/app\.py:Flask\.full_dispatch_request$",
    ),
)
CLIENT = 0
GC = next(i for i, p in enumerate(PHASES) if p.key == "gc")
_RULES = [(i, re.compile(p.entries)) for i, p in enumerate(PHASES) if p.entries]
_ROOT = f"{ROOT}/"


def _where(code: CodeType) -> str:
    path = code.co_filename
    if "site-packages/" in path:
        path = path.rpartition("site-packages/")[2]
    elif path.startswith(_ROOT):
        path = path.removeprefix(_ROOT)
    return f"{path}:{code.co_qualname}"


def view_entries(app: Flask) -> dict[CodeType, int]:
    """Each view function of `app`, under its decorators, as an entry point of the view phase.

    Decorators such as login_required wrap the view: they run in their own phase (sign-in), and
    the function they wrap, found by `__wrapped__`, is the view's again.
    """
    view = next(i for i, p in enumerate(PHASES) if p.key == "view")
    functions = (inspect.unwrap(f) for f in app.view_functions.values())
    return {f.__code__: view for f in functions if hasattr(f, "__code__")}


def phase_of(code: CodeType) -> int:
    """The phase whose entry point `code` is, or -1: it then runs in its caller's phase."""
    where = _where(code)
    for index, rule in _RULES:
        if rule.match(where):
            return index
    return -1


#: Wall-clock seconds between samples. Each costs the sampled thread some tens of µs on a
#: virtual machine (the timer's interrupt and the signal), and the caches it disturbs more:
#: every 0.1 ms doubled a page's CPU time, every 1 ms adds about 5 %, evenly.
INTERVAL = 1e-3


@dataclass
class Samples:
    """CPU seconds of the request thread charged to each phase, and how many samples each."""

    seconds: list[float] = field(default_factory=lambda: [0.0] * len(PHASES))
    counts: list[int] = field(default_factory=lambda: [0] * len(PHASES))

    @property
    def count(self) -> int:
        """Samples taken."""
        return sum(self.counts)


def _phase_at(frame, kinds: dict[CodeType, int]) -> int:
    """The phase of the nearest entry point on the stack that ends in `frame`."""
    while frame is not None:
        code = frame.f_code
        phase = kinds.get(code)
        if phase is None:
            phase = kinds[code] = phase_of(code)
        if phase >= 0:
            return phase
        frame = frame.f_back
    return CLIENT


def sample(
    send: Callable[[], object],
    requests: int,
    into: Samples | None = None,
    entries: dict[CodeType, int] | None = None,
    interval: float = INTERVAL,
) -> Samples:
    """Send `requests` requests while a timer samples them; add the samples to `into`.

    `entries`: entry points besides the rules' (`view_entries`), code object to phase.

    Only from the main thread (Python runs signal handlers there). A sample that comes while
    the last one is still being taken (a busy machine) is left out, its time going to the
    next. The garbage collector's time is its own phase, timed by `gc.callbacks` and taken
    out of the sample it would have swollen. The SIGALRM handler and timer set before are put
    back afterwards.
    """
    found = into or Samples()
    kinds: dict[CodeType, int] = dict(entries or {})
    clock, thread = time.thread_time, threading.get_ident()
    last, busy, collecting, collected = clock(), False, 0.0, 0.0

    def on_alarm(_signal: int, frame) -> None:
        nonlocal last, busy, collected
        if busy:
            return
        busy, now = True, clock()
        try:
            phase = _phase_at(frame, kinds)
            found.seconds[phase] += now - last - collected
            found.seconds[GC] += collected
            found.counts[phase] += 1
        finally:
            last, busy, collected = clock(), False, 0.0

    def on_collection(stage: str, _info: dict) -> None:
        nonlocal collecting, collected
        if threading.get_ident() != thread:
            return  # another thread's collection: not on this thread's clock
        if stage == "start":
            collecting = clock()
        else:
            collected += clock() - collecting

    handler = signal.getsignal(signal.SIGALRM)
    if handler is None:
        raise RuntimeError("SIGALRM has a handler Python did not set: cannot sample")
    signal.signal(signal.SIGALRM, on_alarm)
    gc.callbacks.append(on_collection)
    timer = signal.setitimer(signal.ITIMER_REAL, interval, interval)
    try:
        for _ in range(requests):
            send()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        while signal.SIGALRM in signal.sigpending():  # one still on its way: let it land here
            time.sleep(interval)
        signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, *timer)
        gc.callbacks.remove(on_collection)
    return found


def _spin() -> None:
    for _ in range(300_000):
        pass


def signal_cost(rounds: int = 7) -> float:
    """CPU seconds a sample adds to the thread it samples, besides the handler's own time.

    The signal's delivery and return cost the sampled thread some microseconds each (tens on
    a virtual machine), and they come as often while it waits for PostgreSQL as while it
    computes: left in, they would charge the waits' phase (the database) with CPU time the
    un-sampled request never spends. Found on a loop timed with and without a timer ten times
    as fast as INTERVAL, so that the samples' cost stands well above the loop's own noise.
    """
    clock, costs = time.thread_time, []
    for _ in range(rounds):
        start = clock()
        _spin()
        plain = clock() - start
        sampled = sample(_spin, 1, interval=INTERVAL / 10)
        if sampled.count:
            costs.append((sum(sampled.seconds) - plain) / sampled.count)
    return max(statistics.median(costs), 0.0) if costs else 0.0


def attribute(samples: Samples, cpu_us: float, cost: float = 0.0) -> dict[str, float]:
    """Microseconds per request of each phase: the samples' shares of the measured `cpu_us`.

    Each sample's `cost` (`signal_cost`) is taken off the phase it fell in first.
    """
    kept = [max(s - cost * n, 0.0) for s, n in zip(samples.seconds, samples.counts, strict=True)]
    total = sum(kept)
    if not total:
        raise RuntimeError("no CPU time was sampled: send more requests")
    return {p.key: cpu_us * k / total for p, k in zip(PHASES, kept, strict=True)}
