"""The email telling people about a new version: one per person on the policy-updates list.

The notice is the same for everyone but the footer, so it is rendered once and written to the
outbox in batches (`webapp.mail.service.queue_bulk`); each row's dedupe key names the version
and the person, so queueing a version's notices again never sends anyone a second one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy import case, func, select
from sqlmodel import Session

from ..mail.service import Recipient, queue_bulk
from ..models import OutboxMessage, PolicyVersion, User, utcnow
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


# --- publishing from the staff page: start the notices, then follow them ---------------------


@dataclass(frozen=True)
class NoticeProgress:
    """How far a version's notices have gone: who is to be told, queued, sent; done when all are."""

    audience: int
    queued: int
    sent: int
    done: bool


def start_notices(db: Session, version: PolicyVersion, since: int | None) -> None:
    """Record, in the publishing transaction, that `version`'s notices are to go out.

    This implementation queues every notice at once, as publishing always has; the mail
    worker then delivers them. `progress` reads how far that has got.
    """
    queue_notices(db, version, since=since, today=utcnow().date())


def progress(db: Session, version_number: int) -> NoticeProgress:
    """How many notices of this version are in the outbox, and how many were sent (one query)."""
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    prefix = dedupe_key(version_number, 0).removesuffix("0")

    def counted(status: str):
        return func.coalesce(func.sum(case((outbox.c.status == status, 1), else_=0)), 0)

    queued, sent, waiting = db.execute(
        select(func.count(), counted("sent"), counted("queued")).where(
            outbox.c.dedupe_key.startswith(prefix, autoescape=True)
        )
    ).one()
    return NoticeProgress(audience=queued, queued=queued, sent=int(sent), done=not waiting)
