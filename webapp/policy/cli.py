"""`flask --app webapp policy publish FILE --effective YYYY-MM-DD --summary TEXT`; version 1 on upgrade."""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from .. import db
from ..cli import after_upgrade
from ..models import utcnow
from . import notices, service

policy_cli = AppGroup("policy", help="The privacy policy.")


def load_first_version() -> None:
    """Store version 1 of the policy when the database holds none (runs after `db upgrade`)."""
    with db.transaction() as session:
        service.load_first_version(session, utcnow())


@policy_cli.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--effective",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The date the version takes effect (YYYY-MM-DD): today or later.",
)
@click.option("--summary", required=True, help="What changed, in plain words (sent in the email).")
def publish(file: Path, effective: datetime, summary: str) -> None:
    """Publish FILE (Markdown) as the next version and queue its notice to the list."""
    try:
        text = service.text_from_file(file.read_bytes())
    except (OSError, ValueError) as error:
        raise click.ClickException(f"{file}: {error}") from None
    with ExitStack() as stack:
        bars: list = []

        def on_batch(count: int, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(click.progressbar(length=total, label="notices")))
            bars[0].update(count)

        with db.transaction() as session:
            now = utcnow()
            result = service.publish(
                session,
                text=text,
                summary=summary,
                effective_on=effective.date(),
                today=now.date(),
                now=now,
            )
            if not result.ok:
                session.rollback()
                raise click.ClickException(
                    "nothing was published:\n" + "\n".join(f"  {m}" for m in result.errors.values())
                )
        # Queued here and now, so the command ends with every notice in the outbox (a running
        # mail worker would otherwise do it; either way nobody is queued twice).
        queued = notices.fan_out_pending(on_batch=on_batch)
    assert result.version is not None
    click.echo(
        f"published version {result.version.number}, effective {result.version.effective_on}; "
        f"{queued} notices queued"
    )


def init_app(app: Flask) -> None:
    """Add the `policy` commands; load version 1 after every `db upgrade` and `dev seed`."""
    app.cli.add_command(policy_cli)
    notices.init_app(app)
    if load_first_version not in after_upgrade:
        after_upgrade.append(load_first_version)
