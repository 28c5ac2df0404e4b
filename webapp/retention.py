"""Retention clean-up: each capability registers what `privacy purge` removes or reduces."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from .db import checkpoint_after_commit

#: A purge step takes a session and "now", changes what is due, and says what it did.
PurgeStep = Callable[[Session, datetime], str]

_steps: list[tuple[str, PurgeStep]] = []


def purge_step(name: str) -> Callable[[PurgeStep], PurgeStep]:
    """Register a function to run on every `flask --app webapp privacy purge`."""

    def register(fn: PurgeStep) -> PurgeStep:
        if all(existing != name for existing, _ in _steps):
            _steps.append((name, fn))
        return fn

    return register


def run_all(db: Session, now: datetime) -> list[tuple[str, str]]:
    """Run every registered step in one transaction; return (step, report) pairs."""
    reports = [(name, step(db, now)) for name, step in _steps]
    checkpoint_after_commit(db)  # what the steps removed must not stay in SQLite's WAL
    db.commit()
    return reports
