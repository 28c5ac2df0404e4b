"""Campaigns: one Markdown email to everyone on a list, queued once per person however often run.

A campaign is known by the hash of its list, subject and body. Each email's outbox
`dedupe_key` is `campaign:<id>:<user id>`, so a second run (after a crash, or by mistake)
queues only the people the first run did not reach, and the database refuses duplicates even
when two runs race.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .. import db
from ..mail import queue_email
from ..markdown import render
from ..models import Campaign, OutboxMessage, utcnow
from .audience import audience
from .lists import LISTS, get

TEMPLATE = "campaign"
SUBJECT_LIMIT = 300


class CampaignError(ValueError):
    """The campaign cannot be sent as asked; the message says why, for the operator."""


@dataclass(frozen=True)
class Plan:
    """Who a run will reach: the campaign, everyone on the list, and who still needs it."""

    campaign: Campaign
    on_list: int
    pending: list[tuple[int, str]]

    @property
    def already_queued(self) -> int:
        """People on the list an earlier run already reached."""
        return self.on_list - len(self.pending)


def campaign_key(list_id: str, subject: str, body: str) -> str:
    """The identity of a campaign: sha256 of its list, subject and body."""
    return hashlib.sha256(json.dumps([list_id, subject, body]).encode()).hexdigest()


def dedupe_key(campaign_id: int, user_id: int) -> str:
    """The outbox key that lets each person receive a campaign once."""
    return f"campaign:{campaign_id}:{user_id}"


def _check(list_id: str, subject: str, body: str) -> None:
    found = get(list_id)
    if found is None:
        names = ", ".join(m.id for m in LISTS if not m.transactional)
        raise CampaignError(f"there is no list {list_id!r}; the lists are: {names}")
    if found.transactional:
        raise CampaignError(f"{list_id!r} is for account notices, not for campaigns")
    if not subject.strip() or len(subject) > SUBJECT_LIMIT or "\n" in subject or "\r" in subject:
        raise CampaignError(f"the subject must be one line of 1 to {SUBJECT_LIMIT} characters")
    if not body.strip():
        raise CampaignError("the body is empty")


def _find_or_create(session: Session, list_id: str, subject: str, body: str) -> Campaign:
    key = campaign_key(list_id, subject, body)
    found = session.exec(select(Campaign).where(Campaign.key == key)).first()
    if found is not None:
        return found
    campaign = Campaign(key=key, list_id=list_id, subject=subject, body_markdown=body)
    session.add(campaign)
    try:
        session.commit()
    except IntegrityError:  # another run created it a moment ago
        session.rollback()
        return session.exec(select(Campaign).where(Campaign.key == key)).one()
    return campaign


def _queued_people(
    session: Session, campaign_id: int, user_ids: list[int] | None = None
) -> set[int]:
    """Who already has this campaign in the outbox (among `user_ids`, or at all)."""
    column = OutboxMessage.dedupe_key
    if user_ids is None:
        where = column.startswith(dedupe_key(campaign_id, 0)[:-1])  # type: ignore[union-attr]
    else:
        where = column.in_([dedupe_key(campaign_id, u) for u in user_ids])  # type: ignore[union-attr]
    return {int(key.rpartition(":")[2]) for key in session.exec(select(column).where(where)) if key}


def plan(list_id: str, subject: str, body: str) -> Plan:
    """Check the campaign, record it (or find the earlier run) and list who still needs it."""
    _check(list_id, subject, body)
    with db.transaction() as session:
        campaign = _find_or_create(session, list_id, subject, body)
    with db.transaction() as session:
        people = [(row.id, row.email) for row in session.exec(audience(list_id))]
        done = _queued_people(session, campaign.id)  # type: ignore[arg-type]
    pending = [(user_id, email) for user_id, email in people if user_id not in done]
    return Plan(campaign=campaign, on_list=len(people), pending=pending)


def _queue(
    session: Session, campaign: Campaign, people: list[tuple[int, str]], html: Markup
) -> None:
    for user_id, email in people:
        queue_email(
            session,
            template=TEMPLATE,
            to=email,
            context={
                "subject": campaign.subject,
                "body_markdown": campaign.body_markdown,
                "body_html": html,
            },
            user_id=user_id,
            list_id=campaign.list_id,
            dedupe_key=dedupe_key(campaign.id, user_id),  # type: ignore[arg-type]
        )


def _try_batch(campaign: Campaign, batch: list[tuple[int, str]], html: Markup) -> int:
    with Session(db.engine(), expire_on_commit=False) as session, session.begin():
        done = _queued_people(session, campaign.id, [u for u, _ in batch])  # type: ignore[arg-type]
        todo = [person for person in batch if person[0] not in done]
        _queue(session, campaign, todo, html)
        stored = session.get_one(Campaign, campaign.id)
        stored.queued += len(todo)
        stored.last_run_at = utcnow()
    return len(todo)


def _queue_batch(campaign: Campaign, batch: list[tuple[int, str]], html: Markup) -> int:
    """Queue one batch in one commit, skipping whoever already has it."""
    try:
        return _try_batch(campaign, batch, html)
    except IntegrityError:
        # A run racing this one queued some of the batch first; skip those and go again.
        return _try_batch(campaign, batch, html)


def send(run: Plan, *, batch_size: int = 200) -> Iterator[int]:
    """Queue the pending emails in batches, each its own commit; yields each batch's size."""
    html = render(run.campaign.body_markdown)
    for start in range(0, len(run.pending), batch_size):
        batch = run.pending[start : start + batch_size]
        _queue_batch(run.campaign, batch, html)
        yield len(batch)
