"""What `flask --app webapp privacy purge` does for closure: due erasures and expired items."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from ..models import ClosureRequest
from ..retention import purge_step
from . import erasure, service

log = logging.getLogger(__name__)


@purge_step("closure: erase approved accounts whose grace period ended")
def erase_due(db: Session, now: dt.datetime) -> str:
    """Erase every approved request whose grace period has ended; each one all or nothing."""
    due = db.execute(
        select(ClosureRequest.id).where(
            ClosureRequest.status == "approved", ClosureRequest.erase_after <= now
        )
    ).scalars()
    done, failed = 0, 0
    for request_id in list(due):
        try:
            with db.begin_nested():
                request = service.locked(db, request_id)
                if request.status == "approved":  # not cancelled meanwhile
                    service.complete(db, request, now)
                    done += 1
        except (erasure.ErasureError, IntegrityError) as exc:
            failed += 1
            # The type only: a database error's text carries the row's values.
            log.error("erasure of closure request %s failed: %s", request_id, type(exc).__name__)
    return f"erased {done} accounts" + (f", {failed} failed (see the log)" if failed else "")


@purge_step("closure: remove retained items whose end date passed")
def expire_retained(db: Session, now: dt.datetime) -> str:
    """Remove each kept item of a completed closure once its end date has passed."""
    today, removed = now.date(), 0
    completed = db.execute(
        select(ClosureRequest).where(ClosureRequest.status == "completed")
    ).scalars()
    for request in list(completed):
        items = [dict(item) for item in request.retained_items]
        due = [i for i in items if not i["purged_on"] and dt.date.fromisoformat(i["until"]) < today]
        if not due:
            continue
        for item in due:
            others = {
                i["column"]
                for i in items
                if i["table"] == item["table"]
                and i is not item
                and not i["purged_on"]
                and set(i["rows"]) & set(item["rows"])  # kept on the same rows
            }
            erasure.expire_item(db, item, others, now)
            item["purged_on"] = today.isoformat()
            removed += 1
        still_there = select(ClosureRequest.id).where(ClosureRequest.id == request.id)
        if db.execute(still_there).first() is not None:  # its own record may have expired
            request.retained_items = items
            db.add(request)
        db.flush()
    return f"removed {removed} retained items"
