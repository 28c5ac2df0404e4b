"""`make soak` (`python -m bench.soak [--minutes N]`): load, faults, ledger; writes bench/SOAK.md."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.servers import OUT, ROOT, VENV_BIN

from . import check, report
from .check import Fault
from .stack import Stack

LISTS = ["policy-updates", "service-updates"]


def log(message: str) -> None:
    """A progress line on stderr, with the time."""
    print(f"{datetime.now(UTC):%H:%M:%S} soak: {message}", file=sys.stderr, flush=True)


def unsubscribe_links(stack: Stack, people: int) -> list[tuple[int, str, str]]:
    """(user id, list, one-click URL) for the seeded people, made by webapp.preferences.links."""
    os.environ.update(stack.env)
    from webapp import create_app
    from webapp.dev.seed import SEED_ISSUER
    from webapp.preferences import links

    app = create_app()
    with app.app_context():
        from webapp import db

        with db.engine().connect() as connection:
            ids = connection.execute(
                text('SELECT id FROM "user" WHERE issuer = :issuer ORDER BY id LIMIT :n'),
                {"issuer": SEED_ISSUER, "n": people},
            ).scalars()
            return [
                (user_id, list_id, links.unsubscribe_url(user_id, list_id))
                for user_id in ids
                for list_id in LISTS
            ]


class Soak:
    """One run: the stack, the load, the faults in turn, and what they left behind."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.seconds = int(args.minutes * 60)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        self.folder = OUT / f"soak-{stamp}"
        self.folder.mkdir(parents=True)
        self.stack = Stack(self.folder)
        self.faults: list[Fault] = []
        self.load_samples: list[float] = []  # the machine's 1-minute load average, each second
        self.engine = None

    def db(self):
        if self.engine is None:
            self.engine = create_engine(
                self.stack.database_url.replace("postgresql://", "postgresql+psycopg://"),
                pool_pre_ping=True,
            )
        return self.engine

    # --- set-up ----------------------------------------------------------------------------

    def start(self) -> None:
        stack = self.stack
        log(f"records in {self.folder}")
        stack.start_postgres()
        log(f"own PostgreSQL on 127.0.0.1:{stack.pg_port}")
        stack.start_redis()
        stack.start_catcher()
        stack.start_provider()
        stack.configure_site()
        stack.flask("db", "upgrade")
        stack.flask("dev", "seed", "--users", str(self.args.people))
        links = unsubscribe_links(stack, self.args.people)
        policy = (ROOT / "webapp" / "policy" / "data" / "privacy-policy-v1.md").read_text()
        settings = {
            "provider": stack.provider,
            "unsubscribe_links": links,
            "publish_every": self.args.publish_every,
            "policy_text": policy,
        }
        (self.folder / "load.json").write_text(json.dumps(settings))
        stack.start_web()
        for _ in range(2):
            stack.start_worker()
        log(f"site {stack.site}, 2 mail workers, {self.args.people} seeded people")

    def start_load(self) -> subprocess.Popen:
        bound = self.seconds + 1200  # Locust's own stop, should this process die
        command = [str(VENV_BIN / "locust"), "-f", str(Path(__file__).parent / "locustfile.py")]
        command += ["--headless", "--users", str(self.args.users), "--spawn-rate", "2"]
        command += ["--run-time", f"{bound}s", "--stop-timeout", "10", "--only-summary"]
        command += ["--host", self.stack.site, "--csv", str(self.folder / "locust")]
        return subprocess.Popen(
            command,
            env={**os.environ, "SOAK_DIR": str(self.folder), "PYTHONPATH": str(ROOT)},
            cwd=ROOT,
            stdout=open(self.folder / "locust.log", "w"),
            stderr=subprocess.STDOUT,
        )

    # --- the faults ------------------------------------------------------------------------

    def fault_postgres_restart(self) -> Fault:
        fault = Fault("pg-restart", "PostgreSQL restarted", time.time(), depends="database")
        fault.down = time.time()
        self.stack.postgres_restart()
        fault.back = time.time()
        return fault

    def fault_postgres_stop(self) -> Fault:
        fault = Fault("pg-stop", "PostgreSQL stopped 20 s", time.time(), depends="database")
        fault.down = time.time()
        self.stack.postgres_down()
        time.sleep(20)
        self.stack.postgres_up()
        fault.back = time.time()
        return fault

    def fault_web_worker(self) -> Fault:
        before = self.stack.web_workers()
        fault = Fault("web-kill", "gunicorn worker SIGKILLed", time.time())
        os.kill(before[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = self.stack.web_workers()
            if len(now) == len(before) and before[0] not in now:
                fault.notes.append(f"replaced by gunicorn in {time.time() - fault.start:.1f} s")
                break
            time.sleep(0.05)
        return fault

    def fault_mail_worker(self) -> Fault:
        """SIGKILL a mail worker in the middle of a claimed batch (waits for one, bounded)."""
        victim = self.stack.workers[0]
        mine = {"mine": f"%-{victim.pid}-%"}
        held = text(
            "SELECT count(*) FROM outbox_message WHERE status = 'queued' AND claimed_by LIKE :mine"
        )
        deadline = time.monotonic() + 3 * self.args.publish_every
        claimed = left = 0
        with self.db().connect() as db:
            # Mid-batch: it claimed a batch and has sent part of it (rows leave its claim as
            # each is marked sent), so one message may be between SMTP's answer and its commit.
            while time.monotonic() < deadline and not 0 < left < claimed:
                left = db.execute(held, mine).scalar_one()
                db.commit()
                claimed = max(claimed, left) if left else 0
                time.sleep(0.02)
        fault = Fault("mail-kill", "mail worker SIGKILLed mid-batch", time.time())
        victim.kill()
        victim.wait(10)
        self.stack.workers.remove(victim)
        self.stack.start_worker()  # as a process supervisor would
        fault.notes.append(
            f"killed after sending {claimed - left} of a batch of {claimed}; the other {left} "
            "wait for the batch's lease (10 min)"
            if 0 < left < claimed
            else "no batch in hand (none came in time)"
        )
        return fault

    def fault_smtp(self) -> Fault:
        fault = Fault("smtp-stop", "SMTP server stopped 30 s", time.time())
        fault.down = time.time()
        self.stack.stop_catcher()
        time.sleep(30)
        self.stack.start_catcher()
        fault.back = time.time()
        return fault

    def fault_redis(self) -> Fault:
        fault = Fault("redis-stop", "Redis stopped 20 s", time.time(), depends="limiter")
        fault.down = time.time()
        self.stack.stop_redis()
        time.sleep(20)
        self.stack.start_redis()
        fault.back = time.time()
        return fault

    def run_faults(self, load_start: float) -> float:
        """Steady state, then each fault in turn with steady time between; returns steady's end."""
        order = [
            self.fault_mail_worker,  # first: its batch's lease (10 min) ends before the drain
            self.fault_postgres_restart,
            self.fault_web_worker,
            self.fault_smtp,
            self.fault_postgres_stop,
            self.fault_redis,
        ]
        steady = max(45.0, 0.2 * self.seconds)
        slot = (self.seconds - steady) / len(order)
        next_start = load_start + steady
        for inject in order:
            self.wait_until(next_start)
            log(f"fault: {inject.__doc__ or inject.__name__}".splitlines()[0])
            fault = inject()
            self.faults.append(fault)
            log(f"{fault.label}: done")
            next_start = max(next_start + slot, time.time() + 20)
        self.wait_until(max(load_start + self.seconds, time.time() + 20))
        return load_start + steady

    def wait_until(self, moment: float) -> None:
        """Sleep until `moment`, restarting mail workers that exited by themselves meanwhile."""
        while time.time() < moment:
            self.load_samples.append(os.getloadavg()[0])
            for pid, code in self.stack.check_workers():
                log(f"mail worker {pid} exited by itself ({code}); restarted")
                when = time.time()
                owner = next((f for f in reversed(self.faults) if f.start <= when), None)
                if owner is not None:
                    owner.notes.append(f"a mail worker exited by itself (code {code})")
            time.sleep(min(1.0, max(moment - time.time(), 0)))

    def drain(self) -> None:
        """After the load: let the workers deliver what is due (bounded)."""
        deadline = time.time() + self.args.drain
        while time.time() < deadline:
            with self.db().connect() as db:
                left = db.execute(
                    text("SELECT count(*) FROM outbox_message WHERE status = 'queued'")
                ).scalar_one()
            if not left:
                return
            self.wait_until(min(time.time() + 5, deadline))

    # --- the whole run ---------------------------------------------------------------------

    def run(self) -> None:
        """Start, load, fault, drain; save what the checks need in the run's folder."""
        started = datetime.now(UTC)
        self.load_samples.append(os.getloadavg()[0])
        self.start()
        load = self.start_load()
        load_start = time.time()
        try:
            steady_end = self.run_faults(load_start)
        finally:
            load.send_signal(signal.SIGTERM)
            try:
                load.wait(60)
            except subprocess.TimeoutExpired:
                load.kill()
        load_end = time.time()
        log("load stopped; waiting for the outbox to drain")
        self.drain()
        for n, fault in enumerate(self.faults):
            fault.end = self.faults[n + 1].start if n + 1 < len(self.faults) else load_end
        facts = check.snapshot(self.db(), self.stack.provider)
        (self.folder / "db-facts.json").write_text(json.dumps(facts))
        run = {
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(self.args).items()},
            "started": started.isoformat(),
            "load_start": load_start,
            # Steady state begins after the warm-up: the ramp's sign-ins and cold templates.
            "steady": [load_start + min(60.0, 0.4 * (steady_end - load_start)), steady_end],
            "faults": [asdict(fault) for fault in self.faults],
            "crashed": self.stack.dead_workers,
            "load_average": self.load_samples,
        }
        (self.folder / "run.json").write_text(json.dumps(run, indent=1))


def analyse(folder: Path, out: Path) -> Path:
    """Read a run's folder, check the ledger and the mail, write the report to `out`."""
    run = json.loads((folder / "run.json").read_text())
    facts = json.loads((folder / "db-facts.json").read_text())
    faults = [Fault(**fault) for fault in run["faults"]]
    steady = tuple(run["steady"])
    requests = check.read_requests(folder)
    entries = check.read_ledger(folder)
    lost, counts = check.check_ledger(facts, entries)
    record = folder / "smtp-received.tsv"
    mail = check.check_mail(facts, record, check.unsubscribes(entries))
    arrivals = sorted(t for times in check.read_record(record).values() for t in times)
    for fault in faults:
        if fault.name == "smtp-stop" and fault.back is not None:
            later = [t for t in arrivals if t >= fault.back]
            fault.notes.append(
                f"mail delivered again {later[0] - fault.back:.0f} s after SMTP returned "
                "(retry backoff: 1 min after the first failure)"
                if later
                else "no mail delivered after SMTP returned"
            )
    table = report.rows(requests, steady, faults, lost, mail)
    return report.write(
        out,
        table=table,
        mail=mail,
        lost=lost,
        counts=counts,
        run=run,
        folder=folder,
        faults=faults,
        requests=requests,
    )


def main() -> None:
    """Parse the options, run the soak, always stop what it started."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak")
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 15)))
    parser.add_argument("--users", type=int, default=24, help="Locust users (1 is staff)")
    parser.add_argument("--people", type=int, default=1000, help="seeded people (mail audience)")
    parser.add_argument("--publish-every", type=float, default=60, help="seconds between publishes")
    parser.add_argument("--drain", type=float, default=None, help="seconds to wait for the outbox")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "SOAK.md")
    parser.add_argument("--report", type=Path, help="only write the report of this run's folder")
    args = parser.parse_args()
    if args.report:
        log(f"wrote {analyse(args.report, args.out)}")
        return
    if args.drain is None:
        args.drain = 660 if args.minutes >= 10 else 90
    # Stopped from outside (SIGTERM), still stop everything it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("soak: stopped by SIGTERM"))
    soak = Soak(args)
    try:
        soak.run()
    finally:
        soak.stack.stop()
    log(f"wrote {analyse(soak.folder, args.out)}")


if __name__ == "__main__":
    main()
