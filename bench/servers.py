"""The processes a benchmark run needs: the provider, the site and hello-world under gunicorn."""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import requests
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from .load import USER_AGENT

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
VENV_BIN = Path(sys.executable).parent
#: The same settings for the site and for hello-world.
GUNICORN = [
    "--workers",
    "2",
    "--worker-class",
    "sync",
    "--backlog",
    "2048",
    "--log-level",
    "warning",
]
#: Where a page's layout hands htmx its CSRF token, and where an edit form carries `seen`.
CSRF_IN_LAYOUT = re.compile(r'"X-CSRFToken": "([^"]+)"')
SEEN_IN_FORM = re.compile(r'name="seen" value="([^"]*)"')


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_env(database_url: str, provider_url: str, base_url: str, smtp_url: str) -> dict[str, str]:
    """The production environment the site runs with in the benchmark."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SENTRO_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATA_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        "OIDC_ISSUER": provider_url,
        "OIDC_CLIENT_ID": "sentro-bench",
        "OIDC_CLIENT_SECRET": "bench-secret",
        "BASE_URL": base_url,
        "SMTP_URL": smtp_url,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


def flask(env: dict[str, str], *args: str) -> str:
    """Run `flask --app webapp ARGS` and return what it printed."""
    done = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "webapp", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(
            f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-1000:]}{done.stderr[-2000:]}"
        )
    return done.stdout


def fresh_postgres(url: str, name: str) -> str:
    """Drop and create database `name` (prefixed with this checkout's folder) beside `url`'s."""
    name = f"{ROOT.name}_{name}"  # checkouts running benchmarks at once never drop each other's
    base = make_url(url)
    admin = base.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.set(database=name).render_as_string(hide_password=False)


def fresh_sqlite(name: str) -> str:
    """An empty SQLite database `name` in bench/out (a previous run's is removed); its URL.

    A reused database would hold the previous run's changes: its one-click row would take
    people off a list they had already left.
    """
    path = OUT / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


@contextmanager
def gunicorn(app: str, env: dict[str, str], port: int) -> Iterator[str]:
    """Serve `app` (a gunicorn app spec) with the shared settings on `port`."""
    log = open(OUT / f"gunicorn-{port}.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), *GUNICORN, "--bind", f"127.0.0.1:{port}", app],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {app} exited; see {log.name}")
            try:
                requests.get(url + "/", timeout=10, allow_redirects=False)
                break
            except requests.RequestException:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(15)
        log.close()


def _session_cookie(response: requests.Response) -> str | None:
    found = re.search(r"sentro_session=([^;]*)", response.headers.get("Set-Cookie", ""))
    return found.group(1) if found else None


def sign_in(site: str, provider: str, sub: str, claims: dict) -> str:
    """Sign in through the provider's authorize form; return the session cookie's value.

    The production cookie is `Secure`, so it is carried by hand over the loopback http.
    """
    requests.put(f"{provider}/users/{sub}", json=claims, timeout=5).raise_for_status()
    agent = {"User-Agent": USER_AGENT}
    start = requests.get(f"{site}/login", headers=agent, allow_redirects=False, timeout=10)
    cookie = _session_cookie(start)
    answer = requests.post(
        start.headers["Location"], data={"sub": sub}, allow_redirects=False, timeout=10
    )
    callback = urlsplit(answer.headers["Location"])
    done = requests.get(
        f"{site}{callback.path}?{callback.query}",
        headers={"Cookie": f"sentro_session={cookie}", **agent},
        allow_redirects=False,
        timeout=10,
    )
    if done.status_code != 303:
        raise RuntimeError(f"bench sign-in failed: {done.status_code} {done.text[:300]}")
    return _session_cookie(done) or ""


def csrf_token(site: str, cookie: str) -> tuple[str, str]:
    """The CSRF token the layout hands to htmx, and the session cookie that holds its secret."""
    page = requests.get(
        f"{site}/account",
        headers={"Cookie": f"sentro_session={cookie}", "User-Agent": USER_AGENT},
        timeout=10,
    )
    found = CSRF_IN_LAYOUT.search(page.text)
    if not found:
        raise RuntimeError(f"bench: no CSRF token on /account: {page.status_code}")
    return found.group(1), _session_cookie(page) or cookie


def save_once(site: str, cookie: str, csrf: str, values: dict[str, str]) -> str:
    """Save the name group once, so saving `values` again is a no-conflict save; its `seen`."""
    jar = {"Cookie": f"sentro_session={cookie}", "X-CSRFToken": csrf, "User-Agent": USER_AGENT}
    edit = f"{site}/account/profile/name/edit"

    def seen() -> str:
        page = requests.get(edit, headers=jar, timeout=10)
        found = SEEN_IN_FORM.search(page.text)
        if not found:
            raise RuntimeError(f"bench: no seen digest on {edit}: {page.status_code}")
        return found.group(1)

    saved = requests.post(
        f"{site}/account/profile/name",
        data={**values, "seen": seen(), "csrf_token": csrf},
        headers=jar,
        allow_redirects=False,
        timeout=10,
    )
    if saved.status_code != 303:
        raise RuntimeError(f"bench: saving the name failed: {saved.status_code}")
    return seen()


def received_ids(path: Path) -> list[str]:
    """The Message-IDs the catcher recorded, one per message received (repeats kept)."""
    return [line.split("\t")[1] for line in path.read_text().splitlines() if line]


def send_queued_in_parallel(env: dict[str, str], workers: int = 2) -> float:
    """Run `mail send-queued` in `workers` processes at once; the seconds until all are done."""
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [str(VENV_BIN / "flask"), "--app", "webapp", "mail", "send-queued"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    for process in processes:
        process.wait()
    seconds = time.perf_counter() - started
    time.sleep(0.5)  # let the catcher write the last lines
    return seconds


@contextmanager
def catcher(port: int, path: Path) -> Iterator[Path]:
    """The recording SMTP server (bench/catcher.py) as its own process."""
    path.write_text("")
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.catcher", str(port), str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "ready"
        yield path
    finally:
        process.terminate()
        process.wait(10)
