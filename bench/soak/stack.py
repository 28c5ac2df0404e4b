"""The processes of the soak, each its own and on loopback, and the faults done to them.

PostgreSQL is a cluster of the soak's own (initdb in a temporary folder, run as the `postgres`
user on a free port) and Redis a server of its own, so restarting and stopping them disturbs
nobody else's tests; the machine's PostgreSQL (5432) and Redis (6379) are never touched.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import psycopg
import redis
import requests

from bench.servers import ROOT, VENV_BIN, free_port, site_env

PG_USER = "postgres"


def pg_bin() -> Path:
    """The newest installed PostgreSQL's programs (Debian's /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    if not found:
        raise RuntimeError("no PostgreSQL server here: apt-get install postgresql")
    return Path(found[-1])


def procfile_command(name: str, port: int) -> list[str]:
    """The Procfile's command for `name`, with its defaults, bound to loopback on `port`."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            command = line.split(":", 1)[1]
            break
    else:
        raise RuntimeError(f"no {name} process in the Procfile")
    command = re.sub(r"\$\{PORT:-\d+\}", str(port), command)
    command = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m[1], m[2]), command)
    # The soak sends traffic to loopback only; the Procfile binds every interface.
    command = command.replace("0.0.0.0:", "127.0.0.1:")
    words = shlex.split(command)
    words[0] = str(VENV_BIN / words[0])
    return words


def _wait(check, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - anything means "not yet"
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not come up within {seconds:.0f} s")


class Stack:
    """Start, fault and stop the soak's processes; `folder` holds their logs and records."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.home = Path(tempfile.mkdtemp(prefix="sentro-soak-pg-"))
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.smtp_port = free_port()
        self.provider_port = free_port()
        self.site_port = free_port()
        self.site = f"http://127.0.0.1:{self.site_port}"
        self.provider = f"http://localhost:{self.provider_port}"
        self.database_url = f"postgresql://{PG_USER}@127.0.0.1:{self.pg_port}/soak"
        self.mail_record = folder / "smtp-received.tsv"
        self.env: dict[str, str] = {}
        self.redis_process: subprocess.Popen | None = None
        self.catcher_process: subprocess.Popen | None = None
        self.provider_process: subprocess.Popen | None = None
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.dead_workers: list[tuple[int, int]] = []  # (pid, exit code) seen dead
        self._logs: dict[str, IO] = {}

    # --- starting ----------------------------------------------------------------------

    def _log(self, name: str) -> IO:
        if name not in self._logs:
            self._logs[name] = open(self.folder / name, "a")  # noqa: SIM115 - closed in stop()
        return self._logs[name]

    def _pg(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run pg_ctl on our cluster as the postgres user."""
        return subprocess.run(
            ["runuser", "-u", PG_USER, "--", str(pg_bin() / "pg_ctl"), *args],
            # To a file, not a pipe: a server started by pg_ctl inherits it and holds it open.
            stdout=self._log("pg_ctl.log"),
            stderr=subprocess.STDOUT,
            check=check,
            timeout=120,
        )

    def start_postgres(self) -> None:
        """initdb a cluster of our own and start it on 127.0.0.1:pg_port."""
        os.chmod(self.home, 0o755)
        shutil.chown(self.home, PG_USER, PG_USER)
        subprocess.run(
            [
                "runuser",
                "-u",
                PG_USER,
                "--",
                str(pg_bin() / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                PG_USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.postgres_up()
        with psycopg.connect(
            f"postgresql://{PG_USER}@127.0.0.1:{self.pg_port}/postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE soak")

    @property
    def pgdata(self) -> Path:
        return self.home / "data"

    def postgres_up(self) -> None:
        """Start the cluster on 127.0.0.1:pg_port (socket in our folder) and wait until it answers."""
        options = f"-p {self.pg_port} -k {self.home} -c listen_addresses=127.0.0.1"
        self._pg(
            "start", "-D", str(self.pgdata), "-l", str(self.home / "pg.log"), "-w", "-o", options
        )

    def postgres_down(self) -> None:
        """Stop the cluster (fast: connections are cut, as in a crash or a failover)."""
        self._pg("stop", "-D", str(self.pgdata), "-m", "fast", "-w")

    def postgres_restart(self) -> None:
        """Restart the cluster (fast)."""
        options = f"-p {self.pg_port} -k {self.home} -c listen_addresses=127.0.0.1"
        log = str(self.home / "pg.log")
        self._pg("restart", "-D", str(self.pgdata), "-m", "fast", "-w", "-l", log, "-o", options)

    def start_redis(self) -> None:
        """Our own Redis on 127.0.0.1:redis_port, keeping nothing on disk."""
        self.redis_process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.home),
            ],
            stdout=self._log("redis.log"),
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis(port=self.redis_port, socket_connect_timeout=1)
        _wait(client.ping, "redis")

    def stop_redis(self) -> None:
        """Stop our Redis (SIGTERM) and wait for it to exit."""
        if self.redis_process is not None:
            self.redis_process.terminate()
            self.redis_process.wait(15)
            self.redis_process = None

    def start_catcher(self) -> None:
        """The recording SMTP server (bench/catcher.py), appending to mail_record."""
        self.catcher_process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.catcher",
                str(self.smtp_port),
                str(self.mail_record),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log("catcher.log"),
            text=True,
        )
        assert self.catcher_process.stdout is not None
        if self.catcher_process.stdout.readline().strip() != "ready":
            raise RuntimeError("the SMTP catcher did not start; see catcher.log")

    def stop_catcher(self) -> None:
        """Stop the SMTP catcher (SIGTERM): connections are refused until it is back."""
        if self.catcher_process is not None:
            self.catcher_process.terminate()
            self.catcher_process.wait(15)
            self.catcher_process = None

    def start_provider(self) -> None:
        """The development OpenID provider (oidc-provider-mock) in its own process."""
        self.provider_process = subprocess.Popen(
            [sys.executable, "-m", "bench.soak.provider", str(self.provider_port)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self._log("provider.log"),
            text=True,
        )
        assert self.provider_process.stdout is not None
        self.provider_process.stdout.readline()
        _wait(
            lambda: requests.get(f"{self.provider}/.well-known/openid-configuration", timeout=2).ok,
            "the OpenID provider",
        )

    def configure_site(self) -> None:
        """The production environment every site process shares (one key, one database)."""
        self.env = site_env(
            self.database_url, self.provider, self.site, f"smtp://127.0.0.1:{self.smtp_port}"
        )
        self.env.update(
            {
                "RATELIMIT_STORAGE_URI": f"redis://127.0.0.1:{self.redis_port}",
                # Each simulated person sends X-Forwarded-For with an address of their own, as
                # a proxy in front of the site would; without it everybody is one address.
                "TRUSTED_PROXIES": "1",
                "STAFF_GROUP": "sentro-staff",
                "WEB_CONCURRENCY": "2",
            }
        )

    def start_web(self) -> None:
        """gunicorn with the Procfile's web command (2 workers) on loopback."""
        self.web = subprocess.Popen(
            procfile_command("web", self.site_port),
            env=self.env,
            cwd=ROOT,
            stdout=self._log("web-access.log"),
            stderr=self._log("web-error.log"),
        )
        _wait(lambda: requests.get(f"{self.site}/healthz", timeout=2).ok, "gunicorn", 90)

    def web_workers(self) -> list[int]:
        """The pids of gunicorn's worker processes."""
        assert self.web is not None
        path = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def start_worker(self) -> subprocess.Popen:
        """One more `flask --app webapp mail worker` (the Procfile's worker command)."""
        process = subprocess.Popen(
            procfile_command("worker", self.site_port),
            env=self.env,
            cwd=ROOT,
            stdout=self._log("mail-workers.log"),
            stderr=subprocess.STDOUT,
        )
        self.workers.append(process)
        return process

    def check_workers(self) -> list[tuple[int, int]]:
        """Mail workers that exited by themselves since the last check, restarted like a
        process supervisor would; returns (pid, exit code) of each."""
        exited = []
        for process in list(self.workers):
            code = process.poll()
            if code is not None:
                exited.append((process.pid, code))
                self.workers.remove(process)
                self.start_worker()
        self.dead_workers += exited
        return exited

    def flask(self, *args: str) -> str:
        """Run `flask --app webapp ARGS` with the site's environment."""
        done = subprocess.run(
            [str(VENV_BIN / "flask"), "--app", "webapp", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode:
            raise RuntimeError(f"flask {' '.join(args)} failed:\n{done.stderr[-2000:]}")
        return done.stdout

    # --- stopping ----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop everything the soak started and remove the cluster's folder."""
        processes = [self.web, *self.workers, self.provider_process]
        for process in processes:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            if process is not None:
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.stop_catcher()
        self.stop_redis()
        if (self.pgdata / "postmaster.pid").exists():
            self._pg("stop", "-D", str(self.pgdata), "-m", "fast", "-w", check=False)
        if (self.home / "pg.log").exists():
            shutil.copy(self.home / "pg.log", self.folder / "postgres.log")
        shutil.rmtree(self.home, ignore_errors=True)
        for log in self._logs.values():
            log.close()
