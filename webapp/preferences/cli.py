"""`flask --app webapp mail campaign` and `mail unsubscribe-link`, in the existing `mail` group."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from .. import db
from ..mail.cli import mail_cli
from ..validators import MAX_ID
from . import campaigns, links
from .lists import LISTS
from .service import may_send


@click.command("campaign")
@click.option("--list", "list_id", required=True, help="The list to send to, e.g. service-updates.")
@click.option("--subject", required=True, help="The subject line.")
@click.option(
    "--body",
    "body_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A Markdown file: the text part as written, the HTML part rendered from it.",
)
@with_appcontext
def campaign(list_id: str, subject: str, body_file: Path) -> None:
    """Queue one email to everyone on LIST; running it again sends nobody twice."""
    try:
        body = body_file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise click.BadParameter("the body file must be UTF-8 text", param_hint="--body") from exc
    try:
        run = campaigns.plan(list_id, subject, body)
    except campaigns.CampaignError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(
        f"campaign {run.campaign.id}: {run.on_list} on {list_id!r}, "
        f"{run.already_queued} already queued, {len(run.pending)} to queue"
    )
    with click.progressbar(length=len(run.pending), label="Queueing") as bar:
        for done in campaigns.send(run):
            bar.update(done)
    click.echo("queued; `flask --app webapp mail send-queued` or the worker delivers them")


@click.command("unsubscribe-link")
@click.option(
    "--user",
    "user_id",
    required=True,
    type=click.IntRange(1, MAX_ID),  # what an id column holds, like every route and form
    help="The person's user id.",
)
@click.option(
    "--list",
    "list_id",
    required=True,
    type=click.Choice([m.id for m in LISTS if not m.transactional]),
    help="The list.",
)
@with_appcontext
def unsubscribe_link(user_id: int, list_id: str) -> None:
    """Print the unsubscribe URL and the headers an email of LIST to this person must carry."""
    with db.transaction() as session:
        allowed = may_send(session, user_id, list_id)
    click.echo(links.unsubscribe_url(user_id, list_id))
    for name, value in links.list_headers(user_id, list_id).items():
        click.echo(f"{name}: {value}")
    if not allowed:
        click.echo(f"note: user {user_id} must not be sent {list_id!r} now", err=True)


def init_app(app: Flask) -> None:
    """Add the commands to the `mail` group."""
    mail_cli.add_command(campaign)
    mail_cli.add_command(unsubscribe_link)
