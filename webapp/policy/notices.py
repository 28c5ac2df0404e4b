"""The email telling people about a new version: one per person on the policy-updates list.

Publishing only records the notice (`start_notices`, in the publishing transaction, with the
notice rendered once into a shared body). The mail worker fans it out before it delivers
(`fan_out_pending`): one INSERT ... SELECT per range of user ids, in the database, every row
pointing at the shared body, each range committed with the run's progress, so a crash resumes
where it stopped. Each row's dedupe key names the version and the person, so a range offered
twice, or by two workers, never queues anyone a second notice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import Integer, Select, String, bindparam, case, cast, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from .. import db as database
from ..mail.service import Recipient, _mail_domain, queue_bulk
from ..mail.shared import render_shared
from ..models import OutboxBody, OutboxMessage, PolicyNoticeRun, PolicyVersion, User, utcnow
from ..preferences.audience import audience
from ..preferences.lists import POLICY_UPDATES

TEMPLATE = "policy_notice"
BATCH = 1000
#: User ids offered per INSERT ... SELECT (and per commit) of a fan-out.
RANGE = 100_000

outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
runs = PolicyNoticeRun.__table__  # type: ignore[attr-defined]
users = User.__table__  # type: ignore[attr-defined]
versions = PolicyVersion.__table__  # type: ignore[attr-defined]


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


def notice_context(version: PolicyVersion, since: int | None, today: date) -> dict[str, Any]:
    """What the notice template says about `version` (compared with version `since`)."""
    if since is not None:
        changes_url = absolute_url("policy.compare", **{"from": since, "to": version.number})
    else:
        changes_url = absolute_url("policy.version", number=version.number)
    return {
        "number": version.number,
        "effective_on": version.effective_on,
        "upcoming": version.effective_on > today,
        "summary": version.summary,
        "changes_url": changes_url,
        "version_url": absolute_url("policy.version", number=version.number),
        "since": since,
    }


# --- recording, in the publishing transaction ----------------------------------------------


def start_notices(
    db: Session, version: PolicyVersion, since: int | None, *, today: date | None = None
) -> None:
    """Record that `version`'s notice is to go to everyone on the list; the worker sends it.

    Renders the notice once (the shared body) and notes how many people are on the list now.
    Recording a version twice changes nothing.
    """
    if db.scalar(select(runs.c.id).where(runs.c.version_number == version.number)) is not None:
        return
    today = today or version.published_at.date()
    body = render_shared(db, TEMPLATE, notice_context(version, since, today), POLICY_UPDATES)
    db.add(
        PolicyNoticeRun(
            version_number=version.number,
            since=since,
            audience=audience_size(db),
            body_id=body.id if body is not None else None,
        )
    )
    db.flush()


# --- fanning out, in the mail worker -------------------------------------------------------


def fan_out_pending(on_batch: Callable[[int, int], None] | None = None) -> int:
    """Write the outbox rows of every pending notice, a range of user ids per commit; how many.

    Safe with several workers: on PostgreSQL a run being fanned out by one is skipped by the
    others (`FOR UPDATE SKIP LOCKED`); on SQLite they take turns. `on_batch(count, audience)`
    is told after each range.
    """
    total = 0
    while True:
        with database.transaction() as db:
            run = _lock_pending(db)
            if run is None:
                return total
            top = db.scalar(select(func.max(users.c.id))) or 0
            low, high = run.done_through, run.done_through + RANGE
            count = _queue_range(db, run, low, high)
            finished = high >= top
            db.execute(
                update(runs)
                .where(runs.c.id == run.id)
                .values(
                    done_through=high,
                    status="done" if finished else "pending",
                    finished_at=utcnow() if finished else None,
                )
            )
        total += count
        if on_batch is not None:
            on_batch(count, run.audience)


def _lock_pending(db: Session) -> PolicyNoticeRun | None:
    """The oldest pending run, held by this transaction until it commits."""
    pending = select(runs).where(runs.c.status == "pending").order_by(runs.c.id).limit(1)
    if db.get_bind().dialect.name == "sqlite":
        # Write first: SQLite's write lock, taken before anything is read, holds the run still
        # until the commit (a read first could not be upgraded once another worker wrote).
        taken = db.execute(update(runs).where(runs.c.status == "pending").values(status="pending"))
        if not taken.rowcount:
            return None
    else:
        pending = pending.with_for_update(skip_locked=True)
    row = db.execute(pending).first()
    return PolicyNoticeRun.model_validate(dict(row._mapping)) if row is not None else None


def _queue_range(db: Session, run: PolicyNoticeRun, low: int, high: int) -> int:
    """Queue the notice to the list's people with ids in (low, high]; rows already there stay."""
    version = db.scalar(select(PolicyVersion).where(PolicyVersion.number == run.version_number))
    if version is None:
        return 0
    in_range = audience(POLICY_UPDATES).order_by(None).where(users.c.id > low, users.c.id <= high)
    if run.body_id is None:  # the template needs each person rendered in full
        return _queue_rendered(db, version, run, in_range)
    body = db.get(OutboxBody, run.body_id)
    assert body is not None
    now = utcnow()
    key = cast(users.c.id, String)
    c = outbox.c
    message_id = f"<{now:%Y%m%d%H%M%S}.v{version.number}."
    values: dict[str, Any] = {
        "user_id": users.c.id,
        "to_addr": users.c.email,
        "subject": literal(body.subject, c.subject.type),
        "text_body": literal("", c.text_body.type),
        "headers": literal({}, c.headers.type),
        "message_id": literal(message_id, String) + key + literal(f"@{_mail_domain()}>", String),
        "template": literal(TEMPLATE, c.template.type),
        "list_id": literal(POLICY_UPDATES, c.list_id.type),
        "dedupe_key": literal(f"policy-v{version.number}:user-", String) + key,
        "status": literal("queued", c.status.type),
        "attempts": literal(0, c.attempts.type),
        "next_attempt_at": literal(now, c.next_attempt_at.type),
        "last_error": literal("", c.last_error.type),
        "created_at": literal(now, c.created_at.type),
        "body_id": literal(body.id, c.body_id.type),
    }
    rows = in_range.with_only_columns(*values.values())
    dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(outbox)
        .from_select(list(values), rows)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
    )
    # SQLAlchemy keeps an INSERT's row count only when asked to.
    result = db.connection().execute(statement.execution_options(preserve_rowcount=True))
    return max(result.rowcount, 0)


def _queue_rendered(db: Session, version: PolicyVersion, run: PolicyNoticeRun, query) -> int:
    context = notice_context(version, run.since, version.published_at.date())

    def recipients() -> Iterator[Recipient]:
        last = 0
        while True:
            page = db.execute(query.where(users.c.id > last).order_by(users.c.id).limit(BATCH))
            page = page.all()
            for person_id, email in page:
                yield Recipient(person_id, email, dedupe_key(version.number, person_id))
            if len(page) < BATCH:
                return
            last = page[-1][0]

    return queue_bulk(
        db, template=TEMPLATE, recipients=recipients(), context=context, list_id=POLICY_UPDATES
    )


# --- progress, for the staff page ----------------------------------------------------------


@dataclass(frozen=True)
class NoticeProgress:
    """How far a version's notice has got: on the list when published, written, delivered."""

    audience: int
    queued: int
    sent: int
    done: bool  #: fanned out, and no notice still waiting to be delivered


def _progress_statement(number: Any) -> Select:
    """How far the notice of version `number` (an SQL expression) has got, in one statement:
    the run and its outbox counts by status, read through the shared body's index (or, for a
    notice rendered person by person, by its dedupe keys)."""
    by_body = outbox.c.body_id == runs.c.body_id
    keys = literal("policy-v", String) + cast(number, String) + literal(":user-%", String)
    by_key = outbox.c.dedupe_key.like(keys)

    def counted(*where) -> object:
        def count(condition) -> object:
            return select(func.count()).where(condition, *where).scalar_subquery()

        return case((runs.c.body_id.is_not(None), count(by_body)), else_=count(by_key))

    return select(
        runs.c.audience,
        runs.c.status,
        counted().label("queued"),
        counted(outbox.c.status == "sent").label("sent"),
        counted(outbox.c.status == "queued").label("waiting"),
    ).where(runs.c.version_number == number)


#: The progress of the version numbered by the parameter `number`.
PROGRESS = _progress_statement(bindparam("number", type_=Integer))
#: The progress of the newest version: the staff page reads it with the versions, in the same
#: round trip, before it knows the newest number.
NEWEST_PROGRESS = _progress_statement(select(func.max(versions.c.number)).scalar_subquery())


def progress(db: Session, version_number: int) -> NoticeProgress:
    """How far the notice of version `version_number` has got (all zero when it had none)."""
    return progress_of(db.execute(PROGRESS, {"number": version_number}).all())


def progress_of(rows: Sequence[Sequence[Any]]) -> NoticeProgress:
    """`PROGRESS`'s (or `NEWEST_PROGRESS`'s) rows as the progress they say."""
    if not rows:
        return NoticeProgress(0, 0, 0, True)
    audience, status, queued, sent, waiting = rows[0]
    return NoticeProgress(
        audience=audience, queued=queued, sent=sent, done=status == "done" and waiting == 0
    )


def init_app(_app) -> None:
    """Let the mail worker fan out pending notices before it delivers."""
    from ..mail.service import before_delivery

    if fan_out_pending not in before_delivery:
        before_delivery.append(fan_out_pending)
