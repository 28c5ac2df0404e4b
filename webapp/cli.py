"""Operator commands: `db upgrade`, `privacy purge`, `dev seed`."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup

from . import (
    addresses,  # noqa: F401 - registers the IP addresses' `privacy purge` step
    db,
    retention,
)
from .models import utcnow

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

db_cli = AppGroup("db", help="The database schema.")
privacy_cli = AppGroup("privacy", help="Retention and erasure.")
dev_cli = AppGroup("dev", help="Development helpers.")

#: Run after every upgrade, in order: each loads data the site cannot work without.
after_upgrade: list = []


def alembic_config(url: str) -> AlembicConfig:
    """Alembic's configuration, pointed at `url`."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database() -> None:
    """Bring the schema to the newest revision, then load required data."""
    Path(current_app.instance_path).mkdir(parents=True, exist_ok=True)
    config = alembic_config(str(db.engine().url.render_as_string(hide_password=False)))
    with db.engine().begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    for step in after_upgrade:
        step()


@db_cli.command("upgrade")
def upgrade() -> None:
    """Create or migrate every table to the newest schema."""
    upgrade_database()
    click.echo("database is up to date")


@privacy_cli.command("purge")
def purge() -> None:
    """Remove or reduce what has passed its retention date."""
    with db.transaction() as session:
        for name, report in retention.run_all(session, utcnow()):
            click.echo(f"{name}: {report}")


@dev_cli.command("seed")
@click.option("--users", default=20, show_default=True, help="How many synthetic people.")
def seed(users: int) -> None:
    """Fill the database with synthetic people for demos and benchmarks."""
    from .dev.seed import seed_people

    created = seed_people(users)
    for step in after_upgrade:  # the data the site needs, as after `db upgrade`
        step()
    click.echo(f"seeded {created} people")


def init_app(app: Flask) -> None:
    """Add the commands to `flask --app webapp`."""
    app.cli.add_command(db_cli)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(dev_cli)
