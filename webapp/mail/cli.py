"""`flask --app webapp mail …`: deliver the outbox once, or run the worker."""

from __future__ import annotations

import signal
import threading

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .. import db
from ..db import DatabaseUnavailable
from . import purge  # noqa: F401 - registers the outbox's `privacy purge` step
from .delivery import DeliveryReport, deliver_due, worker_name
from .service import before_delivery
from .smtp import SmtpServer

mail_cli = AppGroup("mail", help="Deliver and send email.")


def deliver_until_idle(
    stop: threading.Event | None = None, worker: str | None = None
) -> DeliveryReport:
    """Send batches until nothing is due (or `stop` is set); what failed now waits for backoff.

    Before each batch, the pending fan-outs (`service.before_delivery`) write their rows.
    """
    config = current_app.config
    server = SmtpServer.from_url(config["SMTP_URL"])
    worker = worker or worker_name()
    total = DeliveryReport()
    while not (stop and stop.is_set()):
        for step in before_delivery:
            step()
        report = deliver_due(
            db.engine(),
            server,
            mail_from=config["MAIL_FROM"],
            worker=worker,
            connections=config["MAIL_SMTP_CONNECTIONS"],
        )
        total += report
        if report.sent + report.retrying + report.failed == 0 or report.errors:
            break
    return total


@mail_cli.command("send-queued")
def send_queued() -> None:
    """Deliver every message that is due, then exit."""
    report = deliver_until_idle()
    click.echo(f"sent {report.sent}, waiting to retry {report.retrying}, failed {report.failed}")
    for error in sorted(set(report.errors)):
        click.echo(f"  {error}", err=True)


@mail_cli.command("worker")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between polls when idle.")
def worker(interval: float) -> None:
    """Deliver mail until stopped (SIGTERM or Ctrl-C finish the message in hand first)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    # One name for the process's life: after a database outage mid-batch, the worker finds the
    # rows it had claimed under that name again, instead of leaving them to their lease.
    name = worker_name()
    click.echo(f"mail worker {name} started")
    while not stop.is_set():
        try:
            report = deliver_until_idle(stop, name)
        except DatabaseUnavailable as exc:
            # A database restart or failover must not end the worker: wait, then try again.
            click.echo(f"database unavailable ({type(exc).__name__}); trying again", err=True)
            report = DeliveryReport()
        if report.sent:
            click.echo(f"sent {report.sent}")
        stop.wait(interval)
    click.echo("mail worker stopped")


def init_app(app: Flask) -> None:
    """Add the `mail` commands."""
    app.cli.add_command(mail_cli)
