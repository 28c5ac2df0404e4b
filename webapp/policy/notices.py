"""The email telling people about a new version: one per person on the policy-updates list.

The notice is the same for everyone but the footer, so it is rendered once and written to the
outbox in batches (`webapp.mail.service.queue_bulk`); each row's dedupe key names the version
and the person, so queueing a version's notices again never sends anyone a second one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

from flask import current_app
from sqlalchemy import func, select
from sqlmodel import Session

from ..mail.service import Recipient, queue_bulk
from ..models import PolicyVersion, User
from ..preferences.audience import audience
from ..preferences.lists import POLICY_UPDATES

TEMPLATE = "policy_notice"
BATCH = 1000


def absolute_url(endpoint: str, **values: object) -> str:
    """A link for an email: BASE_URL and the endpoint's path (works outside a request too)."""
    adapter = current_app.url_map.bind("localhost")  # only the path is used
    return current_app.config["BASE_URL"] + adapter.build(endpoint, values)


def dedupe_key(version_number: int, user_id: int) -> str:
    """The outbox key that makes a version's notice to a person unique."""
    return f"policy-v{version_number}:user-{user_id}"


def audience_size(db: Session) -> int:
    """How many people are on the policy-updates list now."""
    subquery = audience(POLICY_UPDATES).order_by(None).subquery()
    return int(db.scalar(select(func.count()).select_from(subquery)) or 0)


def recipients(db: Session, version_number: int, batch: int = BATCH) -> Iterator[Recipient]:
    """Everyone on the policy-updates list, read a page at a time in order of id."""
    user_id = User.__table__.c.id  # type: ignore[attr-defined]
    last = 0
    while True:
        page = db.execute(audience(POLICY_UPDATES).where(user_id > last).limit(batch)).all()
        for person_id, email in page:
            yield Recipient(person_id, email, dedupe_key(version_number, person_id))
        if len(page) < batch:
            return
        last = page[-1][0]


def queue_notices(
    db: Session,
    version: PolicyVersion,
    *,
    since: int | None,
    today: date,
    on_batch: Callable[[int, int], None] | None = None,
    batch: int = BATCH,
) -> int:
    """Queue the notice of `version` to the list, comparing it with version `since`; return how many."""
    total = audience_size(db)
    if since is not None:
        changes_url = absolute_url("policy.compare", **{"from": since, "to": version.number})
    else:
        changes_url = absolute_url("policy.version", number=version.number)
    context = {
        "number": version.number,
        "effective_on": version.effective_on,
        "upcoming": version.effective_on > today,
        "summary": version.summary,
        "changes_url": changes_url,
        "version_url": absolute_url("policy.version", number=version.number),
        "since": since,
    }
    report = (lambda count: on_batch(count, total)) if on_batch is not None else None
    return queue_bulk(
        db,
        template=TEMPLATE,
        recipients=recipients(db, version.number, batch),
        context=context,
        list_id=POLICY_UPDATES,
        chunk=batch,
        on_chunk=report,
    )
